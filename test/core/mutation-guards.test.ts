/**
 * Conditions and limits of the receiver's and the fan-out's cores that a mutation spot-check found
 * unpinned: a change to any of them let the rest of the suite pass. Each test here fails if its
 * condition is changed (an operator, a bound, a dropped check).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ANSWER_WITHIN_MS, MIN_ATTEMPT_MS, planAnswer, RESPONSE_MARGIN_MS, SPILL_RESERVE_MS } from '../../lambda/core/deadline.js';
import { DeadlineExceededError } from '../../lambda/core/errors.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { decodeRecord, planRecord, type IncomingRecord } from '../../lambda/core/fanout.js';
import { claimCheckKey, parseS3Notification, queueMessageBytes, s3NotificationBody, spillKey } from '../../lambda/core/inbox.js';
import { STORE_COPY_THRESHOLD_BYTES } from '../../lambda/core/limits.js';
import { receiveWebhook, type ReceiveDeps, type WebhookRequest } from '../../lambda/core/receive.js';
import { SIGNATURE_HEADER, sign } from '../../lambda/core/signature.js';
import { DEFAULT_REQUEST_TIME_EPOCH, signedWebhookEvent } from '../support/api-gateway.js';
import { hangUntilAborted, InMemoryArchiveStream, InMemoryBlobStore, InMemoryQueue } from '../support/fakes.js';
import { fakeReceiveDeps, signedReceiver } from '../support/in-memory-receiver.js';
import { recordingFanout } from '../support/in-memory-fanout.js';
import { sampleBody } from '../support/samples.js';
import { queueMessageFor, s3NotificationRecord, sqsEvent, sqsEventForBodies, sqsRecord } from '../support/sqs.js';

const SECRET = 'sp-mutation-secret-9b3f';
const T = DEFAULT_REQUEST_TIME_EPOCH;
const NOW = new Date('2025-07-02T10:00:00.000Z');
const FLAG = sampleBody('message.didFlag');
const CREATE = sampleBody('message.didCreate');
const POST = sampleBody('v3.post.didCreate');

/** A signed request for `body` to the source `default`, received at `receivedAtMs`. */
function request(body: Buffer | string, receivedAtMs: number): WebhookRequest {
  const bytes = Buffer.from(body);
  return {
    headers: { [SIGNATURE_HEADER]: sign(bytes, SECRET) },
    body: bytes,
    source: 'default',
    requestId: 'req-mutation-1',
    receivedAt: new Date(receivedAtMs),
  };
}

/** Receiver ports over in-memory fakes. */
const receiverDeps = (extra: Partial<ReceiveDeps> = {}) => fakeReceiveDeps(SECRET, extra);

afterEach(() => {
  vi.useRealTimers();
});

describe('planAnswer: the least time worth an attempt', () => {
  const elapsedLeaving = (leftMs: number) => ANSWER_WITHIN_MS - RESPONSE_MARGIN_MS - SPILL_RESERVE_MS - leftMs;

  it('exactly MIN_ATTEMPT_MS left before the spill reserve is still tried; one ms less goes straight to the spill', () => {
    expect(planAnswer({ arrivedAtMs: T, nowMs: T + elapsedLeaving(MIN_ATTEMPT_MS) }).queueMs).toBe(MIN_ATTEMPT_MS);
    expect(planAnswer({ arrivedAtMs: T, nowMs: T + elapsedLeaving(MIN_ATTEMPT_MS - 1) }).queueMs).toBe(0);
  });
});

