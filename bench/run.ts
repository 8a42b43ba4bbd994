/**
 * `npm run bench`: runs every benchmark in turn, each in a fresh Node process (so one's memory,
 * JIT and loaded modules do not colour the next one's figures: local-load reports RSS), and prints
 * its figures, each next to the floor measured in the same run and the ratio the target applies
 * to. Each benchmark is also runnable alone (`npx tsx bench/<name>.ts`).
 *
 * Exits non-zero only when a benchmark failed to run (or, for local-load, lost an acknowledged
 * event); a figure that misses its target is reported, not failed, because this machine's noise
 * would make such a gate flaky.
 *
 * `npm run bench -- [name …] [--quick] [flags]`: names pick benchmarks (default all); `--quick`
 * makes every benchmark short (local-load ~10 s); the other flags go to the benchmarks that know
 * them (--count, --rounds, --runs, --events, --duplicates, --seconds, --rate, --connections).
 *
 * To add a benchmark: write `bench/<name>.ts` that prints its figures when run (and sets a non-zero
 * exit code when it cannot run), and list its name in BENCHMARKS below.
 */
import './lib/quiet-sdk.js';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { positionals } from './lib/args.js';
import { describeMachine, loadAverage } from './lib/machine.js';

/** The benchmarks, in the order they run: each is `bench/<name>.ts`. */
const BENCHMARKS = ['receiver-cpu', 'cold-start', 'aws-requests', 'local-load', 'cost', 'item-compression'] as const;

/** Flags that take a value, so their values are not read as benchmark names. */
const VALUE_FLAGS = ['--count', '--rounds', '--runs', '--events', '--duplicates', '--seconds', '--rate', '--connections'];

/** Runs `bench/<name>.ts` in a fresh process with the same flags; resolves with its exit code. */
function runOne(name: string, args: readonly string[]): Promise<number> {
  const file = fileURLToPath(new URL(`./${name}.ts`, import.meta.url));
  const flags = args.filter((a, i) => a.startsWith('--') || VALUE_FLAGS.includes(args[i - 1] ?? ''));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file, ...flags], {
      stdio: 'inherit',
      cwd: fileURLToPath(new URL('../', import.meta.url)),
    });
    child.on('error', (err) => {
      console.error(`${name} could not be started: ${err.message}`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(args: readonly string[]): Promise<number> {
  const names = positionals(args, VALUE_FLAGS);
  const unknown = names.filter((n) => !(BENCHMARKS as readonly string[]).includes(n));
  if (unknown.length > 0) {
    console.error(`unknown benchmark ${unknown.map((n) => `'${n}'`).join(', ')}; have: ${BENCHMARKS.join(', ')}`);
    return 2;
  }
  const selected = names.length > 0 ? BENCHMARKS.filter((b) => names.includes(b)) : BENCHMARKS;
  console.log(describeMachine());
  const failed: string[] = [];
  for (const name of selected) {
    const started = performance.now();
    const code = await runOne(name, args);
    if (code !== 0) failed.push(name);
    console.log(
      `  (${name}: ${((performance.now() - started) / 1000).toFixed(1)} s; load average now ${loadAverage()}${code !== 0 ? `; FAILED with exit code ${code}` : ''})\n`,
    );
  }
  if (failed.length > 0) console.error(`benchmarks that failed to run: ${failed.join(', ')}`);
  return failed.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
