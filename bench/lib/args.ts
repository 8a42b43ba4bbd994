/**
 * Command-line flags shared by the benchmarks (`--count 4000`, `--quick`). A flag given twice
 * takes its first value; a malformed value throws naming the flag, so a typo never silently runs
 * the default.
 */

/** Whether a bare flag such as `--quick` is present. */
export function hasFlag(args: readonly string[], name: string): boolean {
  return args.includes(name);
}

/** A positive integer flag (`--count 4000`), or undefined when absent. */
export function intFlag(args: readonly string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const raw = args[i + 1];
  const n = Number(raw);
  if (raw === undefined || !Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer, got '${raw ?? ''}'`);
  return n;
}

/** A positive number flag (`--rate 500`, `--seconds 2.5`), or undefined when absent. */
export function numberFlag(args: readonly string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const raw = args[i + 1];
  const n = Number(raw);
  if (raw === undefined || raw.trim() === '' || !Number.isFinite(n) || n <= 0) throw new Error(`${name} needs a positive number, got '${raw ?? ''}'`);
  return n;
}

/**
 * The positional arguments, skipping flags and their values: what `bench/run.ts` reads as the
 * names of the benchmarks to run. `valueFlags` lists the flags that take a value.
 */
export function positionals(args: readonly string[], valueFlags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a.startsWith('--')) {
      if (valueFlags.includes(a)) i++;
      continue;
    }
    out.push(a);
  }
  return out;
}
