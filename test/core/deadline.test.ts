import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ANSWER_WITHIN_MS,
  DEFAULT_RECEIVER_DEADLINE_MS,
  MIN_ATTEMPT_MS,
  planAnswer,
  RESPONSE_MARGIN_MS,
  SPILL_RESERVE_MS,
  spillBudgetMs,
  withDeadline,
} from '../../lambda/core/deadline.js';
import { DeadlineExceededError } from '../../lambda/core/errors.js';

const T0 = Date.UTC(2025, 6, 2, 9, 54, 3, 221);

describe('planAnswer: the queue gets min(deadline, what is left before the answer minus the spill reserve)', () => {
  it.each([
    // elapsed since arrival, deadline → queue budget, answer due after now
    [0, undefined, DEFAULT_RECEIVER_DEADLINE_MS, 1400],
    [30, undefined, 1000, 1370],
    [200, undefined, 900, 1200],
    [600, undefined, 500, 800],
    [600, 300, 300, 800],
    [30, 20, 20, 1370], // a deadline shorter than one attempt is still honoured
    [1000, undefined, 100, 400],
    [1060, undefined, 0, 340], // 40 ms left for the queue: not worth starting, straight to the spill
    [1300, undefined, 0, 100],
  ])('arrived %i ms ago, deadline %s → queue %i ms, answer due in %i ms', (elapsed, deadlineMs, queueMs, dueInMs) => {
    const plan = planAnswer({ arrivedAtMs: T0, nowMs: T0 + elapsed, ...(deadlineMs === undefined ? {} : { deadlineMs }) });
    expect(plan).toEqual({ queueMs, answerByMs: T0 + elapsed + dueInMs, inTime: true });
  });

  it('a clock slightly ahead at API Gateway counts as no time spent', () => {
    expect(planAnswer({ arrivedAtMs: T0 + 80, nowMs: T0 })).toEqual({ queueMs: 1000, answerByMs: T0 + 1400, inTime: true });
  });

  it.each([1400, 1499, 5000])(
    'arrived %i ms ago: too late to answer in time, so the plan keeps the event (full deadline, then the spill reserve)',
    (elapsed) => {
      const plan = planAnswer({ arrivedAtMs: T0, nowMs: T0 + elapsed });
      expect(plan).toEqual({ queueMs: 1000, answerByMs: T0 + elapsed + 1000 + SPILL_RESERVE_MS, inTime: false });
    },
  );

  it.each([0, -1, Number.NaN])('rejects a deadline of %s, naming it', (deadlineMs) => {
    expect(() => planAnswer({ arrivedAtMs: T0, nowMs: T0, deadlineMs })).toThrow(
      `receiver deadline must be a positive number of ms, got ${deadlineMs}`,
    );
  });

  it('never plans past the answer (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -2000, max: ANSWER_WITHIN_MS - RESPONSE_MARGIN_MS - 1 }),
        fc.integer({ min: 1, max: 60_000 }),
        (elapsed, deadlineMs) => {
          const now = T0 + elapsed;
          const plan = planAnswer({ arrivedAtMs: T0, nowMs: now, deadlineMs });
          expect(plan.inTime).toBe(true);
          // The answer is on its way by 1.5 s after arrival, minus the way out.
          expect(plan.answerByMs).toBeLessThanOrEqual(Math.max(T0, now) + ANSWER_WITHIN_MS - RESPONSE_MARGIN_MS);
          expect(plan.queueMs).toBeLessThanOrEqual(deadlineMs);
          expect(plan.queueMs === 0 || plan.queueMs >= Math.min(MIN_ATTEMPT_MS, deadlineMs)).toBe(true);
          // Queue work, then the whole spill reserve, still ends by the time the answer is due.
          if (plan.queueMs > 0) expect(now + plan.queueMs + SPILL_RESERVE_MS).toBeLessThanOrEqual(plan.answerByMs);
          // Whatever the queue took, the spill gets its share and still answers within 1.5 s.
          const spillAt = now + plan.queueMs;
          expect(spillAt + spillBudgetMs(plan, spillAt)).toBeLessThanOrEqual(Math.max(T0, now) + ANSWER_WITHIN_MS);
        },
      ),
    );
  });
});

describe('spillBudgetMs', () => {
  it('is what is left before the answer, but at least one attempt', () => {
    const plan = planAnswer({ arrivedAtMs: T0, nowMs: T0 });
    expect(spillBudgetMs(plan, T0 + 1000)).toBe(400);
    expect(spillBudgetMs(plan, T0 + 1390)).toBe(MIN_ATTEMPT_MS);
    expect(spillBudgetMs(plan, T0 + 9000)).toBe(MIN_ATTEMPT_MS);
  });
});

describe('withDeadline', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('returns what the work returns, with a live signal', async () => {
    let seen: AbortSignal | undefined;
    await expect(
      withDeadline('the queue', 1000, async (signal) => {
        seen = signal;
        return 42;
      }),
    ).resolves.toBe(42);
    expect(seen?.aborted).toBe(false);
  });

  it("passes the work's own failure through", async () => {
    await expect(
      withDeadline('the queue', 1000, async () => {
        throw new Error('ServiceUnavailable');
      }),
    ).rejects.toThrow('ServiceUnavailable');
  });

  it('at the deadline: rejects with DeadlineExceededError and aborts the signal, even if the work ignores it', async () => {
    vi.useFakeTimers();
    let seen: AbortSignal | undefined;
    const pending = withDeadline('the queue', 250, (signal) => {
      seen = signal;
      return new Promise<never>(() => undefined);
    });
    const outcome = pending.then(
      () => 'resolved',
      (err: unknown) => err,
    );
    await vi.advanceTimersByTimeAsync(249);
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const err = await outcome;
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect((err as Error).message).toBe('the queue did not finish within 250 ms');
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(err);
  });

  it('an infinite budget sets no timer at all', async () => {
    vi.useFakeTimers();
    const pending = withDeadline('the queue', Infinity, () => new Promise<string>((resolve) => setTimeout(() => resolve('late but fine'), 60_000)));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(60_000);
    await expect(pending).resolves.toBe('late but fine');
  });

  it('clears its timer when the work finishes first', async () => {
    vi.useFakeTimers();
    await withDeadline('the queue', 1000, async () => 'quick');
    expect(vi.getTimerCount()).toBe(0);
  });
});
