/**
 * Guards of the fan-out's stages that no other test pinned down (each was a mutant the suite let
 * through): a spill announced to a fan-out that has no blob store, the events of a record whose
 * S3 copy failed, a notification that is malformed and yet names a spill, and the `Archived`
 * metric the dashboard reads (docs/architecture.md §4). Spills are made by the receiver itself,
 * its queue failing, and announced in S3's own notification shape.
 */
import { describe, expect, it } from 'vitest';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey, spillKey } from '../../lambda/core/inbox.js';
import { STORE_COPY_THRESHOLD_BYTES } from '../../lambda/core/limits.js';
import { DEFAULT_REQUEST_TIME_EPOCH, signedWebhookEvent } from '../support/api-gateway.js';
import { InMemoryArchiveStream, InMemoryBlobStore, InMemoryQueue } from '../support/fakes.js';
import { signedReceiver } from '../support/in-memory-receiver.js';
import { recordingFanout } from '../support/in-memory-fanout.js';
import { sampleBody } from '../support/samples.js';
import { queueMessageFor, s3NotificationRecord, sqsEvent, sqsRecord } from '../support/sqs.js';

const SECRET = 'sp-guards-secret-5e21';
const NOW = new Date('2025-07-02T10:00:00.000Z');
const AT = new Date(DEFAULT_REQUEST_TIME_EPOCH);
const FLAG = sampleBody('message.didFlag');
const CREATE = sampleBody('message.didCreate');
const POST = sampleBody('v3.post.didCreate');

/** Spills `bodies` the way the receiver does when its queue fails; returns the inbox holding them and their keys. */
async function spilledBy(bodies: readonly string[]): Promise<{ inbox: InMemoryBlobStore; keys: string[] }> {
  const inbox = new InMemoryBlobStore();
  const queue = new InMemoryQueue();
  queue.failWith = new Error('ServiceUnavailable');
  const receiver = signedReceiver(SECRET, { queue, blobs: inbox });
  for (const body of bodies) expect((await receiver(signedWebhookEvent(body, SECRET))).statusCode).toBe(200);
  const keys = bodies.map((b) => spillKey(AT, eventIdOf(b)));
  expect(inbox.keys()).toEqual([...keys].sort());
  return { inbox, keys };
}

/** A fan-out over in-memory ports with one `*` handler; `blobs: undefined` for one with no blob store. */
function fanoutWith(blobs: InMemoryBlobStore | undefined) {
  return recordingFanout({ now: NOW, ...(blobs ? { blobs } : {}) });
}

const failures = (ids: readonly string[]) => ({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) });
/** The event ids of the archive's lines, in order. */
const archivedIds = (archive: InMemoryArchiveStream) => archive.lines.map((l) => (JSON.parse(l) as { event_id: string }).event_id);

describe('fan-out guard: a spill announced to a fan-out with no blob store', () => {
  it('fails the record (to the DLQ, for a redrive once the bucket is configured), never acknowledges it', async () => {
    const { inbox, keys } = await spilledBy([FLAG]);
    const { fanout, store, archive, calls, logger, metrics } = fanoutWith(undefined);
    const notification = s3NotificationRecord(inbox.bucket, keys);
    const queued = sqsRecord(queueMessageFor(CREATE));
    // The queued record of the same batch is unaffected.
    expect(await fanout(sqsEvent([queued, notification]))).toEqual(failures([notification.messageId]));
    expect([...store.items.keys()]).toEqual([eventIdOf(CREATE)]);
    expect(archivedIds(archive)).toEqual([eventIdOf(CREATE)]);
    expect(calls.map((c) => c.ctx.eventId)).toEqual([eventIdOf(CREATE)]);
    expect(metrics.total('BlobFetchFailed')).toBe(1);
    expect(logger.at('error')[0]?.fields).toMatchObject({ messageId: notification.messageId });
    expect(logger.at('error')[0]?.fields.error).toBe(
      `record ${notification.messageId} announces a spilled event, but the fan-out has no blob store: configure the archive bucket (ARCHIVE_BUCKET_NAME) and redrive the DLQ`,
    );
    // The spill is still there for the redrive.
    expect(inbox.keys()).toEqual(keys);
  });
});

