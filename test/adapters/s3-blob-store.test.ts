import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../lambda/adapters/s3-blob-store.js';
import { BlobNotFoundError } from '../../lambda/core/errors.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey, fromBlobMetadata, spillKey, toBlobMetadata } from '../../lambda/core/inbox.js';
import { createFanoutHandler } from '../../lambda/fanout/batch-handler.js';
import { DEFAULT_REQUEST_TIME_EPOCH, signedWebhookEvent } from '../support/api-gateway.js';
import { useTestS3 } from '../support/emulators.js';
import { InMemoryArchiveStream, InMemoryEventStore, InMemoryQueue, RecordingLogger, RecordingMetrics } from '../support/fakes.js';
import { signedReceiver } from '../support/in-memory-receiver.js';
import { sampleBody } from '../support/samples.js';
import { s3NotificationRecord, sqsEvent, sqsRecord } from '../support/sqs.js';

/** Bytes gzip cannot shrink, the same on every run (SHAKE256 of a fixed label, as long as asked). */
const fixedNoise = (bytes: number): Buffer => createHash('shake256', { outputLength: bytes }).update('s3-blob-store').digest();

const BUCKET = 'socialplus-webhooks-archive-test';
const AT = new Date(DEFAULT_REQUEST_TIME_EPOCH);
const SECRET = 'sp-s3-secret-5a0e';

const emulator = useTestS3('spw-s3-blob-', { bucket: BUCKET });
let store: S3BlobStore;

beforeAll(() => {
  store = new S3BlobStore(emulator.s3, BUCKET);
});

describe('S3BlobStore (against s3rver)', () => {
  it('puts and gets the exact bytes of a 1.5 MB binary body, with the attributes as metadata', async () => {
    const bytes = fixedNoise(1_500_000);
    const key = claimCheckKey(AT, eventIdOf(bytes));
    const attributes = {
      eventId: eventIdOf(bytes),
      eventType: 'story.didCreate ✓',
      receivedAt: AT.toISOString(),
      source: 'eu-app',
      requestId: 'req-1',
    };
    await store.put(key, bytes, { metadata: toBlobMetadata(attributes) });
    const blob = await store.get(key);
    expect(blob.body.equals(bytes)).toBe(true);
    expect(fromBlobMetadata(blob.metadata)).toEqual(attributes);
  });

  it('a missing key → BlobNotFoundError naming it', async () => {
    const key = spillKey(AT, 'f'.repeat(32));
    await expect(store.get(key)).rejects.toThrow(new BlobNotFoundError(key));
  });

  it('deletes, and deleting what is already gone is fine', async () => {
    const key = spillKey(AT, 'e'.repeat(32));
    await store.put(key, Buffer.from('{}'));
    await store.delete(key);
    await expect(store.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
    await expect(store.delete(key)).resolves.toBeUndefined();
  });

  it("an aborted signal stops the put (the receiver's deadline)", async () => {
    const key = spillKey(AT, 'd'.repeat(32));
    const controller = new AbortController();
    controller.abort(new Error('deadline'));
    await expect(store.put(key, Buffer.from('{}'), { signal: controller.signal })).rejects.toThrow();
    await expect(store.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
  });

  it('a bucket that does not exist (also a 404) is an error to retry, never a "missing" object', async () => {
    const elsewhere = new S3BlobStore(emulator.s3, 'no-such-bucket-here');
    const err = await elsewhere.get('inbox/x').catch((e: unknown) => e);
    expect(err).not.toBeInstanceOf(BlobNotFoundError);
    expect((err as Error).name).toBe('NoSuchBucket');
  });
});

describe('round trips through real S3 (s3rver): receiver → inbox → fan-out', () => {
  function pipeline() {
    const queue = new InMemoryQueue();
    const receiver = signedReceiver(SECRET, { queue, blobs: store });
    const events = new InMemoryEventStore();
    const archive = new InMemoryArchiveStream();
    const handled: string[] = [];
    const fanout = createFanoutHandler({
      archive,
      store: events,
      blobs: store,
      logger: new RecordingLogger(),
      metrics: new RecordingMetrics(),
      eventRetentionDays: 90,
      handlers: [
        {
          name: 'all',
          events: ['*'],
          handle: (_e, ctx) => {
            handled.push(ctx.eventId);
          },
        },
      ],
    });
    return { queue, receiver, events, archive, handled, fanout };
  }

  it('a 1.5 MB body is claim-checked in S3, fetched by the fan-out, stored and handled', async () => {
    const body = JSON.stringify({ event: 'v3.post.didCreate', data: { posts: [{ postId: 'p1', data: { text: 'z'.repeat(1_500_000) } }] } });
    const { queue, receiver, events, archive, handled, fanout } = pipeline();
    expect((await receiver(signedWebhookEvent(body, SECRET))).statusCode).toBe(200);
    const key = claimCheckKey(AT, eventIdOf(body));
    expect(queue.messages[0]?.attributes.claimCheckKey).toBe(key);

    expect(await fanout(sqsEvent([sqsRecord(queue.messages[0]!)]))).toEqual({ batchItemFailures: [] });
    expect(events.items.get(eventIdOf(body))?.event).toMatchObject({ payload: body, payloadRef: key });
    expect(JSON.parse(archive.lines[0] ?? '{}')).toMatchObject({ payload: key, flags: ['payload-in-s3'] });
    expect(handled).toEqual([eventIdOf(body)]);
    expect((await store.get(key)).body.toString()).toBe(body);
  });

  it('a spilled event reaches the fan-out through its notification; the spill object is then deleted', async () => {
    const body = sampleBody('v3.comment.didCreate');
    const { queue, receiver, events, handled, fanout } = pipeline();
    queue.failWith = new Error('ServiceUnavailable');
    expect((await receiver(signedWebhookEvent(body, SECRET))).statusCode).toBe(200);
    const key = spillKey(AT, eventIdOf(body));
    expect((await store.get(key)).body.toString()).toBe(body);

    expect(await fanout(sqsEvent([s3NotificationRecord(BUCKET, [key])]))).toEqual({ batchItemFailures: [] });
    expect(events.items.get(eventIdOf(body))?.event).toMatchObject({ payload: body, receivedAt: AT.toISOString(), eventType: 'comment.didCreate' });
    expect(handled).toEqual([eventIdOf(body)]);
    await expect(store.get(key)).rejects.toBeInstanceOf(BlobNotFoundError);
  });
});
