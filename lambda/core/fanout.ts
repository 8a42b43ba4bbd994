import { archiveLine, type ArchiveRecord } from './archive-layout.js';
import type { HandlerContext, WebhookEnvelope, WebhookHandler } from './define-handler.js';
import { eventIdOf } from './event-id.js';
import { parseEvent, UNKNOWN_EVENT_TYPE, type ParsedEvent } from './envelope.js';
import type { ArchiveStream, EventStore, QueueMessageAttributes, StoredEvent } from './ports.js';
import { DEFAULT_SOURCE } from './receive.js';
import { route } from './routing.js';
import type { Logger, Metrics } from './telemetry.js';

/** One queue record as the fan-out receives it (SQS record, or the local queue's). */
export interface IncomingRecord {
  /** Identifies the record in the partial batch response. */
  readonly messageId: string;
  readonly body: string;
  readonly attributes: Partial<Record<keyof QueueMessageAttributes, string>>;
  /** When the queue accepted the message; fallback for a missing `receivedAt`. */
  readonly sentAt?: Date;
}

/** A record turned back into an event. */
export interface DecodedEvent {
  readonly messageId: string;
  readonly eventId: string;
  readonly rawBody: string;
  readonly receivedAt: string;
  readonly source: string;
  readonly parsed: ParsedEvent;
}

export interface FanoutDeps {
  readonly archive: ArchiveStream;
  readonly store: EventStore;
  readonly handlers: readonly WebhookHandler<WebhookEnvelope>[];
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Days an event item lives in the store before TTL removes it. */
  readonly eventRetentionDays: number;
  /** How many events of a batch are stored and dispatched at once. */
  readonly concurrency?: number;
  readonly now?: () => Date;
}

export interface BatchResult {
  /** Message ids to report as `batchItemFailures`; everything else is done. */
  readonly failedMessageIds: readonly string[];
}

/** Turns a queue record back into an event. Never throws: an odd record is kept, flagged. */
export function decodeRecord(record: IncomingRecord, now: Date): DecodedEvent {
  const a = record.attributes;
  const rawBody = a.bodyEncoding === 'base64' ? Buffer.from(record.body, 'base64').toString('utf8') : record.body;
  const rawBytes = a.bodyEncoding === 'base64' ? Buffer.from(record.body, 'base64') : record.body;
  const receivedAt = a.receivedAt && !Number.isNaN(Date.parse(a.receivedAt)) ? a.receivedAt : (record.sentAt ?? now).toISOString();
  return {
    messageId: record.messageId,
    // Recomputed rather than trusted: the id is the body's hash wherever the record came from.
    eventId: eventIdOf(rawBytes),
    rawBody,
    receivedAt,
    source: a.source || DEFAULT_SOURCE,
    parsed: parseEvent(rawBody),
  };
}

/** The archive line of an event (DESIGN §6). */
export function toArchiveRecord(e: DecodedEvent): ArchiveRecord {
  return {
    eventId: e.eventId,
    eventType: e.parsed.eventType,
    eventName: e.parsed.eventName,
    receivedAt: e.receivedAt,
    source: e.source,
    deprecated: e.parsed.deprecated,
    flags: e.parsed.flags,
    payload: e.rawBody,
    ...e.parsed.entities,
  };
}

/** The event item of DESIGN §5. */
export function toStoredEvent(e: DecodedEvent, retentionDays: number, now: Date): StoredEvent {
  return {
    ...toArchiveRecord(e),
    expiresAt: Math.floor(now.getTime() / 1000) + Math.round(retentionDays * 86_400),
  };
}

/**
 * DESIGN §4: archive the batch in one put, store each event once, dispatch it to the handlers that
 * have not yet succeeded for it and record their success. Returns the records to retry.
 */