describe('fan-out guard: the events of a record whose S3 copy failed go no further', () => {
  it("a notification's other spill is neither stored, archived nor dispatched until the record's retry", async () => {
    // Large enough that the fan-out keeps an S3 copy of its payload (inbox/large/), which is made to fail.
    const large = JSON.stringify({ event: 'message.didCreate', data: { t: 'y'.repeat(STORE_COPY_THRESHOLD_BYTES + 1000) } });
    const { inbox, keys } = await spilledBy([large, FLAG]);
    const { fanout, store, archive, calls } = fanoutWith(inbox);
    inbox.fail = (op, key) => (op === 'put' && key === claimCheckKey(AT, eventIdOf(large)) ? new Error('SlowDown') : undefined);
    const notification = s3NotificationRecord(inbox.bucket, keys);

    expect(await fanout(sqsEvent([notification]))).toEqual(failures([notification.messageId]));
    expect(store.putCalls).toEqual([]);
    expect(archive.calls).toEqual([]);
    expect(calls).toEqual([]);
    // Both spills kept: the record is retried whole.
    expect(inbox.keys('inbox/spill/')).toEqual([...keys].sort());

    inbox.fail = () => undefined;
    expect(await fanout(sqsEvent([notification]))).toEqual(failures([]));
    expect(store.putCalls.map((e) => e.eventId)).toEqual([eventIdOf(large), eventIdOf(FLAG)]);
    expect(archivedIds(archive)).toEqual([eventIdOf(large), eventIdOf(FLAG)]);
    expect(calls.map((c) => c.ctx.eventId)).toEqual([eventIdOf(large), eventIdOf(FLAG)]);
    expect(inbox.keys('inbox/spill/')).toEqual([]);
  });

  it('a record whose store write failed is neither archived nor dispatched, and is retried', async () => {
    const { fanout, store, archive, calls, metrics } = fanoutWith(undefined);
    store.failPut = (e) => (e.eventId === eventIdOf(FLAG) ? new Error('ProvisionedThroughputExceededException') : undefined);
    const event = sqsEvent([sqsRecord(queueMessageFor(CREATE)), sqsRecord(queueMessageFor(FLAG)), sqsRecord(queueMessageFor(POST))]);
    expect(await fanout(event)).toEqual(failures([event.Records[1]?.messageId as string]));
    expect(archivedIds(archive)).toEqual([eventIdOf(CREATE), eventIdOf(POST)]);
    expect(calls.map((c) => c.ctx.eventId)).toEqual([eventIdOf(CREATE), eventIdOf(POST)]);
    expect(store.runCalls.map((r) => r.eventId)).toEqual([eventIdOf(CREATE), eventIdOf(POST)]);
    expect(metrics.total('Stored')).toBe(2);
  });
});

describe('fan-out guard: a malformed S3 notification', () => {
  it('naming a spill and an object that is not one: the spill is handled AND the notification kept, flagged', async () => {
    const { inbox, keys } = await spilledBy([FLAG]);
    const { fanout, store, archive, calls } = fanoutWith(inbox);
    const notification = s3NotificationRecord(inbox.bucket, [keys[0] as string, 'events/dt=2025-07-02/hour=09/x.gz']);
    expect(await fanout(sqsEvent([notification]))).toEqual(failures([]));
    expect(calls.map((c) => c.ctx.eventId)).toEqual([eventIdOf(FLAG)]);
    expect(store.items.get(eventIdOf(FLAG))?.event.flags).toEqual([]);
    expect(store.items.get(eventIdOf(notification.body))?.event).toMatchObject({
      flags: ['undecodable', 'pointer-malformed'],
      payload: notification.body,
    });
    expect(archivedIds(archive)).toEqual([eventIdOf(FLAG), eventIdOf(notification.body)]);
    expect(inbox.keys()).toEqual([]);
  });

  it('naming several objects that are not spills: kept once, flagged', async () => {
    const inbox = new InMemoryBlobStore();
    const { fanout, store } = fanoutWith(inbox);
    const notification = s3NotificationRecord(inbox.bucket, ['events/a.gz', claimCheckKey(AT, eventIdOf(FLAG))]);
    expect(await fanout(sqsEvent([notification]))).toEqual(failures([]));
    expect(store.putCalls.map((e) => [e.eventId, e.flags])).toEqual([[eventIdOf(notification.body), ['undecodable', 'pointer-malformed']]]);
    expect(inbox.calls).toEqual([]);
  });

  it('naming only spills already processed: nothing to flag, nothing stored', async () => {
    const inbox = new InMemoryBlobStore();
    const { fanout, store, archive, logger } = fanoutWith(inbox);
    const notification = s3NotificationRecord(inbox.bucket, [spillKey(AT, eventIdOf(FLAG))]);
    expect(await fanout(sqsEvent([notification]))).toEqual(failures([]));
    expect(store.putCalls).toEqual([]);
    expect(archive.calls).toEqual([]);
    expect(logger.at('warn').map((e) => e.message)).toEqual(['spilled object already processed (or removed); nothing to do']);
  });
});

describe("fan-out guard: the 'Archived' metric counts only the lines the archive took", () => {
  it('lines rejected after retries are ArchiveFailed, not Archived', async () => {
    const { fanout, archive, metrics } = fanoutWith(undefined);
    archive.reject = (line) => (JSON.parse(line) as { event_id: string }).event_id === eventIdOf(FLAG);
    const event = sqsEvent([sqsRecord(queueMessageFor(CREATE)), sqsRecord(queueMessageFor(FLAG)), sqsRecord(queueMessageFor(POST))]);
    expect(await fanout(event)).toEqual(failures([event.Records[1]?.messageId as string]));
    expect(archive.calls[0]).toHaveLength(3);
    expect(metrics.total('Archived')).toBe(2);
    expect(metrics.total('ArchiveFailed')).toBe(1);

    // The retry archives the line that was rejected: one more, counted once.
    archive.reject = () => false;
    expect(await fanout(sqsEvent([event.Records[1]!]))).toEqual(failures([]));
    expect(metrics.total('Archived')).toBe(3);
    expect(metrics.total('ArchiveFailed')).toBe(1);
  });

  it('an archive that takes nothing counts 0 archived', async () => {
    const { fanout, archive, metrics } = fanoutWith(undefined);
    archive.reject = () => true;
    const event = sqsEvent([sqsRecord(queueMessageFor(CREATE)), sqsRecord(queueMessageFor(FLAG))]);
    expect(await fanout(event)).toEqual(failures(event.Records.map((r) => r.messageId)));
    expect(metrics.calls.filter((c) => c.name === 'Archived')).toEqual([{ name: 'Archived', value: 0 }]);
    expect(metrics.total('ArchiveFailed')).toBe(2);
  });
});
