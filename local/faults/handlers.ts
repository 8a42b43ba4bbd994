/** The handlers a fault-load run installs, which count their own successful runs per event. */
import { defineHandler, type WebhookEnvelope, type WebhookHandler } from '../../lambda/core/define-handler.js';

/** The handler that records every success. */
export const RECORDER = 'recorder';
/** The handler that always fails for events marked poison (and records its other successes). */
export const PICKY = 'picky';

/** handler name → event id → successful runs. */
export type HandlerRuns = Map<string, Map<string, number>>;

/** The two handlers, and the runs they record; `poison` is read at each run. */
export function countingHandlers(poison: ReadonlySet<string>): { handlers: WebhookHandler<WebhookEnvelope>[]; runs: HandlerRuns } {
  const runs: HandlerRuns = new Map([
    [RECORDER, new Map()],
    [PICKY, new Map()],
  ]);
  const record = (handler: string, eventId: string) => {
    const m = runs.get(handler) as Map<string, number>;
    m.set(eventId, (m.get(eventId) ?? 0) + 1);
  };
  const handlers: WebhookHandler<WebhookEnvelope>[] = [
    defineHandler({ name: RECORDER, events: ['*'], handle: (_e, ctx) => record(RECORDER, ctx.eventId) }),
    defineHandler({
      name: PICKY,
      events: ['*'],
      handle: (_e, ctx) => {
        if (poison.has(ctx.eventId)) throw new Error('this handler always fails for this event');
        record(PICKY, ctx.eventId);
      },
    }),
  ];
  return { handlers, runs };
}
