/**
 * What the fan-out's stages share: the ports they are given, the shape of what each returns, and
 * small helpers for running and logging per event.
 */
import type { WebhookEnvelope, WebhookHandler } from '../define-handler.js';
import type { ArchiveStream, BlobStore, EventStore } from '../ports.js';
import type { SuppressionList } from '../privacy/suppression.js';
import { withLogFields, type Logger, type Metrics } from '../telemetry.js';
import type { DecodedEvent } from './record.js';

export interface FanoutDeps {
  readonly archive: ArchiveStream;
  readonly store: EventStore;
  readonly handlers: readonly WebhookHandler<WebhookEnvelope>[];
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Days an event item lives in the store before TTL removes it. */
  readonly eventRetentionDays: number;
  /**
   * The archive bucket's inbox: fetches claim-checked and spilled bodies, deletes spills once done,
   * and keeps copies of payloads too large for an archive record or a store item. Without it,
   * records that need it fail (and end in the DLQ, to redrive once it is configured) and large
   * payloads stay inline, as before.
   */
  readonly blobs?: BlobStore;
  /**
   * The users whose events are dropped on arrival (`erase --also-future`, docs/privacy.md): an
   * event that names one is acknowledged without being stored, archived or dispatched. Without it,
   * no event is dropped. A list that cannot be read fails the batch's records (they are retried).
   */
  readonly suppression?: SuppressionList;
  /** How many records of a batch are fetched, and events stored and dispatched, at once. */
  readonly concurrency?: number;
  readonly now?: () => Date;
  /** A monotonic clock in milliseconds, for handler durations. @default performance.now */
  readonly clockMs?: () => number;
}

export interface BatchResult {
  /** Message ids to report as `batchItemFailures`; everything else is done. */
  readonly failedMessageIds: readonly string[];
}

/** What one stage of a batch did: what goes on to the next stage, and the records to retry. */
export interface StageResult<T> {
  /** In the order the stage was given them. */
  readonly passed: readonly T[];
  /** Message ids of the records to retry. */
  readonly failed: readonly string[];
}

/** Default of {@link FanoutDeps.concurrency}. */
export const DEFAULT_CONCURRENCY = 8;

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

/**
 * Maps `items` with at most `limit` calls in flight, keeping their order: each result, or
 * `undefined` where `fn` returned it (a stage's way of saying the item failed).
 */
export async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R | undefined>): Promise<Array<R | undefined>> {
  const out: Array<R | undefined> = items.map(() => undefined);
  await forEachLimited(
    items.map((_, i) => i),
    limit,
    async (i) => {
      out[i] = await fn(items[i] as T);
    },
  );
  return out;
}

/** The event's correlation fields for the core's own lines. */
export function eventLog(e: DecodedEvent): Record<string, string> {
  return { eventId: e.eventId, eventType: e.parsed.eventType, source: e.source, ...(e.requestId ? { requestId: e.requestId } : {}) };
}

/** The event's correlation id (event id, and the request id when known) on every line about it, handlers' lines included. */
export function loggerFor(logger: Logger, e: DecodedEvent): Logger {
  return withLogFields(logger, { eventId: e.eventId, ...(e.requestId ? { requestId: e.requestId } : {}) });
}
