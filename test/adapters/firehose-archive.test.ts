/**
 * The Firehose archive stream through the real Firehose client, against the AWS double answering
 * PutRecordBatch in Firehose's JSON protocol: records travel base64-encoded as the SDK writes
 * them, per-record rejections and whole-call errors come back as Firehose sends them.
 */
import { FirehoseClient, ResourceNotFoundException, ServiceUnavailableException } from '@aws-sdk/client-firehose';
import { describe, expect, it, vi } from 'vitest';
import { chunks, FirehoseArchiveStream, MAX_BYTES_PER_CALL, type FirehoseArchiveOptions } from '../../lambda/adapters/firehose-archive.js';
import { jsonServiceAnswer, jsonServiceError, useAwsDouble, type AwsAnswer, type AwsCall } from '../support/aws-double.js';
import { doubleClientConfig } from '../support/aws-recorded-answers.js';

const STREAM = 'socialplus-webhooks-archive';
const PUT = 'firehose:PutRecordBatch';
const MiB = 1024 * 1024;

type Records = Array<{ Data: string }>;
const recordsOf = (c: AwsCall | undefined) => (c?.input.Records ?? []) as Records;
/** Each record's bytes as Firehose received them (the SDK sends them base64-encoded). */
const bytesOf = (c: AwsCall | undefined) => recordsOf(c).map((r) => Buffer.from(r.Data, 'base64'));
const dataOf = (c: AwsCall | undefined) => bytesOf(c).map((b) => b.toString('utf8'));

/** A PutRecordBatch answer: records whose text `reject` picks fail with Firehose's per-record throttling code. */
function answer(call: AwsCall, reject: (text: string) => boolean = () => false): AwsAnswer {
  const responses = dataOf(call).map((text, i) =>
    reject(text) ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' } : { RecordId: `rec-${call.body.length}-${i}` },
  );
  return jsonServiceAnswer({ FailedPutCount: responses.filter((r) => 'ErrorCode' in r).length, Encrypted: true, RequestResponses: responses });
}

/** Firehose's whole-call failures: `__type` and `message` (503 for an unavailable service). */
const unavailable = () => jsonServiceError('ServiceUnavailableException', 'Slow down.', { status: 503 });

const double = useAwsDouble();

/** Answers the n-th PutRecordBatch (0-based) with `respond`. */
function onPut(respond: (call: AwsCall, index: number) => AwsAnswer): void {
  double.answer({ [PUT]: (call) => respond(call, double.callsTo(PUT).indexOf(call)) });
}
const puts = () => double.callsTo(PUT);

const lines = (n: number, prefix = 'line') => Array.from({ length: n }, (_, i) => `{"n":"${prefix}-${i}"}\n`);
/** The real client, one attempt per call: what the adapter does about failures is what is under test. */
const client = () => new FirehoseClient(doubleClientConfig(double.endpoint, 'us-east-1'));
const stream = (opts: FirehoseArchiveOptions = { backoffMs: 0 }) => new FirehoseArchiveStream(client(), STREAM, opts);

