/**
 * Local spill (docs/architecture.md §2): when the queue fails, the receiver spills the verified body to
 * `inbox/spill/` in s3rver and still answers 200; the spill drain (local mode's stand-in for S3's
 * notification) brings it to the fan-out, at once and after a restart. Only spills this
 * installation wrote (their MAC verifies under `.local/inbox.key`) are brought: the emulator takes
 * writes from anything on the machine.
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../lambda/adapters/s3-blob-store.js';
import { INBOX_SPILL_PREFIX } from '../../lambda/core/archive-layout.js';
import { defineHandler } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { parseS3Notification, spillKey, toBlobMetadata } from '../../lambda/core/inbox.js';
import type { EventQueue, QueueMessage } from '../../lambda/core/ports.js';
import type { Logger } from '../../lambda/core/telemetry.js';
import { ensureBucket, localS3Client, startS3rver, type RunningEmulator } from '../../local/emulators.js';
import { InboxMacBlobStore, loadOrCreateInboxKey } from '../../local/inbox-mac.js';
import { LOCAL_BUCKET_NAME, localPaths } from '../../local/paths.js';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import { SpillDrain } from '../../local/spill-drain.js';
import { sampleBody } from '../support/samples.js';
import { postSignedWebhook } from '../support/local-pipeline.js';

const SECRET = 'spill-secret';
let dir: string;
const running: Array<{ close(): Promise<void> }> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'spill-drain-'));
});

afterEach(async () => {
  for (const r of running.splice(0).reverse()) await r.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

/** A queue whose every send fails, as SQS down would. */
const brokenQueue = (): EventQueue => ({
  send: async () => {
    throw new Error('queue unavailable');
  },
});

function body(label: string): string {
  return `${sampleBody('message.didCreate').trimEnd().slice(0, -1)},"spillTest":"${label}"}`;
}

async function post(p: LocalPipeline, text: string): Promise<number> {
  const res = await postSignedWebhook(p.url, text, SECRET);
  await res.arrayBuffer();
  return res.status;
}

async function spillKeys(p: LocalPipeline): Promise<string[]> {
  const out = await p.s3.send(new ListObjectsV2Command({ Bucket: p.bucket, Prefix: INBOX_SPILL_PREFIX }));
  return (out.Contents ?? []).map((o) => o.Key as string);
}

/** The store local mode writes its spills through: each carries this installation's MAC. */
async function macStore(client: S3Client, bucket = LOCAL_BUCKET_NAME): Promise<InboxMacBlobStore> {
  return new InboxMacBlobStore(new S3BlobStore(client, bucket), await loadOrCreateInboxKey(localPaths(dir).inboxKeyFile));
}

async function start(opts: Parameters<typeof startLocalPipeline>[0] = {}): Promise<LocalPipeline> {
  const p = await startLocalPipeline({
    dir,
    port: 0,
    secret: SECRET,
    queue: { batchingWindowMs: 10, visibilityTimeoutMs: 20 },
    stream: { bufferIntervalMs: 50 },
    handlers: [],
    ...opts,
  });
  running.push(p);
  return p;
}