describe("receiver: the request's arrival time, when plausible", () => {
  /** Spills (the queue fails at once) a request that arrived at `receivedAtMs`, the clock standing at T; the plan's `inTime`. */
  async function inTimeFor(receivedAtMs: number): Promise<unknown> {
    const { queue, logger, deps } = receiverDeps({ now: () => T });
    queue.failWith = new Error('ServiceUnavailable');
    expect((await receiveWebhook(request(FLAG, receivedAtMs), deps)).statusCode).toBe(200);
    const line = logger.at('warn').find((e) => e.message === 'the queue failed; the event was spilled to the inbox');
    return line?.fields.inTime;
  }

  it('a request time up to 60 s old counts (too late to answer in time); older is no plausible instant and counts from now', async () => {
    expect(await inTimeFor(T - 60_000)).toBe(false);
    expect(await inTimeFor(T - 60_001)).toBe(true);
  });

  it('a request time up to 1 s ahead counts (as no time spent); further ahead counts from when the handler started', async () => {
    // The clock moves 300 ms between the handler's start and the plan: counted only from the start.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const budgetFor = async (receivedAtMs: number): Promise<number | undefined> => {
      let clock = T;
      const { queue, deps } = receiverDeps({
        now: () => {
          const t = clock;
          clock = T + 300;
          return t;
        },
      });
      let budget: number | undefined;
      queue.send = (_m, opts) => {
        opts?.signal?.addEventListener('abort', () => (budget = (opts.signal?.reason as DeadlineExceededError).budgetMs));
        return hangUntilAborted(opts?.signal);
      };
      const answer = receiveWebhook(request(FLAG, receivedAtMs), deps);
      await vi.advanceTimersByTimeAsync(ANSWER_WITHIN_MS * 2);
      expect((await answer).statusCode).toBe(200);
      return budget;
    };
    // Ahead by 1 s: arrival counts, so none of the 300 ms is spent: the full default deadline.
    expect(await budgetFor(T + 1000)).toBe(1000);
    // Ahead by more: counted from the start, 300 ms spent: 1,400 − 300 − 300 = 800 ms.
    expect(await budgetFor(T + 1001)).toBe(800);
  });
});

describe('receiver: a body that is not UTF-8 is sized as its base64', () => {
  it('claim-checked exactly when its base64 message, padding included, exceeds maxMessageBytes', async () => {
    // 1,000 bytes: 1000 mod 3 = 1, so the base64 is padded (1,336 characters, not 1,332).
    const bytes = Buffer.alloc(1000, 0xff);
    const sent = receiverDeps();
    await receiveWebhook(request(bytes, T), sent.deps);
    const message = sent.queue.messages[0];
    expect(message?.attributes.bodyEncoding).toBe('base64');
    const exact = queueMessageBytes(Buffer.byteLength(message?.body ?? ''), message!.attributes);

    const fits = receiverDeps({ maxMessageBytes: exact });
    await receiveWebhook(request(bytes, T), fits.deps);
    expect(fits.queue.messages[0]?.attributes.claimCheckKey).toBeUndefined();

    const over = receiverDeps({ maxMessageBytes: exact - 1 });
    await receiveWebhook(request(bytes, T), over.deps);
    expect(over.queue.messages[0]?.attributes.claimCheckKey).toBe(claimCheckKey(new Date(T), eventIdOf(bytes)));
  });
});

describe('S3 notifications: only what S3 sends', () => {
  it('records that do not say eventSource aws:s3 are no notification', () => {
    const body = JSON.parse(s3NotificationBody('b', [spillKey(new Date(T), eventIdOf(FLAG))])) as { Records: Array<Record<string, unknown>> };
    expect(parseS3Notification(JSON.stringify(body))?.kind).toBe('objects');
    for (const eventSource of ['aws:sqs', undefined]) {
      const other = { Records: body.Records.map((r) => ({ ...r, eventSource })) };
      expect(parseS3Notification(JSON.stringify(other))).toBeUndefined();
    }
  });
});

describe('planRecord and decodeRecord: what a record says', () => {
  const notification = s3NotificationBody('b', [spillKey(new Date(T), eventIdOf(FLAG))]);

  it.each([{ receivedAt: '2025-07-02T09:54:03.221Z' }, { requestId: 'req-1' }])(
    'a notification-shaped body with any receiver attribute (%o) is a webhook body, not a notification',
    (attributes) => {
      expect(planRecord({ messageId: 'm-1', body: notification, attributes })).toEqual({ kind: 'inline' });
    },
  );

  it('a receivedAt attribute that is no date gives way to when the queue took the message', () => {
    const sentAt = new Date('2025-07-02T09:54:04.000Z');
    const r: IncomingRecord = { messageId: 'm-1', body: FLAG, attributes: { receivedAt: 'not a date' }, sentAt };
    expect(decodeRecord(r, NOW).receivedAt).toBe(sentAt.toISOString());
  });
});

