/**
 * The ports the example handlers own: small interfaces they call, implemented on DynamoDB and
 * EventBridge in `lambda/adapters/` (and by whatever a test passes).
 */
import { SocialPlusWebhooksError } from '../../core/errors.js';

/** Outcome of claiming the right to ban a user in a scope. */
export type BanClaim =
  /** This event holds the claim: call the ban, then {@link FlagCounterStore.completeBan}. */
  | 'claimed'
  /** The user is already banned in this scope (within the hold time): nothing to do. */
  | 'already-done'
  /** Another event holds an unexpired claim and is banning right now: nothing to do. */
  | 'in-progress';

/** Flags per user, for a sliding window, and the once-only ban claim (auto-moderation). */
export interface FlagCounterStore {
  /** Records one flag of `userId`; recording the same event again changes nothing. */
  recordFlag(flag: { userId: string; eventId: string; at: Date; eventType: string; keepUntil: Date }): Promise<void>;
  /** Flags of `userId` from `from` to `to` (inclusive), counting at most `limit`. */
  countFlags(query: { userId: string; from: Date; to: Date; limit: number }): Promise<number>;
  /**
   * Claims the ban of `userId` in `scope` (`global`, `channel#<id>`, `community#<id>`) for `eventId`.
   * A claim not completed within `leaseMs` may be taken over (its holder crashed); a completed ban
   * is remembered for `holdMs`, during which the user is not banned again.
   */
  claimBan(claim: { userId: string; scope: string; eventId: string; now: Date; leaseMs: number; holdMs: number }): Promise<BanClaim>;
  /** Marks the claim of `eventId` done. */
  completeBan(claim: { userId: string; scope: string; eventId: string }): Promise<void>;
}

/** Outcome of counting one event. */
export type CountOutcome = 'counted' | 'already-counted';

/** Daily counters, each event counted exactly once however often it is retried (daily counters). */
export interface DailyCounterStore {
  /**
   * Adds 1 to each of `keys` for `day` (`YYYY-MM-DD`) on behalf of `eventId`, exactly once: a
   * retry after a crash at any point completes the event's increments without repeating any.
   * Throws `CountInProgressError` while another invocation holds the event (a concurrent duplicate).
   */
  increment(eventId: string, day: string, keys: readonly string[], now: Date): Promise<CountOutcome>;
  /** The counters of a day: key → count. */
  read(day: string): Promise<Record<string, number>>;
}

/** Another invocation is counting the same event right now: retry later (the queue will). */
export class CountInProgressError extends SocialPlusWebhooksError {
  constructor(eventId: string, leaseUntil: Date) {
    super(`event ${eventId} is being counted by another invocation (its claim lasts until ${leaseUntil.toISOString()}); retry later`);
    this.name = 'CountInProgressError';
  }
}

/** One event for a bus (EventBridge's PutEvents entry, less the bus). */
export interface BusEntry {
  readonly source: string;
  readonly detailType: string;
  /** JSON text. */
  readonly detail: string;
  readonly time: Date;
}

/** Puts events on a bus (the EventBridge forwarder). */
export interface EventPublisher {
  /** Puts one entry; throws when the bus did not accept it. */
  publish(entry: BusEntry): Promise<void>;
}
