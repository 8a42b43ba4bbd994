/**
 * The inbox of the archive bucket (docs/architecture.md §3, §6): where bodies go when the queue cannot carry them
 * (claim checks, `inbox/large/`) or failed to take them (spills, `inbox/spill/`), the formats of
 * those objects and of the pointer the queue carries, and the S3 notifications that bring spilled
 * events to the fan-out. Pure: building and reading keys, metadata and messages, no I/O.
 *
 * Object format (both prefixes): the object's body is the exact bytes received (no encoding, so
 * any tool can read it and a non-UTF-8 body needs no base64), and its user metadata carries the
 * queue attributes ({@link toBlobMetadata}), percent-encoded so any value is valid metadata.
 */
import { INBOX_LARGE_PREFIX, INBOX_SPILL_PREFIX } from './archive-layout.js';
import { isEventId } from './event-id.js';
import type { QueueMessage, QueueMessageAttributes } from './ports.js';

/** `YYYY-MM-DD` (UTC) of an instant. */
function utcDay(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new RangeError('inbox key: invalid receive time (no UTC day to file the object under)');
  return at.toISOString().slice(0, 10);
}

/** `inbox/large/<YYYY-MM-DD>/<eventId>`: a claim-checked body (kept; the archive may point at it). */
export function claimCheckKey(receivedAt: Date, eventId: string): string {
  return `${INBOX_LARGE_PREFIX}${utcDay(receivedAt)}/${eventId}`;
}

/** `inbox/spill/<YYYY-MM-DD>/<eventId>`: a spilled body (deleted once the fan-out is done with it). */
export function spillKey(receivedAt: Date, eventId: string): string {
  return `${INBOX_SPILL_PREFIX}${utcDay(receivedAt)}/${eventId}`;
}

const INBOX_KEY = /^inbox\/(large|spill)\/(\d{4}-\d{2}-\d{2})\/([0-9a-f]{32})$/;

/** What an inbox key names; undefined for anything else (so a malformed pointer is recognised). */
export function parseInboxKey(key: string): { kind: 'large' | 'spill'; day: string; eventId: string } | undefined {
  const m = INBOX_KEY.exec(key);
  if (!m || !isEventId(m[3])) return undefined;
  return { kind: m[1] as 'large' | 'spill', day: m[2] as string, eventId: m[3] as string };
}

/** Metadata names on inbox objects (S3 lower-cases user metadata names, so these are lower case). */
const META = {
  eventId: 'event-id',
  eventType: 'event-type',
  receivedAt: 'received-at',
  source: 'source',
  requestId: 'request-id',
} as const satisfies Partial<Record<keyof QueueMessageAttributes, string>>;

/** The queue attributes as object metadata, percent-encoded (S3 metadata must be US-ASCII). */
export function toBlobMetadata(attributes: QueueMessageAttributes): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [attr, meta] of Object.entries(META) as Array<[keyof typeof META, string]>) {
    const value = attributes[attr];
    if (value) out[meta] = encodeURIComponent(value);
  }
  return out;
}

/** Reads {@link toBlobMetadata} back; a value that does not decode is left out, never thrown on. */
export function fromBlobMetadata(metadata: Readonly<Record<string, string | undefined>>): Partial<Record<keyof QueueMessageAttributes, string>> {
  const out: Partial<Record<keyof QueueMessageAttributes, string>> = {};
  for (const [attr, meta] of Object.entries(META) as Array<[keyof typeof META, string]>) {
    const raw = metadata[meta];
    if (raw === undefined) continue;
    try {
      out[attr] = decodeURIComponent(raw);
    } catch {
      // Not ours (hand-written metadata): the fan-out falls back to other sources for it.
    }
  }
  return out;
}

/**
 * The queue message of a claim-checked body: the attributes (with `claimCheckKey`, the marker the
 * fan-out goes by) and a small JSON body saying the same for a person reading the queue or DLQ.
 */
