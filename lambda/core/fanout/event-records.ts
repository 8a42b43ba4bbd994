/**
 * What the fan-out writes for an event, with no I/O: its header, its archive record and line, and
 * its store item. The rules for a large payload live here, once: an archive line too long for a
 * Firehose record, and an item whose compressed payload does not fit, carry the key of the
 * payload's S3 copy instead, flagged `payload-in-s3`.
 */
import { gzipSync } from 'node:zlib';
import { archiveLine, type ArchiveRecord } from '../archive-layout.js';
import type { EventFlag } from '../envelope.js';
import { PayloadTooLargeError } from '../errors.js';
import type { EventHeader } from '../event-header.js';
import { ARCHIVE_MAX_LINE_BYTES, STORE_COPY_THRESHOLD_BYTES, STORE_MAX_INLINE_PAYLOAD_BYTES } from '../limits.js';
import type { StoredEvent } from '../ports.js';
import { deliveryKey, isReplay, type DecodedEvent } from './record.js';

/** The six fields that name and place the event, as its line, its item and its handlers' context carry them. */
export function headerOf(e: DecodedEvent): EventHeader {
  return {
    eventId: e.eventId,
    eventType: e.parsed.eventType,
    eventName: e.parsed.eventName,
    receivedAt: e.receivedAt,
    source: e.source,
    deprecated: e.parsed.deprecated,
  };
}

/** The archive record of an event (docs/architecture.md §6), with the payload itself. */
export function toArchiveRecord(e: DecodedEvent): ArchiveRecord {
  return { ...headerOf(e), flags: e.flags, payload: e.rawBody, ...e.parsed.entities };
}

/** The flags of a line or an item that carries the payload's S3 key in place of the payload. */
function payloadInS3(flags: readonly EventFlag[]): readonly EventFlag[] {
  return flags.includes('payload-in-s3') ? flags : [...flags, 'payload-in-s3'];
}

/** Whether an archive line is too long for a Firehose record (it must then point at the payload). */
export function lineTooLong(line: string): boolean {
  return Buffer.byteLength(line, 'utf8') > ARCHIVE_MAX_LINE_BYTES;
}

/**
 * Whether the event needs a kept S3 copy of its payload: its archive line is too long, or its body
 * is too large to be sure of fitting an item even compressed.
 */
export function needsPayloadCopy(e: DecodedEvent, line: string): boolean {
  return lineTooLong(line) || e.bodyBytes > STORE_COPY_THRESHOLD_BYTES;
}

/** The archive line that carries the S3 key of the payload in place of the payload. */
export function pointerLine(record: ArchiveRecord, payloadRef: string): string {
  return archiveLine({ ...record, payload: payloadRef, flags: payloadInS3(record.flags) });
}

/**
 * The compressed size of a payload that may not fit an item; undefined for one that is sure to
 * (gzip adds well under {@link STORE_MAX_INLINE_PAYLOAD_BYTES} - {@link STORE_COPY_THRESHOLD_BYTES}
 * to what it cannot shrink), which is then not compressed here.
 */
function compressedBytesIfLarge(payload: string): number | undefined {
  return Buffer.byteLength(payload, 'utf8') <= STORE_COPY_THRESHOLD_BYTES ? undefined : gzipSync(payload).length;
}

/**
 * The event item of docs/architecture.md §5. It says which delivery is to archive the event (`archivePending`),
 * except for a replay, whose event the archive has already. A payload that does not fit an item
 * compressed is kept as its S3 key (`payloadRef`, flagged `payload-in-s3`): the store adapter only
 * marshals what this decides. Throws {@link PayloadTooLargeError} when such a payload has no copy.
 *
 * @param record the event's archive record, when already built
 */
export function toStoredEvent(e: DecodedEvent, retentionDays: number, now: Date, record: ArchiveRecord = toArchiveRecord(e)): StoredEvent {
  const gzipBytes = compressedBytesIfLarge(record.payload);
  const keepsKey = gzipBytes !== undefined && gzipBytes > STORE_MAX_INLINE_PAYLOAD_BYTES;
  if (keepsKey && !e.payloadRef) throw new PayloadTooLargeError(e.eventId, gzipBytes, STORE_MAX_INLINE_PAYLOAD_BYTES);
  return {
    ...record,
    ...(keepsKey ? { flags: payloadInS3(record.flags) } : {}),
    ...(e.payloadRef ? { payloadRef: e.payloadRef } : {}),
    expiresAt: Math.floor(now.getTime() / 1000) + Math.round(retentionDays * 86_400),
    ...(isReplay(e) ? {} : { archivePending: deliveryKey(e) }),
  };
}
