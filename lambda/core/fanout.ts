import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { archiveLine, type ArchiveRecord } from './archive-layout.js';
import type { HandlerContext, WebhookEnvelope, WebhookHandler } from './define-handler.js';
import { eventIdOf } from './event-id.js';
import { parseEvent, UNKNOWN_EVENT_TYPE, type EventFlag, type ParsedEvent } from './envelope.js';
import { BlobNotFoundError, NoBlobStoreError } from './errors.js';
import { claimCheckKey, fromBlobMetadata, parseInboxKey, parseS3Notification, type S3Notification } from './inbox.js';
import { ARCHIVE_MAX_LINE_BYTES, STORE_COPY_THRESHOLD_BYTES } from './limits.js';
import {
  HANDLER_ERROR_MAX_CHARS,
  REPLAY_REQUEST_ID_PREFIX,
  type ArchiveStream,
  type BlobStore,
  type EventStore,
  type HandlerRunRecord,
  type QueueMessageAttributes,
  type StoredEvent,
  type StoredEventState,
} from './ports.js';
import { DEFAULT_SOURCE } from './receive.js';
import { route } from './routing.js';
import { PIPELINE_METRIC_NAMES, silentLogger, withLogFields, type HandlerMetrics, type Logger, type MetricName, type Metrics } from './telemetry.js';

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
  /**
   * The body as text: exactly as received, or the base64 of its bytes when they are not UTF-8
   * (flag `body-base64`); for an undecodable record, the record's own body.
   */
  readonly rawBody: string;
  /** Length in bytes of the exact body `rawBody` stands for. */
  readonly bodyBytes: number;
  readonly receivedAt: string;
  readonly source: string;
  readonly parsed: ParsedEvent;
  /** Everything flagged: what parsing found plus what decoding found. */
  readonly flags: readonly EventFlag[];
  /** Key of a kept inbox object with the exact body (a claim check, or a copy the fan-out made). */
  readonly payloadRef?: string;
  /** Key of the spilled object the event came from, deleted once the event is done. */
  readonly spillKey?: string;
  /** API Gateway request id that brought the event, when the record says: half of its correlation id. */
  readonly requestId?: string;
  /**
   * A forced replay (`replayForce` attribute): the handlers it names run again even when already
   * done for the event; `all` for the value `1` an older CLI sent.
   */
  readonly force?: ReadonlySet<string> | 'all';
}

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

/** What a record needs before it can be decoded; pure, so the rules are tested without I/O. */
export type RecordPlan =
  | { readonly kind: 'inline' }
  | { readonly kind: 'claim-check'; readonly key: string }
  | { readonly kind: 's3-notification'; readonly notification: S3Notification }
  | { readonly kind: 'undecodable'; readonly reason: UndecodableReason };

/** Why a record could not be turned back into its event (each also a flag, after `undecodable`). */
export type UndecodableReason = 'blob-missing' | 'pointer-malformed' | 'encoding-invalid';

/**
 * Decides how to read a record: a `claimCheckKey` attribute points into `inbox/large/`; a record
 * with none of the receiver's attributes may be an S3 notification for `inbox/spill/`; anything
 * else carries the body itself.
 */
export function planRecord(record: IncomingRecord): RecordPlan {
  const a = record.attributes;
  if (a.claimCheckKey !== undefined) {
    return parseInboxKey(a.claimCheckKey)?.kind === 'large'
      ? { kind: 'claim-check', key: a.claimCheckKey }
      : { kind: 'undecodable', reason: 'pointer-malformed' };
  }
  // Only S3 sends messages without the receiver's attributes: the queue's policy denies every sender
  // but the receiver, the operator role replay and redrive use (both set the attributes) and AWS
  // services, and allows S3 only for the archive bucket (lib/constructs/queue.ts restrictSenders).
  if (!a.eventId && !a.receivedAt && !a.requestId) {
    const notification = parseS3Notification(record.body);
    if (notification) return { kind: 's3-notification', notification };
  }
  return { kind: 'inline' };
}

