/**
 * Local load benchmark (docs/architecture.md §10 via issue 7: p99 ack latency < 50 ms at 500 events/s on this
 * machine, zero loss, no stall over 250 ms). Starts local mode in this process (`startLocalPipeline`,
 * defaults: journaled queue; the fan-out, delivery stream and emulators in their own processes; the
 * registered handlers) and drives it from a load
 * generator in a child process (bench/lib/load-generator.ts: open loop at a fixed rate, distinct
 * pre-generated signed bodies of 0.5-20 KB, keep-alive connections). Measures:
 * - sustained events/s acknowledged (and stored), against the offered rate;
 * - p50/p99 ack latency (from each request's scheduled time), against the same load on a bare HTTP
 *   server in this process that answers `{}` at once (the floor: HTTP, loopback and the generator);
 * - how far the fan-out lags (time from an event's ack until the store has caught up with it,
 *   sampled every 100 ms), against the time a full batch takes to gather at the offered rate;
 * - peak RSS of this process (front door, receiver, queue), against its idle RSS, and of local
 *   mode's other processes; CPU of each;
 * - event loop delay (what every request waits behind);
 * - for diagnosis, the ack path alone: local mode with the fan-out held back (a batching window
 *   longer than the run), at the same rate, for as long as the floor;
 * - zero loss at the end: every acknowledged event is in the store and in the archive;
 * - the highest rate at which ack p99 stays under the target: when the offered rate held, rising
 *   rates (100/s apart, 10 s each, 4 s with --quick) to fresh local modes until one misses it.
 *
 * Alone: `npx tsx bench/local-load.ts [--quick] [--seconds N] [--rate N] [--connections N] [--no-rate-search]`;
 * also run by `npm run bench` (`--quick` there runs ~10 s).
 */
import './lib/quiet-sdk.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasFlag, numberFlag, presentFlags } from './lib/args.js';
import { runWhenMain } from './lib/bench-main.js';
import type { LoadReport } from './lib/load-generator.js';
import { generate, okLatencies, startFloorServer, summarize, usage, type LatencySummary } from './lib/load-run.js';
import { withLocalPipeline } from './lib/local-mode.js';
import { loadAverage } from './lib/machine.js';
import { measurePipeline } from './lib/measure-pipeline.js';
import { fmt, ratio } from './lib/measure.js';

export type { LatencySummary } from './lib/load-run.js';

const SECRET = 'bench-load-secret-91c3e0';
/** The target: p99 ack latency below this at {@link TARGET_RATE}. */
export const TARGET_P99_MS = 50;
export const TARGET_RATE = 500;
/** The longest the front door may stall: its event loop delay, and an ack's latency, at most this. */
export const TARGET_STALL_MS = 250;
/** The rate search: from above the offered rate up in these steps, to at most this. */
const RATE_STEP = 100;
const MAX_SEARCH_RATE = 2000;

export interface LocalLoadOptions {
  /** Offered events per second. @default 500 */
  readonly rate?: number;
  /** Length of the load. @default 60 (10 with quick) */
  readonly seconds?: number;
  /** Keep-alive connections of the generator. @default 64 */
  readonly connections?: number;
  /** Length of the floor's run. @default a quarter of `seconds`, at most 15 */
  readonly floorSeconds?: number;
  readonly quick?: boolean;
  /** Searches for the highest rate at which ack p99 stays under the target. @default true */
  readonly findMaxRate?: boolean;
}

/** One step of the rate search. */
export interface RateStep {
  readonly rate: number;
  readonly seconds: number;
  readonly p99: number;
  readonly max: number;
  readonly sent: number;
  readonly acked: number;
}

