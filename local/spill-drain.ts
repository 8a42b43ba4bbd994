/**
 * Local mode's stand-in for the S3 event notification that brings spilled events to the fan-out
 * (docs/architecture.md §2: "spilled events reach fan-out with no manual step"). s3rver sends no notifications,
 * so the drain lists `inbox/spill/` in the bucket and enqueues, for each spilled object no queued
 * message announces yet, the notification S3 would have sent (`s3NotificationBody`): the fan-out
 * then reads it exactly as on AWS, stores and dispatches the event, and deletes the object.
 *
 * It runs at start-up (a spill is an object in s3rver's folder, so one made before a crash is
 * found on the next start), every `intervalMs`, and shortly after each spill (`kick`). A spill is
 * announced again only once no message for it is left in the queue or its DLQ, so an event whose
 * handler always fails ends in the DLQ once rather than cycling; one announced twice (a race with
 * the fan-out deleting it) is harmless: the fan-out finds the object gone, or the event stored.
 *
 * Only whole objects are announced: a spill's key names the hash of its body, and s3rver (unlike
 * S3) shows an object while it is written, or keeps a torn one when the write is cut short by a
 * crash. A torn object that stays torn for `tornAfterMs` was never acknowledged (the receiver
 * answers 200 only once its spill reads back whole) and is removed, with a warning.
 *
 * Only spills this installation wrote are announced: the S3 emulator takes writes from anything on
 * the machine, and a spill becomes an event that handlers act on without a webhook signature to
 * check. A whole spill whose MAC (`inbox-mac.ts`, under `inboxKey`) is missing or wrong is refused:
 * never announced, warned about once (key and reason, never the body), counted in `refusedCount`,
 * and left in place for a person to inspect. A put in progress shows its body before its metadata,
 * so a spill is refused only once it has stayed unverified for `tornAfterMs`; until then it just
 * waits, like a torn one.
 */
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { INBOX_SPILL_PREFIX } from '../lambda/core/archive-layout.js';
import { eventIdOf } from '../lambda/core/event-id.js';
import { parseInboxKey, parseS3Notification, s3NotificationBody } from '../lambda/core/inbox.js';
import type { EventQueue, QueueMessage, QueueMessageAttributes } from '../lambda/core/ports.js';
import { silentLogger, type Logger } from '../lambda/core/telemetry.js';
import { INBOX_KEY_BYTES, inboxMacProblem } from './inbox-mac.js';
import { errorMessage } from '../lambda/core/errors.js';

export interface SpillDrainOptions {
  /** Client of the S3 holding the archive bucket (s3rver). */
  readonly s3: S3Client;
  readonly bucket: string;
  /**
   * This installation's inbox key (`loadOrCreateInboxKey`): only spills whose MAC verifies under it
   * are announced.
   */
  readonly inboxKey: Buffer;
  /** Where notifications go: the fan-out's queue. */
  readonly queue: EventQueue;
  /** Every message the queue holds, DLQ included; spills they announce are not announced again. */
  readonly queued: () => Iterable<QueueMessage>;
  /** Time between listings. @default 1000 */
  readonly intervalMs?: number;
  /** Delay between a `kick` and the listing it triggers (spills close together share one). @default 20 */
  readonly kickDelayMs?: number;
  /**
   * Age after which a spill object that is still not whole is removed as the leftover of a crash,
   * and one that is whole but still has no valid MAC is refused (warned about and counted). @default 10000
   */
  readonly tornAfterMs?: number;
  readonly logger?: Logger;
}

/**
 * S3 notifications carry none of the receiver's attributes: that is how the fan-out tells them
 * from webhook bodies (`planRecord`).
 */
const NO_ATTRIBUTES = {} as QueueMessageAttributes;
/** Spills checked and announced at once. */
const PARALLEL = 16;

