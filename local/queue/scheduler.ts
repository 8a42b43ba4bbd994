/**
 * When the local queue delivers, as the event source mapping would: a full batch at once, a partial
 * one after its batching window, at most `maxConcurrency` batches in flight, and a failed record
 * hidden until its visibility timeout, counted from its receive, ends.
 */
import type { Entry } from './entry.js';
import type { QueueSettings } from './options.js';

/** What the scheduler asks of the queue. */
export interface DeliveryHooks {
  /** Delivers a batch; it counts as in flight until the promise settles. */
  deliver(batch: Entry[]): Promise<void>;
  /** Moves to the DLQ a record taken for delivery that already used all its receives. */
  deadLetter(e: Entry): void;
  /** Whether the queue still holds the record (it was not acknowledged or dead-lettered since). */
  holds(e: Entry): boolean;
  /** After a batch settles, or nothing was left to deliver: the queue may have become idle. */
  settled(): void;
}

export class DeliveryScheduler {
  /** Visible entries in delivery order; `visibleHead` skips the consumed front without shifting. */
  private visibleList: Entry[] = [];
  private visibleHead = 0;
  private batchesInFlight = 0;
  private readonly inFlightBatches = new Set<Promise<void>>();
  private windowTimer: NodeJS.Timeout | undefined;
  private readonly visibilityTimers = new Set<NodeJS.Timeout>();
  private started = false;
  private stopped = false;

  constructor(
    private readonly settings: Pick<QueueSettings, 'batchSize' | 'batchingWindowMs' | 'visibilityTimeoutMs' | 'maxReceiveCount' | 'maxConcurrency'>,
    private readonly hooks: DeliveryHooks,
  ) {}

  /** Begins dispatching what is visible (the queue has its consumer). */
  start(): void {
    this.started = true;
    this.pump();
  }

  /** Queues `e` for delivery, its batching window starting now. */
  makeVisible(e: Entry): void {
    e.state = 'visible';
    e.visibleSince = Date.now();
    this.visibleList.push(e);
  }

  /** Dispatches batches while there is room: a full batch at once, a partial one after its window. */
  pump(): void {
    if (!this.started || this.stopped) return;
    const { batchSize, batchingWindowMs, maxConcurrency } = this.settings;
    while (this.batchesInFlight < maxConcurrency && this.visibleCount() > 0) {
      const head = this.visibleList[this.visibleHead] as Entry;
      const waitMs = head.visibleSince + batchingWindowMs - Date.now();
      if (this.visibleCount() < batchSize && waitMs > 0) {
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

  /** Hides a failed record until its visibility timeout, counted from its receive, ends. */
  retryLater(e: Entry): void {
    e.state = 'delayed';
    if (this.stopped) return; // Still journaled: delivered after the next open.
    const delay = Math.max(0, e.lastReceiveAt + this.settings.visibilityTimeoutMs - Date.now());
    const timer = setTimeout(() => {
      this.visibilityTimers.delete(timer);
      if (this.stopped || !this.hooks.holds(e)) return;
      this.makeVisible(e);
      this.pump();
    }, delay);
    this.visibilityTimers.add(timer);
  }

  /** Stops dispatching and waits for the batches in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.windowTimer) clearTimeout(this.windowTimer);
    for (const t of this.visibilityTimers) clearTimeout(t);
    this.visibilityTimers.clear();
    await Promise.allSettled([...this.inFlightBatches]);
  }

  private visibleCount(): number {
    return this.visibleList.length - this.visibleHead;
  }

  private takeBatch(): Entry[] {
    const batch: Entry[] = [];
    while (batch.length < this.settings.batchSize && this.visibleHead < this.visibleList.length) {
      const e = this.visibleList[this.visibleHead++] as Entry;
      // SQS moves a message to the DLQ on the receive after its last allowed one; this catches
      // records whose last delivery never finished (e.g. one that crashes the process every time).
      if (e.receiveCount >= this.settings.maxReceiveCount) {
        this.hooks.deadLetter(e);
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
      this.hooks.settled();
      return;
    }
    this.batchesInFlight++;
    const run = this.hooks.deliver(batch).finally(() => {
      this.batchesInFlight--;
      this.inFlightBatches.delete(run);
      this.pump();
      this.hooks.settled();
    });
    this.inFlightBatches.add(run);
  }
}
