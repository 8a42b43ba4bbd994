/**
 * Queue records back into events, with no I/O: what a record needs before it can be decoded
 * ({@link planRecord}), the decoding itself, and what a decoded event says about its delivery.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { eventIdOf } from '../event-id.js';
import { parseEvent, UNKNOWN_EVENT_TYPE, type EventFlag, type ParsedEvent } from '../envelope.js';
import { fromBlobMetadata, parseInboxKey, parseS3Notification, type S3Notification } from '../inbox.js';
import { REPLAY_REQUEST_ID_PREFIX, type QueueMessageAttributes } from '../ports.js';
import { DEFAULT_SOURCE } from '../sources.js';

/** The string attributes a record carries (any of them may be missing). */
export type RecordAttributes = Partial<Record<keyof QueueMessageAttributes, string>>;

/** One queue record as the fan-out receives it (SQS record, or the local queue's). */
export interface IncomingRecord {
  /** Identifies the record in the partial batch response. */
  readonly messageId: string;
  readonly body: string;
  readonly attributes: RecordAttributes;
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

/** What a claim check points at: the object's bytes and its user metadata. */
export interface ClaimCheckObject {
  readonly body: Uint8Array;
  readonly metadata: Readonly<Record<string, string | undefined>>;
}

/**
 * The event of a record planned as anything but an S3 notification (which each reader resolves its
 * own way): the body in the message, or in the object a claim check points at, read with
 * `readClaimCheck` (undefined where the object is gone: claim checks are never deleted, the archive
 * points at them, so a missing one will not come back and the record is kept, flagged). The
 * message's own attributes win; the object's metadata only fills gaps.
 */
export async function decodeWithClaimCheck(
  record: IncomingRecord,
  plan: Exclude<RecordPlan, { kind: 's3-notification' }>,
  now: Date,
  readClaimCheck: (key: string) => Promise<ClaimCheckObject | undefined>,
): Promise<DecodedEvent[]> {
  switch (plan.kind) {
    case 'inline':
      return [decodeRecord(record, now)];
    case 'undecodable':
      return [undecodableEvent(record, plan.reason, now)];
    case 'claim-check': {
      const blob = await readClaimCheck(plan.key);
      if (blob === undefined) return [undecodableEvent(record, 'blob-missing', now)];
      return [
        decodeBody(blob.body, { ...record, attributes: { ...fromBlobMetadata(blob.metadata), ...record.attributes } }, now, { payloadRef: plan.key }),
      ];
    }
  }
}

const STRICT_BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const NOT_PARSED: ParsedEvent = {
  envelope: 'unknown',
  eventName: null,
  eventType: UNKNOWN_EVENT_TYPE,
  deprecated: false,
  flags: [],
  payload: undefined,
  entities: {},
};

function receivedAtOf(a: RecordAttributes, sentAt: Date | undefined, now: Date): string {
  return a.receivedAt && !Number.isNaN(Date.parse(a.receivedAt)) ? a.receivedAt : (sentAt ?? now).toISOString();
}

/**
 * Turns the exact bytes of a body (or its text, as SQS hands it over) into an event. Bytes that
 * are not UTF-8 are kept as base64, flagged `body-base64`, so nothing is lost for a replay.
 */
export function decodeBody(
  body: Uint8Array | string,
  from: { messageId: string; attributes: RecordAttributes; sentAt?: Date },
  now: Date,
  extra: { payloadRef?: string; spillKey?: string } = {},
): DecodedEvent {
  const text =
    typeof body === 'string' ? body : isUtf8(body) ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8') : undefined;
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
  const names = value
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  return names.length > 0 ? new Set(names) : undefined;
}

function forceOf(value: string | undefined): { force?: ReadonlySet<string> | 'all' } {
  const force = parseReplayForce(value);
  return force === undefined ? {} : { force };
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

/**
 * Which delivery an event came by, as the store's `archivePending` keeps it: a digest (11
 * characters, so the item stays small) of the request id that brought it, which redeliveries, the
 * DLQ and redrives keep, told apart from the copy the receiver spilled to S3 (it may have queued
 * one too); of the message id when there is no request id.
 */
export function deliveryKey(e: DecodedEvent): string {
  const key =
    e.requestId === undefined || e.requestId === '' ? `message:${e.messageId}` : `${e.requestId}${e.spillKey !== undefined ? '#spill' : ''}`;
  return createHash('sha256').update(key).digest('base64url').slice(0, 11);
}

/** Whether the event was queued by `replay`: it came from the archive, which therefore has it. */
export function isReplay(e: DecodedEvent): boolean {
  return e.requestId?.startsWith(REPLAY_REQUEST_ID_PREFIX) === true;
}

/** The exact bytes an event's `rawBody` stands for. */
export function exactBytes(e: DecodedEvent): Buffer {
  return e.flags.includes('body-base64') ? Buffer.from(e.rawBody, 'base64') : Buffer.from(e.rawBody, 'utf8');
}