describe('local spill', () => {
  it('answers 200 when the queue fails, and the spilled event reaches the store, the archive and the handlers', async () => {
    const handled: string[] = [];
    const p = await start({
      wrap: { queue: brokenQueue },
      handlers: [defineHandler({ name: 'seen', events: ['*'], handle: (_e, ctx) => void handled.push(ctx.eventId) })],
    });
    const text = body('queue-down');
    const id = eventIdOf(text);
    expect(await post(p, text)).toBe(200);
    await p.settle();
    expect(await p.store.get(id)).toMatchObject({ eventId: id, payload: text, handlers: { seen: true } });
    expect(handled).toEqual([id]);
    expect(p.metrics()).toMatchObject({ Spilled: 1, SpillDrained: 1 });
    // Done: the spill object is gone, and the archive has the event.
    expect(await spillKeys(p)).toEqual([]);
    expect((p.stream?.written ?? []).reduce((n, o) => n + o.lines, 0)).toBe(1);
  });

  it('finds a spill left by a crash when local mode starts again', async () => {
    // What a crash after the spill's 200 leaves: the object in s3rver, and no queued message.
    const s3rver = await startS3rver({ dir: localPaths(dir).s3 });
    const client = localS3Client(s3rver.endpoint);
    const text = body('crash');
    const id = eventIdOf(text);
    const receivedAt = new Date();
    await ensureBucket(client, LOCAL_BUCKET_NAME);
    await (
      await macStore(client)
    ).put(spillKey(receivedAt, id), Buffer.from(text), {
      metadata: toBlobMetadata({
        eventId: id,
        eventType: 'message.didCreate',
        receivedAt: receivedAt.toISOString(),
        source: 'default',
        requestId: 'before-the-crash',
      }),
    });
    client.destroy();
    await s3rver.close();

    const p = await start();
    await p.settle();
    expect(await p.store.get(id)).toMatchObject({ eventId: id, payload: text, receivedAt: receivedAt.toISOString() });
    expect(await spillKeys(p)).toEqual([]);
  });

  it('drains every other spill after a crash that cut the metadata file of one short', async () => {
    // A SIGKILL while s3rver writes a metadata file leaves it empty, and s3rver then fails every
    // listing of inbox/spill/: before the start-up repair, the other spills were never drained.
    // The cut one lost its MAC with its metadata: it is not processed (its put was never answered,
    // so its event was never acknowledged) and stays for a person to look at.
    const s3rver = await startS3rver({ dir: localPaths(dir).s3 });
    const client = localS3Client(s3rver.endpoint);
    await ensureBucket(client, LOCAL_BUCKET_NAME);
    const receivedAt = new Date();
    const texts = [body('whole-1'), body('whole-2'), body('metadata-cut')];
    const keys = texts.map((t) => spillKey(receivedAt, eventIdOf(t)));
    const inbox = await macStore(client);
    for (const [i, text] of texts.entries()) {
      const id = eventIdOf(text);
      await inbox.put(keys[i] as string, Buffer.from(text), {
        metadata: toBlobMetadata({
          eventId: id,
          eventType: 'message.didCreate',
          receivedAt: receivedAt.toISOString(),
          source: 'default',
          requestId: `r${i}`,
        }),
      });
    }
    client.destroy();
    await s3rver.close();
    writeFileSync(join(localPaths(dir).s3, LOCAL_BUCKET_NAME, `${keys[2]}._S3rver_metadata.json`), '');

    const p = await start();
    await p.settle();
    for (const text of texts.slice(0, 2)) expect(await p.store.get(eventIdOf(text))).toMatchObject({ eventId: eventIdOf(text), payload: text });
    expect(await p.store.get(eventIdOf(texts[2] as string))).toBeUndefined();
    expect(await spillKeys(p)).toEqual([keys[2]]);
  });

  it('never processes a spill planted in the S3 emulator, and leaves it in place', async () => {
    const handled: string[] = [];
    const p = await start({ handlers: [defineHandler({ name: 'seen', events: ['*'], handle: (_e, ctx) => void handled.push(ctx.eventId) })] });
    const text = body('planted');
    const key = spillKey(new Date(), eventIdOf(text));
    // What any program on the machine can do: a whole object under the id of its own body.
    await p.s3.send(
      new PutObjectCommand({
        Bucket: p.bucket,
        Key: key,
        Body: text,
        Metadata: toBlobMetadata({
          eventId: eventIdOf(text),
          eventType: 'message.didCreate',
          receivedAt: new Date().toISOString(),
          source: 'default',
          requestId: 'planted',
        }),
      }),
    );
    expect(await p.drain.drainOnce()).toBe(0);
    await p.settle();
    expect(await p.store.get(eventIdOf(text))).toBeUndefined();
    expect(handled).toEqual([]);
    expect(await spillKeys(p)).toEqual([key]);
  });

  it('dead-letters a spilled event whose handler always fails once, without announcing it again', async () => {
    const p = await start({
      wrap: { queue: brokenQueue },
      queue: { batchingWindowMs: 5, visibilityTimeoutMs: 5, maxReceiveCount: 2 },
      handlers: [defineHandler({ name: 'always-fails', events: ['*'], handle: () => Promise.reject(new Error('no')) })],
    });
    const text = body('poison');
    expect(await post(p, text)).toBe(200);
    await p.settle();
    for (let i = 0; i < 3; i++) expect(await p.drain.drainOnce()).toBe(0);
    const dead = p.queue.listDeadLetters();
    expect(dead).toHaveLength(1);
    const n = parseS3Notification(dead[0]?.message.body ?? '');
    expect(n?.kind === 'objects' && n.objects.map((o) => o.key)).toEqual(await spillKeys(p));
    // Redriven, it is one message again, not a second announcement.
    expect(await p.queue.redriveDeadLetters()).toBe(1);
    await p.settle();
    expect(p.queue.listDeadLetters()).toHaveLength(1);
  });
});

