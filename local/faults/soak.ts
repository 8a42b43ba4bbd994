/**
 * `npm run soak`: the fault-injection run of `test/faults` (`load.ts`), longer and configurable,
 * printing sent / acknowledged / stored / archived / handled / dead-lettered, the faults injected
 * and the seed that replays it. Exit code 1 when a promise was broken (each one is named).
 *
 *   npm run soak -- [--events 20000] [--duration <seconds>] [--faults 1] [--seed <n>]
 *                   [--concurrency 32] [--poison 0.02] [--dir <folder>] [--json]
 */
import { parseArgs } from 'node:util';
import { FAULT_POINTS, FAULT_SEED_ENV, seedFromEnv } from './injector.js';
import { DEFAULT_FAULT_PLAN, runFaultLoad, scaledPlan, type FaultLoadReport } from './load.js';
import { errorMessage } from '../../lambda/core/errors.js';

export const SOAK_USAGE = `usage: npm run soak -- [options]

  --events <n>        events to send (default 20000); with --duration, at least this many
  --duration <s>      keep sending for this many seconds
  --faults <x>        multiply every fault rate of the test's plan by x (default 1; 0 turns faults off)
  --seed <n>          seed of the faults and of which events are poison (default: $${FAULT_SEED_ENV}, else random)
  --concurrency <n>   requests in flight (default 32)
  --poison <f>        fraction of events whose handler always fails (default 0.02)
  --dir <folder>      keep local mode's state there (default: a temporary folder, removed)
  --json              print the report as JSON
`;

/** Runs the soak with command-line arguments; resolves with the exit code. */
export async function soakMain(
  argv: readonly string[],
  out: (text: string) => void = (t) => process.stdout.write(t),
  err: (text: string) => void = (t) => process.stderr.write(t),
): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        events: { type: 'string', default: '20000' },
        duration: { type: 'string' },
        faults: { type: 'string', default: '1' },
        seed: { type: 'string' },
        concurrency: { type: 'string', default: '32' },
        poison: { type: 'string', default: '0.02' },
        dir: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', default: false },
      },
    }).values;
  } catch (e) {
    err(`soak: ${errorMessage(e)}\n${SOAK_USAGE}`);
    return 2;
  }
  if (values.help) {
    out(SOAK_USAGE);
    return 0;
  }
  let options;
  try {
    const events = wholeNumber('--events', values.events, 1);
    const durationS = values.duration === undefined ? undefined : positive('--duration', values.duration);
    const factor = nonNegative('--faults', values.faults);
    const seed = values.seed === undefined ? seedFromEnv() : seedFromEnv({ [FAULT_SEED_ENV]: values.seed });
    const concurrency = wholeNumber('--concurrency', values.concurrency, 1);
    const poison = nonNegative('--poison', values.poison);
    if (poison > 1) throw new RangeError(`--poison must be a fraction from 0 to 1, got '${values.poison}'`);
    options = { events, durationS, factor, seed, concurrency, poison };
  } catch (e) {
    err(`soak: ${errorMessage(e)}\n`);
    return 2;
  }

  const { events, durationS, factor, seed, concurrency, poison } = options;
  err(`soak: ${durationS !== undefined ? `${durationS} s, at least ${events} events` : `${events} events`}, faults ×${factor}, seed ${seed}\n`);
  const report = await runFaultLoad({
    events,
    ...(durationS !== undefined ? { durationMs: durationS * 1000 } : {}),
    seed,
    plan: scaledPlan(DEFAULT_FAULT_PLAN, factor),
    poisonFraction: poison,
    concurrency,
    ...(values.dir ? { dir: values.dir } : {}),
    onProgress: (p) => err(`  … ${p.sent} sent, ${p.acknowledged} acknowledged\n`),
  });
  const rerun = `${FAULT_SEED_ENV}=${seed} npm run soak -- --events ${report.sent} --faults ${factor} --concurrency ${concurrency} --poison ${poison}`;
  out(values.json ? `${JSON.stringify({ ...report, rerun }, null, 2)}\n` : formatReport(report, factor, rerun));
  return report.violations.length === 0 ? 0 : 1;
}

/** The report as a few aligned lines. */
export function formatReport(r: FaultLoadReport, factor: number, rerun: string): string {
  const m = r.metrics;
  const notAcked = r.sent - r.acknowledged;
  const answers = Object.entries(r.answers)
    .filter(([s]) => s !== '200')
    .map(([s, n]) => `${n}× ${s === '0' ? 'no answer' : s}`)
    .join(', ');
  const faultLines = FAULT_POINTS.map((p) => {
    const c = r.faults[p];
    return `  ${p.padEnd(10)} fail ${c.fail}, fail-after ${c['fail-after']}, delay ${c.delay}${c.late ? `, finished after the caller gave up ${c.late}` : ''}`;
  });
  const rate = r.sendMs > 0 ? Math.round(r.sent / (r.sendMs / 1000)) : 0;
  return [
    `seed           ${r.seed}   (replay: ${rerun})`,
    `sent           ${r.sent}`,
    `acknowledged   ${r.acknowledged}${notAcked > 0 ? `   (not: ${answers})` : ''}`,
    `stored         ${r.stored}`,
    `archived       ${r.archived}`,
    `handled        ${r.handled}   (handler successes ${r.handlerRuns}, of which ${r.repeatedRuns} repeats, each explained by an injected fault)`,
    `dead-lettered  ${r.deadLettered}   (acknowledged poison events: ${r.poison})`,
    `fallbacks      spilled ${m.Spilled ?? 0}, spills drained ${m.SpillDrained ?? 0}, store failures ${m.StoreFailed ?? 0}, archive failures ${m.ArchiveFailed ?? 0}, handler failures ${m.HandlerFailed ?? 0}, records received ${m.RecordsReceived ?? 0}`,
    `faults (×${factor})`,
    ...faultLines,
    `time           sending ${(r.sendMs / 1000).toFixed(1)} s (${rate} events/s), settling ${(r.settleMs / 1000).toFixed(1)} s`,
    r.violations.length === 0 ? 'violations     none' : `violations     ${r.violations.length}:\n${r.violations.map((v) => `  - ${v}`).join('\n')}`,
    '',
  ].join('\n');
}

function wholeNumber(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min) throw new RangeError(`${flag} must be a whole number ≥ ${min}, got '${raw}'`);
  return n;
}

function positive(flag: string, raw: string): number {
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n)) throw new RangeError(`${flag} must be a number of seconds > 0, got '${raw}'`);
  return n;
}

function nonNegative(flag: string, raw: string): number {
  const n = Number(raw);
  if (!(n >= 0) || !Number.isFinite(n) || raw.trim() === '') throw new RangeError(`${flag} must be a number ≥ 0, got '${raw}'`);
  return n;
}
