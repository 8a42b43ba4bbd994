import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CountInProgressError, type CountOutcome, type DailyCounterStore } from '../fanout/handlers/state-ports.js';
import { isConditionFailed, putClaim } from './handler-state-table.js';
import { queryPages } from './query-pages.js';

/** Options of {@link DynamoDbDailyCounterStore}. */
export interface DailyCounterStoreOptions {
  /**
   * How long an invocation holds an event while counting it. Must be longer than the fan-out's
   * timeout: only then is a holder whose claim ran out surely gone, so taking over is safe.
   * @default 120000 (the fan-out's default timeout is 30 s)
   */
  readonly leaseMs?: number;
  /** Days a day's counters and the per-event markers are kept after the day. @default 400 */
  readonly retentionDays?: number;
}

const counterKey = (day: string) => `DAILY#${day}`;
const markerKey = (eventId: string) => ({ PK: { S: `COUNTED#${eventId}` }, SK: { S: 'COUNTED' } });
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Daily counters on the handler state table, each event counted exactly once without
 * transactions (which DynamoDB bills twice and the local emulator lacks):
 *
 * 1. claim the event: a conditional put of its marker (`applying`, with a lease); a marker that
 *    is `done` means the event was counted; one `applying` under an unexpired lease is another
 *    invocation's (a concurrent duplicate), which makes this one fail and retry later;
 * 2. per counter, one atomic update: `ADD n 1` and the event id into the item's `pending` set,
 *    on condition the set does not hold it yet, so an increment already made is never repeated;
 * 3. mark the event `done`;
 * 4. remove the event id from each counter's `pending` set (so the sets hold only events in flight).
 *
 * A crash anywhere leaves either a claim whose lease runs out (the retry takes over and step 2
 * skips the counters that hold the id) or a `done` marker (the retry only finishes step 4).
 */
export class DynamoDbDailyCounterStore implements DailyCounterStore {
  private readonly leaseMs: number;
  private readonly retentionDays: number;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    opts: DailyCounterStoreOptions = {},
  ) {
    this.leaseMs = opts.leaseMs ?? 120_000;
    this.retentionDays = opts.retentionDays ?? 400;
  }

  async increment(eventId: string, day: string, keys: readonly string[], now: Date): Promise<CountOutcome> {
    if (!DAY.test(day)) throw new RangeError(`day must be YYYY-MM-DD, got '${day}'`);
    const unique = [...new Set(keys)];
    const expiresAt = String(Math.floor(Date.parse(`${day}T00:00:00Z`) / 1000) + (this.retentionDays + 1) * 86_400);

    const claimed = await this.claim(eventId, day, unique, now, expiresAt);
    if (claimed === 'done') {
      await this.clearPending(eventId, day, unique);
      return 'already-counted';
    }
    for (const key of unique) {
      try {
        await this.client.send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { PK: { S: counterKey(day) }, SK: { S: key } },
            UpdateExpression: 'ADD n :one, pending :event SET expiresAt = :expiresAt',
            ConditionExpression: 'attribute_not_exists(pending) OR NOT contains(pending, :eventId)',
            ExpressionAttributeValues: {
              ':one': { N: '1' },
              ':event': { SS: [eventId] },
              ':eventId': { S: eventId },
              ':expiresAt': { N: expiresAt },
            },
          }),
        );
      } catch (err) {
        // Already incremented by an earlier attempt of this event that did not finish.
        if (!isConditionFailed(err)) throw err;
      }
    }
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: markerKey(eventId),
        UpdateExpression: 'SET #state = :done',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':done': { S: 'done' } },
      }),
    );
    await this.clearPending(eventId, day, unique);
    return 'counted';
  }

  async read(day: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    const pages = queryPages(this.client, () => ({
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk',
      ExpressionAttributeValues: { ':pk': { S: counterKey(day) } },
      ProjectionExpression: 'SK, n',
      ConsistentRead: true,
    }));
    for await (const page of pages) {
      for (const item of page.Items ?? []) {
        const key = item.SK?.S;
        if (key !== undefined) out[key] = Number(item.n?.N ?? 0);
      }
    }
    return out;
  }

  /** Step 1; resolves `done` when the event was already counted. */
  private async claim(eventId: string, day: string, keys: string[], now: Date, expiresAt: string): Promise<'claimed' | 'done'> {
    const nowMs = now.getTime();
    const put = await putClaim(this.client, {
      TableName: this.tableName,
      Item: {
        ...markerKey(eventId),
        state: { S: 'applying' },
        leaseUntil: { N: String(nowMs + this.leaseMs) },
        day: { S: day },
        ...(keys.length > 0 ? { keys: { SS: keys } } : {}),
        expiresAt: { N: expiresAt },
      },
      ConditionExpression: 'attribute_not_exists(PK) OR (#state = :applying AND leaseUntil < :now)',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':applying': { S: 'applying' }, ':now': { N: String(nowMs) } },
    });
    if (put.claimed) return 'claimed';
    if (put.old?.state?.S === 'done') return 'done';
    throw new CountInProgressError(eventId, new Date(Number(put.old?.leaseUntil?.N ?? nowMs)));
  }

  /** Step 4: idempotent (removing an absent element changes nothing). */
  private async clearPending(eventId: string, day: string, keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      await this.client
        .send(
          new UpdateItemCommand({
            TableName: this.tableName,
            Key: { PK: { S: counterKey(day) }, SK: { S: key } },
            UpdateExpression: 'DELETE pending :event',
            ConditionExpression: 'attribute_exists(PK)',
            ExpressionAttributeValues: { ':event': { SS: [eventId] } },
          }),
        )
        .catch((err: unknown) => {
          // A counter item that does not exist has nothing pending.
          if (!isConditionFailed(err)) throw err;
        });
    }
  }
}
