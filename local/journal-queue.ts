/**
 * Local mode's queue (DESIGN §8): an in-process stand-in for SQS and the Lambda event source that
 * drains it. `send` journals the message to disk and syncs before it resolves, because the receiver
 * answers 200 only after that; the consumer (the real fan-out handler) gets SQS-shaped batches with
 * a batching window, at most a few batches in flight, partial batch failures, a visibility timeout
 * before a failed record comes back, and a dead-letter queue after `maxReceiveCount` receives.
 *
 * On disk, in `dir`:
 * - `journal.ndjson`: one JSON operation per line: `send` (the message, with its receive count
 *   when written by compaction), `recv` (the receive count, written before each delivery), `ack`
 *   (done) and `dead` (moved to the DLQ). Replayed at start-up, so everything sent and not done is
 *   delivered again; a torn last line (a crash mid-write) is ignored, since its `send` never
 *   resolved. Compacted at start-up and whenever it grows well past what is still live.
 * - `dlq.ndjson`: the dead-letter queue, one message per line, kept until `redrive` moves it back.
 */
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import type { EventQueue, QueueMessage, QueueMessageAttributes } from '../lambda/core/ports.js';
import { silentLogger, type Logger } from '../lambda/core/telemetry.js';
import { AppendLog, readJournal, removeStaleTemporaries } from './append-log.js';
import { LOCAL_REGION } from './emulators.js';

/** The fan-out as the event source mapping calls it: an SQS event in, a partial batch response out. */
export type BatchConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | void | null | undefined>;

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

/** A message in the DLQ. */
export interface DeadLetter {
  readonly messageId: string;
  readonly message: QueueMessage;
  /** Epoch ms the queue accepted it. */
  readonly sentAt: number;
  readonly receiveCount: number;
  /** Epoch ms it moved to the DLQ. */
  readonly movedAt: number;
}

/** Counts of what the queue holds. */
export interface QueueStats {
  /** Waiting to be delivered. */
  readonly visible: number;
  /** In a batch the consumer is working on. */
  readonly inFlight: number;
  /** Failed, hidden until their visibility timeout ends. */
  readonly delayed: number;
  /** In the dead-letter queue. */
  readonly deadLetters: number;
}

/** Thrown when a message cannot be queued as given (SQS would reject it too). */
export class InvalidQueueMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidQueueMessageError';
  }
}

/** Thrown by `send` after `close`. */
export class QueueClosedError extends Error {
  constructor() {
    super('the local queue is closed');
    this.name = 'QueueClosedError';
  }
}

interface Entry {
  readonly id: string;
  readonly body: string;
  readonly attributes: QueueMessageAttributes;
  readonly sentAt: number;
  receiveCount: number;
  firstReceiveAt: number | undefined;
  lastReceiveAt: number;
  /** When it last became visible, for the batching window. */
  visibleSince: number;
  /** `pending` while its `send` is being journaled: not deliverable yet, but in compaction snapshots. */
  state: 'pending' | 'visible' | 'inFlight' | 'delayed';
  /** Size of its `send` line, for the compaction heuristic. */
  journalBytes: number;
}

type JournalOp =
  | { op: 'send'; id: string; body: string; attributes: QueueMessageAttributes; sentAt: number; n?: number; first?: number }
  | { op: 'recv'; id: string; n: number; first?: number }
  | { op: 'ack'; id: string }
  | { op: 'dead'; id: string };

const JOURNAL_FILE = 'journal.ndjson';
const DLQ_FILE = 'dlq.ndjson';

/**
 * The queue. Open with {@link JournalQueue.open} (which recovers what the journal holds), then
 * `start(consumer)` to begin delivering; `close()` stops delivering and waits for batches in flight.
 */
export class JournalQueue implements EventQueue {
  readonly batchSize: number;
  readonly batchingWindowMs: number;
  readonly visibilityTimeoutMs: number;
  readonly maxReceiveCount: number;
  readonly maxConcurrency: number;
  readonly maxMessageBytes: number | undefined;
  private readonly compactThresholdBytes: number;
  private readonly arn: string;
  private readonly logger: Logger;

