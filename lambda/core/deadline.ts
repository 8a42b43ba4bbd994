/**
 * The receiver's time budget (docs/architecture.md §2, §10): Social Plus waits 1.5 s for the answer, once. The
 * queue work (a claim-check put, then the send, SDK retries included) gets an internal deadline;
 * whatever is left before the answer is due goes to the spill.
 */
import { DeadlineExceededError } from './errors.js';

/** How long Social Plus waits for the answer (docs/social-plus.md §1). */
export const ANSWER_WITHIN_MS = 1500;
/** Kept back for the answer's way out (Lambda → API Gateway → Social Plus). */
export const RESPONSE_MARGIN_MS = 100;
/** Kept back after the queue work for the spill: a lazy S3 client load, a TLS handshake and one put. */
export const SPILL_RESERVE_MS = 300;
/** Default internal deadline for the queue work. */
export const DEFAULT_RECEIVER_DEADLINE_MS = 1000;
/**
 * The least time worth starting an attempt with: when less is left before the spill's reserve,
 * the queue is skipped for the spill (a deadline configured shorter is still honoured). The spill
 * always gets at least this much, which {@link RESPONSE_MARGIN_MS} leaves room for.
 */
export const MIN_ATTEMPT_MS = 50;

/** The budget of one request. */
export interface AnswerPlan {
  /** Time for the queue work; 0 means go straight to the spill. */
  readonly queueMs: number;
  /** Epoch ms by which the answer should be on its way. */
  readonly answerByMs: number;
  /**
   * False when the request's arrival time says it is already too late to answer in time (a very
   * slow cold start, or a clock not comparable with ours): then the answer can no longer be saved
   * and the plan maximises the chance of keeping the event instead (a full deadline, then a spill).
   */
  readonly inTime: boolean;
}

/**
 * Plans a request's budget from when it arrived (API Gateway's `requestTimeEpoch`, or when the
 * handler started) and now: the queue gets the smaller of the deadline and what is left before
 * the answer is due minus the spill's reserve.
 */
export function planAnswer(opts: { arrivedAtMs: number; nowMs: number; deadlineMs?: number }): AnswerPlan {
  const deadlineMs = opts.deadlineMs ?? DEFAULT_RECEIVER_DEADLINE_MS;
  if (!(deadlineMs > 0)) throw new RangeError(`receiver deadline must be a positive number of ms, got ${deadlineMs}`);
  // API Gateway's clock may run slightly ahead of ours: never count negative time as spent.
  const elapsed = Math.max(0, opts.nowMs - opts.arrivedAtMs);
  if (!Number.isFinite(elapsed) || elapsed >= ANSWER_WITHIN_MS - RESPONSE_MARGIN_MS) {
    return { queueMs: deadlineMs, answerByMs: opts.nowMs + deadlineMs + SPILL_RESERVE_MS, inTime: false };
  }
  const answerByMs = opts.nowMs + (ANSWER_WITHIN_MS - RESPONSE_MARGIN_MS - elapsed);
  const left = answerByMs - SPILL_RESERVE_MS - opts.nowMs;
  return { queueMs: left >= MIN_ATTEMPT_MS ? Math.min(deadlineMs, left) : 0, answerByMs, inTime: true };
}

/** What the spill may take, at `nowMs`: the rest of the budget, but never less than one attempt. */
export function spillBudgetMs(plan: AnswerPlan, nowMs: number): number {
  return Math.max(plan.answerByMs - nowMs, MIN_ATTEMPT_MS);
}

/**
 * Runs `work` with an abort signal that fires after `budgetMs`, and rejects with
 * {@link DeadlineExceededError} at that moment even if `work` ignores the signal, so a stuck call
 * can never hold the answer. The abandoned call may still finish later; what it did is harmless,
 * because the event id de-duplicates a message that was both enqueued and spilled. An infinite
 * budget runs `work` unbounded.
 */
export async function withDeadline<T>(what: string, budgetMs: number, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  if (budgetMs === Infinity) return work(controller.signal);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        const err = new DeadlineExceededError(what, budgetMs);
        controller.abort(err);
        reject(err);
      },
      Math.max(0, budgetMs),
    );
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
