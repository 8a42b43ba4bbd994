/**
 * The fan-out's side of the failure paths: claim-checked and spilled events arriving from the
 * receiver (round trips through the real handlers with fake ports), records that cannot be
 * decoded, payloads too large for an archive record or a store item, and inbox failures.
 */
import { createHash } from 'node:crypto';
import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { HandlerContext } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey, spillKey, toBlobMetadata } from '../../lambda/core/inbox.js';
import { ARCHIVE_MAX_LINE_BYTES } from '../../lambda/core/limits.js';
import type { EventQueue, QueueMessage } from '../../lambda/core/ports.js';
import { DEFAULT_REQUEST_TIME_EPOCH, signedWebhookEvent } from '../support/api-gateway.js';
import { hangUntilAborted, InMemoryBlobStore, InMemoryQueue } from '../support/fakes.js';
import { signedReceiver } from '../support/in-memory-receiver.js';
import { recordingFanout } from '../support/in-memory-fanout.js';
import { sampleBody } from '../support/samples.js';
import { queueMessageFor, s3NotificationRecord, s3TestEventRecord, sqsEvent, sqsRecord } from '../support/sqs.js';
import { recordingHandler } from '../support/recording-handler.js';

/** Bytes gzip cannot shrink, the same on every run (SHAKE256 of a fixed label, as long as asked). */
const fixedNoise = (bytes: number): Buffer => createHash('shake256', { outputLength: bytes }).update('fanout-inbox').digest();

const SECRET = 'sp-inbox-secret-4c19';
const NOW = new Date('2025-07-02T10:00:00.000Z');
const AT = new Date(DEFAULT_REQUEST_TIME_EPOCH);
const FLAG = sampleBody('message.didFlag');
const LARGE = JSON.stringify({
  event: 'v3.post.didCreate',
  data: { posts: [{ postId: 'p-large', postedUserId: 'u-9', data: { text: 'x'.repeat(1_500_000) } }] },
});

/** A fan-out (and a receiver sharing its inbox), with one `*` handler unless told otherwise. */
function setup(
  opts: {
    blobs?: InMemoryBlobStore | null;
    failFor?: (ctx: HandlerContext) => boolean;
    queue?: EventQueue;
    noHandler?: boolean;
    /** The receiver's deadline for the queue (none unless given). */
    deadlineMs?: number;
  } = {},
) {
  const blobs = opts.blobs === null ? undefined : (opts.blobs ?? new InMemoryBlobStore());
  const { fanout, calls, archive, store, logger, metrics } = recordingFanout({
    now: NOW,
    ...(blobs ? { blobs } : {}),
    handlers: (calls) => (opts.noHandler ? [] : [recordingHandler('all', ['*'], calls, opts.failFor)]),
  });
  const queue = (opts.queue ?? new InMemoryQueue()) as InMemoryQueue;
  const receiver = signedReceiver(
    SECRET,
    { queue, ...(blobs ? { blobs } : {}), ...(opts.deadlineMs === undefined ? {} : { deadlineMs: opts.deadlineMs }) },
    ['default', 'eu-app'],
  );
  /** Archive lines as rows. */
  const rows = () => archive.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { blobs: blobs as InMemoryBlobStore, calls, archive, store, logger, metrics, fanout, queue, receiver, rows };
}

/** A queue that takes the message but answers only once the send is aborted (after the receiver's deadline). */
function lateQueue(): InMemoryQueue {
  const late = new InMemoryQueue();
  late.send = async (m, opts) => {
    late.messages.push(m);
    return hangUntilAborted(opts?.signal);
  };
  return late;
}

const failures = (ids: string[]) => ({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) });
const ids = (event: SQSEvent) => event.Records.map((r) => r.messageId);