/** The drain. `start` it once the fan-out consumes the queue; `close` before the queue. */
export class SpillDrain {
  private readonly intervalMs: number;
  private readonly kickDelayMs: number;
  private readonly tornAfterMs: number;
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private kickTimer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private rerun = false;
  private closed = false;
  /** Keys under the prefix that are not spills, warned about once. */
  private readonly ignored = new Set<string>();
  /** Whole spills without a valid MAC, warned about once (forgotten when they leave the listing). */
  private readonly refused = new Set<string>();
  /** Notifications enqueued since start. */
  announcedCount = 0;
  /** Spill objects refused since start because their MAC is missing or wrong (each counted once). */
  refusedCount = 0;

  constructor(private readonly opts: SpillDrainOptions) {
    this.intervalMs = opts.intervalMs ?? 1000;
    this.kickDelayMs = opts.kickDelayMs ?? 20;
    this.tornAfterMs = opts.tornAfterMs ?? 10_000;
    if (!Number.isFinite(this.intervalMs) || this.intervalMs <= 0)
      throw new RangeError(`spill drain option intervalMs must be a positive number, got ${opts.intervalMs}`);
    if (!Number.isFinite(this.kickDelayMs) || this.kickDelayMs < 0)
      throw new RangeError(`spill drain option kickDelayMs must be a number ≥ 0, got ${opts.kickDelayMs}`);
    if (!Buffer.isBuffer(opts.inboxKey) || opts.inboxKey.length !== INBOX_KEY_BYTES) {
      throw new TypeError(
        `spill drain option inboxKey must be this installation's ${INBOX_KEY_BYTES}-byte inbox key (loadOrCreateInboxKey), got ${Buffer.isBuffer(opts.inboxKey) ? `${opts.inboxKey.length} bytes` : typeof opts.inboxKey}`,
      );
    }
    this.logger = opts.logger ?? silentLogger;
  }

  /** Drains now, then every `intervalMs`. */
  start(): void {
    if (this.closed || this.timer) return;
    this.timer = setInterval(() => this.background(), this.intervalMs);
    this.timer.unref?.();
    this.background();
  }

  /** Asks for a drain soon: called right after a spill, so it need not wait for the interval. */
  kick(): void {
    if (this.closed || this.kickTimer) return;
    this.kickTimer = setTimeout(() => {
      this.kickTimer = undefined;
      this.background();
    }, this.kickDelayMs);
  }

