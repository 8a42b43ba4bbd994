/**
 * Only inbox objects this installation wrote reach the fan-out: the S3 emulator takes writes from
 * anything on the machine, and a planted spill or claim check would otherwise become an event that
 * handlers act on, with no webhook signature checked.
 */
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../lambda/adapters/s3-blob-store.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey, claimCheckMessage, spillKey, toBlobMetadata } from '../../lambda/core/inbox.js';
import type { QueueMessageAttributes } from '../../lambda/core/ports.js';
import {
  INBOX_MAC_METADATA,
  InboxKeyError,
  InboxMacBlobStore,
  inboxMac,
  inboxMacProblem,
  loadOrCreateInboxKey,
  UnauthenticatedInboxObjectError,
} from '../../local/inbox-mac.js';
import { localPaths } from '../../local/paths.js';
import { VerifiedBlobStore } from '../../local/verified-blob-store.js';
import { useTestS3 } from '../support/emulators.js';
import { recordingFanout } from '../support/in-memory-fanout.js';
import { recordingHandler } from '../support/recording-handler.js';
import { sampleBody } from '../support/samples.js';
import { queueMessageFor, s3NotificationRecord, sqsEvent, sqsRecord } from '../support/sqs.js';

const BUCKET = 'inbox-mac';
const AT = new Date('2025-07-02T10:00:00Z');
const emulator = useTestS3('inbox-mac-', { bucket: BUCKET, s3Subdir: 's3' });
let key: Buffer;

beforeAll(async () => {
  key = await loadOrCreateInboxKey(join(emulator.dir, 'state', 'inbox.key'));
});

/** A flag event: what auto-moderation counts towards a ban. */
function flagBody(label: string): string {
  return `${sampleBody('message.didFlag').trimEnd().slice(0, -1)},"macTest":"${label}"}`;
}

/** The queue attributes the receiver keeps as an inbox object's metadata. */
function attributesOf(text: string, requestId: string): QueueMessageAttributes {
  return { eventId: eventIdOf(text), eventType: 'message.didFlag', receivedAt: AT.toISOString(), source: 'default', requestId };
}

/** Local mode's inbox: the MAC outside, the whole-object checks inside. */
function inbox(withKey: Buffer = key): InboxMacBlobStore {
  return new InboxMacBlobStore(new VerifiedBlobStore(new S3BlobStore(emulator.s3, BUCKET), { identityMetadata: [INBOX_MAC_METADATA] }), withKey);
}

/** What anything else on the machine can do: put an object straight into the emulator. */
async function plant(objectKey: string, body: string, metadata: Record<string, string> = {}): Promise<void> {
  await emulator.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: objectKey, Body: body, Metadata: metadata }));
}

async function exists(objectKey: string): Promise<boolean> {
  try {
    await emulator.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: objectKey }));
    return true;
  } catch (err) {
    if ((err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return false;
    throw err;
  }
}

describe('loadOrCreateInboxKey', () => {
  it('creates a 32-byte key owner-only (file 0600, new folder 0700) and reads the same key back on every load', async () => {
    const file = localPaths(join(emulator.dir, 'fresh-root')).inboxKeyFile;
    const first = await loadOrCreateInboxKey(file);
    expect(first).toHaveLength(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(emulator.dir, 'fresh-root')).mode & 0o777).toBe(0o700);
    expect((await loadOrCreateInboxKey(file)).equals(first)).toBe(true);
    expect((await loadOrCreateInboxKey(file)).equals(first)).toBe(true);
  });

  it('gives every concurrent creator the one key that won', async () => {
    const file = join(emulator.dir, 'race', 'inbox.key');
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateInboxKey(file)));
    for (const k of keys) expect(k.equals(keys[0] as Buffer)).toBe(true);
    expect(Buffer.from((await readFile(file, 'utf8')).trim(), 'base64url').equals(keys[0] as Buffer)).toBe(true);
  });

  it('makes a key file others could read owner-only again', async () => {
    const file = join(emulator.dir, 'loose', 'inbox.key');
    const created = await loadOrCreateInboxKey(file);
    chmodSync(file, 0o644);
    expect((await loadOrCreateInboxKey(file)).equals(created)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('refuses a file that holds no valid key, naming the file and never echoing its content', async () => {
    const file = join(emulator.dir, 'bad.key');
    writeFileSync(file, 'not-a-key-but-maybe-a-secret\n', { mode: 0o600 });
    const err = await loadOrCreateInboxKey(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InboxKeyError);
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/does not hold a valid key.*Delete it to generate a new one/);
    expect((err as Error).message).not.toContain('maybe-a-secret');
  });
});

