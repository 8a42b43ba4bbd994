import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { archiveLine, type ArchiveRecord } from '../../lambda/core/archive-layout.js';
import {
  ArchiveObjectUnreadableError,
  parseArchiveLine,
  recordMentionsUser,
  rewriteArchiveObject,
  type ArchiveLineView,
} from '../../lambda/core/privacy/archive-rewrite.js';
import { ensureBucket, localS3Client, startS3rver } from '../../local/emulators.js';
import { LocalDeliveryStream } from '../../local/delivery-stream.js';
import { archiveRecordOf, fixedArchiveRecord } from '../support/archive-records.js';
import { SAMPLE_NAMES, sampleBody } from '../support/samples.js';

const RECEIVED = '2025-07-02T10:00:00.000Z';
const records = SAMPLE_NAMES.map((name) => archiveRecordOf(sampleBody(name), RECEIVED));
const lines = records.map(archiveLine);

/** The samples nok.s is in, read off fixtures/samples by hand (actor, member, voter, reporter, recipient, follower…). */
const NOK_S_SAMPLES = [
  'channel.didCreate',
  'follow.didCreate',
  'poll.didVote',
  'push-notification.message.created',
  'user.didBlock',
  'user.didFlag',
  'v3.post.didCreate',
  'v3.post.didFlag',
];

const forUser = (userId: string) => (line: ArchiveLineView) => recordMentionsUser(line.record, userId);

