/**
 * Timing helpers shared by the benchmarks: warm-up, interleaved rounds, medians. Medians of
 * several rounds, with the compared workloads alternating, keep a noisy machine from deciding
 * the result.
 */
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

/** One workload over a fixed set of items. */
export interface Workload {
  readonly name: string;
  /** Processes every item once. */
  run(): Promise<void> | void;
}

export interface RoundsOptions {
  /** Untimed rounds per workload before measuring (JIT, caches). @default 2 */
  readonly warmupRounds?: number;
  /** Timed rounds per workload. @default 7 */
  readonly rounds?: number;
}

export interface WorkloadTiming {
  readonly name: string;
  /** Seconds per round, in the order measured. */
  readonly roundSeconds: readonly number[];
  readonly medianSeconds: number;
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Warms up, then times the workloads in interleaved rounds (A, B, A, B, …) so drift in machine
 * load affects each alike. Returns each workload's per-round times and median.
 */
export async function timeRounds(workloads: readonly Workload[], opts: RoundsOptions = {}): Promise<WorkloadTiming[]> {
  const warmup = opts.warmupRounds ?? 2;
  const rounds = opts.rounds ?? 7;
  if (rounds < 1) throw new Error(`rounds must be at least 1, got ${rounds}`);
  for (let i = 0; i < warmup; i++) for (const w of workloads) await w.run();
  const times = workloads.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, w] of workloads.entries()) {
      const start = performance.now();
      await w.run();
      times[i]?.push((performance.now() - start) / 1000);
    }
  }
  return workloads.map((w, i) => {
    const roundSeconds = times[i] ?? [];
    return { name: w.name, roundSeconds, medianSeconds: median(roundSeconds) };
  });
}

/** Formats a number with thousands separators and fixed decimals. */
export function fmt(n: number, decimals = 0): string {
  return n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Whether the module at `importMetaUrl` is the script node was started with (`tsx bench/x.ts`). */
export function isMain(importMetaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  const strip = (u: string) => u.replace(/\.[cm]?[jt]s$/, '');
  return strip(pathToFileURL(resolve(entry)).href) === strip(importMetaUrl);
}
