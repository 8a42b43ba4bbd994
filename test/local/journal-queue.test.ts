import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { QueueMessage } from '../../lambda/core/ports.js';
import { InvalidQueueMessageError, JournalQueue, QueueClosedError, type JournalQueueOptions } from '../../local/journal-queue.js';

let dir: string;
const opened: JournalQueue[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'journal-queue-'));
});

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((q) => q.close()));
  await rm(dir, { recursive: true, force: true });
});

async function openQueue(opts: Partial<JournalQueueOptions> = {}): Promise<JournalQueue> {
  const q = await JournalQueue.open({ dir, batchingWindowMs: 5, visibilityTimeoutMs: 20, ...opts });
  opened.push(q);
  return q;
}

function message(body: string, eventId = body.padEnd(32, '0').slice(0, 32)): QueueMessage {
  return {
    body,
    attributes: { eventId, eventType: 'message.didCreate', receivedAt: '2025-07-02T09:54:03.221Z', source: 'default', requestId: `req-${body}` },
  };
}

/** A consumer that records every batch and answers with `decide(record)`: true = done, false = failed. */
function recordingConsumer(decide: (r: SQSRecord) => boolean = () => true) {
  const batches: SQSRecord[][] = [];
  const consumer = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    batches.push(event.Records);
    return { batchItemFailures: event.Records.filter((r) => !decide(r)).map((r) => ({ itemIdentifier: r.messageId })) };
  };
  const bodies = () => batches.flat().map((r) => r.body);
  return { consumer, batches, bodies };
}

const journalLines = () =>
  readFileSync(join(dir, 'journal.ndjson'), 'utf8')
    .split('\n')
    .filter((l) => l !== '');