describe('rewriteArchiveObject', () => {
  it('removes exactly the lines of the user’s events from a gzip object and keeps the rest byte for byte, still gzip', () => {
    const out = rewriteArchiveObject(gzipSync(lines.join('')), forUser('nok.s'));
    const expectedKept = lines.filter((_, i) => !NOK_S_SAMPLES.includes(SAMPLE_NAMES[i] as string));
    const expectedRemoved = records.filter((_, i) => NOK_S_SAMPLES.includes(SAMPLE_NAMES[i] as string)).map((r) => r.eventId);
    expect(out.gzip).toBe(true);
    expect(gunzipSync(out.body as Buffer).toString('utf8')).toBe(expectedKept.join(''));
    expect(out).toMatchObject({ removed: NOK_S_SAMPLES.length, kept: expectedKept.length, unreadable: 0, changed: true });
    expect(out.removedEventIds).toEqual(expectedRemoved);
  });

  it('a plain object stays plain', () => {
    const out = rewriteArchiveObject(Buffer.from(lines.join('')), forUser('nok.s'));
    expect(out.gzip).toBe(false);
    expect((out.body as Buffer).toString('utf8')).toBe(lines.filter((_, i) => !NOK_S_SAMPLES.includes(SAMPLE_NAMES[i] as string)).join(''));
  });

  it('returns the input itself, unchanged, when the user is in no line', () => {
    const body = gzipSync(lines.join(''));
    const out = rewriteArchiveObject(body, forUser('nobody.here'));
    expect(out.body).toBe(body);
    expect(out).toMatchObject({ removed: 0, kept: lines.length, unreadable: 0, changed: false, removedEventIds: [] });
  });

  it('leaves no object when every line goes (blank lines are not worth keeping)', () => {
    const out = rewriteArchiveObject(gzipSync(`${lines[0]}\n${lines[1]}`), () => true);
    expect(out).toMatchObject({ body: undefined, removed: 2, kept: 0, changed: true });
  });

  it('keeps what it cannot read, byte for byte, and counts it; such a line alone keeps the object', () => {
    const invalidUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]);
    const unreadable = [Buffer.from('not json\n'), Buffer.from('{"event_id":42,"payload":"x","flags":[]}\n'), Buffer.from('[1,2]\n'), invalidUtf8];
    const body = Buffer.concat([Buffer.from(lines[0] as string), ...unreadable, Buffer.from(lines[1] as string)]);
    const out = rewriteArchiveObject(body, () => true);
    expect(out).toMatchObject({ removed: 2, kept: 0, unreadable: 4, changed: true });
    expect((out.body as Buffer).equals(Buffer.concat(unreadable))).toBe(true);
  });

  it('keeps a last line with no newline as it is', () => {
    const last = (lines[2] as string).trimEnd();
    const out = rewriteArchiveObject(Buffer.from(`${lines[0]}${last}`), (l) => l.lineNumber === 1);
    expect((out.body as Buffer).toString('utf8')).toBe(last);
  });

  it('reads every member of a multi-member gzip object', () => {
    const body = Buffer.concat([gzipSync(lines[0] as string), gzipSync(lines[1] as string), gzipSync(lines[2] as string)]);
    const out = rewriteArchiveObject(body, (l) => l.record.eventId === records[1]?.eventId);
    expect(gunzipSync(out.body as Buffer).toString('utf8')).toBe(`${lines[0]}${lines[2]}`);
  });

  it('refuses an object that looks like gzip but does not decompress, touching nothing', () => {
    const broken = gzipSync(lines.join('')).subarray(0, 40);
    expect(() => rewriteArchiveObject(broken, () => true)).toThrow(ArchiveObjectUnreadableError);
  });

  it('shows the predicate each line’s text, record and number', () => {
    const seen: ArchiveLineView[] = [];
    rewriteArchiveObject(Buffer.from(lines.slice(0, 3).join('')), (l) => {
      seen.push(l);
      return false;
    });
    expect(seen.map((l) => [l.lineNumber, l.text, l.record])).toEqual(records.slice(0, 3).map((r, i) => [i + 1, (lines[i] as string).trimEnd(), r]));
  });

  it('rewrites an object as local mode’s delivery stream writes it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'privacy-rewrite-'));
    const s3rver = await startS3rver({ dir: join(dir, 's3') });
    const s3 = localS3Client(s3rver.endpoint);
    try {
      await ensureBucket(s3, 'archive');
      const stream = await LocalDeliveryStream.open({ dir: join(dir, 'buffer'), s3, bucket: 'archive', bufferIntervalMs: 3_600_000 });
      await stream.putLines(lines);
      await stream.close();
      const [written] = stream.written;
      const got = await s3.send(new GetObjectCommand({ Bucket: 'archive', Key: written?.key }));
      const body = Buffer.from(await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
      const out = rewriteArchiveObject(body, forUser('nok.s'));
      expect(out).toMatchObject({ gzip: true, removed: NOK_S_SAMPLES.length, kept: lines.length - NOK_S_SAMPLES.length, unreadable: 0 });
    } finally {
      s3.destroy();
      await s3rver.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('parseArchiveLine', () => {
  it('reads back every record the writer writes', () => {
    const text = fc.string();
    const optional = fc.option(text, { nil: undefined });
    const record = fc.record({
      eventId: text,
      eventType: text,
      eventName: fc.option(text, { nil: null }),
      receivedAt: text,
      source: text,
      deprecated: fc.boolean(),
      flags: fc.subarray(['invalid-json', 'body-base64', 'payload-in-s3', 'verification'] as const),
      payload: text,
      actorId: optional,
      targetType: optional,
      targetId: optional,
      occurredAt: optional,
    });
    fc.assert(
      fc.property(record, (r) => {
        const present = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== undefined)) as unknown as ArchiveRecord;
        expect(parseArchiveLine(archiveLine(present).trimEnd())).toEqual(present);
      }),
    );
  });

  it.each([
    ['not JSON', 'x'],
    ['not an object', '"x"'],
    ['no payload', JSON.stringify({ event_id: 'e', event_type: 't', flags: [] })],
    ['flags not strings', JSON.stringify({ event_id: 'e', event_type: 't', payload: 'p', flags: [1] })],
    ['actor not a string', JSON.stringify({ event_id: 'e', event_type: 't', payload: 'p', flags: [], actor_id: 7 })],
    ['deprecated not a boolean', archiveLine(fixedArchiveRecord('{}')).replace('"deprecated":false', '"deprecated":"no"')],
  ])('refuses a line that is no archive row: %s', (_what, line) => {
    expect(parseArchiveLine(line)).toBeUndefined();
  });
});

describe('recordMentionsUser', () => {
  it('searches a payload-in-s3 record’s body only when it is given', () => {
    const body = sampleBody('follow.didCreate');
    const record = { ...archiveRecordOf(body, RECEIVED), payload: 'inbox/large/abc', flags: ['payload-in-s3' as const] };
    const withoutEntities = { ...record, actorId: undefined, targetType: undefined, targetId: undefined };
    expect(recordMentionsUser(withoutEntities, 'ben.w')).toBe(false);
    expect(recordMentionsUser(withoutEntities, 'ben.w', JSON.parse(body))).toBe(true);
    expect(recordMentionsUser(record, 'ben.w')).toBe(true);
  });
});