/** A fan-out over in-memory ports with one `*` handler. */
function fanout(blobs?: InMemoryBlobStore) {
  const f = recordingFanout({ now: NOW, ...(blobs ? { blobs } : {}) });
  return { ...f, handler: f.fanout };
}

const failures = (ids: readonly string[]) => ({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) });
const lineIds = (archive: InMemoryArchiveStream) => archive.lines.map((l) => (JSON.parse(l) as { event_id: string }).event_id);

describe('fan-out: the archive mark is cleared only by the delivery that archived', () => {
  it('another delivery handled in a batch that archives something else leaves the mark to the delivery that stored the event', async () => {
    const { handler, archive, calls } = fanout();
    const first = sqsEventForBodies([CREATE]);
    archive.failWith = new Error('ServiceUnavailableException');
    expect(await handler(first)).toEqual(failures(first.Records.map((r) => r.messageId)));
    archive.failWith = undefined;
    // Another delivery of CREATE (handled, no line) in a batch whose POST is archived.
    expect(await handler(sqsEventForBodies([CREATE, POST]))).toEqual(failures([]));
    expect(lineIds(archive)).toEqual([eventIdOf(POST)]);
    expect(calls.map((c) => c.ctx.eventId)).toEqual([eventIdOf(CREATE), eventIdOf(POST)]);
    // The first delivery's retry archives CREATE: the archive has every event once.
    expect(await handler(first)).toEqual(failures([]));
    expect(lineIds(archive)).toEqual([eventIdOf(POST), eventIdOf(CREATE)]);
  });
});

describe('fan-out: S3 notifications that create nothing', () => {
  it('a notification about a spill that is not ObjectCreated (tagging) is ignored: nothing fetched, the spill kept', async () => {
    const blobs = new InMemoryBlobStore();
    const queue = new InMemoryQueue();
    queue.failWith = new Error('ServiceUnavailable');
    const receiver = signedReceiver(SECRET, { queue, blobs });
    expect((await receiver(signedWebhookEvent(FLAG, SECRET))).statusCode).toBe(200);
    const key = spillKey(new Date(T), eventIdOf(FLAG));
    const record = s3NotificationRecord(blobs.bucket, [key]);
    const tagged = { ...record, body: record.body.replace('ObjectCreated:Put', 'ObjectTagging:Put') };
    const { handler, store } = fanout(blobs);
    blobs.calls.length = 0;
    expect(await handler(sqsEvent([tagged]))).toEqual(failures([]));
    expect(store.putCalls).toEqual([]);
    expect(blobs.calls).toEqual([]);
    expect(blobs.keys()).toEqual([key]);
  });
});

describe('fan-out: the S3 copy of a large payload', () => {
  /** A JSON body of exactly `bytes` bytes. */
  const bodyOf = (bytes: number) => {
    const shell = JSON.stringify({ event: 'message.didCreate', data: { t: '' } });
    return JSON.stringify({ event: 'message.didCreate', data: { t: 'y'.repeat(bytes - shell.length) } });
  };

  it('a body of exactly STORE_COPY_THRESHOLD_BYTES needs none; one byte more is copied', async () => {
    const blobs = new InMemoryBlobStore();
    const { handler, store, metrics } = fanout(blobs);
    const at = bodyOf(STORE_COPY_THRESHOLD_BYTES);
    const over = bodyOf(STORE_COPY_THRESHOLD_BYTES + 1);
    expect(Buffer.byteLength(at)).toBe(STORE_COPY_THRESHOLD_BYTES);
    const overMessage = queueMessageFor(over);
    expect(await handler(sqsEvent([sqsRecord(queueMessageFor(at)), sqsRecord(overMessage)]))).toEqual(failures([]));
    expect(store.items.get(eventIdOf(at))?.event.payloadRef).toBeUndefined();
    expect(store.items.get(eventIdOf(over))?.event.payloadRef).toBe(claimCheckKey(new Date(overMessage.attributes.receivedAt), eventIdOf(over)));
    expect(metrics.total('PayloadCopied')).toBe(1);
  });
});