const STRICT_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const NOT_PARSED: ParsedEvent = {
  envelope: 'unknown', eventName: null, eventType: UNKNOWN_EVENT_TYPE, deprecated: false, flags: [], payload: undefined, entities: {},
};

function receivedAtOf(a: Partial<Record<keyof QueueMessageAttributes, string>>, sentAt: Date | undefined, now: Date): string {
  return a.receivedAt && !Number.isNaN(Date.parse(a.receivedAt)) ? a.receivedAt : (sentAt ?? now).toISOString();
}

/**
 * Turns the exact bytes of a body (or its text, as SQS hands it over) into an event. Bytes that
 * are not UTF-8 are kept as base64, flagged `body-base64`, so nothing is lost for a replay.
 */
export function decodeBody(
  body: Uint8Array | string,
  from: { messageId: string; attributes: Partial<Record<keyof QueueMessageAttributes, string>>; sentAt?: Date },
  now: Date,
  extra: { payloadRef?: string; spillKey?: string } = {},
): DecodedEvent {
  const text = typeof body === 'string' ? body : isUtf8(body) ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : undefined;
  const parsed = text === undefined ? parseEvent('') : parseEvent(text);
  const flags: EventFlag[] = text === undefined ? ['invalid-json', 'body-base64'] : [...parsed.flags];
  return {
    messageId: from.messageId,
    // Recomputed rather than trusted: the id is the body's hash wherever the record came from.
    eventId: eventIdOf(body),
    rawBody: text ?? Buffer.from(body as Uint8Array).toString('base64'),
    bodyBytes: typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.byteLength,
    receivedAt: receivedAtOf(from.attributes, from.sentAt, now),
    source: from.attributes.source || DEFAULT_SOURCE,
    parsed: text === undefined ? { ...parsed, flags: ['invalid-json'] } : parsed,
    flags,
    ...(extra.payloadRef ? { payloadRef: extra.payloadRef } : {}),
    ...(extra.spillKey ? { spillKey: extra.spillKey } : {}),
    ...(from.attributes.requestId ? { requestId: from.attributes.requestId } : {}),
    ...forceOf(from.attributes.replayForce),
  };
}

/**
 * Reads `replayForce`: comma-separated handler names, or `1` (every handler, as an older CLI
 * meant it). Anything else names nobody.
 */
export function parseReplayForce(value: string | undefined): ReadonlySet<string> | 'all' | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  if (value.trim() === '1') return 'all';
  const names = value.split(',').map((n) => n.trim()).filter((n) => n !== '');
  return names.length > 0 ? new Set(names) : undefined;
}

function forceOf(value: string | undefined): { force?: ReadonlySet<string> | 'all' } {
  const force = parseReplayForce(value);
  return force === undefined ? {} : { force };
}

/**
 * Which delivery an event came by, as the store's `archivePending` keeps it: a digest (11
 * characters, so the item stays small) of the request id that brought it, which redeliveries, the
 * DLQ and redrives keep, told apart from the copy the receiver spilled to S3 (it may have queued
 * one too); of the message id when there is no request id.
 */
export function deliveryKey(e: DecodedEvent): string {
  const key = e.requestId === undefined || e.requestId === '' ? `message:${e.messageId}` : `${e.requestId}${e.spillKey !== undefined ? '#spill' : ''}`;
  return createHash('sha256').update(key).digest('base64url').slice(0, 11);
}

/** Whether the event was queued by `replay`: it came from the archive, which therefore has it. */
export function isReplay(e: DecodedEvent): boolean {
  return e.requestId?.startsWith(REPLAY_REQUEST_ID_PREFIX) === true;
}

/**
 * A record that cannot be turned back into its event, kept as what it is: stored and archived
 * under the hash of its own body, flagged `undecodable` and the reason, dispatched to no handler.
 */
export function undecodableEvent(record: IncomingRecord, reason: UndecodableReason, now: Date): DecodedEvent {
  return {
    messageId: record.messageId,
    eventId: eventIdOf(record.body),
    rawBody: record.body,
    bodyBytes: Buffer.byteLength(record.body, 'utf8'),
    receivedAt: receivedAtOf(record.attributes, record.sentAt, now),
    source: record.attributes.source || DEFAULT_SOURCE,
    parsed: NOT_PARSED,
    flags: ['undecodable', reason],
    ...(record.attributes.requestId ? { requestId: record.attributes.requestId } : {}),
  };
}