  private readonly entries = new Map<string, Entry>();
  /** Visible entries in delivery order; `visibleHead` skips the consumed front without shifting. */
  private visibleList: Entry[] = [];
  private visibleHead = 0;
  private deadLetters: DeadLetter[];
  private consumer: BatchConsumer | undefined;
  private batchesInFlight = 0;
  private readonly inFlightBatches = new Set<Promise<void>>();
  private readonly pendingMoves = new Set<Promise<void>>();
  private redriving: Promise<unknown> = Promise.resolve();
  private windowTimer: NodeJS.Timeout | undefined;
  private readonly visibilityTimers = new Set<NodeJS.Timeout>();
  private idleWaiters: Array<() => void> = [];
  private closing = false;
  private compacting = false;
  /** Bytes of the `send` lines of live records: what a compaction would keep. */
  private liveJournalBytes = 0;

  private constructor(
    readonly dir: string,
    private readonly journal: AppendLog,
    private readonly dlq: AppendLog,
    opts: JournalQueueOptions,
    recovered: { entries: Entry[]; deadLetters: DeadLetter[] },
  ) {
    this.batchSize = positiveInt('batchSize', opts.batchSize ?? 100);
    this.batchingWindowMs = nonNegative('batchingWindowMs', opts.batchingWindowMs ?? 500);
    this.visibilityTimeoutMs = nonNegative('visibilityTimeoutMs', opts.visibilityTimeoutMs ?? 30_000);
    this.maxReceiveCount = positiveInt('maxReceiveCount', opts.maxReceiveCount ?? 5);
    this.maxConcurrency = positiveInt('maxConcurrency', opts.maxConcurrency ?? 4);
    this.maxMessageBytes = opts.maxMessageBytes === undefined ? undefined : positiveInt('maxMessageBytes', opts.maxMessageBytes);
    this.compactThresholdBytes = positiveInt('compactThresholdBytes', opts.compactThresholdBytes ?? 8 * 1024 * 1024);
    this.arn = `arn:aws:sqs:${LOCAL_REGION}:000000000000:${opts.queueName ?? 'socialplus-webhooks-events'}`;
    this.logger = opts.logger ?? silentLogger;
    this.deadLetters = recovered.deadLetters;
    for (const e of recovered.entries) {
      this.track(e, e.journalBytes);
      this.makeVisible(e);
    }
  }

  /**
   * Opens the queue in `opts.dir`: reads the DLQ and replays the journal (everything sent and not
   * acknowledged or dead-lettered becomes visible again), then compacts the journal.
   */
  static async open(opts: JournalQueueOptions): Promise<JournalQueue> {
    // Fail on bad options before touching the disk.
    validateOptions(opts);
    await removeStaleTemporaries(opts.dir);
    const logger = opts.logger ?? silentLogger;
    const journalPath = join(opts.dir, JOURNAL_FILE);
    const dlqPath = join(opts.dir, DLQ_FILE);

    const dlqRead = await readJournal(dlqPath);
    const deadLetters: DeadLetter[] = [];
    let dlqCorrupt = 0;
    for (const line of dlqRead.lines) {
      const d = parseDeadLetter(line);
      if (d) deadLetters.push(d);
      else dlqCorrupt++;
    }
    const deadIds = new Set(deadLetters.map((d) => d.messageId));

    const read = await readJournal(journalPath);
    const now = Date.now();
    const live = new Map<string, Entry>();
    let corrupt = 0;
    for (const line of read.lines) {
      const op = parseJournalOp(line);
      if (!op) {
        corrupt++;
        continue;
      }
      if (op.op === 'send') {
        live.set(op.id, {
          id: op.id,
          body: op.body,
          attributes: op.attributes,
          sentAt: op.sentAt,
          receiveCount: op.n ?? 0,
          firstReceiveAt: op.first,
          lastReceiveAt: 0,
          visibleSince: now,
          state: 'pending',
          journalBytes: line.length + 1,
        });
      } else if (op.op === 'recv') {
        const e = live.get(op.id);
        if (e) {
          e.receiveCount = Math.max(e.receiveCount, op.n);
          e.firstReceiveAt ??= op.first;
        }
      } else {
        live.delete(op.id);
      }
    }
    // A crash between writing the DLQ and journaling `dead` leaves the message in both: the DLQ wins.
    for (const id of deadIds) live.delete(id);
    if (read.tornTail || corrupt > 0 || dlqRead.tornTail || dlqCorrupt > 0) {
      logger.warn('local queue: ignored incomplete journal lines left by a crash', {
        tornTail: read.tornTail, corruptLines: corrupt, dlqTornTail: dlqRead.tornTail, dlqCorruptLines: dlqCorrupt,
      });
    }

    const journal = await AppendLog.open(journalPath);
    const dlq = await AppendLog.open(dlqPath);
    const queue = new JournalQueue(opts.dir, journal, dlq, opts, { entries: [...live.values()], deadLetters });
    await queue.compact();
    if (dlqRead.tornTail || dlqCorrupt > 0) await dlq.rewrite(() => deadLetters.map(deadLetterLine).join(''));
    if (live.size > 0) logger.info('local queue: redelivering events accepted before the last stop', { count: live.size });
    return queue;
  }