describe('JournalQueue: delivery like the SQS event source', () => {
  it('journals and syncs a message before send resolves', async () => {
    const q = await openQueue();
    await q.send(message('hello'));
    const sends = journalLines()
      .map((l) => JSON.parse(l))
      .filter((op) => op.op === 'send');
    expect(sends).toHaveLength(1);
    expect(sends[0]).toMatchObject({ body: 'hello', attributes: { eventId: message('hello').attributes.eventId } });
  });

  it('delivers SQS-shaped records in batches no larger than batchSize', async () => {
    const q = await openQueue({ batchSize: 3, maxConcurrency: 1 });
    const c = recordingConsumer();
    q.start(c.consumer);
    const bodies = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'];
    await Promise.all(bodies.map((b) => q.send(message(b))));
    await q.drain();

    expect(c.bodies().sort()).toEqual(bodies);
    expect(c.batches.every((b) => b.length >= 1 && b.length <= 3)).toBe(true);
    expect(c.batches.some((b) => b.length === 3)).toBe(true);
    const r = c.batches[0]?.[0] as SQSRecord;
    expect(r.messageId).toMatch(/^[0-9a-f-]{36}$/);
    expect(r.receiptHandle).not.toBe('');
    expect(r.eventSource).toBe('aws:sqs');
    expect(r.eventSourceARN).toMatch(/^arn:aws:sqs:us-east-1:\d{12}:/);
    expect(r.attributes.ApproximateReceiveCount).toBe('1');
    expect(Number(r.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(r.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(r.messageAttributes.source).toEqual({ stringValue: 'default', stringListValues: [], binaryListValues: [], dataType: 'String' });
    expect(r.messageAttributes.eventId?.stringValue).toBe(message(r.body).attributes.eventId);
  });

  it('delivers a partial batch once its batching window has passed', async () => {
    const q = await openQueue({ batchSize: 100, batchingWindowMs: 30 });
    const c = recordingConsumer();
    q.start(c.consumer);
    await q.send(message('alone'));
    await q.drain();
    expect(c.batches).toHaveLength(1);
    expect(c.bodies()).toEqual(['alone']);
  });

  it('keeps a few batches in flight at most', async () => {
    const q = await openQueue({ batchSize: 1, batchingWindowMs: 0, maxConcurrency: 2 });
    let inFlight = 0;
    let peak = 0;
    const releases: Array<() => void> = [];
    q.start(async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise<void>((r) => releases.push(r));
      inFlight--;
      return { batchItemFailures: [] };
    });
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((b) => q.send(message(b))));
    await vi.waitFor(() => expect(releases.length).toBe(2));
    expect(q.stats()).toMatchObject({ inFlight: 2, visible: 3 });
    // Release batches one by one until all five ran.
    for (let released = 0; released < 5; released++) {
      await vi.waitFor(() => expect(releases.length).toBeGreaterThan(0));
      releases.shift()?.();
    }
    await q.drain();
    expect(peak).toBe(2);
  });

  it('redelivers only the records reported in batchItemFailures, after the visibility timeout', async () => {
    const q = await openQueue({ batchSize: 10, batchingWindowMs: 20 });
    const seen = new Map<string, string[]>();
    const c = recordingConsumer((r) => {
      seen.set(r.body, [...(seen.get(r.body) ?? []), r.attributes.ApproximateReceiveCount]);
      return !(r.body === 'bad' && r.attributes.ApproximateReceiveCount === '1');
    });
    q.start(c.consumer);
    await Promise.all(['ok1', 'bad', 'ok2'].map((b) => q.send(message(b))));
    await q.drain();
    expect(seen.get('ok1')).toEqual(['1']);
    expect(seen.get('ok2')).toEqual(['1']);
    expect(seen.get('bad')).toEqual(['1', '2']);
    expect(q.stats()).toEqual({ visible: 0, inFlight: 0, delayed: 0, deadLetters: 0 });
  });

  it('redelivers the whole batch when the consumer throws', async () => {
    const q = await openQueue({ batchSize: 10, batchingWindowMs: 20 });
    let calls = 0;
    const received: string[] = [];
    q.start(async (event) => {
      calls++;
      received.push(...event.Records.map((r) => `${r.body}#${r.attributes.ApproximateReceiveCount}`));
      if (calls === 1) throw new Error('boom');
    });
    await Promise.all(['x', 'y'].map((b) => q.send(message(b))));
    await q.drain();
    expect(received.sort()).toEqual(['x#1', 'x#2', 'y#1', 'y#2']);
  });

  it('treats a batch response naming an unknown record as a failure of the whole batch', async () => {
    const q = await openQueue({ batchingWindowMs: 0 });
    let calls = 0;
    q.start(async () => {
      calls++;
      return calls === 1 ? { batchItemFailures: [{ itemIdentifier: 'not-in-this-batch' }] } : { batchItemFailures: [] };
    });
    await q.send(message('z'));
    await q.drain();
    expect(calls).toBe(2);
  });

  it('moves a record to the DLQ after maxReceiveCount failed receives, and redrives it back', async () => {
    const q = await openQueue({ maxReceiveCount: 3, batchingWindowMs: 0, visibilityTimeoutMs: 5 });
    let healthy = false;
    const counts: string[] = [];
    q.start(async (event) => {
      counts.push(...event.Records.map((r) => r.attributes.ApproximateReceiveCount));
      return { batchItemFailures: healthy ? [] : event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await q.send(message('poison'));
    await q.drain();
    expect(counts).toEqual(['1', '2', '3']);
    expect(q.stats().deadLetters).toBe(1);
    const [dead] = q.listDeadLetters();
    expect(dead).toMatchObject({ receiveCount: 3, message: { body: 'poison', attributes: { source: 'default' } } });
    // Kept on disk: a fresh instance (e.g. a `redrive` command) sees it.
    const dlqOnDisk = readFileSync(join(dir, 'dlq.ndjson'), 'utf8').trim().split('\n');
    expect(dlqOnDisk).toHaveLength(1);
    expect(JSON.parse(dlqOnDisk[0] as string).message.body).toBe('poison');

    healthy = true;
    expect(await q.redriveDeadLetters()).toBe(1);
    await q.drain();
    expect(counts).toEqual(['1', '2', '3', '1']);
    expect(q.listDeadLetters()).toEqual([]);
    expect(readFileSync(join(dir, 'dlq.ndjson'), 'utf8')).toBe('');
  });

  it('lists and redrives the DLQ of a previous run', async () => {
    const q1 = await openQueue({ maxReceiveCount: 1, batchingWindowMs: 0 });
    q1.start(async (event) => ({ batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) }));
    await q1.send(message('dead-one'));
    await q1.drain();
    await q1.close();

    const q2 = await openQueue({ batchingWindowMs: 0 });
    expect(q2.listDeadLetters().map((d) => d.message.body)).toEqual(['dead-one']);
    expect(q2.stats()).toEqual({ visible: 0, inFlight: 0, delayed: 0, deadLetters: 1 });
    const c = recordingConsumer();
    q2.start(c.consumer);
    await q2.redriveDeadLetters();
    await q2.drain();
    expect(c.bodies()).toEqual(['dead-one']);
  });
});

describe('JournalQueue: recovery after a crash', () => {
  it('redelivers what was sent and not acknowledged, with its receive count, and not what was done', async () => {
    const q1 = await openQueue({ batchingWindowMs: 0, visibilityTimeoutMs: 60_000 });
    const c1 = recordingConsumer((r) => r.body.startsWith('done'));
    q1.start(c1.consumer);
    await Promise.all(['done-1', 'done-2', 'failed-1', 'failed-2'].map((b) => q1.send(message(b))));
    await vi.waitFor(() => expect(q1.stats()).toMatchObject({ delayed: 2, visible: 0, inFlight: 0 }));
    await q1.sync();
    // The "crash": q1 is never closed; a new instance opens the same folder.
    const q2 = await openQueue({ batchingWindowMs: 0 });
    const c2 = recordingConsumer();
    q2.start(c2.consumer);
    await q2.drain();
    const redelivered = c2.batches.flat();
    expect(redelivered.map((r) => r.body).sort()).toEqual(['failed-1', 'failed-2']);
    expect(redelivered.map((r) => r.attributes.ApproximateReceiveCount)).toEqual(['2', '2']);
  });

  it('delivers messages that were journaled but never delivered', async () => {
    const q1 = await openQueue();
    await Promise.all(['a', 'b', 'c'].map((b) => q1.send(message(b))));
    const q2 = await openQueue();
    const c = recordingConsumer();
    q2.start(c.consumer);
    await q2.drain();
    expect(c.bodies().sort()).toEqual(['a', 'b', 'c']);
    expect(c.batches.flat().every((r) => r.messageAttributes.eventId?.stringValue === message(r.body).attributes.eventId)).toBe(true);
  });

  it('ignores a torn last line (a write cut short) and rewrites the journal clean', async () => {
    const q1 = await openQueue();
    await q1.send(message('kept-1'));
    await q1.send(message('kept-2'));
    appendFileSync(join(dir, 'journal.ndjson'), '{"op":"send","id":"6b1f","body":"half-writ');

    const q2 = await openQueue();
    const text = readFileSync(join(dir, 'journal.ndjson'), 'utf8');
    expect(text.endsWith('\n')).toBe(true);
    expect(
      text
        .split('\n')
        .filter((l) => l !== '')
        .every((l) => JSON.parse(l).op === 'send'),
    ).toBe(true);
    await q2.send(message('after'));

    const q3 = await openQueue();
    const c = recordingConsumer();
    q3.start(c.consumer);
    await q3.drain();
    expect(c.bodies().sort()).toEqual(['after', 'kept-1', 'kept-2']);
  });

  it('moves a record whose deliveries never finished to the DLQ once it has used up its receives', async () => {
    const q1 = await openQueue({ maxReceiveCount: 2, batchingWindowMs: 0 });
    // A consumer that never answers, like a record that kills the process.
    q1.start(() => new Promise(() => undefined));
    await q1.send(message('killer'));
    await vi.waitFor(() => expect(q1.stats().inFlight).toBe(1));
    await q1.sync();
    const q2 = await openQueue({ maxReceiveCount: 2, batchingWindowMs: 0 });
    q2.start(() => new Promise(() => undefined));
    await vi.waitFor(() => expect(q2.stats().inFlight).toBe(1));
    await q2.sync();

    const q3 = await openQueue({ maxReceiveCount: 2, batchingWindowMs: 0 });
    const c = recordingConsumer();
    q3.start(c.consumer);
    await q3.drain();
    expect(c.batches).toEqual([]);
    expect(q3.listDeadLetters().map((d) => [d.message.body, d.receiveCount])).toEqual([['killer', 2]]);
    // q1 and q2 never finish their batches; leave them unclosed rather than wait on them.
    opened.splice(opened.indexOf(q1), 1);
    opened.splice(opened.indexOf(q2), 1);
  });

  it('compacts the journal once it is mostly finished work', async () => {
    const q = await openQueue({ compactThresholdBytes: 4096, batchingWindowMs: 0 });
    q.start(recordingConsumer().consumer);
    for (let i = 0; i < 10; i++) {
      await Promise.all(Array.from({ length: 10 }, (_, j) => q.send(message(`event-${i}-${j}-${'x'.repeat(100)}`))));
    }
    await q.drain();
    await q.sync();
    await vi.waitFor(() => expect(statSync(join(dir, 'journal.ndjson')).size).toBeLessThan(4096));
    await q.close();
    const reopened = await openQueue();
    expect(reopened.stats().visible).toBe(0);
    expect(statSync(join(dir, 'journal.ndjson')).size).toBe(0);
  });
});

describe('JournalQueue: bad input', () => {
  it('rejects an empty body and an oversized message with a message naming the problem', async () => {
    const q = await openQueue({ maxMessageBytes: 1024 });
    await expect(q.send(message(''))).rejects.toThrow(InvalidQueueMessageError);
    await expect(q.send(message('x'.repeat(2000)))).rejects.toThrow(/over the 1024-byte limit/);
  });

  it('rejects sends after close', async () => {
    const q = await openQueue();
    await q.close();
    await expect(q.send(message('late'))).rejects.toThrow(QueueClosedError);
  });

  it.each([
    ['batchSize', 0],
    ['maxReceiveCount', 1.5],
    ['visibilityTimeoutMs', -1],
    ['maxConcurrency', Number.NaN],
  ] as const)('rejects option %s = %s naming it', async (name, value) => {
    await expect(JournalQueue.open({ dir, [name]: value })).rejects.toThrow(new RegExp(`option ${name} must be`));
  });

  it('refuses a second consumer', async () => {
    const q = await openQueue();
    q.start(recordingConsumer().consumer);
    expect(() => q.start(recordingConsumer().consumer)).toThrow(/already has a consumer/);
  });
});