/** Turns a record that carries its body back into an event. Never throws: an odd record is kept, flagged. */
export function decodeRecord(record: IncomingRecord, now: Date): DecodedEvent {
  const encoding = record.attributes.bodyEncoding;
  if (encoding === undefined || encoding === '') return decodeBody(record.body, record, now);
  if (encoding !== 'base64' || record.body.length % 4 !== 0 || !STRICT_BASE64.test(record.body)) {
    return undecodableEvent(record, 'encoding-invalid', now);
  }
  return decodeBody(Buffer.from(record.body, 'base64'), record, now);
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
    flags: e.flags,
    payload: e.rawBody,
    ...e.parsed.entities,
  };
}

/**
 * The event item of DESIGN §5. It says which delivery is to archive the event (`archivePending`),
 * except for a replay, whose event the archive has already.
 */
export function toStoredEvent(e: DecodedEvent, retentionDays: number, now: Date): StoredEvent {
  return {
    ...toArchiveRecord(e),
    ...(e.payloadRef ? { payloadRef: e.payloadRef } : {}),
    expiresAt: Math.floor(now.getTime() / 1000) + Math.round(retentionDays * 86_400),
    ...(isReplay(e) ? {} : { archivePending: deliveryKey(e) }),
  };
}

/** The exact bytes an event's `rawBody` stands for. */
function exactBytes(e: DecodedEvent): Buffer {
  return e.flags.includes('body-base64') ? Buffer.from(e.rawBody, 'base64') : Buffer.from(e.rawBody, 'utf8');
}

/** Fetches what a record points at and decodes it; throws only for what a retry may fix. */
async function resolveRecord(record: IncomingRecord, deps: FanoutDeps, now: Date): Promise<DecodedEvent[]> {
  const plan = planRecord(record);
  switch (plan.kind) {
    case 'inline':
      return [decodeRecord(record, now)];
    case 'undecodable':
      return [undecodableEvent(record, plan.reason, now)];
    case 'claim-check': {
      if (!deps.blobs) throw new NoBlobStoreError(`record ${record.messageId} is a claim check`);
      try {
        const blob = await deps.blobs.get(plan.key);
        // The message's own attributes win; the object's metadata only fills gaps.
        return [decodeBody(blob.body, { ...record, attributes: { ...fromBlobMetadata(blob.metadata), ...record.attributes } }, now, { payloadRef: plan.key })];
      } catch (err) {
        // Claim checks are never deleted (the archive points at them): a missing one will not come back.
        if (err instanceof BlobNotFoundError) return [undecodableEvent(record, 'blob-missing', now)];
        throw err;
      }
    }
    case 's3-notification':
      return resolveNotification(record, plan.notification, deps, now);
  }
}

async function resolveNotification(record: IncomingRecord, n: S3Notification, deps: FanoutDeps, now: Date): Promise<DecodedEvent[]> {
  const { logger } = deps;
  if (n.kind === 'test') {
    logger.info('S3 test notification acknowledged', { messageId: record.messageId });
    return [];
  }
  const out: DecodedEvent[] = [];
  let malformed = false;
  for (const o of n.objects) {
    if (!o.eventName.startsWith('ObjectCreated:')) {
      logger.debug('S3 notification that creates nothing ignored', { messageId: record.messageId, s3Event: o.eventName });
      continue;
    }
    const ref = parseInboxKey(o.key);
    if (ref?.kind !== 'spill' || (deps.blobs?.bucket !== undefined && o.bucket !== deps.blobs.bucket)) {
      malformed = true;
      continue;
    }
    if (!deps.blobs) throw new NoBlobStoreError(`record ${record.messageId} announces a spilled event`);
    let blob;
    try {
      blob = await deps.blobs.get(o.key);
    } catch (err) {
      if (!(err instanceof BlobNotFoundError)) throw err;
      // Spills are deleted only after the event was stored and handled: a repeated notification
      // (S3 delivers at least once) finds it gone, and there is nothing left to do.
      logger.warn('spilled object already processed (or removed); nothing to do', { messageId: record.messageId, spillKey: o.key, eventId: ref.eventId });
      continue;
    }
    out.push(decodeBody(blob.body, { messageId: record.messageId, attributes: fromBlobMetadata(blob.metadata), ...(record.sentAt ? { sentAt: record.sentAt } : {}) }, now, { spillKey: o.key }));
  }
  // A notification naming objects that are not our spills is kept whole, flagged, once.
  if (malformed) out.push(undecodableEvent(record, 'pointer-malformed', now));
  return out;
}

