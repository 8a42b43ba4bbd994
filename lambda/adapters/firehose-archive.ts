import { PutRecordBatchCommand, type FirehoseClient, type PutRecordBatchCommandOutput } from '@aws-sdk/client-firehose';
import type { ArchiveStream } from '../core/ports.js';

/** PutRecordBatch limits: 500 records per call. */
const MAX_RECORDS_PER_CALL = 500;
/**
 * PutRecordBatch's "4 MB for the entire request", read as decimal megabytes: 4 MiB would let a
 * call carry 194,304 bytes more than a strict reading of the limit allows, and a rejected call
 * retries the whole batch.
 */
export const MAX_BYTES_PER_CALL = 4_000_000;

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

  constructor(
    private readonly client: FirehoseClient,
    private readonly streamName: string,
    opts: FirehoseArchiveOptions = {},
  ) {
    this.maxAttempts = opts.maxAttempts ?? 3;
    this.backoffMs = opts.backoffMs ?? 100;
  }

  async putLines(lines: readonly string[]): Promise<{ failedIndexes: number[] }> {
    const failed: number[] = [];
    let accepted = 0;
    let firstError: unknown;
    for (const chunk of chunks(lines)) {
      const out = await this.putChunk(lines, chunk);
      failed.push(...out.rejected);
      accepted += out.accepted;
      if (out.error !== undefined) firstError ??= out.error;
    }
    // The port rejects only when nothing was accepted; otherwise the caller retries just the failed lines.
    if (firstError !== undefined && accepted === 0) throw firstError;
    return { failedIndexes: failed.sort((a, b) => a - b) };
  }

  private async putChunk(lines: readonly string[], indexes: number[]): Promise<{ rejected: number[]; accepted: number; error?: unknown }> {
    let pending = indexes;
    let accepted = 0;
    for (let attempt = 1; attempt <= this.maxAttempts && pending.length > 0; attempt++) {
      if (attempt > 1) await sleep(this.backoffMs * 2 ** (attempt - 2));
      let out: PutRecordBatchCommandOutput;
      try {
        out = await this.client.send(
          new PutRecordBatchCommand({
            DeliveryStreamName: this.streamName,
            Records: pending.map((i) => ({ Data: Buffer.from(lines[i] as string, 'utf8') })),
          }),
        );
      } catch (error) {
        // The SDK has already retried; what is still pending is reported as failed.
        return { rejected: pending, accepted, error };
      }
      const responses = out.RequestResponses ?? [];
      // A record failed when its response carries an error code, or when Firehose reported
      // failures without saying which (then none can be assumed delivered).
      const rejected = out.FailedPutCount ? pending.filter((_, j) => responses[j] === undefined || responses[j]?.ErrorCode != null) : [];
      accepted += pending.length - rejected.length;
      pending = rejected;
    }
    return { rejected: pending, accepted };
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
