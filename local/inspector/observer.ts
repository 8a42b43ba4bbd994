/**
 * The fan-out's side of the inspector: wrappers around the fan-out's parts that note what they see
 * (an event stored, its handler runs recorded, each handler run with its error's stack, how an event
 * arrived) and hand each note to `note`. They change nothing the fan-out does: every call goes
 * through as it was and every error is thrown on as it was; a note that fails is dropped.
 */
import type { SQSEvent } from 'aws-lambda';
import type { WebhookEnvelope, WebhookHandler } from '../../lambda/core/define-handler.js';
import { parseInboxKey } from '../../lambda/core/inbox.js';
import type { EventStore, StoredEvent } from '../../lambda/core/ports.js';
import { planRecord } from '../../lambda/core/fanout/record.js';
import { fromSqsRecord } from '../../lambda/fanout/batch-handler.js';
import type { BatchConsumer } from '../queue/event-source.js';
import type { EventSummary, InspectorNote } from './ledger.js';

/** Where notes go; it must return at once. */
export type NoteSink = (note: InspectorNote) => void;

/** The header of a stored event, as the inspector lists it (no payload). */
export function summaryOf(e: StoredEvent): EventSummary {
  return {
    eventId: e.eventId,
    eventType: e.eventType,
    eventName: e.eventName,
    receivedAt: e.receivedAt,
    source: e.source,
    deprecated: e.deprecated,
    actorId: e.actorId ?? null,
    targetType: e.targetType ?? null,
    targetId: e.targetId ?? null,
    flags: [...e.flags],
    payloadRef: e.payloadRef ?? null,
  };
}

function safe(sink: NoteSink): NoteSink {
  return (note) => {
    try {
      sink(note);
    } catch {
      // The inspector is a view: it never fails the fan-out.
    }
  };
}

/** The store, noting each event stored (or found stored) and each round of handler runs recorded. */
export function observedStore(store: EventStore, sink: NoteSink): EventStore {
  const note = safe(sink);
  return {
    async putIfAbsent(event) {
      const result = await store.putIfAbsent(event);
      note({ kind: 'stored', event: summaryOf(event), created: result.created, ...(result.created ? {} : { handlerRuns: result.handlerRuns }) });
      return result;
    },
    async recordHandlerRuns(eventId, update) {
      await store.recordHandlerRuns(eventId, update);
      if (Object.keys(update.runs).length > 0) note({ kind: 'runs', eventId, runs: update.runs });
    },
  };
}

/** A handler, noting each run: when, how long, and the error with its stack when it failed. */
export function observedHandler(
  handler: WebhookHandler<WebhookEnvelope>,
  sink: NoteSink,
  now: () => number = Date.now,
): WebhookHandler<WebhookEnvelope> {
  const note = safe(sink);
  return {
    ...handler,
    async handle(event, ctx) {
      const started = now();
      const base = { kind: 'attempt' as const, eventId: ctx.eventId, handler: handler.name, startedAt: new Date(started).toISOString() };
      try {
        await handler.handle(event, ctx);
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        note({
          ...base,
          durationMs: now() - started,
          outcome: 'failed',
          error: { name: e.name, message: e.message, ...(e.stack !== undefined ? { stack: e.stack } : {}) },
        });
        throw err;
      }
      note({ ...base, durationMs: now() - started, outcome: 'succeeded' });
    },
  };
}

/** The notes a batch's records give before the fan-out reads them: which events came as claim checks or spills. */
export function deliveryNotes(event: SQSEvent): InspectorNote[] {
  const out: InspectorNote[] = [];
  for (const r of event.Records) {
    const plan = planRecord(fromSqsRecord(r));
    if (plan.kind === 'claim-check') {
      const ref = parseInboxKey(plan.key);
      if (ref) out.push({ kind: 'delivery', eventId: ref.eventId, via: 'claim-check' });
    } else if (plan.kind === 's3-notification' && plan.notification.kind === 'objects') {
      for (const o of plan.notification.objects) {
        const ref = parseInboxKey(o.key);
        if (ref?.kind === 'spill') out.push({ kind: 'delivery', eventId: ref.eventId, via: 'spill' });
      }
    }
  }
  return out;
}

/** The fan-out's batch consumer, noting first how the batch's events arrived ({@link deliveryNotes}). */
export function observedConsumer(consumer: BatchConsumer, sink: NoteSink): BatchConsumer {
  const note = safe(sink);
  return (event) => {
    try {
      for (const n of deliveryNotes(event)) note(n);
    } catch {
      // The inspector is a view: it never fails the fan-out.
    }
    return consumer(event);
  };
}