  /**
   * Lists the spills and enqueues a notification for each one not announced yet; resolves with how
   * many it enqueued. A call during a run makes that run list once more before it ends, so a spill
   * that landed meanwhile is seen, and resolves with the run's total.
   */
  drainOnce(): Promise<number> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    const run = this.run().finally(() => {
      this.running = undefined;
    });
    this.running = run;
    return run;
  }

  /** Stops the timers and waits for a drain in progress. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.kickTimer) clearTimeout(this.kickTimer);
    this.timer = undefined;
    this.kickTimer = undefined;
    await this.running?.catch(() => undefined);
  }

  private background(): void {
    if (this.closed) return;
    this.drainOnce().catch((err: Error) => {
      if (!this.closed) this.logger.warn('spill drain: could not drain inbox/spill/; will try again', { error: err.message });
    });
  }

  private async run(): Promise<number> {
    let total = 0;
    do {
      this.rerun = false;
      total += await this.pass();
    } while (this.rerun && !this.closed);
    return total;
  }

  private async pass(): Promise<number> {
    // The queue is read before the listing: a spill processed in between is announced once more,
    // which is harmless; the other order could miss nothing either, but would re-announce more.
    const announced = this.announcedKeys();
    const listed = await this.listSpills();
    const present = new Set(listed.map((s) => s.key));
    for (const key of this.refused) if (!present.has(key)) this.refused.delete(key);
    const spills = listed.filter((s) => !announced.has(s.key));
    let sent = 0;
    const failed: Array<{ key: string; error: string }> = [];
    // A few at a time: a burst of spills (the queue down for a while) shares the queue's disk syncs.
    // One spill that cannot be read or announced now does not hold back the others.
    for (let i = 0; i < spills.length && !this.closed; i += PARALLEL) {
      await Promise.all(
        spills.slice(i, i + PARALLEL).map(async ({ key, lastModified }) => {
          try {
            if (!(await this.isAnnounceable(key, lastModified))) return;
            await this.opts.queue.send({ body: s3NotificationBody(this.opts.bucket, [key]), attributes: NO_ATTRIBUTES });
            sent++;
            this.announcedCount++;
          } catch (err) {
            failed.push({ key, error: errorMessage(err) });
          }
        }),
      );
    }
    if (sent > 0) this.logger.info('spill drain: enqueued spilled events for the fan-out', { count: sent });
    if (failed.length > 0 && !this.closed) {
      this.logger.warn('spill drain: could not announce some spilled events; will try again', {
        count: failed.length,
        key: failed[0]?.key,
        error: failed[0]?.error,
      });
    }
    return sent;
  }

  private announcedKeys(): Set<string> {
    const keys = new Set<string>();
    for (const m of this.opts.queued()) {
      if (m.attributes.eventId || m.attributes.receivedAt || m.attributes.requestId) continue;
      const n = parseS3Notification(m.body);
      if (n?.kind !== 'objects') continue;
      for (const o of n.objects) if (o.bucket === this.opts.bucket) keys.add(o.key);
    }
    return keys;
  }

  /**
   * Whether the object's body hashes to its key's event id and its MAC verifies; removes one torn
   * for too long, and warns about one whole without a valid MAC for too long.
   */
  private async isAnnounceable(key: string, lastModified: Date | undefined): Promise<boolean> {
    let body: Uint8Array;
    let metadata: Record<string, string>;
    try {
      const out = await this.opts.s3.send(new GetObjectCommand({ Bucket: this.opts.bucket, Key: key }));
      body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
      metadata = out.Metadata ?? {};
    } catch (err) {
      if ((err as Error).name === 'NoSuchKey') return false; // Processed and deleted since the listing.
      throw err;
    }
    const ageMs = lastModified ? Date.now() - lastModified.getTime() : 0;
    if (eventIdOf(body) === parseInboxKey(key)?.eventId) {
      const problem = inboxMacProblem(this.opts.inboxKey, key, body, metadata);
      if (problem === undefined) {
        this.refused.delete(key);
        return true;
      }
      if (ageMs >= this.tornAfterMs && !this.refused.has(key)) {
        this.refused.add(key);
        this.refusedCount++;
        this.logger.warn(
          'spill drain: refused a spill object not written by this installation; it is not processed and is left in place for you to inspect',
          { key, reason: problem, bytes: body.length },
        );
      }
      return false;
    }
    if (ageMs >= this.tornAfterMs) {
      await this.opts.s3.send(new DeleteObjectCommand({ Bucket: this.opts.bucket, Key: key }));
      this.logger.warn('spill drain: removed a torn spill object left by an interrupted write (its event was never acknowledged)', {
        key,
        bytes: body.length,
      });
    }
    return false;
  }

  private async listSpills(): Promise<Array<{ key: string; lastModified: Date | undefined }>> {
    const keys: Array<{ key: string; lastModified: Date | undefined }> = [];
    let token: string | undefined;
    do {
      const out = await this.opts.s3.send(
        new ListObjectsV2Command({ Bucket: this.opts.bucket, Prefix: INBOX_SPILL_PREFIX, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of out.Contents ?? []) {
        if (!o.Key) continue;
        if (parseInboxKey(o.Key)?.kind === 'spill') keys.push({ key: o.Key, lastModified: o.LastModified });
        else if (!this.ignored.has(o.Key)) {
          this.ignored.add(o.Key);
          this.logger.warn('spill drain: ignoring an object under inbox/spill/ that is not a spilled event', { key: o.Key });
        }
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return keys;
  }
}
