/**
 * Local mode's delivery stream (docs/architecture.md §8): an in-process stand-in for Firehose. It buffers archive
 * lines and, by size (default 1 MiB, Firehose's smallest buffer) or by interval (default a few
 * seconds), writes them as one gzip NDJSON object to S3 (s3rver) under the archive's
 * `events/dt=…/hour=…/` prefix, named like Firehose names its objects.
 *
 * `putLines` resolves only once the lines are in a synced journal segment on disk, because the
 * fan-out acknowledges the queue right after. A segment file is deleted only after its object is
 * written and read back, so a crash loses no buffered line: `open` uploads every segment it finds.
 * An object's key is derived from its segment's name, so uploading a segment twice (a crash after
 * the put, before the delete) rewrites the same object rather than duplicating it.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { partitionPrefix } from '../lambda/core/archive-layout.js';
import { SocialPlusWebhooksError, errorMessage } from '../lambda/core/errors.js';
import type { ArchiveStream } from '../lambda/core/ports.js';
import { silentLogger, type Logger } from '../lambda/core/telemetry.js';
import { AppendLog, readJournal, removeStaleTemporaries, syncDir, syncFile } from './append-log.js';
import { LOCAL_STREAM_NAME, s3rverObjectFile } from './paths.js';

const gzip = promisify(gzipCallback);

export interface LocalDeliveryStreamOptions {
  /** Folder of the buffer's journal segments (created if missing). */
  readonly dir: string;
  /** Client of the S3 the archive lives in (s3rver locally). */
  readonly s3: S3Client;
  readonly bucket: string;
  /** Names the objects, as Firehose does. @default LOCAL_STREAM_NAME */
  readonly streamName?: string;
  /** Buffer size that triggers a write, in bytes of lines before compression. @default 1048576 */
  readonly bufferBytes?: number;
  /** Longest a line waits in the buffer. @default 3000 */
  readonly bufferIntervalMs?: number;
  /** First delay before retrying a failed write to S3; doubles up to 30 s. @default 1000 */
  readonly retryDelayMs?: number;
  /**
   * s3rver's folder, when the objects are files on this machine: each object file is then synced
   * before its segment is deleted, so not even a power cut loses lines. Optional.
   */
  readonly s3Directory?: string;
  readonly logger?: Logger;
}

/** Thrown by `putLines` after `close`. */
export class DeliveryStreamClosedError extends SocialPlusWebhooksError {
  constructor() {
    super('the local delivery stream is closed');
    this.name = 'DeliveryStreamClosedError';
  }
}

/** Thrown by `flush` when some buffered lines could not be written to S3 (they are kept and retried). */
export class ArchiveWriteError extends SocialPlusWebhooksError {
  constructor(
    readonly pendingSegments: number,
    cause: Error,
  ) {
    super(`could not write ${pendingSegments} buffered archive object(s) to S3: ${cause.message}`, { cause });
    this.name = 'ArchiveWriteError';
  }
}

interface OpenSegment {
  readonly id: string;
  readonly name: string;
  readonly path: string;
  readonly log: AppendLog;
  /** Bytes of lines in it (the buffer size Firehose counts). */
  bytes: number;
  timer: NodeJS.Timeout | undefined;
  sealed: boolean;
}

/** A segment journal line: the lines of one `putLines` call and when they arrived. Exported for readers of the buffer. */
export interface SegmentRecord {
  readonly t: number;
  readonly lines: readonly string[];
}

/** What one uploaded object held. */
export interface WrittenObject {
  readonly key: string;
  readonly lines: number;
  readonly bytes: number;
}

/**
 * A buffer segment's file name in `dir`: `segment-<sequence, 12 digits>-<uuid>.ndjson` (groups 1 and 2).
 * Readers of the buffer (`cli/local-status.ts`) match with this, so they see exactly the files written here.
 */
export const SEGMENT_FILE_PATTERN = /^segment-(\d{12})-([0-9a-f-]{36})\.ndjson$/;
const MAX_RETRY_DELAY_MS = 30_000;
const VERIFY_ATTEMPTS = 20;

/** The stream. Open with {@link LocalDeliveryStream.open}, which first uploads what a crash left. */
export class LocalDeliveryStream implements ArchiveStream {
  readonly streamName: string;
  readonly bufferBytes: number;
  readonly bufferIntervalMs: number;
  private readonly retryDelayMs: number;
  private readonly logger: Logger;
  private current: OpenSegment | undefined;
  private opening: Promise<OpenSegment> | undefined;
  private nextSeq: number;
  /** Segments closed for writing, in order, waiting for their upload. */
  private readonly sealed: string[] = [];
  private readonly sealing = new Set<Promise<void>>();
  private uploading: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;
  private lastError: Error | undefined;
  private closed = false;
  /** Every object written, for tools and tests. */
  readonly written: WrittenObject[] = [];

