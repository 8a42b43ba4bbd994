/**
 * Zero-loss checks for a local-mode run: which acknowledged events are missing from the event store
 * (DynamoDB, read back by key) and from the archive (every gzip NDJSON object under `events/`,
 * read back through S3).
 */
import { gunzipSync } from 'node:zlib';
import { BatchGetItemCommand, type AttributeValue, type BatchGetItemCommandOutput, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_EVENTS_PREFIX } from '../../lambda/core/archive-layout.js';
import { eventKey, TABLE } from '../../lambda/common/table-schema.js';

/** The ids among `eventIds` that have no item in the table. */
export async function missingFromStore(client: DynamoDBClient, tableName: string, eventIds: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  const ids = [...new Set(eventIds)];
  for (let i = 0; i < ids.length; i += 100) {
    let keys: Record<string, AttributeValue>[] | undefined = ids.slice(i, i + 100).map((id) => {
      const k = eventKey(id);
      return { [TABLE.partitionKey]: { S: k.PK }, [TABLE.sortKey]: { S: k.SK } };
    });
    // BatchGetItem may return some keys unprocessed: ask again until none are left.
    for (let attempt = 0; keys && keys.length > 0; attempt++) {
      if (attempt > 20) throw new Error(`the store kept ${keys.length} keys unprocessed after 20 attempts`);
      const out: BatchGetItemCommandOutput = await client.send(
        new BatchGetItemCommand({
          RequestItems: { [tableName]: { Keys: keys, ProjectionExpression: TABLE.partitionKey, ConsistentRead: true } },
        }),
      );
      for (const item of out.Responses?.[tableName] ?? []) found.add(String(item[TABLE.partitionKey]?.S).replace(/^EVENT#/, ''));
      keys = out.UnprocessedKeys?.[tableName]?.Keys;
    }
  }
  return ids.filter((id) => !found.has(id));
}

/** Event ids of every line in the archive objects, and how many lines and objects there were. */
export async function archivedEventIds(client: S3Client, bucket: string): Promise<{ ids: Set<string>; lines: number; objects: number }> {
  const ids = new Set<string>();
  let lines = 0;
  let objects = 0;
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: ARCHIVE_EVENTS_PREFIX, ...(token ? { ContinuationToken: token } : {}) }),
    );
    for (const o of page.Contents ?? []) {
      if (!o.Key?.endsWith('.gz')) continue;
      const obj = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
      const text = gunzipSync(Buffer.from(await (obj.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())).toString(
        'utf8',
      );
      objects++;
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue;
        lines++;
        ids.add(String((JSON.parse(line) as { event_id?: string }).event_id));
      }
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return { ids, lines, objects };
}
