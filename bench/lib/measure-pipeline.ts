/**
 * The main measurement of the local-load benchmark (bench/local-load.ts): a fresh local mode
 * under the generator's load, sampled every 100 ms (RSS, events accepted and processed, local
 * mode's other processes), then drained and checked for loss: every acknowledged event in the
 * store and in the archive.
 */
import type { LocalPipeline } from '../../local/pipeline.js';
import type { LocalLoadResult } from '../local-load.js';
import type { LoadConfig, LoadReport } from './load-generator.js';
import { generate, summarize, usage } from './load-run.js';
import { withLocalPipeline } from './local-mode.js';
import { archivedEventIds, missingFromStore } from './loss-check.js';
import { procCpuSeconds, procRssBytes } from './proc-usage.js';

/** What the load on local mode measured (the rest of the result: the floor, the diagnostic, the rate search). */
export type PipelineFigures = Pick<
  LocalLoadResult,
  | 'ackedPerSecond'
  | 'storedPerSecond'
  | 'lag'
  | 'lagFloor'
  | 'maxBacklog'
  | 'drainSeconds'
  | 'rssIdleMb'
  | 'rssPeakMb'
  | 'eventLoopDelay'
  | 'cpuCores'
  | 'childCpuCores'
  | 'childRssPeakMb'
  | 'missingFromStore'
  | 'missingFromArchive'
  | 'archive'
>;

/** Local mode at one moment of the load. */
interface Sample {
  readonly t: number;
  readonly rss: number;
  readonly accepted: number;
  readonly processed: number;
}

/** CPU seconds used so far by each of local mode's other processes, by role. */
function childCpu(p: LocalPipeline): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { role, pid } of p.processes()) {
    const used = pid === undefined ? undefined : procCpuSeconds(pid);
    if (used !== undefined) out[role] = used;
  }
  return out;
}

/** Runs the load against a fresh local mode in `stateDir`, sampling it; checks for loss at the end. */
export async function measurePipeline(
  stateDir: string,
  workDir: string,
  load: Omit<LoadConfig, 'url' | 'out'>,
): Promise<{ report: LoadReport; figures: PipelineFigures }> {
  return withLocalPipeline({ dir: stateDir, port: 0, secret: load.secret, env: {} }, async (p) => {
    await new Promise((r) => setTimeout(r, 500));
    const rssIdle = process.memoryUsage().rss;
    const samples: Sample[] = [];
    const sample = () => {
      const m = p.metrics();
      samples.push({ t: Date.now(), rss: process.memoryUsage().rss, accepted: m.Accepted ?? 0, processed: (m.Stored ?? 0) + (m.Duplicate ?? 0) });
    };
    const use = usage();
    const childCpuBefore = childCpu(p);
    let childCpuAfter: Record<string, number>;
    let childRssPeak = 0;
    const sampleChildren = () => {
      const rss = p.processes().reduce((n, { pid }) => n + ((pid === undefined ? undefined : procRssBytes(pid)) ?? 0), 0);
      childRssPeak = Math.max(childRssPeak, rss);
    };
    sample();
    const timer = setInterval(() => {
      sample();
      sampleChildren();
    }, 100);
    let report: LoadReport;
    let drainSeconds: number;
    try {
      report = await generate(`${p.url}/webhook`, load, workDir, 'load');
      use.stop();
      childCpuAfter = childCpu(p);
      const loadEnd = Date.now();
      sample();
      await p.settle();
      drainSeconds = (Date.now() - loadEnd) / 1000;
      sample();
    } finally {
      clearInterval(timer);
      use.stop();
    }

    const loadSeconds = (report.endedAtMs - report.startedAtMs) / 1000;
    const atLoadEnd = samples.filter((s) => s.t <= report.endedAtMs).at(-1) ?? (samples[0] as Sample);
    // Lag: for each sample during the load, how long until the store had processed what had been acked by then.
    const lags: number[] = [];
    for (const [i, s] of samples.entries()) {
      if (s.t > report.endedAtMs || s.accepted === 0) continue;
      const caught = samples.slice(i).find((later) => later.processed >= s.accepted);
      lags.push(((caught ?? (samples.at(-1) as Sample)).t - s.t) / 1000);
    }
    const missingStore = await missingFromStore(p.dynamodb, p.tableName, report.ackedEventIds);
    const archive = await archivedEventIds(p.s3, p.bucket);
    return {
      report,
      figures: {
        ackedPerSecond: report.ackedEventIds.length / loadSeconds,
        storedPerSecond: atLoadEnd.processed / loadSeconds,
        lag: lags.length > 0 ? summarize(lags) : { p50: 0, p99: 0, max: 0 },
        lagFloor: Math.min(p.queue.batchingWindowMs / 1000, p.queue.batchSize / load.rate),
        maxBacklog: Math.max(...samples.map((s) => s.accepted - s.processed)),
        drainSeconds,
        rssIdleMb: rssIdle / 2 ** 20,
        rssPeakMb: Math.max(...samples.map((s) => s.rss)) / 2 ** 20,
        eventLoopDelay: use.eventLoopDelay(),
        cpuCores: use.cores(),
        childCpuCores: Object.fromEntries(
          Object.entries(childCpuAfter).map(([role, used]) => [role, (used - (childCpuBefore[role] ?? 0)) / loadSeconds]),
        ),
        childRssPeakMb: childRssPeak / 2 ** 20,
        missingFromStore: missingStore.length,
        missingFromArchive: report.ackedEventIds.filter((id) => !archive.ids.has(id)).length,
        archive: { lines: archive.lines, objects: archive.objects },
      },
    };
  });
}
