/**
 * `npm run bench`: runs every benchmark module in turn and prints its figures. Each module is
 * also runnable alone (`npx tsx bench/<name>.ts`). Exits non-zero only when a benchmark failed to
 * run; a figure below its target is reported, not failed, because this machine's noise would
 * make such a gate flaky.
 *
 * To add a benchmark (requests per event, local load): write `bench/<name>.ts`
 * exporting a run function and a formatter, and list it in BENCHMARKS below.
 */
import { formatReceiverCpu, receiverCpuOptionsFromArgs, runReceiverCpu } from './receiver-cpu.js';
import { formatReceiverImport, receiverImportOptionsFromArgs, runReceiverImport } from './receiver-import.js';

interface Benchmark {
  readonly name: string;
  /** Runs the benchmark with the command line's flags; resolves with the text to print. */
  run(args: readonly string[]): Promise<string>;
}

const BENCHMARKS: readonly Benchmark[] = [
  { name: 'receiver-cpu', run: async (args) => formatReceiverCpu(await runReceiverCpu(receiverCpuOptionsFromArgs(args))) },
  { name: 'receiver-import', run: async (args) => formatReceiverImport(await runReceiverImport(receiverImportOptionsFromArgs(args))) },
];

async function main(args: readonly string[]): Promise<number> {
  const only = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
  const selected = only ? BENCHMARKS.filter((b) => b.name === only) : BENCHMARKS;
  if (selected.length === 0) {
    console.error(`unknown benchmark '${only}'; have: ${BENCHMARKS.map((b) => b.name).join(', ')}`);
    return 2;
  }
  console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
  let failed = 0;
  for (const b of selected) {
    try {
      console.log(await b.run(args));
    } catch (err) {
      failed++;
      console.error(`${b.name} failed to run: ${(err as Error).stack ?? String(err)}`);
    }
  }
  return failed > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