/** An event ready to archive: its line, with an S3 pointer in place of a payload too large for a record. */
interface Prepared {
  readonly event: DecodedEvent;
  readonly line: string;
}

/**
 * Builds the archive line and makes sure a payload too large for an archive record or a store item
 * has a kept S3 copy (a claim check has one already; other bodies are copied to `inbox/large/`).
 */
async function prepare(e: DecodedEvent, deps: FanoutDeps): Promise<Prepared> {
  const line = archiveLine(toArchiveRecord(e));
  const lineTooLarge = Buffer.byteLength(line, 'utf8') > ARCHIVE_MAX_LINE_BYTES;
  if (!deps.blobs || (!lineTooLarge && e.bodyBytes <= STORE_COPY_THRESHOLD_BYTES)) return { event: e, line };
  let payloadRef = e.payloadRef;
  if (payloadRef === undefined) {
    payloadRef = claimCheckKey(new Date(e.receivedAt), e.eventId);
    await deps.blobs.put(payloadRef, exactBytes(e));
    deps.metrics.count('PayloadCopied');
  }
  const event = { ...e, payloadRef };
  if (!lineTooLarge) return { event, line };
  return { event, line: archiveLine({ ...toArchiveRecord(e), payload: payloadRef, flags: [...e.flags, 'payload-in-s3'] }) };
}

/** The copies of one event in a batch (the same body in several records), and what became of it. */
interface EventGroup {
  /** The copies, in record order; the first is stored, and is the one retried when handling fails. */
  readonly copies: readonly Prepared[];
  /** The store's answer; undefined until stored (and when storing failed). */
  stored?: { readonly created: true } | ({ readonly created: false } & StoredEventState);
  /** The copy whose line goes to the archive in this batch; undefined when the archive needs none. */
  archiveBy?: Prepared;
  /** The archive took the line in this batch. */
  archived: boolean;
  /** Nothing more happens to the event in this batch (failed, or waiting for its archive line). */
  stop: boolean;
}

/**
 * DESIGN §4: decode each record (fetching claim-checked and spilled bodies); store each event
 * once (conditional put); archive, in one put for the batch, each event the archive does not have
 * yet; dispatch it to the handlers that have not yet succeeded for it and record their runs (an
 * event flagged `verification` goes to none); delete the spills that are done. Returns the
 * records to retry.
 *
 * The archive holds each event once: a new event is archived by the delivery that stored it, and
 * only by that one (its retries, redeliveries and redrives keep its request id); the item says so
 * (`archivePending`) until the write that records the event's handler runs clears it. Other
 * deliveries of the same body, retries of a failing handler and replays (which come from the
 * archive) add no line. A crash after the archive took a line and before that write lands may
 * repeat the line when the record is retried.
 */