describe('inbox MAC', () => {
  const body = Buffer.from(flagBody('unit'));
  const objectKey = spillKey(AT, eventIdOf(body));
  const mac = () => inboxMac(key, objectKey, body);

  it('verifies for the key and body it was made for, whatever the case of the metadata name', () => {
    expect(inboxMacProblem(key, objectKey, body, { [INBOX_MAC_METADATA]: mac() })).toBeUndefined();
    expect(inboxMacProblem(key, objectKey, body, { 'Local-Mac': mac() })).toBeUndefined();
  });

  it("does not verify for another object key, another body or another installation's key", () => {
    const metadata = { [INBOX_MAC_METADATA]: mac() };
    expect(inboxMacProblem(key, claimCheckKey(AT, eventIdOf(body)), body, metadata)).toMatch(/does not match its key and body/);
    expect(inboxMacProblem(key, objectKey, Buffer.concat([body, Buffer.from(' ')]), metadata)).toMatch(/does not match/);
    expect(inboxMacProblem(Buffer.alloc(32, 7), objectKey, body, metadata)).toMatch(/does not match/);
  });

  it('reports a missing or malformed MAC', () => {
    expect(inboxMacProblem(key, objectKey, body, {})).toBe(`it carries no ${INBOX_MAC_METADATA} metadata`);
    expect(inboxMacProblem(key, objectKey, body, { [INBOX_MAC_METADATA]: 'short' })).toMatch(/does not match/);
    expect(inboxMacProblem(key, objectKey, body, { [INBOX_MAC_METADATA]: `${mac().slice(0, -2)}!!` })).toMatch(/does not match/);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => inboxMac(Buffer.alloc(16), objectKey, body)).toThrow(/inbox key must be 32 bytes/);
    expect(() => new InboxMacBlobStore(new S3BlobStore(emulator.s3, BUCKET), Buffer.alloc(0))).toThrow(/inbox key must be 32 bytes/);
  });
});

describe('InboxMacBlobStore (against the S3 emulator)', () => {
  it("puts inbox objects with the MAC beside the caller's metadata, and reads them back", async () => {
    const body = Buffer.from(flagBody('genuine-claim-check'));
    const objectKey = claimCheckKey(AT, eventIdOf(body));
    await inbox().put(objectKey, body, { metadata: { 'event-id': eventIdOf(body) } });
    const raw = await emulator.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: objectKey }));
    await raw.Body?.transformToByteArray();
    expect(raw.Metadata).toEqual({ 'event-id': eventIdOf(body), [INBOX_MAC_METADATA]: inboxMac(key, objectKey, body) });
    const got = await inbox().get(objectKey);
    expect(got.body.equals(body)).toBe(true);
    expect(got.metadata['event-id']).toBe(eventIdOf(body));
  });

  it('refuses a planted claim check whose key names the hash of its own body', async () => {
    const text = flagBody('planted-claim-check');
    const objectKey = claimCheckKey(AT, eventIdOf(text));
    await plant(objectKey, text, toBlobMetadata(attributesOf(text, 'planted')));
    const err = await inbox()
      .get(objectKey)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthenticatedInboxObjectError);
    expect((err as UnauthenticatedInboxObjectError).key).toBe(objectKey);
    expect((err as Error).message).toBe(
      `inbox object ${objectKey} was not written by this installation's receiver or fan-out (it carries no ${INBOX_MAC_METADATA} metadata): it is not processed, and is left in place for you to inspect`,
    );
    expect(await exists(objectKey)).toBe(true);
  });

  it('refuses a genuine object copied, metadata and all, to another key', async () => {
    const body = Buffer.from(flagBody('copied'));
    const original = spillKey(AT, eventIdOf(body));
    await inbox().put(original, body, { metadata: { 'event-id': eventIdOf(body) } });
    const raw = await emulator.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: original }));
    const bytes = Buffer.from((await raw.Body?.transformToByteArray()) ?? []);
    // The same bytes under another inbox key whose id also matches them: a claim check, a later day.
    for (const copy of [claimCheckKey(AT, eventIdOf(body)), spillKey(new Date('2025-07-03T10:00:00Z'), eventIdOf(body))]) {
      await emulator.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: copy, Body: bytes, Metadata: raw.Metadata }));
      await expect(inbox().get(copy)).rejects.toThrow(/does not match its key and body/);
    }
    expect((await inbox().get(original)).body.equals(body)).toBe(true);
  });

  it("refuses an object whose MAC was made under another installation's key", async () => {
    const body = Buffer.from(flagBody('other-installation'));
    const objectKey = spillKey(AT, eventIdOf(body));
    await inbox(Buffer.alloc(32, 1)).put(objectKey, body);
    await expect(inbox().get(objectKey)).rejects.toBeInstanceOf(UnauthenticatedInboxObjectError);
  });

  it('writes again, with its MAC, an object planted earlier with the same bytes', async () => {
    const text = flagBody('planted-first');
    const objectKey = claimCheckKey(AT, eventIdOf(text));
    await plant(objectKey, text);
    await inbox().put(objectKey, Buffer.from(text));
    expect((await inbox().get(objectKey)).body.toString()).toBe(text);
  });

  it('leaves keys outside the inbox alone: no MAC added, none asked for', async () => {
    await inbox().put('events/2025/07/02/segment', Buffer.from('line\n'));
    const raw = await emulator.s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'events/2025/07/02/segment' }));
    expect(raw.Metadata ?? {}).toEqual({});
    await plant('notes/readme', 'hello');
    expect((await inbox().get('notes/readme')).body.toString()).toBe('hello');
  });
});