describe('claim check: a 1.5 MB body, receiver → queue → fan-out', () => {
  it('travels as a pointer, is fetched, stored with its S3 key, archived as a pointer, and handled', async () => {
    const { receiver, queue, blobs, fanout, store, rows, calls, metrics } = setup();
    expect((await receiver(signedWebhookEvent(LARGE, SECRET))).statusCode).toBe(200);
    const [message] = queue.messages;
    const key = claimCheckKey(AT, eventIdOf(LARGE));
    expect(message?.attributes.claimCheckKey).toBe(key);

    expect(await fanout(sqsEvent([sqsRecord(message as QueueMessage)]))).toEqual(failures([]));
    const item = store.items.get(eventIdOf(LARGE))?.event;
    expect(item).toMatchObject({
      eventType: 'post.didCreate',
      payload: LARGE,
      payloadRef: key,
      actorId: 'u-9',
      targetId: 'p-large',
      receivedAt: AT.toISOString(),
    });
    // The archive line carries the key instead of 1.5 MB, and says so.
    const [row] = rows();
    expect(row).toMatchObject({ event_id: eventIdOf(LARGE), event_type: 'post.didCreate', payload: key, flags: ['payload-in-s3'] });
    expect(Buffer.byteLength(JSON.stringify(row))).toBeLessThan(ARCHIVE_MAX_LINE_BYTES);
    // The handler gets the whole event.
    expect(calls).toHaveLength(1);
    expect((calls[0]?.event.data as { posts: Array<{ data: { text: string } }> }).posts[0]?.data.text).toHaveLength(1_500_000);
    // The claim check is kept (the archive points at it); no copy was needed.
    expect(blobs.keys()).toEqual([key]);
    expect(blobs.calls.filter((c) => c.op !== 'get').map((c) => c.op)).toEqual(['put']);
    expect(metrics.total('PayloadCopied')).toBe(0);
  });

  it('a redelivered pointer is a duplicate: stored and handled once', async () => {
    const { receiver, queue, fanout, store, calls } = setup();
    await receiver(signedWebhookEvent(LARGE, SECRET));
    const record = sqsRecord(queue.messages[0] as QueueMessage);
    expect(await fanout(sqsEvent([record]))).toEqual(failures([]));
    expect(await fanout(sqsEvent([record]))).toEqual(failures([]));
    expect(store.items.size).toBe(1);
    expect(calls).toHaveLength(1);
  });

  it('the claim-checked object gone → stored and archived flagged undecodable/blob-missing, not retried, not handled', async () => {
    const { receiver, queue, blobs, fanout, store, rows, calls, metrics, logger } = setup();
    await receiver(signedWebhookEvent(LARGE, SECRET));
    blobs.objects.clear();
    const message = queue.messages[0] as QueueMessage;
    expect(await fanout(sqsEvent([sqsRecord(message)]))).toEqual(failures([]));
    const pointerId = eventIdOf(message.body);
    expect(store.items.get(pointerId)?.event).toMatchObject({
      eventType: 'unknown',
      flags: ['undecodable', 'blob-missing'],
      payload: message.body,
      receivedAt: AT.toISOString(),
    });
    expect(rows()[0]).toMatchObject({ event_id: pointerId, flags: ['undecodable', 'blob-missing'], payload: message.body });
    expect(calls).toHaveLength(0);
    expect(metrics.total('Undecodable')).toBe(1);
    expect(logger.at('warn').map((e) => e.message)).toContain('record could not be decoded; it is kept flagged');
  });

  it('a pointer outside inbox/large/ → flagged pointer-malformed, never fetched', async () => {
    const { blobs, fanout, store } = setup();
    const message = { body: '{"claimCheckKey":"events/x"}', attributes: { ...queueMessageFor(FLAG).attributes, claimCheckKey: 'events/x' } };
    expect(await fanout(sqsEvent([sqsRecord(message)]))).toEqual(failures([]));
    expect(store.items.get(eventIdOf(message.body))?.event.flags).toEqual(['undecodable', 'pointer-malformed']);
    expect(blobs.calls).toEqual([]);
  });
});