export function claimCheckMessage(key: string, bodyBytes: number, attributes: QueueMessageAttributes): QueueMessage {
  const { bodyEncoding: _unused, ...rest } = attributes;
  return {
    body: JSON.stringify({ claimCheckKey: key, bodyBytes }),
    attributes: { ...rest, claimCheckKey: key },
  };
}

/** Bytes SQS counts for a message: the body plus each attribute's name, data type and value. */
export function queueMessageBytes(bodyBytes: number, attributes: QueueMessageAttributes): number {
  let total = bodyBytes;
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'string' && value !== '') total += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(value);
  }
  return total;
}

/** Characters an SQS message (body or attribute value) may not carry: outside XML 1.0's range. */
const NOT_SQS_SAFE = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** The longest attribute value taken from the body (the routing name); it is informational only. */
export const MAX_EVENT_TYPE_ATTRIBUTE_LENGTH = 256;

/**
 * A value taken from the body, made safe for a message attribute: characters SQS rejects become
 * U+FFFD and it is cut to {@link MAX_EVENT_TYPE_ATTRIBUTE_LENGTH}. A JSON body may spell such a
 * character as an escape (`"\uFFFF"`) in its event name, and SQS would reject the whole message.
 */
export function attributeSafe(value: string): string {
  let out = value.length > MAX_EVENT_TYPE_ATTRIBUTE_LENGTH ? value.slice(0, MAX_EVENT_TYPE_ATTRIBUTE_LENGTH) : value;
  NOT_SQS_SAFE.lastIndex = 0;
  if (NOT_SQS_SAFE.test(out)) out = out.replace(NOT_SQS_SAFE, '\uFFFD');
  return out;
}

/** An object an S3 event notification names. */
export interface S3ObjectRef {
  readonly bucket: string;
  /** Decoded (S3 URL-encodes keys in notifications, with `+` for a space). */
  readonly key: string;
  /** `ObjectCreated:Put`, `ObjectRemoved:Delete`, … */
  readonly eventName: string;
}

/** What an S3 event notification on the queue says. */
export type S3Notification = { readonly kind: 'test' } | { readonly kind: 'objects'; readonly objects: readonly S3ObjectRef[] };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function decodeKey(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}

/**
 * Reads an S3 event notification (or S3's `s3:TestEvent`) from a queue message body; undefined
 * when the body is not one. Callers only ask for messages that carry none of the receiver's
 * attributes, so a webhook body that happens to look like a notification is never read as one.
 */
export function parseS3Notification(body: string): S3Notification | undefined {
  // Cheap rejection before parsing: every notification names S3 near its start.
  if (!body.includes('s3') && !body.includes('S3')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!isObj(parsed)) return undefined;
  if (parsed.Event === 's3:TestEvent') return { kind: 'test' };
  if (!Array.isArray(parsed.Records) || parsed.Records.length === 0) return undefined;
  const objects: S3ObjectRef[] = [];
  for (const r of parsed.Records) {
    if (!isObj(r) || r.eventSource !== 'aws:s3' || !isObj(r.s3)) return undefined;
    const bucket = isObj(r.s3.bucket) ? r.s3.bucket.name : undefined;
    const key = isObj(r.s3.object) ? r.s3.object.key : undefined;
    if (typeof bucket !== 'string' || typeof key !== 'string') return undefined;
    objects.push({ bucket, key: decodeKey(key), eventName: typeof r.eventName === 'string' ? r.eventName : '' });
  }
  return { kind: 'objects', objects };
}

/**
 * An S3 `ObjectCreated:Put` notification body for objects, in S3's own shape: what the queue
 * receives when a spill lands, for local mode and tests to inject (e.g. a drain of `inbox/spill/`).
 */
export function s3NotificationBody(bucket: string, keys: readonly string[], at: Date = new Date()): string {
  return JSON.stringify({
    Records: keys.map((key) => ({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'us-east-1',
      eventTime: at.toISOString(),
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
        object: { key: encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+') },
      },
    })),
  });
}