export async function processBatch(records: readonly IncomingRecord[], deps: FanoutDeps): Promise<BatchResult> {
  const now = (deps.now ?? (() => new Date()))();
  const { logger, metrics } = deps;
  metrics.count('RecordsReceived', records.length);
  const failed = new Set<string>();
  const events = records.map((r) => decodeRecord(r, now));

  // 1. Archive: the whole batch in one put; the adapter retries the lines it rejects.
  try {
    const { failedIndexes } = await deps.archive.putLines(events.map((e) => archiveLine(toArchiveRecord(e))));
    for (const i of failedIndexes) {
      const e = events[i];
      if (e) failed.add(e.messageId);
    }
    metrics.count('Archived', events.length - failedIndexes.length);
    if (failedIndexes.length > 0) {
      metrics.count('ArchiveFailed', failedIndexes.length);
      logger.error('archive rejected records after retries', { count: failedIndexes.length });
    }
  } catch (err) {
    metrics.count('ArchiveFailed', events.length);
    logger.error('archive unavailable; whole batch will be retried', { error: (err as Error).message, count: events.length });
    return { failedMessageIds: records.map((r) => r.messageId) };
  }

  // 2-4. Store and dispatch each distinct event once; copies in the same batch share the outcome.
  const byId = new Map<string, DecodedEvent>();
  for (const e of events) {
    if (!failed.has(e.messageId) && !byId.has(e.eventId)) byId.set(e.eventId, e);
  }
  const unique = [...byId.values()];
  await forEachLimited(unique, deps.concurrency ?? 8, async (e) => {
    const ok = await storeAndDispatch(e, deps, now);
    if (!ok) failed.add(e.messageId);
  });
  return { failedMessageIds: records.map((r) => r.messageId).filter((id) => failed.has(id)) };
}

async function storeAndDispatch(e: DecodedEvent, deps: FanoutDeps, now: Date): Promise<boolean> {
  const { logger, metrics } = deps;
  const log = { eventId: e.eventId, eventType: e.parsed.eventType, source: e.source };
  let handlersDone: ReadonlySet<string>;
  try {
    const put = await deps.store.putIfAbsent(toStoredEvent(e, deps.eventRetentionDays, now));
    if (put.created) {
      metrics.count('Stored');
      if (e.parsed.flags.length > 0) {
        metrics.count('Flagged');
        logger.warn('stored a flagged event', { ...log, flags: e.parsed.flags });
      }
      handlersDone = new Set();
    } else {
      metrics.count('Duplicate');
      handlersDone = put.handlersDone;
    }
  } catch (err) {
    metrics.count('StoreFailed');
    logger.error('could not store event; will retry', { ...log, error: (err as Error).message });
    return false;
  }

  // Handlers get only events with a recognised envelope (or those that name 'unknown' exactly);
  // a body that is not JSON reaches none: it is stored and archived for a person to look at.
  if (e.parsed.payload === undefined) return true;
  const subscribers = e.parsed.envelope === 'unknown'
    ? deps.handlers.filter((h) => h.events.includes(UNKNOWN_EVENT_TYPE))
    : route(deps.handlers, e.parsed);
  const due = subscribers.filter((h) => !handlersDone.has(h.name));
  if (due.length === 0) return true;

  const succeeded: string[] = [];
  let allOk = true;
  for (const h of due) {
    const ctx: HandlerContext = {
      eventId: e.eventId,
      eventType: e.parsed.eventType,
      eventName: e.parsed.eventName,
      receivedAt: e.receivedAt,
      source: e.source,
      deprecated: e.parsed.deprecated,
      logger,
      metrics,
    };
    try {
      await h.handle(e.parsed.payload as WebhookEnvelope, ctx);
      succeeded.push(h.name);
      metrics.count('HandlerSucceeded', 1, { handler: h.name });
    } catch (err) {
      allOk = false;
      metrics.count('HandlerFailed', 1, { handler: h.name });
      logger.error('handler failed; it alone will be retried', { ...log, handler: h.name, error: (err as Error).message });
    }
  }
  if (succeeded.length > 0) {
    try {
      await deps.store.markHandlersDone(e.eventId, succeeded);
    } catch (err) {
      // The handlers ran, but their success is not recorded: a retry runs them again (at-least-once).
      logger.error('could not record handler outcomes; will retry', { ...log, error: (err as Error).message });
      return false;
    }
  }
  return allOk;
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}
