import type { FirehoseClient } from '@aws-sdk/client-firehose';
import { describe, expect, it, vi } from 'vitest';
import { chunks, FirehoseArchiveStream, MAX_BYTES_PER_CALL } from '../../lambda/adapters/firehose-archive.js';
import { awsError, FakeAwsClient, type RecordedCommand } from '../support/fake-aws-client.js';

const STREAM = 'socialplus-webhooks-archive';
const MiB = 1024 * 1024;

type Records = Array<{ Data: Uint8Array }>;
const recordsOf = (c: RecordedCommand | undefined) => (c?.input.Records ?? []) as Records;
const dataOf = (c: RecordedCommand | undefined) => recordsOf(c).map((r) => Buffer.from(r.Data).toString('utf8'));

/** A PutRecordBatch answer: records whose text `reject` picks fail with a throttling code. */
function answer(cmd: RecordedCommand, reject: (text: string) => boolean = () => false) {
  const responses = dataOf(cmd).map((text, i) =>
    reject(text) ? { ErrorCode: 'ServiceUnavailableException', ErrorMessage: 'Slow down.' } : { RecordId: `rec-${i}` },
  );
  return { FailedPutCount: responses.filter((r) => 'ErrorCode' in r).length, Encrypted: true, RequestResponses: responses };
}

const lines = (n: number, prefix = 'line') => Array.from({ length: n }, (_, i) => `{"n":"${prefix}-${i}"}\n`);
const stream = (client: FakeAwsClient) => new FirehoseArchiveStream(client.as<FirehoseClient>(), STREAM, { backoffMs: 0 });

describe('FirehoseArchiveStream', () => {
  it('a batch goes out in ONE PutRecordBatch, one record per line, bytes as UTF-8', async () => {
    const client = new FakeAwsClient((c) => answer(c));
    const batch = ['{"a":"é"}\n', '{"b":"👋"}\n', '{"c":1}\n'];
    expect(await stream(client).putLines(batch)).toEqual({ failedIndexes: [] });
    expect(client.commands).toHaveLength(1);
    expect(client.commands[0]?.name).toBe('PutRecordBatchCommand');
    expect(client.commands[0]?.input.DeliveryStreamName).toBe(STREAM);
    expect(dataOf(client.commands[0])).toEqual(batch);
    expect(Buffer.from(recordsOf(client.commands[0])[1]?.Data ?? []).length).toBe(Buffer.byteLength('{"b":"👋"}\n'));
  });

  it('no lines → no request', async () => {
    const client = new FakeAwsClient((c) => answer(c));
    expect(await stream(client).putLines([])).toEqual({ failedIndexes: [] });
    expect(client.commands).toHaveLength(0);
  });

  it('more than 500 lines are split into calls of at most 500, in order', async () => {
    const client = new FakeAwsClient((c) => answer(c));
    const batch = lines(1201);
    expect(await stream(client).putLines(batch)).toEqual({ failedIndexes: [] });
    expect(client.commands.map((c) => recordsOf(c).length)).toEqual([500, 500, 201]);
    expect(client.commands.flatMap((c) => dataOf(c))).toEqual(batch);
  });

  it('calls stay within 4,000,000 bytes (the documented 4 MB), counting UTF-8 bytes rather than characters', async () => {
    expect(MAX_BYTES_PER_CALL).toBe(4_000_000);
    const client = new FakeAwsClient((c) => answer(c));
    // 700,000 two-byte characters: 1.4 MB each, so 2 fit in 4 MB where 5 would by character count.
    const big = Array.from({ length: 5 }, (_, i) => `${'é'.repeat(700_000)}${i}\n`);
    expect(await stream(client).putLines(big)).toEqual({ failedIndexes: [] });
    expect(client.commands.map((c) => recordsOf(c).length)).toEqual([2, 2, 1]);
    for (const c of client.commands) {
      expect(recordsOf(c).reduce((s, r) => s + r.Data.length, 0)).toBeLessThanOrEqual(4_000_000);
    }
  });

  it('retries only the records Firehose rejected, then reports none failed', async () => {
    let rejectOnce = true;
    const client = new FakeAwsClient((c) => {
      const out = answer(c, (t) => rejectOnce && (t.includes('line-1"') || t.includes('line-3"')));
      rejectOnce = false;
      return out;
    });
    expect(await stream(client).putLines(lines(5))).toEqual({ failedIndexes: [] });
    expect(client.commands).toHaveLength(2);
    expect(dataOf(client.commands[1])).toEqual(['{"n":"line-1"}\n', '{"n":"line-3"}\n']);
  });

  it('records rejected on every attempt come back as failed indexes of the input', async () => {
    const client = new FakeAwsClient((c) => answer(c, (t) => t.includes('line-550"') || t.includes('line-7"')));
    const out = await new FirehoseArchiveStream(client.as<FirehoseClient>(), STREAM, { backoffMs: 0, maxAttempts: 4 }).putLines(lines(600));
    expect(out).toEqual({ failedIndexes: [7, 550] });
    // Per chunk: the first attempt plus three retries of the one rejected record.
    expect(client.commands.map((c) => recordsOf(c).length)).toEqual([500, 1, 1, 1, 100, 1, 1, 1]);
  });

  it('failures reported without per-record responses count as failures of all pending records', async () => {
    const client = new FakeAwsClient(() => ({ FailedPutCount: 2, RequestResponses: undefined }));
    const out = await new FirehoseArchiveStream(client.as<FirehoseClient>(), STREAM, { backoffMs: 0, maxAttempts: 2 }).putLines(lines(2));
    expect(out).toEqual({ failedIndexes: [0, 1] });
    expect(client.commands).toHaveLength(2);
  });

  it('the stream unreachable → rejects (nothing was accepted)', async () => {
    const client = new FakeAwsClient(() => {
      throw awsError('ResourceNotFoundException', 'Firehose stream not found');
    });
    await expect(stream(client).putLines(lines(3))).rejects.toThrow('Firehose stream not found');
  });

  it("a later call failing after an earlier one succeeded → only that call's lines fail", async () => {
    const client = new FakeAwsClient((c, i) => {
      if (i === 1) throw awsError('ServiceUnavailableException');
      return answer(c);
    });
    const out = await stream(client).putLines(lines(700));
    expect(out.failedIndexes).toEqual(Array.from({ length: 200 }, (_, i) => 500 + i));
  });

  it('a retry failing after a partial success → the still-pending lines fail, no rejection', async () => {
    const client = new FakeAwsClient((c, i) => {
      if (i === 1) throw awsError('ServiceUnavailableException');
      return answer(c, (t) => t.includes('line-2"'));
    });
    expect(await stream(client).putLines(lines(4))).toEqual({ failedIndexes: [2] });
  });

  it('waits between attempts with exponential backoff (fake timers)', async () => {
    vi.useFakeTimers();
    try {
      const client = new FakeAwsClient((c) => answer(c, () => true));
      const done = new FirehoseArchiveStream(client.as<FirehoseClient>(), STREAM, { backoffMs: 100, maxAttempts: 3 }).putLines(lines(1));
      await vi.advanceTimersByTimeAsync(0);
      expect(client.commands).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(99);
      expect(client.commands).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(client.commands).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(199);
      expect(client.commands).toHaveLength(2);
      await vi.advanceTimersByTimeAsync(1);
      expect(client.commands).toHaveLength(3);
      expect(await done).toEqual({ failedIndexes: [0] });
    } finally {
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
