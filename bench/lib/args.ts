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

/**
 * The flags that are present, parsed by `parse` (default {@link intFlag}) and keyed by the option
 * each sets: `{ count: '--count' }` gives `{ count: 4000 }` for `--count 4000` and `{}` without it,
 * ready to spread into a benchmark's options.
 */
export function presentFlags<K extends string>(
  args: readonly string[],
  names: Readonly<Record<K, string>>,
  parse: (args: readonly string[], name: string) => number | undefined = intFlag,
): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const [key, flag] of Object.entries(names) as Array<[K, string]>) {
    const value = parse(args, flag);
    if (value !== undefined) out[key] = value;
  }
  return out;
}