  private constructor(
    private readonly opts: LocalDeliveryStreamOptions,
    recovered: string[],
    nextSeq: number,
  ) {
    this.streamName = opts.streamName ?? LOCAL_STREAM_NAME;
    this.bufferBytes = positiveInt('bufferBytes', opts.bufferBytes ?? 1024 * 1024);
    this.bufferIntervalMs = positiveInt('bufferIntervalMs', opts.bufferIntervalMs ?? 3000);
    this.retryDelayMs = positiveInt('retryDelayMs', opts.retryDelayMs ?? 1000);
    this.logger = opts.logger ?? silentLogger;
    this.sealed.push(...recovered);
    this.nextSeq = nextSeq;
  }

  /** Opens the stream in `opts.dir` and writes to S3 every segment a previous run left behind. */
  static async open(opts: LocalDeliveryStreamOptions): Promise<LocalDeliveryStream> {
    positiveInt('bufferBytes', opts.bufferBytes ?? 1);
    positiveInt('bufferIntervalMs', opts.bufferIntervalMs ?? 1);
    positiveInt('retryDelayMs', opts.retryDelayMs ?? 1);
    if (!opts.bucket) throw new RangeError('local delivery stream option bucket must name the archive bucket');
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    await removeStaleTemporaries(opts.dir);
    const names = (await readdir(opts.dir)).filter((n) => SEGMENT_FILE_PATTERN.test(n)).sort();
    const lastSeq = names.length > 0 ? Number(SEGMENT_FILE_PATTERN.exec(names[names.length - 1] as string)?.[1]) : 0;
    const stream = new LocalDeliveryStream(opts, names, lastSeq + 1);
    if (names.length > 0) {
      stream.logger.info('local delivery stream: writing lines buffered before the last stop', { segments: names.length });
      await stream.uploadPending().catch(() => undefined);
    }
    return stream;
  }

  /**
   * Buffers the lines (each an NDJSON line with its newline, concatenated as given, as Firehose
   * does). Resolves once they are synced to the buffer's journal; rejects, accepting none, if that
   * fails.
   */
  async putLines(lines: readonly string[]): Promise<{ readonly failedIndexes: readonly number[] }> {
    if (this.closed) throw new DeliveryStreamClosedError();
    if (lines.length === 0) return { failedIndexes: [] };
    for (const [i, line] of lines.entries()) {
      if (typeof line !== 'string') throw new TypeError(`archive line ${i} must be a string, got ${typeof line}`);
    }
    for (;;) {
      const seg = await this.openSegment();
      if (this.closed) throw new DeliveryStreamClosedError();
      // From here to the append there is no await, so the segment cannot be sealed in between.
      if (seg.sealed) continue;
      const record: SegmentRecord = { t: Date.now(), lines };
      const written = seg.log.append(`${JSON.stringify(record)}\n`, { durable: true });
      seg.bytes += lines.reduce((n, l) => n + Buffer.byteLength(l, 'utf8'), 0);
      if (seg.bytes >= this.bufferBytes) this.seal(seg);
      else seg.timer ??= setTimeout(() => this.seal(seg), this.bufferIntervalMs);
      await written;
      return { failedIndexes: [] };
    }
  }

  /**
   * Writes everything buffered to S3 now. Rejects with {@link ArchiveWriteError} if some of it
   * could not be written; those lines stay on disk and are retried.
   */
  async flush(): Promise<void> {
    if (this.current) this.seal(this.current);
    await Promise.allSettled([...this.sealing]);
    await this.uploadPending();
  }

  /** Segments waiting to be written to S3, and the open one. */
  pendingSegments(): number {
    return this.sealed.length + (this.current ? 1 : 0);
  }

  /**
   * Stops accepting lines and writes the buffer to S3. If S3 is unavailable the lines stay on disk
   * and the next `open` writes them; close itself does not fail for that.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.opening?.catch(() => undefined);
    if (this.current) this.seal(this.current);
    await Promise.allSettled([...this.sealing]);
    try {
      await this.uploadPending();
    } catch (err) {
      this.logger.warn('local delivery stream: buffered lines kept on disk for the next start', {
        error: errorMessage(err),
        segments: this.sealed.length,
      });
    }
    if (this.retryTimer) clearTimeout(this.retryTimer);
  }

  private async openSegment(): Promise<OpenSegment> {
    for (;;) {
      if (this.current && !this.current.sealed) return this.current;
      if (!this.opening) {
        const id = randomUUID();
        const name = `segment-${String(this.nextSeq++).padStart(12, '0')}-${id}.ndjson`;
        const path = join(this.opts.dir, name);
        this.opening = AppendLog.open(path).then(
          (log) => {
            this.opening = undefined;
            this.current = { id, name, path, log, bytes: 0, timer: undefined, sealed: false };
            return this.current;
          },
          (err: Error) => {
            this.opening = undefined;
            throw err;
          },
        );
      }
      await this.opening;
    }
  }

  /** Closes a segment for writing (after the appends already queued) and queues its upload. */
  private seal(seg: OpenSegment): void {
    if (seg.sealed) return;
    seg.sealed = true;
    if (seg.timer) clearTimeout(seg.timer);
    if (this.current === seg) this.current = undefined;
    const done = seg.log
      .close()
      .catch((err: Error) => this.logger.error('local delivery stream: could not close a buffer segment', { error: err.message }))
      .then(() => {
        this.sealed.push(seg.name);
        this.sealing.delete(done);
        if (!this.closed) this.uploadPending().catch(() => undefined);
      });
    this.sealing.add(done);
  }

