/**
 * Example handler (off by default): puts every event (or a configured set) on an EventBridge bus,
 * so users add targets with rules and no code. Source `socialplus.webhooks`; detail-type the routing
 * name (`post.didCreate`); detail `{ eventId, eventType, eventName, receivedAt, source, deprecated,
 * payload }` with the payload as parsed from the body. An entry over EventBridge's 256 KB limit goes
 * without its payload (`payloadOmitted: true`): rules still match it, and the event id finds the
 * full body in the event store or the archive. Delivery is at least once (a retry puts the event
 * again): targets de-duplicate on `detail.eventId`, which never changes for an event.
 */
import { defineHandler, type WebhookHandler } from '../../core/define-handler.js';
import type { EventBridgeConfig } from './config.js';
import type { BusEntry, EventPublisher } from './state-ports.js';

/** Stable handler name (recorded per event). */
export const EVENTBRIDGE_FORWARDER_HANDLER = 'eventbridge-forwarder';

/** The `source` of every forwarded event: what rules match on. */
export const EVENTBRIDGE_SOURCE = 'socialplus.webhooks';

/** Largest PutEvents entry EventBridge accepts (256 KB). */
export const EVENTBRIDGE_MAX_ENTRY_BYTES = 256 * 1024;

/**
 * An entry's size as EventBridge counts it: UTF-8 bytes of Source, DetailType and Detail, 14
 * bytes for Time, plus each Resource (none here); the bus name is not counted.
 */
export function entrySizeBytes(entry: BusEntry): number {
  return Buffer.byteLength(entry.source, 'utf8') + Buffer.byteLength(entry.detailType, 'utf8') + Buffer.byteLength(entry.detail, 'utf8') + 14;
}

/** Builds the forwarder from its configuration. */
export function createEventBridgeForwarder(config: EventBridgeConfig, deps: { readonly publisher: EventPublisher }): WebhookHandler {
  return defineHandler({
    name: EVENTBRIDGE_FORWARDER_HANDLER,
    events: config.events,
    rawPayload: true,
    async handle(event, ctx) {
      const base = {
        eventId: ctx.eventId,
        eventType: ctx.eventType,
        eventName: ctx.eventName,
        receivedAt: ctx.receivedAt,
        source: ctx.source,
        deprecated: ctx.deprecated,
      };
      const entry = (detail: object): BusEntry => ({
        source: EVENTBRIDGE_SOURCE,
        detailType: ctx.eventType,
        detail: JSON.stringify(detail),
        time: new Date(ctx.receivedAt),
      });
      let full: BusEntry;
      try {
        full = entry({ ...base, payload: event });
      } catch (err) {
        // A payload nested deeper than JSON.stringify's recursion allows (it parsed, iteratively,
        // but cannot be written back): the same on every retry, so it goes without its payload
        // rather than to the dead-letter queue.
        if (!(err instanceof RangeError)) throw err;
        ctx.logger.warn('payload nested too deeply to serialize; forwarding the event without it', { eventId: ctx.eventId, error: err.message });
        await deps.publisher.publish(entry({ ...base, payload: null, payloadOmitted: true, payloadOmittedReason: 'nested-too-deeply' }));
        return;
      }
      const bytes = entrySizeBytes(full);
      if (bytes > EVENTBRIDGE_MAX_ENTRY_BYTES) {
        ctx.logger.warn('event too large for EventBridge; forwarding it without its payload', {
          eventId: ctx.eventId,
          bytes,
          limit: EVENTBRIDGE_MAX_ENTRY_BYTES,
        });
        full = entry({ ...base, payload: null, payloadOmitted: true, payloadOmittedReason: 'too-large', payloadBytes: bytes });
      }
      await deps.publisher.publish(full);
    },
  });
}
