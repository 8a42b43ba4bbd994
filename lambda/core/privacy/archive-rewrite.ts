/**
 * Rewriting one archive object without some of its lines (docs/privacy.md). An archive object is
 * NDJSON, one line per event in the columns of `ARCHIVE_COLUMNS` (`../archive-layout.ts`),
 * gzip-compressed by Firehose on AWS and by the local delivery stream (`local/delivery-stream.ts`);
 * a plain object is read too. Pure: the caller gets and puts the object.
 *
 * What cannot be read is never lost: a line that is not an archive row is kept, byte for byte, and
 * counted. Kept lines are copied as they were, never re-serialised.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import type { ArchiveColumn, ArchiveRecord } from '../archive-layout.js';
import type { EventFlag } from '../envelope.js';
import { SocialPlusWebhooksError } from '../errors.js';
import { parsedBody, userAppearances } from './user-match.js';

/** One readable line of an archive object, as {@link rewriteArchiveObject} shows it to its predicate. */
export interface ArchiveLineView {
  /** The line's text, without its newline. */
  readonly text: string;
  /** The record the line holds (null columns read as absent). Its `payload` is the body, or its S3 key when flagged `payload-in-s3`. */
  readonly record: ArchiveRecord;
  /** Line number in the object, from 1. */
  readonly lineNumber: number;
}

/** What {@link rewriteArchiveObject} did. */
export interface ArchiveRewrite {
  /** The new object: gzip iff the input was; undefined when no line is left (delete the object). The input itself when nothing changed. */
  readonly body: Buffer | undefined;
  /** Lines removed. */
  readonly removed: number;
  /** Readable lines kept. */
  readonly kept: number;
  /** Lines that are not archive rows; always kept. */
  readonly unreadable: number;
  /** `event_id` of each removed line, in order. */
  readonly removedEventIds: string[];
  /** Whether any line was removed (the object must be written back, or deleted when `body` is undefined). */
  readonly changed: boolean;
  /** Whether the object was (and `body` is) gzip. */
  readonly gzip: boolean;
}

/** The object starts like gzip but does not decompress: nothing in it is touched. */
export class ArchiveObjectUnreadableError extends SocialPlusWebhooksError {
  constructor(cause: unknown) {
    super('the archive object looks gzip-compressed but does not decompress; it was left as it is', { cause });
    this.name = 'ArchiveObjectUnreadableError';
  }
}

const NEWLINE = 0x0a;

/** Whether the bytes start with gzip's magic number (RFC 1952). */
export function isGzip(body: Buffer): boolean {
  return body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b;
}

function optionalString(row: Partial<Record<ArchiveColumn, unknown>>, column: ArchiveColumn): string | undefined | false {
  const v = row[column];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' ? v : false;
}

/**
 * The record of one archive line, or undefined when the line is not an archive row: not a JSON
 * object, or `event_id`, `event_type` or `payload` not a string, `flags` not a list of strings, or
 * another column of the wrong type.
 */
export function parseArchiveLine(text: string): ArchiveRecord | undefined {
  let row: Partial<Record<ArchiveColumn, unknown>>;
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    row = parsed as Partial<Record<ArchiveColumn, unknown>>;
  } catch {
    return undefined;
  }
  const { event_id: eventId, event_type: eventType, payload, flags } = row;
  if (typeof eventId !== 'string' || typeof eventType !== 'string' || typeof payload !== 'string') return undefined;
  if (!Array.isArray(flags) || !flags.every((flag) => typeof flag === 'string')) return undefined;
  const eventName = optionalString(row, 'event_name');
  const receivedAt = optionalString(row, 'received_at');
  const source = optionalString(row, 'source');
  const entities = {
    actorId: optionalString(row, 'actor_id'),
    targetType: optionalString(row, 'target_type'),
    targetId: optionalString(row, 'target_id'),
    occurredAt: optionalString(row, 'occurred_at'),
  };
  const deprecated = row.deprecated ?? false;
  if ([eventName, receivedAt, source, ...Object.values(entities)].includes(false) || typeof deprecated !== 'boolean') return undefined;
  const present = Object.fromEntries(Object.entries(entities).filter(([, v]) => v !== undefined)) as Record<string, string>;
  return {
    eventId,
    eventType,
    eventName: (eventName as string | undefined) ?? null,
    receivedAt: (receivedAt as string | undefined) ?? '',
    source: (source as string | undefined) ?? '',
    deprecated,
    flags: flags as EventFlag[],
    payload,
    ...present,
  };
}

/** The lines of `text`'s bytes, each with its newline (the last may have none), as slices of it. */
function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  while (start < bytes.length) {
    const at = bytes.indexOf(NEWLINE, start);
    const end = at < 0 ? bytes.length : at + 1;
    lines.push(bytes.subarray(start, end));
    start = end;
  }
  return lines;
}

/**
 * The object without the lines `shouldRemove` picks. Blank lines are kept but count as nothing;
 * an object left with only blank lines is left with nothing (`body` undefined).
 *
 * @throws ArchiveObjectUnreadableError when the object starts like gzip but does not decompress
 */
export function rewriteArchiveObject(body: Buffer, shouldRemove: (line: ArchiveLineView) => boolean): ArchiveRewrite {
  const gzip = isGzip(body);
  let bytes: Buffer;
  try {
    // gunzip reads every member of a multi-member object, so nothing past the first is missed.
    bytes = gzip ? gunzipSync(body) : body;
  } catch (err) {
    throw new ArchiveObjectUnreadableError(err);
  }
  const keptLines: Buffer[] = [];
  const removedEventIds: string[] = [];
  let kept = 0;
  let unreadable = 0;
  let meaningful = false;
  for (const [index, line] of splitLines(bytes).entries()) {
    const text = line.toString('utf8').replace(/\r?\n$/, '');
    if (text.trim() === '') {
      keptLines.push(line);
      continue;
    }
    const record = parseArchiveLine(text);
    if (record === undefined) {
      unreadable++;
    } else if (shouldRemove({ text, record, lineNumber: index + 1 })) {
      removedEventIds.push(record.eventId);
      continue;
    } else {
      kept++;
    }
    meaningful = true;
    keptLines.push(line);
  }
  const removed = removedEventIds.length;
  const base = { removed, kept, unreadable, removedEventIds, changed: removed > 0, gzip };
  if (removed === 0) return { ...base, body };
  if (!meaningful) return { ...base, body: undefined };
  const text = Buffer.concat(keptLines);
  return { ...base, body: gzip ? gzipSync(text) : text };
}

/**
 * Whether `userId` appears in the record of an archive line or a store item (`./user-match.ts`).
 * A record flagged `payload-in-s3` is searched by its own fields only: to search its body, read
 * the body's copy and pass it as `body` (parsed JSON).
 */
export function recordMentionsUser(record: ArchiveRecord, userId: string, body: unknown = parsedBody(record)): boolean {
  return userAppearances(record, userId, body).length > 0;
}
