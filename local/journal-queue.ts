/**
 * Local mode's queue (docs/architecture.md §8): an in-process stand-in for SQS and the Lambda event source that
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
 *
 * This module is the queue itself; its parts are in `queue/`: the journal's lines and replay
 * (`journal-codec.ts`), when batches go out (`scheduler.ts`), the SQS shapes of a delivery
 * (`event-source.ts`), the DLQ (`dead-letters.ts`) and compaction (`compaction.ts`).
 */
import { join } from 'node:path';
import { SocialPlusWebhooksError, errorMessage } from '../lambda/core/errors.js';
import type { EventQueue, QueueMessage } from '../lambda/core/ports.js';
import { silentLogger, type Logger } from '../lambda/core/telemetry.js';
import { AppendLog, removeStaleTemporaries } from './append-log.js';
import { JournalCompactor } from './queue/compaction.js';
import { DeadLetterQueue, readDeadLetters, type DeadLetter } from './queue/dead-letters.js';
import { checkMessage, LiveEntries, newEntry, type Entry } from './queue/entry.js';
import { failedIds, localQueueArn, toRecord, type BatchConsumer } from './queue/event-source.js';
import { ackLine, deadLine, recvLine, replayJournal, sendLine } from './queue/journal-codec.js';
import { queueSettings, type JournalQueueOptions, type QueueSettings } from './queue/options.js';
import { DeliveryScheduler } from './queue/scheduler.js';

export type { DeadLetter } from './queue/dead-letters.js';
export { InvalidQueueMessageError } from './queue/entry.js';
export type { BatchConsumer } from './queue/event-source.js';
export type { JournalQueueOptions } from './queue/options.js';

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

/** Thrown by `send` after `close`. */
export class QueueClosedError extends SocialPlusWebhooksError {
  constructor() {
    super('the local queue is closed');
    this.name = 'QueueClosedError';
  }
}

/** The queue's journal and dead-letter files in its folder (read by `status` when local mode is stopped). */
export const JOURNAL_FILE = 'journal.ndjson';
export const DLQ_FILE = 'dlq.ndjson';

/**
 * The queue. Open with {@link JournalQueue.open} (which recovers what the journal holds), then
 * `start(consumer)` to begin delivering; `close()` stops delivering and waits for batches in flight.
 */
export class JournalQueue implements EventQueue {
  /** Most records per batch (`settings.batchSize`). */
  get batchSize(): number {
    return this.settings.batchSize;
  }

  /** How long a partial batch waits for more records (`settings.batchingWindowMs`). */
  get batchingWindowMs(): number {
    return this.settings.batchingWindowMs;
  }

  private readonly arn: string;
  private readonly logger: Logger;

  private readonly entries = new LiveEntries();
  private readonly scheduler: DeliveryScheduler;
  private readonly compactor: JournalCompactor;
  private consumer: BatchConsumer | undefined;
  private readonly pendingMoves = new Set<Promise<void>>();
  private redriving: Promise<unknown> = Promise.resolve();
  private idleWaiters: Array<() => void> = [];
  private closing = false;

  private constructor(
    readonly dir: string,
    private readonly journal: AppendLog,
    private readonly dlq: DeadLetterQueue,
    opts: JournalQueueOptions,
    /** The options with their defaults applied. */
    readonly settings: QueueSettings,
    recovered: readonly Entry[],
  ) {
    this.arn = localQueueArn(opts.queueName ?? 'socialplus-webhooks-events');
    this.logger = opts.logger ?? silentLogger;
    this.compactor = new JournalCompactor(journal, this.entries, settings.compactThresholdBytes, this.logger);
    this.scheduler = new DeliveryScheduler(settings, {
      deliver: (batch) => this.deliver(batch),
      deadLetter: (e) => this.moveToDeadLetters(e),
      holds: (e) => this.entries.has(e.id),
      settled: () => this.notifyIfIdle(),
    });
    for (const e of recovered) {
      this.entries.track(e, e.journalBytes);
      this.scheduler.makeVisible(e);
    }
  }

  /**
   * Opens the queue in `opts.dir`: reads the DLQ and replays the journal (everything sent and not
   * acknowledged or dead-lettered becomes visible again), then compacts the journal.
   */
  static async open(opts: JournalQueueOptions): Promise<JournalQueue> {
    // Fail on bad options before touching the disk.
    const settings = queueSettings(opts);
    await removeStaleTemporaries(opts.dir);
    const logger = opts.logger ?? silentLogger;
    const journalPath = join(opts.dir, JOURNAL_FILE);
    const dlqPath = join(opts.dir, DLQ_FILE);

    const dlqRead = await readDeadLetters(dlqPath);
    const read = await replayJournal(journalPath, Date.now());
    const live = read.live;
    // A crash between writing the DLQ and journaling `dead` leaves the message in both: the DLQ wins.
    for (const d of dlqRead.deadLetters) live.delete(d.messageId);
    const dlqDamaged = dlqRead.tornTail || dlqRead.corruptLines > 0;
    if (read.tornTail || read.corruptLines > 0 || dlqDamaged) {
      logger.warn('local queue: ignored incomplete journal lines left by a crash', {
        tornTail: read.tornTail,
        corruptLines: read.corruptLines,
        dlqTornTail: dlqRead.tornTail,
        dlqCorruptLines: dlqRead.corruptLines,
      });
    }

    const journal = await AppendLog.open(journalPath);
    const dlq = new DeadLetterQueue(await AppendLog.open(dlqPath), dlqRead.deadLetters);
    const queue = new JournalQueue(opts.dir, journal, dlq, opts, settings, [...live.values()]);
    await queue.compactor.compact();
    if (dlqDamaged) await dlq.rewrite();
    if (live.size > 0) logger.info('local queue: redelivering events accepted before the last stop', { count: live.size });
    return queue;
  }

