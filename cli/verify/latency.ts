/**
 * Latency figures of a verify run, client-side, against Social Plus's delivery timeout: the first
 * request on its own (it usually pays a cold start of the receiver), then p50 / p95 / p99 of the
 * rest, which is what most deliveries see. Pure.
 */
import { percentile, roundMs } from '../output.js';

/** How long Social Plus waits for an answer before it counts a delivery as failed. */
export const SOCIALPLUS_TIMEOUT_MS = 1500;

/** Percentiles of the requests after the first. */
export interface WarmLatency {
  /** How many requests after the first were answered. */
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** What `verify` reports about latency, in milliseconds rounded to 0.1. */
export interface LatencySummary {
  /** The first answered request's latency; null when none was answered. */
  readonly firstMs: number | null;
  /** The requests after the first; null when there were none (`--count 1`). */
  readonly warm: WarmLatency | null;
  readonly budgetMs: number;
  /**
   * `within` when the figure most deliveries see (warm p99, or the first request's alone when
   * there is no other) is at most the budget; `over` when above; `unknown` with no answer at all.
   */
  readonly verdict: 'within' | 'over' | 'unknown';
  /** Whether the first request alone took longer than the budget (a cold start that slow is worth a note). */
  readonly firstOverBudget: boolean;
}

/**
 * Summarises latencies given in request order (answered requests only): the first apart, then
 * nearest-rank p50 / p95 / p99 and the maximum of the others.
 */
export function latencySummary(latenciesInOrder: readonly number[], budgetMs: number = SOCIALPLUS_TIMEOUT_MS): LatencySummary {
  for (const ms of latenciesInOrder) {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`a latency must be a finite number >= 0, got ${ms}`);
  }
  const [first, ...rest] = latenciesInOrder;
  if (first === undefined) return { firstMs: null, warm: null, budgetMs, verdict: 'unknown', firstOverBudget: false };
  const sorted = [...rest].sort((a, b) => a - b);
  const at = (p: number) => roundMs(percentile(sorted, p)) as number;
  const warm: WarmLatency | null =
    sorted.length === 0 ? null : { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: roundMs(sorted.at(-1)) as number };
  const typical = warm ? warm.p99 : (roundMs(first) as number);
  return {
    firstMs: roundMs(first),
    warm,
    budgetMs,
    verdict: typical <= budgetMs ? 'within' : 'over',
    firstOverBudget: first > budgetMs,
  };
}
