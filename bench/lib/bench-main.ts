/**
 * What a benchmark does when run alone (`npx tsx bench/<name>.ts [flags]`, which is also how
 * `npm run bench` runs each): read its flags, run it, print its figures. One that cannot run
 * prints why and sets a non-zero exit code, which bench/run.ts reports as failed.
 */
import { isMain } from './measure.js';

/** A benchmark's parts, as its module exports them. */
export interface Benchmark<O, R> {
  readonly name: string;
  readonly optionsFromArgs: (args: readonly string[]) => O;
  readonly run: (opts: O) => Promise<R>;
  readonly format: (res: R) => string;
  /** Whether a run that finished still failed (local-load: an acknowledged event was lost). @default never */
  readonly failed?: (res: R) => boolean;
}

/** Runs `bench` with the process's flags when `importMetaUrl` is the script node was started with; else nothing. */
export function runWhenMain<O, R>(importMetaUrl: string, bench: Benchmark<O, R>): void {
  if (!isMain(importMetaUrl)) return;
  Promise.resolve()
    .then(() => bench.run(bench.optionsFromArgs(process.argv.slice(2))))
    .then((res) => {
      console.log(bench.format(res));
      if (bench.failed?.(res)) process.exitCode = 1;
    })
    .catch((err: unknown) => {
      console.error(`${bench.name} benchmark failed: ${(err as Error).stack ?? String(err)}`);
      process.exitCode = 1;
    });
}