describe("the fan-out with local mode's inbox", () => {
  const fanoutWith = () => recordingFanout({ blobs: inbox(), handlers: (calls) => [recordingHandler('auto-moderation', ['*'], calls)] });

  it('neither stores nor dispatches a planted spill it is notified of, and leaves the object in place', async () => {
    const { fanout, calls, store, archive, logger } = fanoutWith();
    const text = flagBody('planted-spill');
    const objectKey = spillKey(AT, eventIdOf(text));
    await plant(objectKey, text, toBlobMetadata(attributesOf(text, 'planted')));
    const record = s3NotificationRecord(BUCKET, [objectKey]);

    // Reported failed: retried, then dead-lettered by the queue, never taken as done.
    expect(await fanout(sqsEvent([record]))).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(store.putCalls).toEqual([]);
    expect(archive.lines).toEqual([]);
    expect(calls).toEqual([]);
    expect(await exists(objectKey)).toBe(true);
    expect(logger.at('error')).toMatchObject([
      { fields: { error: expect.stringContaining(`inbox object ${objectKey} was not written by this installation`) } },
    ]);
  });

  it('neither stores nor dispatches a planted claim check', async () => {
    const { fanout, calls, store } = fanoutWith();
    const text = flagBody('planted-pointer');
    const objectKey = claimCheckKey(AT, eventIdOf(text));
    await plant(objectKey, text);
    const message = claimCheckMessage(objectKey, text.length, queueMessageFor(text).attributes);
    const record = sqsRecord(message);
    expect(await fanout(sqsEvent([record]))).toEqual({ batchItemFailures: [{ itemIdentifier: record.messageId }] });
    expect(store.putCalls).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('stores and dispatches a spill this installation wrote, then deletes it', async () => {
    const { fanout, calls, store } = fanoutWith();
    const text = flagBody('genuine-spill');
    const objectKey = spillKey(AT, eventIdOf(text));
    await inbox().put(objectKey, Buffer.from(text), { metadata: toBlobMetadata(attributesOf(text, 'r-1')) });
    expect(await fanout(sqsEvent([s3NotificationRecord(BUCKET, [objectKey])]))).toEqual({ batchItemFailures: [] });
    expect(store.items.get(eventIdOf(text))?.event).toMatchObject({ payload: text, receivedAt: AT.toISOString() });
    expect(calls.map((c) => c.ctx.eventId)).toEqual([eventIdOf(text)]);
    expect(await exists(objectKey)).toBe(false);
  });
});
