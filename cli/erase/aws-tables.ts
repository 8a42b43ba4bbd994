/**
 * The deployed stack's DynamoDB tables as `erase --aws` erases them (cli/erase/target.ts):
 *
 * - `event-store`: the events whose item holds the user. Candidates come from the archive (Athena,
 *   `./aws-athena.ts`) and from the table's `byActor` and `byTarget` indexes (an event not archived
 *   yet is found there); each candidate item is read and kept only when `userAppearances` finds the
 *   user in it, its body read from S3 when the item keeps only the key (`payload-in-s3`). A unit is
 *   one event; erasing it deletes the item. The body's S3 copy is left to the `inbox` store
 *   (`./aws-archive.ts`), which runs after the archive: the archive's pointer lines are checked
 *   against that copy, so it must outlive them, also across an interrupted run.
 * - `handler-state`: the example handlers' items under the user's partition (`FLAGS#<userId>`,
 *   lambda/adapters/handler-state-table.ts); a unit is one item, named by its sort key.
 */
import { DeleteItemCommand, GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { eventItemKey, fromItem } from '../../lambda/adapters/dynamodb-store.js';
import { queryPages } from '../../lambda/adapters/query-pages.js';
import { HANDLER_STATE_TABLE, TABLE, actorKey, targetKey } from '../../lambda/common/table-schema.js';
import { PAYLOAD_IN_S3_FLAG, userAppearances } from '../../lambda/core/privacy/user-match.js';
import { awsError } from '../aws-errors.js';
import { athenaColumn, candidateQuery, type AthenaWhere, type DayRange } from './aws-athena.js';
import { readJson, type S3 } from './aws-s3.js';
import type { ErasureStore, ErasureUnit } from './target.js';

type DynamoDb = Pick<DynamoDBClient, 'send'>;

/** The partition of a user's items in the handler state table (lambda/adapters/flag-counter-store.ts writes them). */
export const userStatePartition = (userId: string) => `FLAGS#${userId}`;

/** The `PK` values of the index partition `key` (the indexes project the table's keys). */
async function indexedEventIds(
  dynamodb: DynamoDb,
  table: string,
  index: { indexName: string; partitionKey: string },
  key: string,
): Promise<string[]> {
  const ids: string[] = [];
  try {
    const pages = queryPages(dynamodb, () => ({
      TableName: table,
      IndexName: index.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey, '#id': TABLE.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: key } },
      ProjectionExpression: '#id',
    }));
    for await (const page of pages) for (const item of page.Items ?? []) ids.push((item[TABLE.partitionKey]?.S ?? '').replace(/^EVENT#/, ''));
  } catch (err) {
    throw awsError(err, `query the ${index.indexName} index of the event table ${table} (dynamodb:Query)`);
  }
  return ids.filter((id) => id !== '');
}

/** The `event-store` store (see the file's comment). */
export function eventStore(o: { dynamodb: DynamoDb; table: string; s3: S3; bucket: string; where: AthenaWhere; range: DayRange }): ErasureStore {
  const { dynamodb, table } = o;
  return {
    name: 'event-store',
    async find(userId) {
      const query = candidateQuery('event_id', userId, o.range);
      const candidates = new Set([
        ...(await athenaColumn(o.where, query.sql, query.params)),
        ...(await indexedEventIds(dynamodb, table, TABLE.byActor, actorKey(userId))),
        ...(await indexedEventIds(dynamodb, table, TABLE.byTarget, targetKey('user', userId))),
      ]);
      const units: ErasureUnit[] = [];
      for (const eventId of [...candidates].sort()) {
        let item;
        try {
          item = (await dynamodb.send(new GetItemCommand({ TableName: table, Key: eventItemKey(eventId), ConsistentRead: true }))).Item;
        } catch (err) {
          throw awsError(err, `read event ${eventId} from the event table ${table} (dynamodb:GetItem)`);
        }
        // Gone already (erased, or past the store's retention): only the archive has it.
        if (!item) continue;
        const stored = fromItem(item);
        const body = stored.flags.includes(PAYLOAD_IN_S3_FLAG) && stored.payloadRef ? await readJson(o.s3, o.bucket, stored.payloadRef) : undefined;
        const appears = stored.flags.includes(PAYLOAD_IN_S3_FLAG) ? userAppearances(stored, userId, body) : userAppearances(stored, userId);
        if (appears.length > 0) units.push({ id: eventId, records: 1 });
      }
      return units;
    },
    async erase(unit) {
      try {
        const out = await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: eventItemKey(unit.id), ReturnValues: 'ALL_OLD' }));
        return { removed: out.Attributes ? 1 : 0 };
      } catch (err) {
        throw awsError(err, `delete event ${unit.id} from the event table ${table} (dynamodb:DeleteItem)`);
      }
    },
  };
}

/** The `handler-state` store (see the file's comment). */
export function handlerStateStore(dynamodb: DynamoDb, table: string): ErasureStore {
  const { partitionKey: pk, sortKey: sk } = HANDLER_STATE_TABLE;
  return {
    name: 'handler-state',
    async find(userId) {
      const units: ErasureUnit[] = [];
      try {
        const pages = queryPages(dynamodb, () => ({
          TableName: table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': pk, '#sk': sk },
          ExpressionAttributeValues: { ':pk': { S: userStatePartition(userId) } },
          ProjectionExpression: '#sk',
          ConsistentRead: true,
        }));
        for await (const page of pages) for (const item of page.Items ?? []) if (item[sk]?.S) units.push({ id: item[sk].S, records: 1 });
      } catch (err) {
        throw awsError(err, `query the handler state table ${table} (dynamodb:Query)`);
      }
      return units;
    },
    async erase(unit, userId) {
      try {
        const key = { [pk]: { S: userStatePartition(userId) }, [sk]: { S: unit.id } };
        const out = await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: key, ReturnValues: 'ALL_OLD' }));
        return { removed: out.Attributes ? 1 : 0 };
      } catch (err) {
        throw awsError(err, `delete an item of the handler state table ${table} (dynamodb:DeleteItem)`);
      }
    },
  };
}
