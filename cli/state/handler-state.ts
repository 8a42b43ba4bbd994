/**
 * What `socialplus-webhooks state` reads from the example handlers' state table (layout in
 * `lambda/adapters/handler-state-table.ts`): daily counters by day, through the adapter's own
 * `read`; auto-moderation's flags and bans by user.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbDailyCounterStore } from '../../lambda/adapters/daily-counters-store.js';
import { queryPages } from '../../lambda/adapters/query-pages.js';

/** One day's counters: `type#<eventType>`, `channel#<id>`, `community#<id>` → events counted. */
export interface DayCounters {
  readonly day: string;
  readonly counters: Readonly<Record<string, number>>;
}

/** The daily counters of `day` (`YYYY-MM-DD`), keys sorted. */
export async function readDayCounters(client: DynamoDBClient, tableName: string, day: string): Promise<DayCounters> {
  const read = await new DynamoDbDailyCounterStore(client, tableName).read(day);
  return { day, counters: Object.fromEntries(Object.entries(read).sort(([a], [b]) => a.localeCompare(b))) };
}

/** One flag auto-moderation keeps for a user (until `expires_at`, its TTL). */
export interface FlagRecord {
  /** When the flag event arrived. */
  readonly at: string;
  readonly event_id: string;
  readonly event_type: string | null;
  readonly expires_at: string | null;
}

/** One ban claim of a user in a scope (`global`, `channel#<id>`, `community#<id>`). */
export interface BanRecord {
  readonly scope: string;
  /** `pending` while the event that claimed it calls the ban; `done` once it did. */
  readonly state: string | null;
  /** The event whose flag crossed the threshold. */
  readonly event_id: string | null;
  /** Until when the user is not banned again in this scope. */
  readonly hold_until: string | null;
}

/** The permanent record of a ban an event caused (kept without TTL, so no replay of it bans again). */
export interface BanEventRecord {
  readonly event_id: string;
  readonly scope: string | null;
}

/** Auto-moderation's records of one user, flags newest first. */
export interface UserModeration {
  readonly userId: string;
  readonly flags: readonly FlagRecord[];
  /** The ban claims: one per scope, remembered for the ban hold. */
  readonly bans: readonly BanRecord[];
  /** The events that caused a ban, for good. */
  readonly banEvents: readonly BanEventRecord[];
}

const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);

/**
 * Auto-moderation's flags and bans of `userId`: one Query on the user's partition
 * (`PK=FLAGS#<userId>`: `SK=FLAG#<receivedAt>#<eventId>` per flag, `SK=BAN#<scope>` per ban claim,
 * `SK=BANEVENT#<eventId>` per event that caused a ban).
 * Provisional: the key layout belongs to `lambda/adapters/flag-counter-store.ts`, which exports
 * no reader yet; this is to become a call to it.
 */
export async function readModeration(client: DynamoDBClient, tableName: string, userId: string): Promise<UserModeration> {
  const flags: FlagRecord[] = [];
  const bans: BanRecord[] = [];
  const banEvents: BanEventRecord[] = [];
  const pages = queryPages(client, () => ({
    TableName: tableName,
    KeyConditionExpression: 'PK = :pk',
    ExpressionAttributeValues: { ':pk': { S: `FLAGS#${userId}` } },
    ScanIndexForward: false,
    ConsistentRead: true,
  }));
  for await (const page of pages) {
    for (const item of page.Items ?? []) {
      const sk = item.SK?.S ?? '';
      const expiresAt = iso(Number(item.expiresAt?.N) * 1000);
      if (sk.startsWith('FLAG#')) {
        const eventId = item.eventId?.S ?? sk.slice(sk.lastIndexOf('#') + 1);
        flags.push({
          at: sk.slice('FLAG#'.length, sk.length - eventId.length - 1),
          event_id: eventId,
          event_type: item.eventType?.S ?? null,
          expires_at: expiresAt,
        });
      } else if (sk.startsWith('BAN#')) {
        bans.push({
          scope: sk.slice('BAN#'.length),
          state: item.state?.S ?? null,
          event_id: item.eventId?.S ?? null,
          hold_until: iso(Number(item.holdUntil?.N)),
        });
      } else if (sk.startsWith('BANEVENT#')) {
        banEvents.push({ event_id: item.eventId?.S ?? sk.slice('BANEVENT#'.length), scope: item.scope?.S ?? null });
      }
    }
  }
  return { userId, flags, bans, banEvents };
}
