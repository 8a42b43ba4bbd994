import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INBOX_LARGE_PREFIX, INBOX_SPILL_PREFIX } from '../../lambda/core/archive-layout.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import {
  attributeSafe,
  claimCheckKey,
  claimCheckMessage,
  fromBlobMetadata,
  MAX_EVENT_TYPE_ATTRIBUTE_LENGTH,
  parseInboxKey,
  parseS3Notification,
  queueMessageBytes,
  s3NotificationBody,
  spillKey,
  toBlobMetadata,
} from '../../lambda/core/inbox.js';
import type { QueueMessageAttributes } from '../../lambda/core/ports.js';
import { sampleBody } from '../support/samples.js';

const ID = eventIdOf('{"event":"message.didCreate"}');
const AT = new Date('2025-07-02T23:59:59.999Z');
const ATTRS: QueueMessageAttributes = {
  eventId: ID,
  eventType: 'message.didCreate',
  receivedAt: AT.toISOString(),
  source: 'eu-app',
  requestId: 'req-1',
};

describe('inbox keys', () => {
  it('claim checks and spills are filed by UTC day and event id', () => {
    expect(claimCheckKey(AT, ID)).toBe(`inbox/large/2025-07-02/${ID}`);
    expect(spillKey(AT, ID)).toBe(`inbox/spill/2025-07-02/${ID}`);
    expect(claimCheckKey(AT, ID).startsWith(INBOX_LARGE_PREFIX)).toBe(true);
    expect(spillKey(AT, ID).startsWith(INBOX_SPILL_PREFIX)).toBe(true);
  });

  it('rejects an invalid receive time, naming the problem', () => {
    expect(() => spillKey(new Date(Number.NaN), ID)).toThrow('inbox key: invalid receive time');
  });

  it('parseInboxKey reads back what the builders wrote (property)', () => {
    const dates = fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T23:59:59Z'), noInvalidDate: true });
    fc.assert(
      fc.property(dates, fc.uint8Array({ maxLength: 64 }), (at, bytes) => {
        const id = eventIdOf(bytes);
        const day = at.toISOString().slice(0, 10);
        expect(parseInboxKey(claimCheckKey(at, id))).toEqual({ kind: 'large', day, eventId: id });
        expect(parseInboxKey(spillKey(at, id))).toEqual({ kind: 'spill', day, eventId: id });
      }),
    );
  });

  it.each([
    ['another prefix', `events/dt=2025-07-02/hour=09/${ID}`],
    ['no day', `inbox/large/${ID}`],
    ['a short id', 'inbox/large/2025-07-02/abc'],
    ['an upper-case id', `inbox/large/2025-07-02/${ID.toUpperCase()}`],
    ['a path escape', `inbox/large/2025-07-02/../../${ID}`],
    ['a trailing part', `inbox/large/2025-07-02/${ID}/x`],
    ['another inbox', `inbox/other/2025-07-02/${ID}`],
    ['empty', ''],
  ])('parseInboxKey refuses %s', (_label, key) => {
    expect(parseInboxKey(key)).toBeUndefined();
  });
});

describe('object metadata', () => {
  it('carries the queue attributes under lower-case names, percent-encoded', () => {
    expect(toBlobMetadata({ ...ATTRS, eventType: 'story.didCreate ✓', bodyEncoding: 'base64' })).toEqual({
      'event-id': ID,
      'event-type': 'story.didCreate%20%E2%9C%93',
      'received-at': '2025-07-02T23%3A59%3A59.999Z',
      source: 'eu-app',
      'request-id': 'req-1',
    });
  });

  it('round-trips any attribute values as US-ASCII (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 40 }), (eventType, requestId) => {
        const attrs = { ...ATTRS, eventType, requestId };
        const meta = toBlobMetadata(attrs);
        for (const v of Object.values(meta)) expect(v).toMatch(/^[\x20-\x7e]*$/);
        const back = fromBlobMetadata(meta);
        expect(back.eventType ?? '').toBe(eventType);
        expect(back.requestId ?? '').toBe(requestId);
        expect(back.receivedAt).toBe(ATTRS.receivedAt);
      }),
    );
  });

  it('a value that does not decode is left out rather than thrown on', () => {
    expect(fromBlobMetadata({ source: '%E0%A4%A', 'received-at': '2025-07-02T00:00:00.000Z' })).toEqual({ receivedAt: '2025-07-02T00:00:00.000Z' });
  });
});

describe('claim-check message', () => {
  it('is a small JSON pointer body plus the attributes with claimCheckKey (and no bodyEncoding)', () => {
    const key = claimCheckKey(AT, ID);
    const m = claimCheckMessage(key, 1_572_864, { ...ATTRS, bodyEncoding: 'base64' });
    expect(JSON.parse(m.body)).toEqual({ claimCheckKey: key, bodyBytes: 1_572_864 });
    expect(m.attributes).toEqual({ ...ATTRS, claimCheckKey: key });
    expect(queueMessageBytes(Buffer.byteLength(m.body), m.attributes)).toBeLessThan(1024);
  });
});