  /** Uploads sealed segments one at a time, in order; concurrent calls share one run. */
  private uploadPending(): Promise<void> {
    if (this.uploading) {
      // A run is going: chain another, so segments sealed meanwhile are included.
      return this.uploading.catch(() => undefined).then(() => this.uploadPending());
    }
    const run = (async () => {
      while (this.sealed.length > 0) {
        const name = this.sealed[0] as string;
        await this.uploadSegment(name);
        this.sealed.shift();
        // Progress: the backoff counts consecutive failures, not failures since the queue was last empty.
        this.failures = 0;
      }
    })();
    this.uploading = run.then(
      () => {
        this.uploading = undefined;
        this.failures = 0;
      },
      (err: Error) => {
        this.uploading = undefined;
        this.failures++;
        this.lastError = err;
        this.scheduleRetry();
        throw new ArchiveWriteError(this.sealed.length, err);
      },
    );
    return this.uploading;
  }

  private scheduleRetry(): void {
    if (this.closed || this.retryTimer) return;
    const delay = Math.min(MAX_RETRY_DELAY_MS, this.retryDelayMs * 2 ** Math.min(this.failures - 1, 15));
    this.logger.warn('local delivery stream: could not write to S3; buffered lines kept, retrying', {
      error: this.lastError?.message,
      segments: this.sealed.length,
      retryInMs: delay,
    });
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.uploadPending().catch(() => undefined);
    }, delay);
  }

  private async uploadSegment(name: string): Promise<void> {
    const path = join(this.opts.dir, name);
    const id = SEGMENT_FILE_PATTERN.exec(name)?.[2] ?? randomUUID();
    const { lines: journalLines, tornTail } = await readJournal(path);
    const records = journalLines.map(parseSegmentRecord).filter((r): r is SegmentRecord => r !== undefined);
    if (tornTail || records.length < journalLines.length) {
      this.logger.warn('local delivery stream: ignored incomplete buffer lines left by a crash (their batch was never acknowledged)', {
        segment: name,
      });
    }
    const lines = records.flatMap((r) => r.lines);
    if (lines.length > 0) {
      const first = new Date((records[0] as SegmentRecord).t);
      const key = `${partitionPrefix(first)}${this.streamName}-1-${firehoseTimestamp(first)}-${id}.gz`;
      const text = lines.join('');
      // Off the event loop: a 1 MiB object takes tens of ms to compress, which would stall acks.
      const body = await gzip(text);
      await this.opts.s3.send(new PutObjectCommand({ Bucket: this.opts.bucket, Key: key, Body: body, ContentType: 'application/x-ndjson' }));
      await this.verify(key, body);
      this.written.push({ key, lines: lines.length, bytes: body.length });
      this.logger.info('archive object written', { lines: lines.length, key });
    }
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await syncDir(this.opts.dir);
  }

  /**
   * Reads the object back before its segment may be deleted: s3rver answers a put before its
   * file is fully written, and this process may be killed right after.
   */
  private async verify(key: string, body: Buffer): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const out = await this.opts.s3.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: key }));
      const got = out.Body ? Buffer.from(await out.Body.transformToByteArray()) : Buffer.alloc(0);
      if (got.equals(body)) break;
      if (attempt >= VERIFY_ATTEMPTS) throw new Error(`archive object ${key} read back ${got.length} bytes, expected ${body.length}`);
      await new Promise((r) => setTimeout(r, 10 * attempt));
    }
    if (this.opts.s3Directory) await syncFile(s3rverObjectFile(this.opts.s3Directory, this.opts.bucket, key));
  }
}

/**
 * The archive lines waiting in the buffer segments under `dir`, for readers outside the stream
 * (`status`, the inspector) while it runs: a segment uploaded and deleted while it is read, or a
 * line a crash tore, is passed over.
 */
export async function* bufferedArchiveLines(dir: string): AsyncGenerator<string> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => SEGMENT_FILE_PATTERN.test(n));
  } catch {
    return; // No buffer folder yet.
  }
  for (const name of names) {
    let lines: string[];
    try {
      lines = (await readJournal(join(dir, name))).lines;
    } catch {
      continue; // Uploaded and deleted while we looked.
    }
    for (const line of lines) yield* parseSegmentRecord(line)?.lines ?? [];
  }
}

function parseSegmentRecord(line: string): SegmentRecord | undefined {
  try {
    const v = JSON.parse(line) as Partial<SegmentRecord>;
    if (typeof v.t !== 'number' || !Array.isArray(v.lines) || !v.lines.every((l) => typeof l === 'string')) return undefined;
    return { t: v.t, lines: v.lines };
  } catch {
    return undefined;
  }
}

/** `yyyy-MM-dd-HH-mm-ss` in UTC, as in Firehose's object names. */
export function firehoseTimestamp(at: Date): string {
  return at.toISOString().slice(0, 19).replace(/[T:]/g, '-');
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`local delivery stream option ${name} must be a positive integer, got ${v}`);
  return v;
}