export async function processBatch(records: readonly IncomingRecord[], deps: FanoutDeps): Promise<BatchResult> {
  const now = (deps.now ?? (() => new Date()))();
  const { logger, metrics } = deps;
  const concurrency = deps.concurrency ?? 8;
  metrics.count('RecordsReceived', records.length);
  const failed = new Set<string>();

  // 1. Decode, fetching what records point at; a fetch that fails retries only its record.
  const perRecord: DecodedEvent[][] = records.map(() => []);
  await forEachLimited(records.map((_, i) => i), concurrency, async (i) => {
    const r = records[i] as IncomingRecord;
    try {
      perRecord[i] = await resolveRecord(r, deps, now);
    } catch (err) {
      failed.add(r.messageId);
      metrics.count('BlobFetchFailed');
      logger.error('could not read the record\'s body from the inbox; will retry', { messageId: r.messageId, eventId: r.attributes.eventId, error: (err as Error).message });
    }
  });
  const decoded = perRecord.flat();
  for (const e of decoded) {
    if (!e.flags.includes('undecodable')) continue;
    metrics.count('Undecodable');
    logger.warn('record could not be decoded; it is kept flagged', { messageId: e.messageId, eventId: e.eventId, flags: e.flags });
  }

  // 2. Archive lines, with S3 copies where a payload is too large; a failed copy retries its record.
  const prepared: Array<Prepared | undefined> = decoded.map(() => undefined);
  await forEachLimited(decoded.map((_, i) => i), concurrency, async (i) => {
    const e = decoded[i] as DecodedEvent;
    try {
      prepared[i] = await prepare(e, deps);
    } catch (err) {
      failed.add(e.messageId);
      logger.error('could not keep an S3 copy of a large payload; will retry', { messageId: e.messageId, eventId: e.eventId, error: (err as Error).message });
    }
  });

  // Copies of one event in the batch are stored, archived and dispatched once, and share the outcome.
  const byId = new Map<string, Prepared[]>();
  for (const p of prepared) {
    if (p === undefined || failed.has(p.event.messageId)) continue;
    const copies = byId.get(p.event.eventId);
    if (copies) copies.push(p);
    else byId.set(p.event.eventId, [p]);
  }
  const groups: EventGroup[] = [...byId.values()].map((copies) => ({ copies, archived: false, stop: false }));

  // 3. Store each event once (conditional put): the store says whether the archive has it.
  await forEachLimited(groups, concurrency, async (g) => {
    const e = first(g);
    const log = eventLog(e);
    try {
      g.stored = await deps.store.putIfAbsent(toStoredEvent(e, deps.eventRetentionDays, now));
    } catch (err) {
      metrics.count('StoreFailed');
      logger.error('could not store event; will retry', { ...log, error: (err as Error).message });
      failed.add(e.messageId);
      g.stop = true;
      return;
    }
    const eventLogger = loggerFor(logger, e);
    if (g.stored.created) {
      metrics.count('Stored');
      // One line per stored event, the fan-out's counterpart of the receiver's `accepted`.
      eventLogger.info('stored', { eventType: e.parsed.eventType, source: e.source });
      // `verification` labels a verify run's event; only the other flags make it unusual.
      if (e.flags.some((f) => f !== 'verification')) {
        metrics.count('Flagged');
        logger.warn('stored a flagged event', { ...log, flags: e.flags });
      }
    } else {
      metrics.count('Duplicate');
      eventLogger.info('duplicate: already stored; only handlers not yet done run', { handlersDone: [...g.stored.handlersDone] });
    }
    g.archiveBy = archiveCopy(g);
  });

  // 4. Archive what the archive lacks, in one put; the adapter retries the lines it rejects. An
  // event whose line was not taken waits: the copy that archives it is retried, nothing is dispatched.
  const toArchive = groups.filter((g) => !g.stop && g.archiveBy !== undefined);
  // Counted every batch, 0 included, as a batch with nothing to archive always was.
  if (toArchive.length === 0) metrics.count('Archived', 0);
  else {
    // The copy that archives is the one retried; the event waits for it.
    const stop = (g: EventGroup) => {
      failed.add((g.archiveBy as Prepared).event.messageId);
      g.stop = true;
    };
    try {
      const { failedIndexes } = await deps.archive.putLines(toArchive.map((g) => (g.archiveBy as Prepared).line));
      const rejected = new Set(failedIndexes);
      toArchive.forEach((g, i) => {
        if (rejected.has(i)) stop(g);
        else g.archived = true;
      });
      metrics.count('Archived', toArchive.length - rejected.size);
      if (rejected.size > 0) {
        metrics.count('ArchiveFailed', rejected.size);
        logger.error('archive rejected records after retries', { count: rejected.size });
      }
    } catch (err) {
      metrics.count('ArchiveFailed', toArchive.length);
      logger.error('archive unavailable; the events it lacks will be retried', { error: (err as Error).message, count: toArchive.length });
      toArchive.forEach(stop);
    }
  }

  // 5-6. Dispatch; a spilled event that is done loses its object, so `inbox/spill/` holds only pending work.
  await forEachLimited(groups.filter((g) => !g.stop), concurrency, async (g) => {
    const e = first(g);
    const ok = await dispatch(g, deps);
    if (!ok) {
      failed.add(e.messageId);
      return;
    }
    for (const key of new Set(g.copies.map((c) => c.event.spillKey).filter((k): k is string => k !== undefined))) {
      try {
        await deps.blobs?.delete(key);
        metrics.count('SpillDrained');
      } catch (err) {
        // Harmless: a later notification or drain finds a duplicate and tries again.
        logger.warn('could not delete a processed spill object', { eventId: e.eventId, spillKey: key, error: (err as Error).message });
      }
    }
  });
  return { failedMessageIds: records.map((r) => r.messageId).filter((id) => failed.has(id)) };
}