describe('FirehoseArchiveStream', () => {
  it('a batch goes out in ONE PutRecordBatch, one record per line, bytes as UTF-8', async () => {
    onPut((c) => answer(c));
    const batch = ['{"a":"é"}\n', '{"b":"👋"}\n', '{"c":1}\n'];
    expect(await stream().putLines(batch)).toEqual({ failedIndexes: [] });
    expect(double.calls.map((c) => `${c.service}:${c.operation}`)).toEqual([PUT]);
    expect(puts()[0]?.headers['x-amz-target']).toBe('Firehose_20150804.PutRecordBatch');
    expect(puts()[0]?.input.DeliveryStreamName).toBe(STREAM);
    expect(dataOf(puts()[0])).toEqual(batch);
    expect(bytesOf(puts()[0])[1]?.length).toBe(Buffer.byteLength('{"b":"👋"}\n'));
  });

  it('no lines → no request', async () => {
    onPut((c) => answer(c));
    expect(await stream().putLines([])).toEqual({ failedIndexes: [] });
    expect(double.calls).toHaveLength(0);
  });

  it('more than 500 lines are split into calls of at most 500, in order', async () => {
    onPut((c) => answer(c));
    const batch = lines(1201);
    expect(await stream().putLines(batch)).toEqual({ failedIndexes: [] });
    expect(puts().map((c) => recordsOf(c).length)).toEqual([500, 500, 201]);
    expect(puts().flatMap((c) => dataOf(c))).toEqual(batch);
  });

  it('calls stay within 4,000,000 bytes (the documented 4 MB), counting UTF-8 bytes rather than characters', async () => {
    expect(MAX_BYTES_PER_CALL).toBe(4_000_000);
    onPut((c) => answer(c));
    // 700,000 two-byte characters: 1.4 MB each, so 2 fit in 4 MB where 5 would by character count.
    const big = Array.from({ length: 5 }, (_, i) => `${'é'.repeat(700_000)}${i}\n`);
    expect(await stream().putLines(big)).toEqual({ failedIndexes: [] });
    expect(puts().map((c) => recordsOf(c).length)).toEqual([2, 2, 1]);
    for (const c of puts()) {
      expect(bytesOf(c).reduce((s, b) => s + b.length, 0)).toBeLessThanOrEqual(4_000_000);
    }
    expect(puts().flatMap((c) => dataOf(c))).toEqual(big);
  });

  it('retries only the records Firehose rejected, then reports none failed', async () => {
    onPut((c, i) => answer(c, (t) => i === 0 && (t.includes('line-1"') || t.includes('line-3"'))));
    expect(await stream().putLines(lines(5))).toEqual({ failedIndexes: [] });
    expect(puts()).toHaveLength(2);
    expect(dataOf(puts()[1])).toEqual(['{"n":"line-1"}\n', '{"n":"line-3"}\n']);
  });

  it('records rejected on every attempt come back as failed indexes of the input', async () => {
    onPut((c) => answer(c, (t) => t.includes('line-550"') || t.includes('line-7"')));
    const out = await stream({ backoffMs: 0, maxAttempts: 4 }).putLines(lines(600));
    expect(out).toEqual({ failedIndexes: [7, 550] });
    // Per chunk: the first attempt plus three retries of the one rejected record.
    expect(puts().map((c) => recordsOf(c).length)).toEqual([500, 1, 1, 1, 100, 1, 1, 1]);
  });

  it('failures reported without per-record responses count as failures of all pending records', async () => {
    onPut(() => jsonServiceAnswer({ FailedPutCount: 2, Encrypted: true }));
    const out = await stream({ backoffMs: 0, maxAttempts: 2 }).putLines(lines(2));
    expect(out).toEqual({ failedIndexes: [0, 1] });
    expect(puts()).toHaveLength(2);
  });

  it('the stream unreachable → rejects with the SDK exception (nothing was accepted)', async () => {
    const message = `Firehose stream ${STREAM} under account 123456789012 not found.`;
    onPut(() => jsonServiceError('ResourceNotFoundException', message));
    const err = await stream()
      .putLines(lines(3))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceNotFoundException);
    expect(err).toMatchObject({ name: 'ResourceNotFoundException', message, $fault: 'client' });
    expect(puts()).toHaveLength(1);
  });

  it("a later call failing after an earlier one succeeded → only that call's lines fail", async () => {
    onPut((c, i) => (i === 1 ? unavailable() : answer(c)));
    const out = await stream().putLines(lines(700));
    expect(out.failedIndexes).toEqual(Array.from({ length: 200 }, (_, i) => 500 + i));
  });

  it('every call failing → rejects with the first error, a server-side ServiceUnavailableException', async () => {
    onPut(() => unavailable());
    const err = await stream()
      .putLines(lines(700))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceUnavailableException);
    expect(err).toMatchObject({ $fault: 'server', $metadata: expect.objectContaining({ httpStatusCode: 503 }) });
    expect(puts().map((c) => recordsOf(c).length)).toEqual([500, 200]);
  });

  it('a retry failing after a partial success → the still-pending lines fail, no rejection', async () => {
    onPut((c, i) => (i === 1 ? unavailable() : answer(c, (t) => t.includes('line-2"'))));
    expect(await stream().putLines(lines(4))).toEqual({ failedIndexes: [2] });
  });

  it('waits between attempts with exponential backoff (fake timers)', async () => {
    onPut((c) => answer(c, () => true));
    // Only timeouts are faked: the HTTP exchanges with the double run on real I/O in between.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    try {
      let settled = false;
      const done = stream({ backoffMs: 100, maxAttempts: 3 })
        .putLines(lines(1))
        .finally(() => (settled = true));
      /** Waits on I/O (never on time) until Firehose saw `calls` calls and the stream asked to sleep `ms`, or finished. */
      const until = async (calls: number, ms?: number) => {
        const asleep = () => timeouts.mock.calls.some(([, delay]) => delay === ms);
        for (let turn = 0; turn < 10_000; turn++) {
          if (puts().length === calls && (ms === undefined ? settled : asleep())) return;
          await new Promise((r) => setImmediate(r));
        }
        throw new Error(`expected ${calls} calls and a ${ms ?? 'final'} ms wait; saw ${puts().length} calls`);
      };
      await until(1, 100);
      await vi.advanceTimersByTimeAsync(99);
      expect(puts()).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      await until(2, 200);
      await vi.advanceTimersByTimeAsync(199);
      expect(puts()).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1);
      await until(3);
      expect(await done).toEqual({ failedIndexes: [0] });
      // No wait after the last attempt.
      expect(timeouts.mock.calls.filter(([, delay]) => delay === 400)).toHaveLength(0);
    } finally {
      timeouts.mockRestore();
      vi.useRealTimers();
    }
  });
});

describe('chunks', () => {
  it.each([
    ['nothing', [], []],
    ['one line', ['a'], [[0]]],
    ['500 lines', lines(500), [Array.from({ length: 500 }, (_, i) => i)]],
    ['501 lines', lines(501), [Array.from({ length: 500 }, (_, i) => i), [500]]],
  ])('%s', (_label, input, expected) => {
    expect(chunks(input)).toEqual(expected);
  });

  it('a single line over 4 MB still gets its own call (Firehose will reject it)', () => {
    expect(chunks(['a', 'x'.repeat(4_000_001), 'b'])).toEqual([[0], [1], [2]]);
  });

  it('exactly 4,000,000 bytes fits in one call, one byte more does not', () => {
    expect(chunks(['x'.repeat(2_000_000), 'y'.repeat(2_000_000)])).toEqual([[0, 1]]);
    expect(chunks(['x'.repeat(2_000_000), 'y'.repeat(2_000_001)])).toEqual([[0], [1]]);
    // Four lines of 1 MiB - 1 would fit in 4 MiB (4,194,300 bytes) but not in 4,000,000.
    expect(chunks(Array.from({ length: 5 }, () => 'z'.repeat(MiB - 1)))).toEqual([
      [0, 1, 2],
      [3, 4],
    ]);
  });
});