describe('SpillDrain', () => {
  let s3rver: RunningEmulator;
  const queued: QueueMessage[] = [];
  const warnings: string[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (message, fields = {}) => {
      warnings.push(message);
      warned.push({ message, fields });
    },
    error() {},
  };
  const queue: EventQueue = { send: async (m) => void queued.push(m) };
  const warned: Array<{ message: string; fields: Record<string, unknown> }> = [];
  let inboxKey: Buffer;

  beforeEach(async () => {
    queued.length = 0;
    warnings.length = 0;
    warned.length = 0;
    inboxKey = await loadOrCreateInboxKey(localPaths(dir).inboxKeyFile);
    s3rver = await startS3rver({ dir: join(dir, 's3') });
    running.push(s3rver);
  });

  function drainWith(extra: Partial<ConstructorParameters<typeof SpillDrain>[0]> = {}) {
    const s3 = localS3Client(s3rver.endpoint);
    running.push({ close: async () => s3.destroy() });
    const drain = new SpillDrain({ s3, bucket: 'spill-bucket', inboxKey, queue, queued: () => queued, logger, ...extra });
    running.push(drain);
    return { s3, drain };
  }

  /** A spill as local mode writes it: with this installation's MAC. */
  async function putSpill(s3: S3Client, key: string, text: string): Promise<void> {
    await new InboxMacBlobStore(new S3BlobStore(s3, 'spill-bucket'), inboxKey).put(key, Buffer.from(text));
  }

  /** A spill as anything else on the machine can put it: a whole body under its own id, no MAC. */
  async function plantSpill(s3: S3Client, key: string, text: string, metadata: Record<string, string> = {}): Promise<void> {
    await s3.send(new PutObjectCommand({ Bucket: 'spill-bucket', Key: key, Body: text, Metadata: metadata }));
  }

  async function stillThere(s3: S3Client, key: string): Promise<boolean> {
    try {
      await s3.send(new HeadObjectCommand({ Bucket: 'spill-bucket', Key: key }));
      return true;
    } catch (err) {
      if ((err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') return false;
      throw err;
    }
  }

  const announcedKeys = () =>
    queued.flatMap((m) => {
      const n = parseS3Notification(m.body);
      return n?.kind === 'objects' ? n.objects.map((o) => o.key) : [];
    });

  it('announces each whole spill once while a message for it is queued, in the shape S3 sends', async () => {
    const { s3, drain } = drainWith();
    await ensureBucket(s3, 'spill-bucket');
    const text = body('once');
    const key = spillKey(new Date('2025-07-02T10:00:00Z'), eventIdOf(text));
    await putSpill(s3, key, text);
    await s3.send(new PutObjectCommand({ Bucket: 'spill-bucket', Key: `${INBOX_SPILL_PREFIX}not-a-spill`, Body: 'x' }));

    expect(await drain.drainOnce()).toBe(1);
    expect(queued).toHaveLength(1);
    expect(queued[0]?.attributes).toEqual({});
    expect(parseS3Notification(queued[0]?.body ?? '')).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'spill-bucket', key, eventName: 'ObjectCreated:Put' }],
    });
    expect(await drain.drainOnce()).toBe(0);
    expect(warnings).toEqual(['spill drain: ignoring an object under inbox/spill/ that is not a spilled event']);
    // Once no message names it (done, but the object's delete failed), it is announced again.
    queued.length = 0;
    expect(await drain.drainOnce()).toBe(1);
  });

  it('never announces a torn object, and removes one that stays torn', async () => {
    const { s3, drain } = drainWith({ tornAfterMs: 60_000 });
    await ensureBucket(s3, 'spill-bucket');
    const text = body('torn');
    const key = spillKey(new Date(), eventIdOf(text));
    await s3.send(new PutObjectCommand({ Bucket: 'spill-bucket', Key: key, Body: text.slice(0, 20) }));
    expect(await drain.drainOnce()).toBe(0);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'spill-bucket', Prefix: INBOX_SPILL_PREFIX }))).KeyCount).toBe(1);

    const { drain: impatient } = drainWith({ tornAfterMs: 0 });
    expect(await impatient.drainOnce()).toBe(0);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'spill-bucket', Prefix: INBOX_SPILL_PREFIX }))).KeyCount ?? 0).toBe(0);
    expect(warnings.some((w) => /removed a torn spill object/.test(w))).toBe(true);
    expect(queued).toEqual([]);
  });

  it('announces the other spills when one cannot be read', async () => {
    const { s3, drain } = drainWith();
    await ensureBucket(s3, 'spill-bucket');
    const texts = [body('readable-1'), body('unreadable'), body('readable-2')];
    const keys = texts.map((t) => spillKey(new Date('2025-07-02T10:00:00Z'), eventIdOf(t)));
    for (const [i, text] of texts.entries()) await putSpill(s3, keys[i] as string, text);
    let failing = true;
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Key?: string };
        if (failing && context.commandName === 'GetObjectCommand' && input.Key === keys[1])
          throw Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError' });
        return next(args);
      },
      { step: 'initialize', name: 'failOneGet' },
    );

    expect(await drain.drainOnce()).toBe(2);
    const announced = announcedKeys;
    expect(announced().sort()).toEqual([keys[0], keys[2]].sort());
    expect(warnings).toContain('spill drain: could not announce some spilled events; will try again');
    // Readable again: announced on the next pass, the others not twice.
    failing = false;
    expect(await drain.drainOnce()).toBe(1);
    expect(announced().sort()).toEqual([...keys].sort());
  });

  it('never announces a spill planted without a MAC: warns once, counts it, and leaves it in place', async () => {
    const { s3, drain } = drainWith({ tornAfterMs: 0 });
    await ensureBucket(s3, 'spill-bucket');
    const text = body('planted-ban');
    const key = spillKey(new Date(), eventIdOf(text));
    await plantSpill(
      s3,
      key,
      text,
      toBlobMetadata({
        eventId: eventIdOf(text),
        eventType: 'message.didCreate',
        receivedAt: new Date().toISOString(),
        source: 'default',
        requestId: 'planted',
      }),
    );
    const genuine = body('genuine-neighbour');
    const genuineKey = spillKey(new Date(), eventIdOf(genuine));
    await putSpill(s3, genuineKey, genuine);

    expect(await drain.drainOnce()).toBe(1);
    expect(await drain.drainOnce()).toBe(0);
    expect(announcedKeys()).toEqual([genuineKey]);
    expect(drain.refusedCount).toBe(1);
    expect(drain.announcedCount).toBe(1);
    expect(warned).toEqual([
      {
        message: 'spill drain: refused a spill object not written by this installation; it is not processed and is left in place for you to inspect',
        fields: { key, reason: 'it carries no local-mac metadata', bytes: Buffer.byteLength(text) },
      },
    ]);
    // The warning names the object, never its body.
    expect(JSON.stringify(warned)).not.toContain('planted-ban');
    expect(await stillThere(s3, key)).toBe(true);
  });

  it('waits before refusing a young spill without a valid MAC (a put in progress shows its body first)', async () => {
    const { s3, drain } = drainWith({ tornAfterMs: 60_000 });
    await ensureBucket(s3, 'spill-bucket');
    const text = body('young');
    const key = spillKey(new Date(), eventIdOf(text));
    await plantSpill(s3, key, text);
    expect(await drain.drainOnce()).toBe(0);
    expect(queued).toEqual([]);
    expect(drain.refusedCount).toBe(0);
    expect(warnings).toEqual([]);
    // The MAC lands: announced.
    await putSpill(s3, key, text);
    expect(await drain.drainOnce()).toBe(1);
    expect(announcedKeys()).toEqual([key]);
  });

  it("refuses a spill whose MAC was made for another key, or under another installation's key", async () => {
    const { s3, drain } = drainWith({ tornAfterMs: 0 });
    await ensureBucket(s3, 'spill-bucket');
    const text = body('copied');
    const original = spillKey(new Date('2025-07-02T10:00:00Z'), eventIdOf(text));
    await putSpill(s3, original, text);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'spill-bucket', Key: original }));
    // The genuine object, metadata and all, copied under another day: its MAC names the first key.
    const copy = spillKey(new Date('2025-07-03T10:00:00Z'), eventIdOf(text));
    await plantSpill(s3, copy, text, head.Metadata);
    const foreignText = body('foreign');
    const foreign = spillKey(new Date('2025-07-02T10:00:00Z'), eventIdOf(foreignText));
    await new InboxMacBlobStore(new S3BlobStore(s3, 'spill-bucket'), Buffer.alloc(32, 9)).put(foreign, Buffer.from(foreignText));

    expect(await drain.drainOnce()).toBe(1);
    expect(announcedKeys()).toEqual([original]);
    expect(drain.refusedCount).toBe(2);
    expect(warned.map((w) => [w.fields.key, w.fields.reason]).sort()).toEqual(
      [
        [copy, 'its local-mac does not match its key and body'],
        [foreign, 'its local-mac does not match its key and body'],
      ].sort(),
    );
  });

  it('refuses options that cannot work', () => {
    expect(() => drainWith({ intervalMs: 0 })).toThrow(/intervalMs must be a positive number/);
    expect(() => drainWith({ inboxKey: Buffer.alloc(16) })).toThrow(
      /inboxKey must be this installation's 32-byte inbox key \(loadOrCreateInboxKey\), got 16 bytes/,
    );
    expect(() => drainWith({ inboxKey: undefined as unknown as Buffer })).toThrow(/inboxKey must be .*got undefined/);
  });
});
