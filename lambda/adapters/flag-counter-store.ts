import { GetItemCommand, PutItemCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { BanClaim, FlagCounterStore } from '../fanout/handlers/state-ports.js';
import { isConditionFailed, putClaim } from './handler-state-table.js';
import { queryPages } from './query-pages.js';

const flagsKey = (userId: string) => `FLAGS#${userId}`;
const flagSortKey = (at: Date, eventId: string) => `FLAG#${at.toISOString()}#${eventId}`;
const banSortKey = (scope: string) => `BAN#${scope}`;
/** The permanent record of a ban an event caused (no TTL): `BANEVENT#<eventId>`, apart from `BAN#…` markers. */
const banEventSortKey = (eventId: string) => `BANEVENT#${eventId}`;
const epochSeconds = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * Auto-moderation's store on the handler state table (layout in `handler-state-table.ts`): one item
 * per flag event, so a window is a key range and a retried event rewrites the same item; a ban
 * marker per user and scope, claimed with a conditional put; and, kept for good (no TTL), one item
 * per event that caused a ban (`SK=BANEVENT#<eventId>`, with its scope), so that event never bans
 * again: not on a forced replay once the ban hold has passed, nor on a replay after the event
 * store's TTL.
 */
export class DynamoDbFlagCounterStore implements FlagCounterStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async recordFlag(flag: { userId: string; eventId: string; at: Date; eventType: string; keepUntil: Date }): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          PK: { S: flagsKey(flag.userId) },
          SK: { S: flagSortKey(flag.at, flag.eventId) },
          eventId: { S: flag.eventId },
          eventType: { S: flag.eventType },
          expiresAt: { N: String(epochSeconds(flag.keepUntil)) },
        },
      }),
    );
  }

  /**
   * Counts the flags of the range. A flag whose TTL (`expiresAt`) has passed by `to` is not
   * counted: DynamoDB deletes expired items lazily, up to days later.
   */
  async countFlags(query: { userId: string; from: Date; to: Date; limit: number }): Promise<number> {
    let count = 0;
    // `Limit` caps the items read, so the query stops once the threshold is reached.
    const pages = queryPages(this.client, () => ({
      TableName: this.tableName,
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      FilterExpression: 'expiresAt > :expired',
      ExpressionAttributeValues: {
        ':pk': { S: flagsKey(query.userId) },
        ':from': { S: `FLAG#${query.from.toISOString()}` },
        // '#' then U+FFFF sorts after every event id of the last millisecond.
        ':to': { S: `FLAG#${query.to.toISOString()}#\uffff` },
        ':expired': { N: String(epochSeconds(query.to)) },
      },
      Select: 'COUNT',
      ConsistentRead: true,
      Limit: query.limit - count,
    }));
    for await (const page of pages) {
      count += page.Count ?? 0;
      if (count >= query.limit) break;
    }
    return count;
  }

  /**
   * An event that already caused a ban of the user (its permanent record) gets `already-done`,
   * however long ago; otherwise the scope's marker is claimed as the port describes.
   */
  async claimBan(claim: { userId: string; scope: string; eventId: string; now: Date; leaseMs: number; holdMs: number }): Promise<BanClaim> {
    const caused = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: { PK: { S: flagsKey(claim.userId) }, SK: { S: banEventSortKey(claim.eventId) } },
        ConsistentRead: true,
      }),
    );
    if (caused.Item) return 'already-done';
    const now = claim.now.getTime();
    const holdUntil = now + claim.holdMs;
    const put = await putClaim(this.client, {
      TableName: this.tableName,
      Item: {
        PK: { S: flagsKey(claim.userId) },
        SK: { S: banSortKey(claim.scope) },
        state: { S: 'pending' },
        eventId: { S: claim.eventId },
        leaseUntil: { N: String(now + claim.leaseMs) },
        holdUntil: { N: String(holdUntil) },
        expiresAt: { N: String(Math.ceil(holdUntil / 1000)) },
      },
      // Free, expired (TTL deletes lazily), a crashed claim whose lease ran out, or our own retry.
      ConditionExpression: 'attribute_not_exists(PK) OR holdUntil < :now OR (#state = :pending AND (leaseUntil < :now OR eventId = :eventId))',
      ExpressionAttributeNames: { '#state': 'state' },
      ExpressionAttributeValues: { ':now': { N: String(now) }, ':pending': { S: 'pending' }, ':eventId': { S: claim.eventId } },
    });
    if (put.claimed) return 'claimed';
    return put.old?.state?.S === 'done' ? 'already-done' : 'in-progress';
  }

  /** Keeps the event's permanent record first (it alone stops a later replay), then marks the claim done. */
  async completeBan(claim: { userId: string; scope: string; eventId: string }): Promise<void> {
    await this.client.send(
      new PutItemCommand({
        TableName: this.tableName,
        Item: {
          PK: { S: flagsKey(claim.userId) },
          SK: { S: banEventSortKey(claim.eventId) },
          eventId: { S: claim.eventId },
          scope: { S: claim.scope },
        },
      }),
    );
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { PK: { S: flagsKey(claim.userId) }, SK: { S: banSortKey(claim.scope) } },
          UpdateExpression: 'SET #state = :done',
          ConditionExpression: 'eventId = :eventId',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':done': { S: 'done' }, ':eventId': { S: claim.eventId } },
        }),
      );
    } catch (err) {
      // Our lease ran out and another event took the claim over: it will complete it.
      if (!isConditionFailed(err)) throw err;
    }
  }
}