  /** Starts delivering batches to `consumer` (the fan-out handler). */
  start(consumer: BatchConsumer): void {
    if (this.consumer) throw new Error('the local queue already has a consumer');
    this.consumer = consumer;
    this.pump();
  }

  /** Resolves once everything journaled so far (acknowledgements included) is synced to disk. */
  async sync(): Promise<void> {
    await this.journal.append('', { durable: true });
  }

  /** Journals the message and syncs it to disk; resolves only then (the receiver's 200 waits on it). */
  async send(message: QueueMessage): Promise<void> {
    if (this.closing) throw new QueueClosedError();
    this.checkMessage(message);
    const entry = newEntry(message, Date.now());
    const line = sendLine(entry);
    // In the map before the write, so a compaction that runs right after the write keeps it.
    this.track(entry, line.length);
    try {
      await this.journal.append(line, { durable: true });
    } catch (err) {
      this.untrack(entry);
      throw err;
    }
    if (this.closing) return; // Journaled: delivered after the next open.
    this.makeVisible(entry);
    this.pump();
    this.maybeCompact();
  }

  /** What the queue holds now. */
  stats(): QueueStats {
    let inFlight = 0;
    let delayed = 0;
    let visible = 0;
    for (const e of this.entries.values()) {
      if (e.state === 'inFlight') inFlight++;
      else if (e.state === 'delayed') delayed++;
      else if (e.state === 'visible') visible++;
    }
    return { visible, inFlight, delayed, deadLetters: this.deadLetters.length };
  }

  /** The messages in the DLQ, oldest first. */
  listDeadLetters(): readonly DeadLetter[] {
    return [...this.deadLetters];
  }

  /**
   * Every message the queue holds: waiting, in flight, waiting out a visibility timeout, or in
   * the DLQ. The spill drain reads it so it never announces a spill twice.
   */
  *allMessages(): IterableIterator<QueueMessage> {
    for (const e of this.entries.values()) yield { body: e.body, attributes: e.attributes };
    for (const d of this.deadLetters) yield d.message;
  }

  /**
   * Moves every message in the DLQ back to the queue (with new message ids and fresh receive
   * counts). The messages are journaled before they leave the DLQ, so a crash in between yields a
   * duplicate (de-duplicated by event id downstream), never a loss. Returns how many moved.
   */
  redriveDeadLetters(): Promise<number> {
    // One redrive at a time, or two could move the same messages twice.
    const run = this.redriving.catch(() => undefined).then(() => this.redriveNow());
    this.redriving = run;
    return run;
  }

  private async redriveNow(): Promise<number> {
    if (this.closing) throw new QueueClosedError();
    const moving = [...this.deadLetters];
    if (moving.length === 0) return 0;
    const now = Date.now();
    const fresh = moving.map((d) => newEntry(d.message, now));
    const lines = fresh.map(sendLine);
    fresh.forEach((e, i) => this.track(e, (lines[i] as string).length));
    try {
      await this.journal.append(lines.join(''), { durable: true });
    } catch (err) {
      for (const e of fresh) this.untrack(e);
      throw err;
    }
    const moved = new Set(moving.map((d) => d.messageId));
    this.deadLetters = this.deadLetters.filter((d) => !moved.has(d.messageId));
    await this.dlq.rewrite(() => this.deadLetters.map(deadLetterLine).join(''));
    if (!this.closing) for (const e of fresh) this.makeVisible(e);
    this.logger.info('local queue: redrove the dead-letter queue', { count: fresh.length });
    this.pump();
    return fresh.length;
  }

  /** Resolves once nothing is visible, in flight or waiting out a visibility timeout. */
  drain(): Promise<void> {
    if (this.entries.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops delivering, waits for the batches in flight, and closes the files. What is not done
   * stays journaled and is delivered after the next `open`.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.windowTimer) clearTimeout(this.windowTimer);
    for (const t of this.visibilityTimers) clearTimeout(t);
    this.visibilityTimers.clear();
    await Promise.allSettled([...this.inFlightBatches]);
    await Promise.allSettled([...this.pendingMoves]);
    await this.redriving.catch(() => undefined);
    await this.journal.close();
    await this.dlq.close();
  }