describe('spill: the queue fails, S3 notifies the queue, the fan-out picks the event up', () => {
  async function spilled(source?: string) {
    const s = setup();
    s.queue.failWith = new Error('ServiceUnavailable');
    expect((await s.receiver(signedWebhookEvent(FLAG, SECRET, source ? { source } : {}))).statusCode).toBe(200);
    const key = spillKey(AT, eventIdOf(FLAG));
    expect(s.blobs.keys()).toEqual([key]);
    return { ...s, key, notification: s3NotificationRecord(s.blobs.bucket, [key]) };
  }

  it('is stored, archived and handled like a queued event (same id, source, time), then its object is deleted', async () => {
    const { fanout, notification, store, rows, calls, blobs, metrics } = await spilled('eu-app');
    expect(await fanout(sqsEvent([notification]))).toEqual(failures([]));
    expect(store.items.get(eventIdOf(FLAG))?.event).toMatchObject({
      eventType: 'message.didFlag',
      source: 'eu-app',
      receivedAt: AT.toISOString(),
      payload: FLAG,
      flags: [],
    });
    expect(rows()[0]).toMatchObject({ event_id: eventIdOf(FLAG), payload: FLAG, source: 'eu-app' });
    expect(calls.map((c) => c.ctx)).toMatchObject([{ eventId: eventIdOf(FLAG), source: 'eu-app', eventType: 'message.didFlag' }]);
    expect(blobs.keys()).toEqual([]);
    expect(metrics.total('SpillDrained')).toBe(1);
  });

  it('the notification again (S3 delivers at least once): nothing to do, no failure, not handled twice', async () => {
    const { fanout, notification, store, calls, logger } = await spilled();
    await fanout(sqsEvent([notification]));
    expect(await fanout(sqsEvent([notification]))).toEqual(failures([]));
    expect(store.putCalls).toHaveLength(1);
    expect(calls).toHaveLength(1);
    expect(logger.at('warn').map((e) => e.message)).toContain('spilled object already processed (or removed); nothing to do');
  });

  it('a handler failing on a spilled event: the record is retried and the spill kept until it succeeds', async () => {
    let failing = true;
    const s = setup({ failFor: () => failing });
    s.queue.failWith = new Error('ServiceUnavailable');
    await s.receiver(signedWebhookEvent(FLAG, SECRET));
    const event = sqsEvent([s3NotificationRecord(s.blobs.bucket, [spillKey(AT, eventIdOf(FLAG))])]);
    expect(await s.fanout(event)).toEqual(failures(ids(event)));
    expect(s.blobs.keys()).toEqual([spillKey(AT, eventIdOf(FLAG))]);
    failing = false;
    expect(await s.fanout(event)).toEqual(failures([]));
    expect(s.blobs.keys()).toEqual([]);
    expect(s.calls).toHaveLength(2);
  });

  it('deleting the spill failing does not fail the record (a later duplicate is harmless)', async () => {
    const { fanout, notification, blobs, logger } = await spilled();
    blobs.fail = (op) => (op === 'delete' ? new Error('AccessDenied') : undefined);
    expect(await fanout(sqsEvent([notification]))).toEqual(failures([]));
    expect(blobs.keys()).toHaveLength(1);
    expect(logger.at('warn').find((e) => e.message === 'could not delete a processed spill object')?.fields).toMatchObject({
      eventId: eventIdOf(FLAG),
      error: 'AccessDenied',
    });
  });

  it('enqueued late AND spilled (the send finished after the deadline): one event, archived and handled once, spill deleted', async () => {
    const s = setup({ queue: lateQueue(), deadlineMs: 20 });
    const late = s.queue;
    expect((await s.receiver(signedWebhookEvent(FLAG, SECRET))).statusCode).toBe(200);
    const key = spillKey(AT, eventIdOf(FLAG));
    expect(late.messages).toHaveLength(1);
    expect(s.blobs.keys()).toEqual([key]);

    const event = sqsEvent([sqsRecord(late.messages[0] as QueueMessage), s3NotificationRecord(s.blobs.bucket, [key])]);
    expect(await s.fanout(event)).toEqual(failures([]));
    expect(s.store.putCalls).toHaveLength(1);
    expect(s.calls).toHaveLength(1);
    expect(s.archive.lines).toHaveLength(1);
    expect(s.blobs.keys()).toEqual([]);
  });

  it('enqueued late AND spilled, the two copies in separate batches, no handler: archived once, by the first to be stored', async () => {
    // No handler: no write follows the archive, so the item keeps naming the copy that archived it.
    const s = setup({ queue: lateQueue(), noHandler: true, deadlineMs: 20 });
    const late = s.queue;
    expect((await s.receiver(signedWebhookEvent(FLAG, SECRET))).statusCode).toBe(200);
    const key = spillKey(AT, eventIdOf(FLAG));
    expect(await s.fanout(sqsEvent([s3NotificationRecord(s.blobs.bucket, [key])]))).toEqual(failures([]));
    expect(await s.fanout(sqsEvent([sqsRecord(late.messages[0] as QueueMessage)]))).toEqual(failures([]));
    expect(s.archive.lines).toHaveLength(1);
    expect(s.store.putCalls).toHaveLength(2);
  });

  it('a non-UTF-8 body spilled as its exact bytes is kept base64, flagged, restorable', async () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0xc3, 0x28, 0x7d]);
    const s = setup();
    s.queue.failWith = new Error('ServiceUnavailable');
    await s.receiver(signedWebhookEvent(bytes, SECRET, { base64: true }));
    const key = spillKey(AT, eventIdOf(bytes));
    expect(s.blobs.objects.get(key)?.body.equals(bytes)).toBe(true);
    expect(await s.fanout(sqsEvent([s3NotificationRecord(s.blobs.bucket, [key])]))).toEqual(failures([]));
    const item = s.store.items.get(eventIdOf(bytes))?.event;
    expect(item?.flags).toEqual(['invalid-json', 'body-base64']);
    expect(Buffer.from(item?.payload ?? '', 'base64').equals(bytes)).toBe(true);
    expect(s.calls).toHaveLength(0);
  });
});

