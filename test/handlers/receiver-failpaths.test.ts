/**
 * The receiver's failure paths in detail: the deadline and its abort signal, the budget taken
 * from API Gateway's request time, the claim-check threshold, and which failure leads where.
 */
import { describe, expect, it, vi } from 'vitest';
import { ANSWER_WITHIN_MS, DEFAULT_RECEIVER_DEADLINE_MS } from '../../lambda/core/deadline.js';
import { DeadlineExceededError } from '../../lambda/core/errors.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey, queueMessageBytes, spillKey } from '../../lambda/core/inbox.js';
import { QUEUE_MESSAGE_MARGIN_BYTES, SQS_MAX_MESSAGE_BYTES } from '../../lambda/core/limits.js';
import type { QueueMessageAttributes } from '../../lambda/core/ports.js';
import type { ReceiveDeps } from '../../lambda/core/receive.js';
import { createReceiverHandler } from '../../lambda/receiver/handler.js';
import { DEFAULT_REQUEST_TIME_EPOCH, signedWebhookEvent } from '../support/api-gateway.js';
import { InMemoryQueue } from '../support/fakes.js';
import { fakeReceiveDeps } from '../support/in-memory-receiver.js';
import { sampleBody } from '../support/samples.js';

const SECRET = 'sp-failpath-secret-77d2';
const AT = new Date(DEFAULT_REQUEST_TIME_EPOCH);
const BODY = sampleBody('message.didCreate');
const ID = eventIdOf(BODY);

/** A receiver with an in-memory queue and inbox (`blobs: undefined`: none), for the source `default`. */
function setup(deps: Partial<ReceiveDeps> = {}) {
  const { queue, blobs, logger, metrics, deps: all } = fakeReceiveDeps(SECRET, deps);
  return { queue, blobs, logger, metrics, handler: createReceiverHandler(all) };
}