function first(g: EventGroup): DecodedEvent {
  return (g.copies[0] as Prepared).event;
}

/** The event's correlation fields for the core's own lines. */
function eventLog(e: DecodedEvent): Record<string, string> {
  return { eventId: e.eventId, eventType: e.parsed.eventType, source: e.source, ...(e.requestId ? { requestId: e.requestId } : {}) };
}

/** The event's correlation id (event id, and the request id when known) on every line about it, handlers' lines included. */
function loggerFor(logger: Logger, e: DecodedEvent): Logger {
  return withLogFields(logger, { eventId: e.eventId, ...(e.requestId ? { requestId: e.requestId } : {}) });
}

/**
 * The copy whose line the archive needs, if it needs one: the stored copy of a new event; for an
 * event stored before, the copy of the delivery named in `archivePending` (that delivery stored it
 * and may have stopped before the archive took its line). Never a replay's copy: it came from the
 * archive.
 */
function archiveCopy(g: EventGroup): Prepared | undefined {
  const stored = g.stored;
  if (stored === undefined) return undefined;
  if (stored.created) {
    const p = g.copies[0] as Prepared;
    return isReplay(p.event) ? undefined : p;
  }
  if (stored.archivePending === undefined) return undefined;
  return g.copies.find((c) => !isReplay(c.event) && deliveryKey(c.event) === stored.archivePending);
}