export interface LocalLoadResult {
  readonly name: 'local-load';
  readonly rate: number;
  readonly seconds: number;
  readonly connections: number;
  readonly payloads: LoadReport['payloads'];
  readonly sent: number;
  readonly acked: number;
  readonly statuses: Readonly<Record<string, number>>;
  /** The generator's first request errors (status 0), if any. */
  readonly errors: readonly string[];
  /** Events acknowledged per second over the load. */
  readonly ackedPerSecond: number;
  /** Events stored per second over the load (the fan-out keeping up, or not). */
  readonly storedPerSecond: number;
  readonly latency: LatencySummary;
  readonly floorLatency: LatencySummary;
  /** Local mode with the fan-out held back: what the ack path does alone, same rate, `floorSeconds`. */
  readonly ackOnlyLatency: LatencySummary;
  readonly ackOnlyEventLoopDelay: LatencySummary;
  /** CPU this process used during the ack-only run, in cores (1 = one core busy all the time). */
  readonly ackOnlyCpuCores: number;
  /** CPU this process used during the load, in cores. */
  readonly cpuCores: number;
  /** CPU local mode's other processes (fan-out, emulators) used during the load, in cores, by role. */
  readonly childCpuCores: Readonly<Record<string, number>>;
  /** Peak RSS of local mode's other processes together (MiB). */
  readonly childRssPeakMb: number;
  /** The rate search's steps, in order; the last one missed the target (or hit the search's cap). */
  readonly rateSteps: readonly RateStep[];
  /** The highest rate of the search (or the offered one) whose ack p99 stayed under the target with every request answered. */
  readonly maxRateHeld: number | undefined;
  readonly floorSeconds: number;
  /** Fan-out lag (s): from an event's ack until the store has caught up to it. */
  readonly lag: LatencySummary;
  /** The least lag batching allows: a full batch gathering at the offered rate, or the batching window. */
  readonly lagFloor: number;
  readonly maxBacklog: number;
  /** From the last ack until everything was stored and archived (s). */
  readonly drainSeconds: number;
  readonly rssIdleMb: number;
  readonly rssPeakMb: number;
  readonly eventLoopDelay: LatencySummary;
  readonly maxSendDelayMs: number;
  readonly missingFromStore: number;
  readonly missingFromArchive: number;
  readonly archive: { readonly lines: number; readonly objects: number };
  /** The machine's 1-minute load average as each part started (and at the end): how shared the machine was. */
  readonly loadAverages: { readonly load: string; readonly ackOnly: string; readonly floor: string; readonly end: string };
  readonly meetsTarget: boolean;
}

