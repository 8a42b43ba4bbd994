/**
 * Example handler (off by default): counts events per UTC day (of arrival, like the archive's `dt`)
 * per event type, and per channel or community, for dashboards. Exactly once per event, retries
 * included (see `DynamoDbDailyCounterStore`).
 */
import { defineHandler, type WebhookHandler } from '../../core/define-handler.js';
import { placeOf } from '../kit/index.js';
import type { DailyCounterStore } from './state-ports.js';

/** Stable handler name (recorded per event). */
export const DAILY_COUNTERS_HANDLER = 'daily-counters';

/** The counters one event adds to: `type#<eventType>`, and `channel#<id>` or `community#<id>` when it has a place. */
export function counterKeys(eventType: string, payload: unknown): string[] {
  const place = placeOf(eventType, payload);
  return [`type#${eventType}`, ...(place ? [`${place.type}#${place.id}`] : [])];
}

/** Dependencies of the daily-counters handler. */
export interface DailyCountersDeps {
  readonly store: DailyCounterStore;
  /** Wall clock for the store's claim lease. @default Date */
  readonly now?: () => Date;
}

/** Builds the daily-counters handler. */
export function createDailyCounters(deps: DailyCountersDeps): WebhookHandler {
  const now = deps.now ?? (() => new Date());
  return defineHandler({
    name: DAILY_COUNTERS_HANDLER,
    events: ['*'],
    async handle(event, ctx) {
      const day = new Date(ctx.receivedAt).toISOString().slice(0, 10);
      const outcome = await deps.store.increment(ctx.eventId, day, counterKeys(ctx.eventType, event), now());
      if (outcome === 'already-counted') ctx.logger.debug('daily counters: event already counted', { eventId: ctx.eventId });
    },
  });
}