/** Dispatches a stored (and archived) event and records the runs; false when its record must be retried. */
async function dispatch(g: EventGroup, deps: FanoutDeps): Promise<boolean> {
  const e = first(g);
  const stored = g.stored as NonNullable<EventGroup['stored']>;
  const handlersDone: ReadonlySet<string> = stored.created ? new Set() : stored.handlersDone;
  const previousRuns: Readonly<Record<string, HandlerRunRecord>> = stored.created ? {} : stored.handlerRuns;
  const { logger, metrics } = deps;
  const log = eventLog(e);
  const eventLogger = loggerFor(logger, e);

  // A verification event (`socialplus-webhooks verify`) proves the path up to here: stored and
  // archived; it reaches no handler, so no action is ever taken on a test event.
  if (e.flags.includes('verification')) {
    eventLogger.debug('verification event: stored and archived, dispatched to no handler', { eventType: e.parsed.eventType, source: e.source });
    return true;
  }
  // Handlers get only events with a recognised envelope (or those that name 'unknown' exactly);
  // a body that is not JSON reaches none: it is stored and archived for a person to look at.
  if (e.parsed.payload === undefined) return true;
  const subscribers = e.parsed.envelope === 'unknown'
    ? deps.handlers.filter((h) => h.events.includes(UNKNOWN_EVENT_TYPE))
    : route(deps.handlers, e.parsed);
  // Only handlers not yet done for the event run, and those a forced replay names.
  const forced = (name: string) => e.force === 'all' || (e.force !== undefined && e.force.has(name));
  if (e.force !== undefined && e.force !== 'all') {
    const unknown = [...e.force].filter((n) => !deps.handlers.some((h) => h.name === n));
    if (unknown.length > 0) eventLogger.warn('forced replay names handlers the fan-out does not have; ignored', { handlers: unknown });
  }
  const due = subscribers.filter((h) => !handlersDone.has(h.name) || forced(h.name));
  if (due.length === 0) return true;

  const clock = deps.clockMs ?? (() => performance.now());
  const wallClock = deps.now ?? (() => new Date());
  const runs: Record<string, HandlerRunRecord> = { ...previousRuns };
  const done: string[] = [];
  let allOk = true;
  for (const h of due) {
    const ctx: HandlerContext = {
      eventId: e.eventId,
      eventType: e.parsed.eventType,
      eventName: e.parsed.eventName,
      receivedAt: e.receivedAt,
      source: e.source,
      deprecated: e.parsed.deprecated,
      logger: eventLogger,
      metrics: handlerMetrics(h.name, metrics, eventLogger),
    };
    const attempts = (previousRuns[h.name]?.attempts ?? 0) + 1;
    const started = clock();
    let error: Error | undefined;
    try {
      await h.handle(e.parsed.payload as WebhookEnvelope, ctx);
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    const durationMs = Math.max(0, Math.round(clock() - started));
    const outcome = error === undefined ? 'succeeded' : 'failed';
    if (outcome === 'succeeded') done.push(h.name);
    runs[h.name] = {
      outcome,
      attempts,
      lastAt: wallClock().toISOString(),
      durationMs,
      ...(error !== undefined ? { error: error.message.slice(0, HANDLER_ERROR_MAX_CHARS) } : {}),
    };
    // One line per run, at DEBUG: which handler, which event (from the event's logger), how it went.
    eventLogger.debug('handler ran', { handler: h.name, outcome, durationMs, attempt: attempts });
    if (error === undefined) {
      metrics.count('HandlerSucceeded', 1, { handler: h.name });
    } else {
      allOk = false;
      metrics.count('HandlerFailed', 1, { handler: h.name });
      logger.error('handler failed; it alone will be retried', {
        ...log, handler: h.name, error: error.message, errorName: error.name, stack: error.stack, attempt: attempts, durationMs,
      });
    }
  }
  try {
    // One write per round: successes marked done, every run recorded, and the archive mark cleared
    // when this round archived the event.
    await deps.store.recordHandlerRuns(e.eventId, { runs, done, archived: g.archived });
  } catch (err) {
    // The handlers ran, but the outcome is not recorded: a retry runs those that succeeded again (at-least-once).
    logger.error('could not record handler outcomes; will retry', { ...log, error: (err as Error).message });
    return false;
  }
  return allOk;
}

/** Names a handler may not count under: the pipeline's own (its alarms read them). */
const RESERVED_METRIC_NAMES: ReadonlySet<string> = new Set(PIPELINE_METRIC_NAMES);
/** CloudWatch's metric name rules: 1 to 255 characters, not starting with a colon, ASCII printable. */
const METRIC_NAME = /^[\x20-\x7e]{1,255}$/;

/**
 * `ctx.metrics` of a handler: its own metric names, published under its `handler` dimension. A
 * name that is one of the pipeline's (its alarms read those) or not a CloudWatch metric name, or a
 * value that is not a finite number, is not published and is logged at ERROR instead: metrics
 * never fail a run whose work may be done.
 */
export function handlerMetrics(handler: string, metrics: Metrics, logger: Logger = silentLogger): HandlerMetrics & Metrics {
  return {
    count(name: string, value = 1) {
      const problem = !METRIC_NAME.test(name) || name.startsWith(':')
        ? `${JSON.stringify(name)} is not a CloudWatch metric name (1-255 printable ASCII characters, not starting with ':')`
        : RESERVED_METRIC_NAMES.has(name)
          ? `'${name}' is a metric of the pipeline itself; give your metric another name`
          : !Number.isFinite(value) ? `metric '${name}' was given ${value}, not a finite number` : undefined;
      if (problem !== undefined) {
        logger.error('handler metric not published', { handler, metric: name, problem });
        return;
      }
      // The port's names are the pipeline's, checked at compile time; a handler's own are checked above.
      metrics.count(name as MetricName, value, { handler });
    },
  };
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
