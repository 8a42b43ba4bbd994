/**
 * The example handlers' DynamoDB table (auto-moderation's flags and bans, daily counters): `PK`/`SK`
 * strings, TTL on `expiresAt`, on-demand. Apart from the event table so the event store keeps
 * only events (its item count, its stream and the `events` command stay about events).
 *
 * Item layouts (one table, disjoint key prefixes):
 * - flag: `PK=FLAGS#<userId>`, `SK=FLAG#<receivedAt ISO>#<eventId>`: one per flag event, so a
 *   retried event writes the same item again (idempotent) and a window is a key range;
 * - ban marker: `PK=FLAGS#<userId>`, `SK=BAN#<scope>`: claimed with a conditional put, so a ban is
 *   called once per user and scope however many flags cross the threshold;
 * - ban event: `PK=FLAGS#<userId>`, `SK=BANEVENT#<eventId>`, no TTL: the permanent record of the
 *   event that caused a ban, so no replay (forced, or after the TTL) bans again for it;
 * - daily counter: `PK=DAILY#<YYYY-MM-DD>`, `SK=<key>` (`type#<eventType>`, `channel#<id>`,
 *   `community#<id>`), attribute `n`;
 * - counted marker: `PK=COUNTED#<eventId>`, `SK=COUNTED`: makes each event count exactly once.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { HANDLER_STATE_TABLE } from '../common/table-schema.js';
import { hasErrorName } from '../core/errors.js';
import { createTableIfMissing, stringKeySchema } from './create-table.js';

/** Key and TTL attribute names of the handler state table (defined in `lambda/common/table-schema.ts`, which the stack imports). */
export { HANDLER_STATE_TABLE };

/** Creates the handler state table unless it exists: for local mode and tests (the stack creates it on AWS). */
export function ensureHandlerStateTable(client: DynamoDBClient, tableName: string): Promise<void> {
  return createTableIfMissing(client, {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    ...stringKeySchema(HANDLER_STATE_TABLE),
  });
}

/** Whether an SDK error is DynamoDB's failed condition. */
export function isConditionFailed(err: unknown): boolean {
  return hasErrorName(err, 'ConditionalCheckFailedException');
}
