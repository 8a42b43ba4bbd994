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
import { GetItemCommand, PutItemCommand, type AttributeValue, type DynamoDBClient, type PutItemCommandInput } from '@aws-sdk/client-dynamodb';
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

/** What {@link putClaim} did: took the claim, or found it held by `old` (absent when deleted since). */
export type ClaimPut = { readonly claimed: true } | { readonly claimed: false; readonly old: Record<string, AttributeValue> | undefined };

/** An item of this table: its `PK` and `SK`, then any attributes. */
type ClaimItem = Record<string, AttributeValue> & { readonly PK: AttributeValue; readonly SK: AttributeValue };

/**
 * A conditional put of a claim item (a marker other invocations may hold): a failed condition
 * resolves with the item that failed it instead of throwing, so the caller can tell a finished
 * claim from one in progress. DynamoDB returns that item with the failure; emulators may not, so it
 * is then read (consistently) by the claim's key.
 */
export async function putClaim(
  client: DynamoDBClient,
  input: Omit<PutItemCommandInput, 'Item' | 'ReturnValuesOnConditionCheckFailure'> & { Item: ClaimItem },
): Promise<ClaimPut> {
  try {
    await client.send(new PutItemCommand({ ...input, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }));
    return { claimed: true };
  } catch (err) {
    if (!isConditionFailed(err)) throw err;
    const key = { PK: input.Item.PK, SK: input.Item.SK };
    const old =
      (err as { Item?: Record<string, AttributeValue> }).Item ??
      (await client.send(new GetItemCommand({ TableName: input.TableName, Key: key, ConsistentRead: true }))).Item;
    return { claimed: false, old };
  }
}