describe('S3 notifications that are not spills', () => {
  it("S3's test event is acknowledged; nothing stored or archived", async () => {
    const { fanout, store, archive, logger } = setup();
    expect(await fanout(sqsEvent([s3TestEventRecord('archive-bucket')]))).toEqual(failures([]));
    expect(store.putCalls).toEqual([]);
    expect(archive.lines).toEqual([]);
    expect(logger.at('info').map((e) => e.message)).toContain('S3 test notification acknowledged');
  });

  it('an ObjectRemoved notification is ignored', async () => {
    const { fanout, store, blobs } = setup();
    const record = s3NotificationRecord('archive-bucket', [spillKey(AT, eventIdOf(FLAG))]);
    const removed = { ...record, body: record.body.replace('ObjectCreated:Put', 'ObjectRemoved:Delete') };
    expect(await fanout(sqsEvent([removed]))).toEqual(failures([]));
    expect(store.putCalls).toEqual([]);
    expect(blobs.calls).toEqual([]);
  });

  it.each([
    ['a key outside inbox/spill/', 'archive-bucket', 'events/dt=2025-07-02/hour=09/x.gz'],
    ['a claim-check key', 'archive-bucket', claimCheckKey(AT, eventIdOf(FLAG))],
    ['another bucket', 'someone-elses-bucket', spillKey(AT, eventIdOf(FLAG))],
  ])('%s → kept once, flagged undecodable/pointer-malformed, never fetched', async (_label, bucket, key) => {
    const { fanout, store, blobs } = setup();
    const record = s3NotificationRecord(bucket, [key]);
    expect(await fanout(sqsEvent([record]))).toEqual(failures([]));
    expect(store.items.get(eventIdOf(record.body))?.event).toMatchObject({ flags: ['undecodable', 'pointer-malformed'], payload: record.body });
    expect(blobs.calls).toEqual([]);
  });
});

describe('inbox failures', () => {
  it('fetching failing for one record fails only that record; a retry succeeds', async () => {
    const s = setup();
    s.queue.failWith = new Error('ServiceUnavailable');
    await s.receiver(signedWebhookEvent(FLAG, SECRET));
    const key = spillKey(AT, eventIdOf(FLAG));
    s.blobs.fail = (op) => (op === 'get' ? new Error('SlowDown') : undefined);
    const create = sampleBody('message.didCreate');
    const event = sqsEvent([sqsRecord(queueMessageFor(create)), s3NotificationRecord(s.blobs.bucket, [key])]);
    expect(await s.fanout(event)).toEqual(failures([ids(event)[1] as string]));
    expect([...s.store.items.keys()]).toEqual([eventIdOf(create)]);
    expect(s.metrics.total('BlobFetchFailed')).toBe(1);
    expect(s.logger.at('error')[0]?.fields).toMatchObject({ messageId: ids(event)[1], error: 'SlowDown' });

    s.blobs.fail = () => undefined;
    expect(await s.fanout(sqsEvent([event.Records[1]!]))).toEqual(failures([]));
    expect(s.store.items.has(eventIdOf(FLAG))).toBe(true);
  });

  it('no blob store configured: a claim check fails (to the DLQ, for a redrive) with a message that says what to set', async () => {
    const withInbox = setup();
    await withInbox.receiver(signedWebhookEvent(LARGE, SECRET));
    const { fanout, logger } = setup({ blobs: null });
    const event = sqsEvent([sqsRecord(withInbox.queue.messages[0] as QueueMessage), s3TestEventRecord('b')]);
    expect(await fanout(event)).toEqual(failures([ids(event)[0] as string]));
    expect(logger.at('error')[0]?.fields.error).toContain('the fan-out has no blob store: configure the archive bucket (ARCHIVE_BUCKET_NAME)');
  });
});