describe('queueMessageBytes (what SQS counts against its 1 MiB)', () => {
  it("adds each attribute's name, data type and value to the body", () => {
    const attrs: QueueMessageAttributes = { eventId: 'a'.repeat(32), eventType: 'é', receivedAt: 'x', source: 'default', requestId: '' };
    // eventId 7+6+32, eventType 9+6+2, receivedAt 10+6+1, source 6+6+7; an empty value is not sent.
    expect(queueMessageBytes(100, attrs)).toBe(100 + 45 + 17 + 17 + 19);
  });
});

describe('attributeSafe (a value from the body, on a message attribute)', () => {
  it.each([
    ['a plain name', 'post.didCreate', 'post.didCreate'],
    ['U+FFFE and U+FFFF', 'a\uFFFEb\uFFFF', 'a\uFFFDb\uFFFD'],
    ['control characters', 'x\u0000y\u0001', 'x\uFFFDy\uFFFD'],
    ['a lone surrogate', 'x\uD800', 'x\uFFFD'],
    ['tab, newline and emoji are fine', 'a\tb\nc 😀', 'a\tb\nc 😀'],
  ])('%s', (_label, input, expected) => {
    expect(attributeSafe(input)).toBe(expected);
  });

  it('is cut to a bounded length, never leaving half a surrogate pair', () => {
    const long = `${'a'.repeat(MAX_EVENT_TYPE_ATTRIBUTE_LENGTH - 1)}😀tail`;
    const out = attributeSafe(long);
    expect(out.length).toBe(MAX_EVENT_TYPE_ATTRIBUTE_LENGTH);
    expect(out.endsWith('\uFFFD')).toBe(true);
  });
});

describe('S3 notifications', () => {
  /** A notification exactly as S3 sends it to SQS (from the S3 documentation's example). */
  const real = JSON.stringify({
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-west-2',
        eventTime: '1970-01-01T00:00:00.000Z',
        eventName: 'ObjectCreated:Put',
        userIdentity: { principalId: 'AIDAJDPLRKLG7UEXAMPLE' },
        requestParameters: { sourceIPAddress: '127.0.0.1' },
        responseElements: {
          'x-amz-request-id': 'C3D13FE58DE4C810',
          'x-amz-id-2': 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
        },
        s3: {
          s3SchemaVersion: '1.0',
          configurationId: 'spill',
          bucket: { name: 'archive-bucket', ownerIdentity: { principalId: 'A3NL1KOZZKExample' }, arn: 'arn:aws:s3:::archive-bucket' },
          object: { key: `inbox/spill/2025-07-02/${ID}`, size: 1024, eTag: 'd41d8cd98f00b204e9800998ecf8427e', sequencer: '0055AED6DCD90281E5' },
        },
      },
    ],
  });

  it('reads the bucket, key and event name', () => {
    expect(parseS3Notification(real)).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'archive-bucket', key: `inbox/spill/2025-07-02/${ID}`, eventName: 'ObjectCreated:Put' }],
    });
  });

  it('recognises the s3:TestEvent S3 sends when the configuration is saved', () => {
    expect(
      parseS3Notification(
        '{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2025-07-02T09:54:03.221Z","Bucket":"archive-bucket","RequestId":"R","HostId":"H"}',
      ),
    ).toEqual({ kind: 'test' });
  });

  it('decodes URL-encoded keys (S3 writes a space as +)', () => {
    const body = real.replace(`inbox/spill/2025-07-02/${ID}`, 'inbox/spill/a+b%2Bc%C3%A9');
    expect(parseS3Notification(body)).toMatchObject({ objects: [{ key: 'inbox/spill/a b+cé' }] });
  });

  it.each([
    ['a webhook body', sampleBody('message.didCreate')],
    ['not JSON', 'not json s3'],
    ['an empty Records list', '{"Records":[]}'],
    ['records from another service', '{"Records":[{"eventSource":"aws:sqs","s3":{}}]}'],
    ['a record without a key', '{"Records":[{"eventSource":"aws:s3","s3":{"bucket":{"name":"b"},"object":{}}}]}'],
    ['a JSON array', '[{"eventSource":"aws:s3"}]'],
  ])('%s is not a notification', (_label, body) => {
    expect(parseS3Notification(body)).toBeUndefined();
  });

  it('s3NotificationBody writes what parseS3Notification reads (property)', () => {
    const segment = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((s) => !s.includes('/'));
    fc.assert(
      fc.property(
        fc.array(
          fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => `inbox/spill/${parts.join('/')}`),
          { minLength: 1, maxLength: 5 },
        ),
        (keys) => {
          expect(parseS3Notification(s3NotificationBody('archive-bucket', keys))).toEqual({
            kind: 'objects',
            objects: keys.map((key) => ({ bucket: 'archive-bucket', key, eventName: 'ObjectCreated:Put' })),
          });
        },
      ),
    );
  });
});
