import { PutRecordBatchCommand, type FirehoseClient } from '@aws-sdk/client-firehose';
import type { ArchiveStream } from '../core/ports.js';

/** PutRecordBatch limits: 500 records and 4 MiB per call. */
const MAX_RECORDS_PER_CALL = 500;
const MAX_BYTES_PER_CALL = 4 * 1024 * 1024;

export interface FirehoseArchiveOptions {
  /** Attempts for records Firehose rejects (throttling, internal errors). @default 3 */
  readonly maxAttempts?: number;
  /** Base delay between attempts. @default 100 */
  readonly backoffMs?: number;
}

/** Archive port on Firehose: a batch's lines in as few `PutRecordBatch` calls as the limits allow. */
export class FirehoseArchiveStream implements ArchiveStream {
  private readonly maxAttempts: number;
  private readonly backoffMs: number;

  constructor(private readonly client: FirehoseClient, private readonly streamName: string, opts: FirehoseArchiveOptions = {}) {
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.backoffMs = opts.backoffMs ?? 100;
  }

  async putLines(lines: readonly string[]): Promise<{ failedIndexes: number[] }> {
    const failed: number[] = [];
    for (const chunk of chunks(lines)) failed.push(...(await this.putChunk(lines, chunk)));
    return { failedIndexes: failed.sort((a, b) => a - b) };
  }

  private async putChunk(lines: readonly string[], indexes: number[]): Promise<number[]> {
    let pending = indexes;
    for (let attempt = 1; attempt <= this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(this.backoffMs * 2 ** (attempt - 2));
      const out = await this.client.send(new PutRecordBatchCommand({
        DeliveryStreamName: this.streamName,
        Records: pending.map((i) => ({ Data: Buffer.from(lines[i] as string, 'utf8') })),
      }));
      if (!out.FailedPutCount) return [];
      const responses = out.RequestResponses ?? [];
      pending = pending.filter((_, j) => responses[j]?.ErrorCode !== undefined);
    }
    return pending;
  }
}

/** Splits line indexes into groups that fit one PutRecordBatch call. */
export function chunks(lines: readonly string[]): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  lines.forEach((line, i) => {
    const size = Buffer.byteLength(line, 'utf8');
    if (current.length > 0 && (current.length >= MAX_RECORDS_PER_CALL || bytes + size > MAX_BYTES_PER_CALL)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length > 0) out.push(current);
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