describe('payloads too large for an archive record or a store item', () => {
  it('a queued body whose line exceeds a Firehose record: copied to inbox/large/, archived as a pointer', async () => {
    // 600,000 quotes: a small enough message, but every one doubles in the JSON line.
    const body = '"'.repeat(600_000);
    const { fanout, blobs, rows, store, metrics } = setup();
    expect(await fanout(sqsEvent([sqsRecord(queueMessageFor(body))]))).toEqual(failures([]));
    const key = claimCheckKey(AT, eventIdOf(body));
    expect(blobs.objects.get(key)?.body.toString()).toBe(body);
    expect(rows()[0]).toMatchObject({ payload: key, flags: ['invalid-json', 'payload-in-s3'] });
    expect(store.items.get(eventIdOf(body))?.event).toMatchObject({ payload: body, payloadRef: key, flags: ['invalid-json'] });
    expect(metrics.total('PayloadCopied')).toBe(1);
  });

  it('a body too large to be sure of fitting an item: copied, the store gets the key; the line stays whole', async () => {
    const body = JSON.stringify({ event: 'message.didCreate', data: { t: 'y'.repeat(400_000) } });
    const { fanout, blobs, rows, store } = setup();
    expect(await fanout(sqsEvent([sqsRecord(queueMessageFor(body))]))).toEqual(failures([]));
    const key = claimCheckKey(AT, eventIdOf(body));
    expect(blobs.keys()).toEqual([key]);
    expect(rows()[0]).toMatchObject({ payload: body, flags: [] });
    expect(store.items.get(eventIdOf(body))?.event.payloadRef).toBe(key);
  });

  it('a body too large for an item even compressed: copied, and the core flags the stored event payload-in-s3', async () => {
    const body = JSON.stringify({ event: 'message.didCreate', data: { blob: fixedNoise(450_000).toString('base64') } });
    const { fanout, rows, store } = setup();
    expect(await fanout(sqsEvent([sqsRecord(queueMessageFor(body))]))).toEqual(failures([]));
    const key = claimCheckKey(AT, eventIdOf(body));
    expect(store.items.get(eventIdOf(body))?.event).toMatchObject({ payloadRef: key, flags: ['payload-in-s3'] });
    // The line fits a record: it keeps the payload, unflagged.
    expect(rows()[0]).toMatchObject({ payload: body, flags: [] });
  });

  it('the same without a blob store: not stored, its record retried, saying what is missing', async () => {
    const body = JSON.stringify({ event: 'message.didCreate', data: { blob: fixedNoise(450_000).toString('base64') } });
    const { fanout, store, logger, metrics } = setup({ blobs: null });
    const event = sqsEvent([sqsRecord(queueMessageFor(body))]);
    expect(await fanout(event)).toEqual(failures(ids(event)));
    expect(store.items.size).toBe(0);
    expect(metrics.total('StoreFailed')).toBe(1);
    expect(logger.at('error')[0]?.fields.error).toMatch(/too large for a DynamoDB item .* and has no S3 copy/);
  });

  it('an ordinary body needs no copy', async () => {
    const { fanout, blobs, store } = setup();
    await fanout(sqsEvent([sqsRecord(queueMessageFor(FLAG))]));
    expect(blobs.calls).toEqual([]);
    expect(store.items.get(eventIdOf(FLAG))?.event.payloadRef).toBeUndefined();
  });

  it('the copy failing retries that record only, which is then not archived', async () => {
    const body = '"'.repeat(600_000);
    const { fanout, blobs, archive, store } = setup();
    blobs.fail = (op) => (op === 'put' ? new Error('SlowDown') : undefined);
    const event = sqsEvent([sqsRecord(queueMessageFor(body)), sqsRecord(queueMessageFor(FLAG))]);
    expect(await fanout(event)).toEqual(failures([ids(event)[0] as string]));
    expect(archive.lines).toHaveLength(1);
    expect([...store.items.keys()]).toEqual([eventIdOf(FLAG)]);
  });

  it('without a blob store large payloads stay inline, as before', async () => {
    const body = '"'.repeat(600_000);
    const { fanout, rows, store } = setup({ blobs: null });
    expect(await fanout(sqsEvent([sqsRecord(queueMessageFor(body))]))).toEqual(failures([]));
    expect(rows()[0]?.payload).toBe(body);
    expect(store.items.get(eventIdOf(body))?.event.payloadRef).toBeUndefined();
  });

  it('the metadata of a fetched claim check fills attributes the message lacks', async () => {
    const { blobs, fanout, store } = setup();
    const key = claimCheckKey(AT, eventIdOf(FLAG));
    const q = queueMessageFor(FLAG, { source: 'eu-app' });
    await blobs.put(key, Buffer.from(FLAG), { metadata: toBlobMetadata(q.attributes) });
    const bare = { body: '{}', attributes: { eventId: '', eventType: '', receivedAt: '', source: '', requestId: 'r', claimCheckKey: key } };
    expect(await fanout(sqsEvent([sqsRecord(bare)]))).toEqual(failures([]));
    expect(store.items.get(eventIdOf(FLAG))?.event).toMatchObject({ source: 'eu-app', receivedAt: q.attributes.receivedAt, payloadRef: key });
  });
});
