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

/** The `p`-th percentile (0-100) of a non-empty list, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new Error('percentile of an empty list');
  if (!(p >= 0 && p <= 100)) throw new Error(`percentile must be within 0-100, got ${p}`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1] as number;
}

/**
 * The median over rounds of `numerator[i] ÷ denominator[i]`, pairing rounds measured next to each
 * other: load that comes and goes on a shared machine hits both sides of a pair alike, so the
 * ratio holds better than a ratio of two medians taken over different moments.
 */
export function pairedRatio(numerator: readonly number[], denominator: readonly number[]): number {
  if (numerator.length === 0 || numerator.length !== denominator.length)
    throw new Error(`paired ratio needs two lists of the same non-zero length, got ${numerator.length} and ${denominator.length}`);
  return median(numerator.map((n, i) => n / (denominator[i] as number)));
}

/** `value ÷ floor`, the figure every benchmark prints next to its measurement. */
export function ratio(value: number, floor: number): number {
  if (!(floor > 0)) throw new Error(`cannot take a ratio against a floor of ${floor}`);
  return value / floor;
}

/**
 * Warms up, then times the workloads in interleaved rounds (A B C, B C A, C A B, …) so drift in
 * machine load, and collections of garbage a workload left behind, affect each alike. Returns each
 * workload's per-round times (in round order) and median.
 */
export async function timeRounds(workloads: readonly Workload[], opts: RoundsOptions = {}): Promise<WorkloadTiming[]> {
  const warmup = opts.warmupRounds ?? 2;
  const rounds = opts.rounds ?? 7;
  if (rounds < 1) throw new Error(`rounds must be at least 1, got ${rounds}`);
  for (let i = 0; i < warmup; i++) for (const w of workloads) await w.run();
  const times = workloads.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    // Each round starts with the next workload: garbage one leaves behind is collected during the
    // one after it, and rotating spreads that cost over all of them instead of the first.
    for (let k = 0; k < workloads.length; k++) {
      const i = (k + r) % workloads.length;
      const w = workloads[i] as Workload;
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