/** Runs the benchmark and returns its figures (prints nothing). */
export async function runLocalLoad(opts: LocalLoadOptions = {}): Promise<LocalLoadResult> {
  const quick = opts.quick ?? false;
  const rate = opts.rate ?? TARGET_RATE;
  const seconds = opts.seconds ?? (quick ? 10 : 60);
  const connections = opts.connections ?? 64;
  const floorSeconds = opts.floorSeconds ?? Math.min(15, Math.max(2, seconds / 4));
  const dir = await mkdtemp(join(tmpdir(), 'spw-bench-load-'));
  try {
    // Local mode first, in a process that has done nothing else yet (for its idle and peak RSS);
    // then the diagnostic and the floor, at the same rate, with other bodies.
    const loads: string[] = [loadAverage()];
    const main = await measurePipeline(join(dir, 'local'), dir, { secret: SECRET, rate, seconds, connections, seed: 1 });

    // Diagnostic: the ack path alone (front door, receiver, journal), with the fan-out held back by
    // a batching window longer than the run, so it does not compete for this event loop.
    loads.push(loadAverage());
    const heldBack = { batchSize: 10_000_000, batchingWindowMs: 3_600_000 };
    const ackOnly = await withLocalPipeline({ dir: join(dir, 'ack-only'), port: 0, secret: SECRET, env: {}, queue: heldBack }, async (p) => {
      const use = usage();
      try {
        const report = await generate(`${p.url}/webhook`, { secret: SECRET, rate, seconds: floorSeconds, connections, seed: 3 }, dir, 'ack-only');
        return { report, use };
      } finally {
        use.stop();
      }
    });

    loads.push(loadAverage());
    const floorServer = await startFloorServer();
    let floor: LoadReport;
    try {
      floor = await generate(floorServer.url, { secret: SECRET, rate, seconds: floorSeconds, connections, seed: 2 }, dir, 'floor');
    } finally {
      await floorServer.close();
    }

    const { report } = main;
    const acked = report.ackedEventIds.length;
    const latency = summarize(okLatencies(report));
    const held = latency.p99 < TARGET_P99_MS && acked === report.sent;
    const rateSteps = held && (opts.findMaxRate ?? true) ? await searchRate(dir, rate + RATE_STEP, quick ? 4 : 10, connections) : [];
    const lastHeld = [...rateSteps].reverse().find((st) => st.p99 < TARGET_P99_MS && st.acked === st.sent);
    const stallMs = Math.max(latency.max, main.figures.eventLoopDelay.max);
    return {
      name: 'local-load',
      rate,
      seconds,
      connections,
      payloads: report.payloads,
      sent: report.sent,
      acked,
      statuses: report.statuses,
      errors: report.errors,
      ...main.figures,
      latency,
      floorLatency: summarize(okLatencies(floor)),
      ackOnlyLatency: summarize(okLatencies(ackOnly.report)),
      ackOnlyEventLoopDelay: ackOnly.use.eventLoopDelay(),
      ackOnlyCpuCores: ackOnly.use.cores(),
      floorSeconds,
      maxSendDelayMs: report.maxSendDelayMs,
      loadAverages: { load: loads[0] ?? '?', ackOnly: loads[1] ?? '?', floor: loads[2] ?? '?', end: loadAverage() },
      rateSteps,
      maxRateHeld: lastHeld?.rate ?? (held ? rate : undefined),
      meetsTarget: held && stallMs < TARGET_STALL_MS && rate >= TARGET_RATE && main.figures.missingFromStore + main.figures.missingFromArchive === 0,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Offers rising rates to fresh local modes, `seconds` each, until ack p99 reaches the target (or
 * a request is not answered 200, or the cap): the steps, in order.
 */
async function searchRate(dir: string, from: number, seconds: number, connections: number): Promise<RateStep[]> {
  const steps: RateStep[] = [];
  for (let rate = from; rate <= MAX_SEARCH_RATE; rate += RATE_STEP) {
    const report = await withLocalPipeline({ dir: join(dir, `rate-${rate}`), port: 0, secret: SECRET, env: {} }, async (p) => {
      await new Promise((r) => setTimeout(r, 500));
      return generate(`${p.url}/webhook`, { secret: SECRET, rate, seconds, connections, seed: 10 + rate }, dir, `rate-${rate}`);
    });
    const latency = summarize(okLatencies(report));
    const step = { rate, seconds, p99: latency.p99, max: latency.max, sent: report.sent, acked: report.ackedEventIds.length };
    steps.push(step);
    if (step.p99 >= TARGET_P99_MS || step.acked < step.sent) break;
  }
  return steps;
}

/** Human-readable lines for a result. */
export function formatLocalLoad(res: LocalLoadResult): string {
  const row = (what: string, value: string, floor: string, r: string, note = '') =>
    `  ${what.padEnd(34)} ${value.padStart(12)} ${floor.padStart(24)} ${r.padStart(7)}  ${note}`;
  const lost = res.missingFromStore + res.missingFromArchive;
  const failed = res.sent - res.acked;
  return [
    `local-load: ${fmt(res.rate)} events/s offered for ${fmt(res.seconds)} s (${fmt(res.sent)} signed events, ${fmt(res.payloads.minBytes)}–${fmt(res.payloads.maxBytes)} B, median ${fmt(res.payloads.medianBytes)} B) to local mode in this process; open-loop generator in a child process, ${res.connections} connections`,
    row('figure', 'local mode', 'floor', 'ratio'),
    row(
      'acknowledged events/s',
      fmt(res.ackedPerSecond, 1),
      `${fmt(res.rate)} offered`,
      ratio(res.ackedPerSecond, res.rate).toFixed(2),
      failed > 0
        ? `${fmt(failed)} requests not answered 200: ${JSON.stringify(res.statuses)}${res.errors.length > 0 ? ` (${res.errors.slice(0, 3).join('; ')})` : ''}`
        : 'every request answered 200',
    ),
    row('stored events/s during the load', fmt(res.storedPerSecond, 1), `${fmt(res.rate)} offered`, ratio(res.storedPerSecond, res.rate).toFixed(2)),
    row(
      'ack latency p50 (ms)',
      fmt(res.latency.p50, 1),
      `${fmt(res.floorLatency.p50, 1)} bare server`,
      ratio(res.latency.p50, res.floorLatency.p50).toFixed(1),
    ),
    row(
      'ack latency p99 (ms)',
      fmt(res.latency.p99, 1),
      `${fmt(res.floorLatency.p99, 1)} bare server`,
      ratio(res.latency.p99, res.floorLatency.p99).toFixed(1),
      `target < ${TARGET_P99_MS} ms at ${TARGET_RATE}/s: ${res.meetsTarget ? 'OK' : 'MISSED'}`,
    ),
    row(
      'ack latency max (ms)',
      fmt(res.latency.max, 1),
      `${fmt(res.floorLatency.max, 1)} bare server`,
      ratio(res.latency.max, res.floorLatency.max).toFixed(1),
      `no stall over ${TARGET_STALL_MS} ms (this and the event loop's max): ${Math.max(res.latency.max, res.eventLoopDelay.max) < TARGET_STALL_MS ? 'OK' : 'MISSED'}`,
    ),
    row(
      '  ack path alone p50 / p99 (ms)',
      `${fmt(res.ackOnlyLatency.p50, 1)} / ${fmt(res.ackOnlyLatency.p99, 1)}`,
      `${fmt(res.floorLatency.p50, 1)} / ${fmt(res.floorLatency.p99, 1)} bare server`,
      ratio(res.ackOnlyLatency.p99, res.floorLatency.p99).toFixed(1),
      `(p99) fan-out held back, ${fmt(res.floorSeconds)} s: receiver + journal without the fan-out competing`,
    ),
    row(
      'fan-out lag p50 / p99 / max (s)',
      `${fmt(res.lag.p50, 1)} / ${fmt(res.lag.p99, 1)} / ${fmt(res.lag.max, 1)}`,
      `${fmt(res.lagFloor, 2)} batch gathering`,
      ratio(Math.max(res.lag.p99, 0.001), res.lagFloor).toFixed(1),
      `(p99) backlog at most ${fmt(res.maxBacklog)} events; drained ${fmt(res.drainSeconds, 1)} s after the last ack`,
    ),
    row(
      'peak RSS (MiB)',
      fmt(res.rssPeakMb),
      `${fmt(res.rssIdleMb)} idle`,
      ratio(res.rssPeakMb, res.rssIdleMb).toFixed(2),
      `this process (front door, receiver, queue); local mode's other processes together at most ${fmt(res.childRssPeakMb)} MiB`,
    ),
    row(
      'event loop delay p50 / p99 / max (ms)',
      `${fmt(res.eventLoopDelay.p50, 1)} / ${fmt(res.eventLoopDelay.p99, 1)} / ${fmt(res.eventLoopDelay.max)}`,
      `${fmt(res.ackOnlyEventLoopDelay.p50, 1)} / ${fmt(res.ackOnlyEventLoopDelay.p99, 1)} / ${fmt(res.ackOnlyEventLoopDelay.max)} ack path alone`,
      ratio(res.eventLoopDelay.p99, res.ackOnlyEventLoopDelay.p99).toFixed(1),
      `(p99) generator's worst send delay ${fmt(res.maxSendDelayMs, 1)} ms`,
    ),
    row(
      'CPU of this process (cores)',
      fmt(res.cpuCores, 2),
      `${fmt(res.ackOnlyCpuCores, 2)} ack path alone`,
      ratio(res.cpuCores, res.ackOnlyCpuCores).toFixed(1),
      `the front door's process; the others: ${
        Object.entries(res.childCpuCores)
          .map(([role, c]) => `${role} ${fmt(c, 2)}`)
          .join(', ') || 'none'
      } (at a lower CPU priority)`,
    ),
    `  highest rate with ack p99 < ${TARGET_P99_MS} ms: ${res.maxRateHeld === undefined ? `none (${fmt(res.rate)}/s missed it)` : `${fmt(res.maxRateHeld)} events/s`}${res.rateSteps.length > 0 ? ` (search, ${fmt(res.rateSteps[0]?.seconds ?? 0)} s a step: ${res.rateSteps.map((st) => `${fmt(st.rate)}/s p99 ${fmt(st.p99, 1)} ms${st.acked < st.sent ? ` ${fmt(st.sent - st.acked)} not answered 200` : ''}`).join('; ')})` : ''}`,
    `  machine load average (1 min) as the load started ${res.loadAverages.load}, the ack path alone ${res.loadAverages.ackOnly}, the floor ${res.loadAverages.floor}, at the end ${res.loadAverages.end} (above the core count, other processes compete for the CPU)`,
    `  loss: ${fmt(res.acked)} acknowledged; missing from the store ${fmt(res.missingFromStore)}, from the archive ${fmt(res.missingFromArchive)} (${fmt(res.archive.lines)} lines in ${fmt(res.archive.objects)} objects): ${lost === 0 ? 'zero loss' : 'LOSS'}`,
  ].join('\n');
}

/** CLI flags shared with bench/run.ts. */
export function localLoadOptionsFromArgs(args: readonly string[]): LocalLoadOptions {
  return {
    ...presentFlags(args, { seconds: '--seconds', rate: '--rate' }, numberFlag),
    ...presentFlags(args, { connections: '--connections' }),
    quick: hasFlag(args, '--quick'),
    findMaxRate: !hasFlag(args, '--no-rate-search'),
  };
}

runWhenMain(import.meta.url, {
  name: 'local-load',
  optionsFromArgs: localLoadOptionsFromArgs,
  run: runLocalLoad,
  format: formatLocalLoad,
  // A lost event is a broken pipeline, not a missed target.
  failed: (res) => res.missingFromStore + res.missingFromArchive > 0,
});
