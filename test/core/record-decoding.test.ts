import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { archiveLine } from '../../lambda/core/archive-layout.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { decodeBody, decodeRecord, planRecord, toArchiveRecord, undecodableEvent, type IncomingRecord } from '../../lambda/core/fanout.js';
import { claimCheckKey, s3NotificationBody, spillKey } from '../../lambda/core/inbox.js';
import { sampleBody } from '../support/samples.js';

const NOW = new Date('2025-07-02T10:00:00.000Z');
const AT = new Date('2025-07-02T09:54:03.221Z');
const BODY = sampleBody('message.didFlag');
const ID = eventIdOf(BODY);
const ATTRS = { eventId: ID, eventType: 'message.didFlag', receivedAt: AT.toISOString(), source: 'eu-app', requestId: 'req-1' };

const record = (body: string, attributes: IncomingRecord['attributes'] = ATTRS): IncomingRecord => ({ messageId: 'm-1', body, attributes });

describe('planRecord: how a queue record is read', () => {
  const large = claimCheckKey(AT, ID);
  it.each<[string, IncomingRecord, ReturnType<typeof planRecord>]>([
    ['an ordinary message', record(BODY), { kind: 'inline' }],
    ['a message with a base64 body', record(Buffer.from(BODY).toString('base64'), { ...ATTRS, bodyEncoding: 'base64' }), { kind: 'inline' }],
    ['a claim check', record('{"claimCheckKey":"…"}', { ...ATTRS, claimCheckKey: large }), { kind: 'claim-check', key: large }],
    [
      'a claim check pointing outside inbox/large/',
      record('{}', { ...ATTRS, claimCheckKey: spillKey(AT, ID) }),
      { kind: 'undecodable', reason: 'pointer-malformed' },
    ],
    [
      'a claim check with a garbled key',
      record('{}', { ...ATTRS, claimCheckKey: 'inbox/large/../../events/x' }),
      { kind: 'undecodable', reason: 'pointer-malformed' },
    ],
    [
      'an S3 notification (no receiver attributes)',
      record(s3NotificationBody('b', [spillKey(AT, ID)]), {}),
      {
        kind: 's3-notification',
        notification: { kind: 'objects', objects: [{ bucket: 'b', key: spillKey(AT, ID), eventName: 'ObjectCreated:Put' }] },
      },
    ],
    ["S3's test event", record('{"Service":"Amazon S3","Event":"s3:TestEvent"}', {}), { kind: 's3-notification', notification: { kind: 'test' } }],
    ['a notification-shaped webhook body sent by the receiver', record(s3NotificationBody('b', [spillKey(AT, ID)])), { kind: 'inline' }],
    ['a body without attributes that is no notification', record(BODY, {}), { kind: 'inline' }],
  ])('%s', (_label, r, plan) => {
    expect(planRecord(r)).toEqual(plan);
  });
});

describe('decodeRecord: a record that carries its body', () => {
  it('text: kept as is, id from its bytes, attributes read', () => {
    const e = decodeRecord(record(BODY), NOW);
    expect(e).toMatchObject({
      messageId: 'm-1',
      eventId: ID,
      rawBody: BODY,
      bodyBytes: Buffer.byteLength(BODY),
      receivedAt: AT.toISOString(),
      source: 'eu-app',
      flags: [],
    });
    expect(e.parsed.eventType).toBe('message.didFlag');
  });

  it('base64 of UTF-8 text (characters SQS refuses): decoded to the text', () => {
    const text = '{"event":"message.didCreate","data":{"t":"\uFFFF"}}';
    const e = decodeRecord(record(Buffer.from(text).toString('base64'), { ...ATTRS, bodyEncoding: 'base64' }), NOW);
    expect(e).toMatchObject({ rawBody: text, eventId: eventIdOf(text), flags: [] });
  });

  it('base64 of bytes that are not UTF-8: kept as base64, flagged body-base64, id of the exact bytes', () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0xfe, 0x7d]);
    const e = decodeRecord(record(bytes.toString('base64'), { ...ATTRS, bodyEncoding: 'base64' }), NOW);
    expect(e).toMatchObject({ rawBody: bytes.toString('base64'), eventId: eventIdOf(bytes), bodyBytes: 8, flags: ['invalid-json', 'body-base64'] });
    expect(e.parsed.payload).toBeUndefined();
  });

  it.each([
    ['not base64 at all', 'not base64!', 'base64'],
    ['base64 with a bad length', 'abcde', 'base64'],
    ['an encoding nobody writes', 'e30=', 'gzip'],
  ])('%s → undecodable, flagged encoding-invalid, the record body kept', (_label, body, bodyEncoding) => {
    const e = decodeRecord(record(body, { ...ATTRS, bodyEncoding }), NOW);
    expect(e).toMatchObject({
      eventId: eventIdOf(body),
      rawBody: body,
      flags: ['undecodable', 'encoding-invalid'],
      receivedAt: AT.toISOString(),
      source: 'eu-app',
    });
    expect(e.parsed.payload).toBeUndefined();
  });
});

describe('undecodableEvent', () => {
  it('is the record itself, under the hash of its body, never the id it claims', () => {
    const pointer = '{"claimCheckKey":"inbox/large/2025-07-02/x","bodyBytes":1572864}';
    const e = undecodableEvent(record(pointer), 'blob-missing', NOW);
    expect(e.eventId).toBe(eventIdOf(pointer));
    expect(e.eventId).not.toBe(ID);
    expect(toArchiveRecord(e)).toMatchObject({ eventType: 'unknown', eventName: null, flags: ['undecodable', 'blob-missing'], payload: pointer });
  });

  it("falls back to the queue's time and the default source when the record has neither", () => {
    const e = undecodableEvent({ messageId: 'm', body: 'x', attributes: {}, sentAt: AT }, 'pointer-malformed', NOW);
    expect(e).toMatchObject({ receivedAt: AT.toISOString(), source: 'default' });
  });
});

describe('the exact bytes survive every way a body travels (property)', () => {
  const bodies = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 600 }).map((b) => Buffer.from(b)),
    fc
      .string({ unit: 'grapheme', minLength: 1, maxLength: 300 })
      .map((t) => Buffer.from(JSON.stringify({ event: 'message.didCreate', data: { t } }))),
  );

  it('inline text or base64, or fetched bytes: one id, and the archive line restores the bytes', () => {
    fc.assert(
      fc.property(bodies, (bytes) => {
        const id = eventIdOf(bytes);
        const viaBase64 = decodeRecord(record(bytes.toString('base64'), { ...ATTRS, bodyEncoding: 'base64' }), NOW);
        const viaBlob = decodeBody(bytes, { messageId: 'm', attributes: ATTRS }, NOW);
        for (const e of [viaBase64, viaBlob]) {
          expect(e.eventId).toBe(id);
          expect(e.bodyBytes).toBe(bytes.length);
          const row = JSON.parse(archiveLine(toArchiveRecord(e))) as { payload: string; flags: string[]; event_id: string };
          const restored = row.flags.includes('body-base64') ? Buffer.from(row.payload, 'base64') : Buffer.from(row.payload, 'utf8');
          expect(restored.equals(bytes)).toBe(true);
          expect(row.event_id).toBe(id);
        }
      }),
      { numRuns: 300 },
    );
  });
});
