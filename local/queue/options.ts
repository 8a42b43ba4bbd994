/** The local queue's options, their defaults and their checks. */
import type { Logger } from '../../lambda/core/telemetry.js';
import { DEFAULT_FANOUT_BATCH_SIZE, DEFAULT_MAX_RECEIVE_COUNT } from '../../lambda/common/defaults.js';

export interface JournalQueueOptions {
  /** Folder of the journal and the DLQ (created if missing). */
  readonly dir: string;
  /** Most records per batch (the event source mapping's `BatchSize`). @default 100 */
  readonly batchSize?: number;
  /** How long a partial batch waits for more records (`MaximumBatchingWindowInSeconds`). @default 500 */
  readonly batchingWindowMs?: number;
  /** How long a failed record stays hidden, counted from its receive (the queue's visibility timeout). @default 30000 */
  readonly visibilityTimeoutMs?: number;
  /** Receives after which a record that still fails moves to the DLQ (the redrive policy). @default 5 */
  readonly maxReceiveCount?: number;
  /** Most batches in flight at once (`ScalingConfig.MaximumConcurrency`). @default 4 */
  readonly maxConcurrency?: number;
  /**
   * Largest message accepted (body plus attribute names and values); 1048576 mimics SQS, and is
   * what local mode sets (its receiver claim-checks larger bodies, as on AWS). Unset, any size is
   * taken. @default unlimited
   */
  readonly maxMessageBytes?: number;
  /** The journal is compacted once it is larger than this and mostly done work. @default 8388608 */
  readonly compactThresholdBytes?: number;
  /** Used in the records' `eventSourceARN`. @default 'socialplus-webhooks-events' */
  readonly queueName?: string;
  readonly logger?: Logger;
}

/** The numeric options with their defaults applied. */
export interface QueueSettings {
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly maxConcurrency: number;
  readonly maxMessageBytes: number | undefined;
  readonly compactThresholdBytes: number;
}

/**
 * Local mode's own tuning where it differs from the deployed event source on purpose: a shorter
 * batching window (500 ms rather than 1 s) so `send` shows its event sooner; a 30 s visibility
 * timeout (the deployed one is 6 × the fan-out's timeout, for Lambda's retries); 4 batches in
 * flight, which one machine's fan-out process keeps busy. Batch size and receives before the DLQ
 * are the deployed defaults.
 */
const LOCAL_BATCHING_WINDOW_MS = 500;
const LOCAL_VISIBILITY_TIMEOUT_MS = 30_000;
const LOCAL_MAX_CONCURRENCY = 4;

/** Checks the options (a RangeError names the first bad one) and applies the defaults. */
export function queueSettings(opts: JournalQueueOptions): QueueSettings {
  if (typeof opts.dir !== 'string' || opts.dir === '') throw new RangeError('local queue option dir must be a folder path');
  return {
    batchSize: positiveInt('batchSize', opts.batchSize ?? DEFAULT_FANOUT_BATCH_SIZE),
    batchingWindowMs: nonNegative('batchingWindowMs', opts.batchingWindowMs ?? LOCAL_BATCHING_WINDOW_MS),
    visibilityTimeoutMs: nonNegative('visibilityTimeoutMs', opts.visibilityTimeoutMs ?? LOCAL_VISIBILITY_TIMEOUT_MS),
    maxReceiveCount: positiveInt('maxReceiveCount', opts.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT),
    maxConcurrency: positiveInt('maxConcurrency', opts.maxConcurrency ?? LOCAL_MAX_CONCURRENCY),
    maxMessageBytes: opts.maxMessageBytes === undefined ? undefined : positiveInt('maxMessageBytes', opts.maxMessageBytes),
    compactThresholdBytes: positiveInt('compactThresholdBytes', opts.compactThresholdBytes ?? 8 * 1024 * 1024),
  };
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`local queue option ${name} must be a positive integer, got ${v}`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`local queue option ${name} must be a number ≥ 0, got ${v}`);
  return v;
}