describe('receiver: the deadline', () => {
  it('the queue gets an abort signal, live while it works', async () => {
    const { handler, queue } = setup();
    expect((await handler(signedWebhookEvent(BODY, SECRET))).statusCode).toBe(200);
    const signal = queue.sendOptions[0]?.signal;
    expect(signal).toBeInstanceOf(AbortSignal);
    expect(signal?.aborted).toBe(false);
  });

  it('a queue slower than the deadline is aborted (the SDK stops retrying), then the body is spilled', async () => {
    const { handler, queue, blobs, logger } = setup({ deadlineMs: 25 });
    queue.hang = true;
    expect((await handler(signedWebhookEvent(BODY, SECRET))).statusCode).toBe(200);
    const signal = queue.sendOptions[0]?.signal;
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(DeadlineExceededError);
    expect(blobs.keys()).toEqual([spillKey(AT, ID)]);
    expect(logger.at('warn')[0]).toMatchObject({
      message: 'the queue failed; the event was spilled to the inbox',
      fields: { eventId: ID, spillKey: spillKey(AT, ID), queueError: 'DeadlineExceededError: the queue did not finish within 25 ms', inTime: true },
    });
  });

  it('a queue that ignores the signal cannot hold the answer either', async () => {
    const queue = new InMemoryQueue();
    queue.send = () => new Promise<never>(() => undefined);
    const { handler, blobs } = setup({ queue, deadlineMs: 25 });
    expect((await handler(signedWebhookEvent(BODY, SECRET))).statusCode).toBe(200);
    expect(blobs.keys()).toEqual([spillKey(AT, ID)]);
  });

  it('a request that arrived long ago (a slow cold start) skips the queue: only the spill fits before 1.5 s', async () => {
    const { handler, queue, blobs, logger } = setup({ now: () => DEFAULT_REQUEST_TIME_EPOCH + 1200 });
    expect((await handler(signedWebhookEvent(BODY, SECRET))).statusCode).toBe(200);
    expect(queue.sendOptions).toEqual([]);
    expect(blobs.keys()).toEqual([spillKey(AT, ID)]);
    expect(logger.at('warn')[0]?.fields.queueError).toBe('DeadlineExceededError: no time was left for the queue before the answer is due');
  });

  it("the queue's budget shrinks with the time already spent since API Gateway received the request", async () => {
    // Arrived 900 ms ago: the queue has 1,400 − 300 − 900 = 200 ms, not the 1,000 ms deadline.
    const queue = new InMemoryQueue();
    let budgetSeen: number | undefined;
    let clock = DEFAULT_REQUEST_TIME_EPOCH + 900;
    queue.send = (_m, opts) =>
      new Promise<never>((_, reject) => {
        opts?.signal?.addEventListener('abort', () => {
          budgetSeen = (opts.signal?.reason as DeadlineExceededError).budgetMs;
          clock += budgetSeen;
          reject(opts.signal?.reason);
        });
      });
    const { handler, blobs } = setup({ queue, now: () => clock });
    expect((await handler(signedWebhookEvent(BODY, SECRET))).statusCode).toBe(200);
    expect(budgetSeen).toBe(200);
    expect(blobs.keys()).toEqual([spillKey(AT, ID)]);
  });

  it('a request time that is no plausible instant (far in the past or future) counts from when the handler started', async () => {
    const { handler, queue } = setup({ now: () => DEFAULT_REQUEST_TIME_EPOCH + 86_400_000 });
    expect((await handler(signedWebhookEvent(BODY, SECRET))).statusCode).toBe(200);
    expect(queue.messages).toHaveLength(1);
    // The attribute still records API Gateway's time.
    expect(queue.messages[0]?.attributes.receivedAt).toBe(AT.toISOString());
  });

  it('without a blob store nothing is gained by abandoning the queue: no deadline unless one is set', async () => {
    // Fake timers: a deadline, had one been armed, would fire as the fake clock passes it, with no waiting.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    try {
      // Arrived just now: with a deadline the queue would get the default's full 1,000 ms.
      const { queue, handler, logger } = setup({ blobs: undefined, now: () => DEFAULT_REQUEST_TIME_EPOCH });
      let resolveSend: () => void = () => undefined;
      let sendCalled: () => void = () => undefined;
      const sending = new Promise<void>((resolve) => (sendCalled = resolve));
      queue.send = (m, opts) => {
        queue.sendOptions.push(opts);
        sendCalled();
        return new Promise<void>((resolve) => {
          resolveSend = () => {
            queue.messages.push(m);
            resolve();
          };
        });
      };
      let settled = false;
      const pending = handler(signedWebhookEvent(BODY, SECRET)).finally(() => (settled = true));
      await sending;
      // Nothing to fire: no timer was armed for the send.
      expect(vi.getTimerCount()).toBe(0);
      // Far past the default deadline and the 1.5 s Social Plus waits: still waiting on the queue, not aborted.
      await vi.advanceTimersByTimeAsync(DEFAULT_RECEIVER_DEADLINE_MS + ANSWER_WITHIN_MS + 10_000);
      expect(settled).toBe(false);
      expect(queue.sendOptions[0]?.signal?.aborted).toBe(false);
      resolveSend();
      expect((await pending).statusCode).toBe(200);
      expect(queue.messages).toHaveLength(1);
      expect(logger.at('error')).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('without a blob store but with a deadline: a slow queue answers 503 in time, logged at ERROR with the event id', async () => {
    const { queue, logger, handler } = setup({ blobs: undefined, deadlineMs: 20 });
    queue.hang = true;
    expect(await handler(signedWebhookEvent(BODY, SECRET))).toMatchObject({ statusCode: 503, body: '{"message":"temporarily unavailable"}' });
    expect(logger.at('error')[0]?.fields).toMatchObject({ eventId: ID, error: 'DeadlineExceededError: the queue did not finish within 20 ms' });
  });
});

describe('receiver: the claim check', () => {
  /** The attributes the receiver sends for a body (to size messages exactly). */
  const attrsFor = (body: string): QueueMessageAttributes => ({
    eventId: eventIdOf(body),
    eventType: 'unknown',
    receivedAt: AT.toISOString(),
    source: 'default',
    requestId: 'req-cc',
  });

  it("the default threshold is SQS's 1 MiB minus a named margin, body and attributes counted", async () => {
    // Attribute sizes do not depend on the body here (a 32-character id, type 'unknown'), so
    // this body makes the message exactly as large as the threshold, which still goes inline...
    const exact = 'a'.repeat(SQS_MAX_MESSAGE_BYTES - QUEUE_MESSAGE_MARGIN_BYTES - queueMessageBytes(0, attrsFor('a')));
    expect(queueMessageBytes(exact.length, attrsFor(exact))).toBe(SQS_MAX_MESSAGE_BYTES - QUEUE_MESSAGE_MARGIN_BYTES);
    const inline = setup();
    await inline.handler(signedWebhookEvent(exact, SECRET, { requestId: 'req-cc' }));
    expect(inline.queue.messages[0]?.attributes.claimCheckKey).toBeUndefined();
    expect(inline.queue.messages[0]?.body).toBe(exact);

    // ...one byte more is claim-checked.
    const over = `${exact}a`;
    const checked = setup();
    await checked.handler(signedWebhookEvent(over, SECRET, { requestId: 'req-cc' }));
    expect(checked.queue.messages[0]?.attributes.claimCheckKey).toBe(claimCheckKey(AT, eventIdOf(over)));
    expect(checked.blobs.objects.get(claimCheckKey(AT, eventIdOf(over)))?.body.toString()).toBe(over);
  });

  it('a non-UTF-8 body is sized as its base64, and claim-checked as its exact bytes (no base64 in S3)', async () => {
    const bytes = Buffer.alloc(900_000, 0xff);
    const { handler, queue, blobs } = setup();
    expect((await handler(signedWebhookEvent(bytes, SECRET, { base64: true }))).statusCode).toBe(200);
    const key = claimCheckKey(AT, eventIdOf(bytes));
    expect(queue.messages[0]?.attributes).toMatchObject({ claimCheckKey: key });
    expect(queue.messages[0]?.attributes.bodyEncoding).toBeUndefined();
    expect(blobs.objects.get(key)?.body.equals(bytes)).toBe(true);
  });

  it('maxMessageBytes moves the threshold (a queue configured smaller)', async () => {
    const { handler, queue, blobs, metrics } = setup({ maxMessageBytes: 1024 });
    expect((await handler(signedWebhookEvent(BODY, SECRET))).statusCode).toBe(200);
    expect(queue.messages[0]?.attributes.claimCheckKey).toBe(claimCheckKey(AT, ID));
    expect(blobs.keys()).toEqual([claimCheckKey(AT, ID)]);
    expect(metrics.total('ClaimChecked')).toBe(1);
  });

  it('the claim-check put failing → the body is spilled instead (200)', async () => {
    const { handler, queue, blobs, metrics } = setup({ maxMessageBytes: 1024 });
    blobs.fail = (op, key) => (op === 'put' && key.startsWith('inbox/large/') ? new Error('AccessDenied') : undefined);
    expect((await handler(signedWebhookEvent(BODY, SECRET))).statusCode).toBe(200);
    expect(queue.sendOptions).toEqual([]);
    expect(blobs.keys()).toEqual([spillKey(AT, ID)]);
    expect(metrics.total('Spilled')).toBe(1);
  });

  it('the claim-check put in but the pointer not sent → spilled too (the claim check stays, harmless)', async () => {
    const { handler, queue, blobs } = setup({ maxMessageBytes: 1024 });
    queue.failWith = new Error('ServiceUnavailable');
    expect((await handler(signedWebhookEvent(BODY, SECRET))).statusCode).toBe(200);
    expect(blobs.keys()).toEqual([claimCheckKey(AT, ID), spillKey(AT, ID)]);
  });

  it('the claim-check put and the spill both failing → 503, logged at ERROR with both errors', async () => {
    const { handler, blobs, logger } = setup({ maxMessageBytes: 1024 });
    blobs.fail = () => new Error('SlowDown');
    expect(await handler(signedWebhookEvent(BODY, SECRET))).toMatchObject({ statusCode: 503, body: '{"message":"temporarily unavailable"}' });
    expect(logger.at('error')[0]?.fields).toMatchObject({ eventId: ID, queueError: 'SlowDown', spillError: 'SlowDown' });
  });

  it('is logged at INFO as accepted and claim-checked, with ids only', async () => {
    const { handler, logger } = setup({ maxMessageBytes: 1024 });
    await handler(signedWebhookEvent(BODY, SECRET));
    expect(logger.at('info')[0]?.fields).toMatchObject({ eventId: ID, claimChecked: true });
    expect(logger.lines().join('\n')).not.toContain(BODY);
  });
});

describe('receiver: message attributes SQS would refuse', () => {
  it.each([
    ['an escaped U+FFFF in the event name', '{"event":"post.did\\uFFFFCreate","data":{}}', 'post.did\uFFFDCreate'],
    ['an escaped control character in the event name', '{"event":"post.\\u0001x","data":{}}', 'post.\uFFFDx'],
  ])('%s is replaced in the eventType attribute (the body travels unchanged)', async (_label, body, eventType) => {
    const { handler, queue } = setup();
    expect((await handler(signedWebhookEvent(body, SECRET))).statusCode).toBe(200);
    expect(queue.messages[0]?.body).toBe(body);
    expect(queue.messages[0]?.attributes.eventType).toBe(eventType);
  });

  it('an event name of 10,000 characters is cut in the attribute', async () => {
    const body = JSON.stringify({ event: `post.${'x'.repeat(10_000)}`, data: {} });
    const { handler, queue } = setup();
    await handler(signedWebhookEvent(body, SECRET));
    expect(queue.messages[0]?.attributes.eventType.length).toBe(256);
  });
});