  private checkMessage(message: QueueMessage): void {
    if (typeof message.body !== 'string' || message.body.length === 0) {
      throw new InvalidQueueMessageError('queue message body must be a non-empty string');
    }
    let bytes = Buffer.byteLength(message.body, 'utf8');
    for (const [name, value] of Object.entries(message.attributes ?? {})) {
      if (value === undefined) continue;
      if (typeof value !== 'string') throw new InvalidQueueMessageError(`queue message attribute '${name}' must be a string, got ${typeof value}`);
      bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
    }
    if (this.maxMessageBytes !== undefined && bytes > this.maxMessageBytes) {
      throw new InvalidQueueMessageError(`queue message is ${bytes} bytes, over the ${this.maxMessageBytes}-byte limit of an SQS message`);
    }
  }

  private visibleCount(): number {
    return this.visibleList.length - this.visibleHead;
  }

  /** Dispatches batches while there is room: a full batch at once, a partial one after its window. */
  private pump(): void {
    if (!this.consumer || this.closing) return;
    while (this.batchesInFlight < this.maxConcurrency && this.visibleCount() > 0) {
      const head = this.visibleList[this.visibleHead] as Entry;
      const waitMs = head.visibleSince + this.batchingWindowMs - Date.now();
      if (this.visibleCount() < this.batchSize && waitMs > 0) {
        if (!this.windowTimer) {
          this.windowTimer = setTimeout(() => {
            this.windowTimer = undefined;
            this.pump();
          }, waitMs);
        }
        return;
      }
      this.dispatch(this.takeBatch());
    }
  }

  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    while (batch.length < this.batchSize && this.visibleHead < this.visibleList.length) {
      const e = this.visibleList[this.visibleHead++] as Entry;
      // SQS moves a message to the DLQ on the receive after its last allowed one; this catches
      // records whose last delivery never finished (e.g. one that crashes the process every time).
      if (e.receiveCount >= this.maxReceiveCount) {
        this.moveToDeadLetters(e);
        continue;
      }
      batch.push(e);
    }
    if (this.visibleHead > 1024 && this.visibleHead * 2 > this.visibleList.length) {
      this.visibleList = this.visibleList.slice(this.visibleHead);
      this.visibleHead = 0;
    }
    return batch;
  }

  private dispatch(batch: Entry[]): void {
    if (batch.length === 0) {
      this.notifyIfIdle();
      return;
    }
    this.batchesInFlight++;
    const run = this.deliver(batch).finally(() => {
      this.batchesInFlight--;
      this.inFlightBatches.delete(run);
      this.pump();
      this.notifyIfIdle();
    });
    this.inFlightBatches.add(run);
  }

  private async deliver(batch: Entry[]): Promise<void> {
    const now = Date.now();
    for (const e of batch) {
      e.state = 'inFlight';
      e.receiveCount++;
      e.firstReceiveAt ??= now;
      e.lastReceiveAt = now;
    }
    try {
      // The counts are synced before the consumer runs, so a record that kills the process still
      // reaches the DLQ after maxReceiveCount restarts instead of looping forever.
      await this.journal.append(batch.map((e) => `${JSON.stringify({ op: 'recv', id: e.id, n: e.receiveCount, first: e.firstReceiveAt })}\n`).join(''), { durable: true });
    } catch (err) {
      this.logger.error('local queue: could not journal a delivery; the batch is retried', { error: (err as Error).message, count: batch.length });
      for (const e of batch) this.retryLater(e);
      return;
    }

    let failed: ReadonlySet<string> | 'all';
    try {
      const consumer = this.consumer as BatchConsumer;
      const res = await consumer({ Records: batch.map((e) => this.toRecord(e)) });
      failed = failedIds(res, batch);
      if (failed === 'all') this.logger.error('local queue: the batch response names unknown records; the whole batch is retried', { count: batch.length });
    } catch (err) {
      failed = 'all';
      this.logger.error('local queue: the consumer threw; the whole batch is retried', { error: (err as Error).message, count: batch.length });
    }

    const acks: string[] = [];
    for (const e of batch) {
      if (failed === 'all' || failed.has(e.id)) {
        if (e.receiveCount >= this.maxReceiveCount) this.moveToDeadLetters(e);
        else this.retryLater(e);
      } else {
        this.untrack(e);
        acks.push(`${JSON.stringify({ op: 'ack', id: e.id })}\n`);
      }
    }
    if (acks.length > 0) {
      // Not synced: a lost ack only means a redelivery, which the store de-duplicates.
      const data = acks.join('');
      this.journal.append(data, { durable: false }).catch((err: Error) => {
        if (!this.closing) this.logger.warn('local queue: could not journal acknowledgements; they may be redelivered', { error: err.message });
      });
      this.maybeCompact();
    }
  }

  /** Hides a failed record until its visibility timeout, counted from its receive, ends. */
  private retryLater(e: Entry): void {
    e.state = 'delayed';
    if (this.closing) return; // Still journaled: delivered after the next open.
    const delay = Math.max(0, e.lastReceiveAt + this.visibilityTimeoutMs - Date.now());
    const timer = setTimeout(() => {
      this.visibilityTimers.delete(timer);
      if (this.closing || !this.entries.has(e.id)) return;
      this.makeVisible(e);
      this.pump();
    }, delay);
    this.visibilityTimers.add(timer);
  }

  private moveToDeadLetters(e: Entry): void {
    e.state = 'delayed';
    const move = this.writeDeadLetter(e).finally(() => this.pendingMoves.delete(move));
    this.pendingMoves.add(move);
  }

  private async writeDeadLetter(e: Entry): Promise<void> {
    const dead: DeadLetter = {
      messageId: e.id,
      message: { body: e.body, attributes: e.attributes },
      sentAt: e.sentAt,
      receiveCount: e.receiveCount,
      movedAt: Date.now(),
    };
    try {
      // DLQ first, then the journal: a crash in between leaves it in both, and `open` trusts the DLQ.
      await this.dlq.append(deadLetterLine(dead), { durable: true });
      await this.journal.append(`${JSON.stringify({ op: 'dead', id: e.id })}\n`, { durable: false });
    } catch (err) {
      if (this.closing) return;
      this.logger.error('local queue: could not move a record to the DLQ; it stays in the queue', { error: (err as Error).message, eventId: e.attributes.eventId });
      this.retryLater(e);
      return;
    }
    this.untrack(e);
    this.deadLetters.push(dead);
    this.logger.warn('local queue: moved a record to the dead-letter queue', {
      eventId: e.attributes.eventId, eventType: e.attributes.eventType, receiveCount: e.receiveCount,
    });
    this.notifyIfIdle();
  }

  private toRecord(e: Entry): SQSRecord {
    const messageAttributes: SQSMessageAttributes = {};
    for (const [name, value] of Object.entries(e.attributes)) {
      if (typeof value === 'string' && value !== '') messageAttributes[name] = { stringValue: value, stringListValues: [], binaryListValues: [], dataType: 'String' };
    }
    return {
      messageId: e.id,
      receiptHandle: Buffer.from(`${e.id}#${e.receiveCount}`).toString('base64'),
      body: e.body,
      attributes: {
        ApproximateReceiveCount: String(e.receiveCount),
        SentTimestamp: String(e.sentAt),
        SenderId: 'LOCAL:receiver',
        ApproximateFirstReceiveTimestamp: String(e.firstReceiveAt ?? e.lastReceiveAt),
      },
      messageAttributes,
      md5OfBody: createHash('md5').update(e.body, 'utf8').digest('hex'),
      eventSource: 'aws:sqs',
      eventSourceARN: this.arn,
      awsRegion: LOCAL_REGION,
    };
  }

  private notifyIfIdle(): void {
    if (this.entries.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private maybeCompact(): void {
    if (this.compacting || this.closing || this.journal.size < this.compactThresholdBytes) return;
    // Compact only when most of the journal is finished work; a large backlog is left alone.
    if (this.journal.size < 4 * this.liveJournalBytes) return;
    this.compacting = true;
    this.compact()
      .catch((err: Error) => this.logger.warn('local queue: journal compaction failed; will try again later', { error: err.message }))
      .finally(() => {
        this.compacting = false;
      });
  }

  private track(e: Entry, journalBytes: number): void {
    e.journalBytes = journalBytes;
    this.entries.set(e.id, e);
    this.liveJournalBytes += journalBytes;
  }

  private untrack(e: Entry): void {
    if (this.entries.delete(e.id)) this.liveJournalBytes -= e.journalBytes;
  }

  private makeVisible(e: Entry): void {
    e.state = 'visible';
    e.visibleSince = Date.now();
    this.visibleList.push(e);
  }

  /** Rewrites the journal as one `send` line per live record, with its receive count. */
  private async compact(): Promise<void> {
    await this.journal.rewrite(() => {
      return [...this.entries.values()].map(sendLine).join('');
    });
  }
}

function newEntry(message: QueueMessage, now: number): Entry {
  return {
    id: randomUUID(),
    body: message.body,
    attributes: { ...message.attributes },
    sentAt: now,
    receiveCount: 0,
    firstReceiveAt: undefined,
    lastReceiveAt: 0,
    visibleSince: now,
    state: 'pending',
    journalBytes: 0,
  };
}

function sendLine(e: Entry): string {
  const op: JournalOp = { op: 'send', id: e.id, body: e.body, attributes: e.attributes, sentAt: e.sentAt };
  if (e.receiveCount > 0) op.n = e.receiveCount;
  if (e.firstReceiveAt !== undefined) op.first = e.firstReceiveAt;
  return `${JSON.stringify(op)}\n`;
}

function deadLetterLine(d: DeadLetter): string {
  return `${JSON.stringify(d)}\n`;
}

/** Lambda's reading of a partial batch response: unknown or empty identifiers fail the whole batch. */
function failedIds(res: SQSBatchResponse | void | null | undefined, batch: readonly Entry[]): ReadonlySet<string> | 'all' {
  if (res === undefined || res === null) return new Set();
  const items = (res as { batchItemFailures?: unknown }).batchItemFailures;
  if (items === undefined || items === null) return new Set();
  if (!Array.isArray(items)) return 'all';
  const ids = new Set(batch.map((e) => e.id));
  const failed = new Set<string>();
  for (const item of items) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

function parseJournalOp(line: string): JournalOp | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const o = v as Record<string, unknown>;
  if (typeof o.id !== 'string') return undefined;
  switch (o.op) {
    case 'send':
      if (typeof o.body !== 'string' || typeof o.sentAt !== 'number' || !isStringRecord(o.attributes)) return undefined;
      return {
        op: 'send', id: o.id, body: o.body, attributes: o.attributes as unknown as QueueMessageAttributes, sentAt: o.sentAt,
        ...(typeof o.n === 'number' ? { n: o.n } : {}),
        ...(typeof o.first === 'number' ? { first: o.first } : {}),
      };
    case 'recv':
      return typeof o.n === 'number' ? { op: 'recv', id: o.id, n: o.n, ...(typeof o.first === 'number' ? { first: o.first } : {}) } : undefined;
    case 'ack':
    case 'dead':
      return { op: o.op, id: o.id };
    default:
      return undefined;
  }
}

function parseDeadLetter(line: string): DeadLetter | undefined {
  try {
    const v = JSON.parse(line) as Partial<DeadLetter>;
    if (typeof v.messageId !== 'string' || typeof v.message?.body !== 'string' || !isStringRecord(v.message.attributes)) return undefined;
    return {
      messageId: v.messageId,
      message: { body: v.message.body, attributes: v.message.attributes as unknown as QueueMessageAttributes },
      sentAt: Number(v.sentAt) || 0,
      receiveCount: Number(v.receiveCount) || 0,
      movedAt: Number(v.movedAt) || 0,
    };
  } catch {
    return undefined;
  }
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`local queue option ${name} must be a positive integer, got ${v}`);
  return v;
}

function nonNegative(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`local queue option ${name} must be a number ≥ 0, got ${v}`);
  return v;
}

function validateOptions(opts: JournalQueueOptions): void {
  if (typeof opts.dir !== 'string' || opts.dir === '') throw new RangeError('local queue option dir must be a folder path');
  positiveInt('batchSize', opts.batchSize ?? 1);
  nonNegative('batchingWindowMs', opts.batchingWindowMs ?? 0);
  nonNegative('visibilityTimeoutMs', opts.visibilityTimeoutMs ?? 0);
  positiveInt('maxReceiveCount', opts.maxReceiveCount ?? 1);
  positiveInt('maxConcurrency', opts.maxConcurrency ?? 1);
  positiveInt('maxMessageBytes', opts.maxMessageBytes ?? 1);
  positiveInt('compactThresholdBytes', opts.compactThresholdBytes ?? 1);
}
