/**
 * What the fan-out writes for an event, decided in the core: the header shared by the line, the
 * item and the handlers' context, and where a large payload goes (one rule, here; the DynamoDB
 * adapter only marshals it).
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { archiveLine } from '../../lambda/core/archive-layout.js';
import { PayloadTooLargeError } from '../../lambda/core/errors.js';
import { decodeBody, headerOf, toArchiveRecord, toStoredEvent } from '../../lambda/core/fanout.js';
import { lineTooLong, needsPayloadCopy, pointerLine } from '../../lambda/core/fanout/event-records.js';
import { STORE_COPY_THRESHOLD_BYTES, STORE_MAX_INLINE_PAYLOAD_BYTES } from '../../lambda/core/limits.js';
import { toItem } from '../../lambda/adapters/dynamodb-store.js';
import { sampleBody } from '../support/samples.js';

/** Bytes gzip cannot shrink, the same on every run (SHAKE256 of a fixed label, as long as asked). */
const fixedNoise = (bytes: number): Buffer => createHash('shake256', { outputLength: bytes }).update('event-records').digest();

const NOW = new Date('2025-07-02T10:00:00.000Z');
const ATTRS = { receivedAt: '2025-07-02T09:54:03.221Z', source: 'eu-app', requestId: 'req-1' };
const REF = `inbox/large/2025-07-02/${'c'.repeat(32)}`;
const decode = (body: string, payloadRef?: string) =>
  decodeBody(body, { messageId: 'm-1', attributes: ATTRS }, NOW, payloadRef ? { payloadRef } : {});
/** Base64 of incompressible bytes: text that gzip cannot shrink much. */
const incompressible = (bytes: number) => JSON.stringify({ event: 'v3.post.didCreate', data: { blob: fixedNoise(bytes).toString('base64') } });

describe('the event header', () => {
  it('is the same six fields in the archive record, the stored event and what handlers get', () => {
    const e = decode(sampleBody('message.didFlag'));
    const header = headerOf(e);
    expect(Object.keys(header)).toEqual(['eventId', 'eventType', 'eventName', 'receivedAt', 'source', 'deprecated']);
    expect(toArchiveRecord(e)).toMatchObject(header);
    expect(toStoredEvent(e, 90, NOW)).toMatchObject(header);
  });
});

describe('where the store item keeps the payload', () => {
  it("an ordinary payload: inline, with the S3 copy's key passed on when there is one", () => {
    const stored = toStoredEvent(decode(sampleBody('message.didFlag'), REF), 90, NOW);
    expect(stored.flags).toEqual([]);
    expect(stored.payloadRef).toBe(REF);
    expect(toItem(stored).payloadRef).toBeUndefined();
  });

  it('a large payload that fits compressed: inline', () => {
    const body = JSON.stringify({ event: 'v3.post.didCreate', data: { text: 'a'.repeat(900_000) } });
    const stored = toStoredEvent(decode(body, REF), 90, NOW);
    expect(stored.flags).not.toContain('payload-in-s3');
    expect(toItem(stored).payload?.B).toBeDefined();
  });

  it('a payload too large compressed: its S3 key, flagged payload-in-s3 once (the archive record is left as it is)', () => {
    const e = decode(incompressible(450_000), REF);
    const record = toArchiveRecord(e);
    const stored = toStoredEvent(e, 90, NOW, record);
    expect(stored.flags).toEqual(['payload-in-s3']);
    expect(record.flags).toEqual([]);
    const item = toItem(stored);
    expect(item.payload).toBeUndefined();
    expect(item.payloadRef).toEqual({ S: REF });
    expect(item.flags?.SS).toEqual(['payload-in-s3']);
  });

  it('a payload too large compressed with no S3 copy: PayloadTooLargeError, saying what is missing', () => {
    expect(() => toStoredEvent(decode(incompressible(450_000)), 90, NOW)).toThrow(PayloadTooLargeError);
    expect(() => toStoredEvent(decode(incompressible(450_000)), 90, NOW)).toThrow(
      /has no S3 copy; give the fan-out a blob store \(ARCHIVE_BUCKET_NAME\)/,
    );
  });

  it('below the copy threshold gzip always fits, so nothing is compressed to decide', () => {
    // The worst case: bytes gzip cannot shrink at all, as long as the threshold allows.
    const worst = fixedNoise(STORE_COPY_THRESHOLD_BYTES);
    expect(gzipSync(worst).length).toBeLessThanOrEqual(STORE_MAX_INLINE_PAYLOAD_BYTES);
  });
});

describe('archive lines of large payloads', () => {
  it('a line too long for a record points at the S3 copy, flagged payload-in-s3', () => {
    const body = '"'.repeat(600_000);
    const e = decode(body);
    const record = toArchiveRecord(e);
    const line = archiveLine(record);
    expect(lineTooLong(line)).toBe(true);
    expect(needsPayloadCopy(e, line)).toBe(true);
    expect(JSON.parse(pointerLine(record, REF))).toMatchObject({ payload: REF, flags: ['invalid-json', 'payload-in-s3'] });
  });

  it('an ordinary event needs no copy', () => {
    const e = decode(sampleBody('message.didFlag'));
    expect(needsPayloadCopy(e, archiveLine(toArchiveRecord(e)))).toBe(false);
  });
});