  /** Starts delivering batches to `consumer` (the fan-out handler). */
  start(consumer: BatchConsumer): void {
    if (this.consumer) throw new Error('the local queue already has a consumer');
    this.consumer = consumer;
    this.scheduler.start();
  }

  /** Resolves once everything journaled so far (acknowledgements included) is synced to disk. */
  async sync(): Promise<void> {
    await this.journal.append('', { durable: true });
  }

  /** Journals the message and syncs it to disk; resolves only then (the receiver's 200 waits on it). */
  async send(message: QueueMessage): Promise<void> {
    if (this.closing) throw new QueueClosedError();
    checkMessage(message, this.settings.maxMessageBytes);
    const entry = newEntry(message, Date.now());
    const line = sendLine(entry);
    // In the map before the write, so a compaction that runs right after the write keeps it.
    this.entries.track(entry, line.length);
    try {
      await this.journal.append(line, { durable: true });
    } catch (err) {
      this.entries.untrack(entry);
      throw err;
    }
    if (this.closing) return; // Journaled: delivered after the next open.
    this.scheduler.makeVisible(entry);
    this.scheduler.pump();
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
    return { visible, inFlight, delayed, deadLetters: this.dlq.size };
  }

  /** When the oldest message the queue holds (not the DLQ) was accepted, epoch ms; undefined when empty. */
  oldestSentAt(): number | undefined {
    let oldest: number | undefined;
    for (const e of this.entries.values()) if (oldest === undefined || e.sentAt < oldest) oldest = e.sentAt;
    return oldest;
  }

  /** The messages in the DLQ, oldest first. */
  listDeadLetters(): readonly DeadLetter[] {
    return this.dlq.list();
  }

  /**
   * Every message the queue holds: waiting, in flight, waiting out a visibility timeout, or in
   * the DLQ. The spill drain reads it so it never announces a spill twice.
   */
  *allMessages(): IterableIterator<QueueMessage> {
    for (const e of this.entries.values()) yield { body: e.body, attributes: e.attributes };
    yield* this.dlq.messages();
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
    const moving = this.dlq.list();
    if (moving.length === 0) return 0;
    const now = Date.now();
    const fresh = moving.map((d) => newEntry(d.message, now));
    const lines = fresh.map(sendLine);
    fresh.forEach((e, i) => this.entries.track(e, (lines[i] as string).length));
    try {
      await this.journal.append(lines.join(''), { durable: true });
    } catch (err) {
      for (const e of fresh) this.entries.untrack(e);
      throw err;
    }
    await this.dlq.remove(new Set(moving.map((d) => d.messageId)));
    if (!this.closing) for (const e of fresh) this.scheduler.makeVisible(e);
    this.logger.info('local queue: redrove the dead-letter queue', { count: fresh.length });
    this.scheduler.pump();
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
    await this.scheduler.stop();
    await Promise.allSettled([...this.pendingMoves]);
    await this.redriving.catch(() => undefined);
    await this.journal.close();
    await this.dlq.close();
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
      await this.journal.append(batch.map(recvLine).join(''), { durable: true });
    } catch (err) {
      this.logger.error('local queue: could not journal a delivery; the batch is retried', { error: errorMessage(err), count: batch.length });
      for (const e of batch) this.scheduler.retryLater(e);
      return;
    }

    let failed: ReadonlySet<string> | 'all';
    try {
      const consumer = this.consumer as BatchConsumer;
      const res = await consumer({ Records: batch.map((e) => toRecord(e, this.arn)) });
      failed = failedIds(res, batch);
      if (failed === 'all')
        this.logger.error('local queue: the batch response names unknown records; the whole batch is retried', { count: batch.length });
    } catch (err) {
      failed = 'all';
      this.logger.error('local queue: the consumer threw; the whole batch is retried', { error: errorMessage(err), count: batch.length });
    }

    const acks: string[] = [];
    for (const e of batch) {
      if (failed === 'all' || failed.has(e.id)) {
        if (e.receiveCount >= this.settings.maxReceiveCount) this.moveToDeadLetters(e);
        else this.scheduler.retryLater(e);
      } else {
        this.entries.untrack(e);
        acks.push(ackLine(e.id));
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
      await this.dlq.write(dead);
      await this.journal.append(deadLine(e.id), { durable: false });
    } catch (err) {
      if (this.closing) return;
      this.logger.error('local queue: could not move a record to the DLQ; it stays in the queue', {
        error: errorMessage(err),
        eventId: e.attributes.eventId,
      });
      this.scheduler.retryLater(e);
      return;
    }
    this.entries.untrack(e);
    this.dlq.add(dead);
    this.logger.warn('local queue: moved a record to the dead-letter queue', {
      eventId: e.attributes.eventId,
      eventType: e.attributes.eventType,
      receiveCount: e.receiveCount,
    });
    this.notifyIfIdle();
  }

  private notifyIfIdle(): void {
    if (this.entries.size > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private maybeCompact(): void {
    if (!this.closing) this.compactor.maybeCompact();
  }
}
