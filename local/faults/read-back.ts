/**
 * What a fault-load run reads back from local mode once it has settled: the event items in the
 * store, the event ids in the archive, the spills left in the inbox, and the events in the DLQ.
 */
import { gunzipSync } from 'node:zlib';
import { BatchGetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_EVENTS_PREFIX, INBOX_SPILL_PREFIX } from '../../lambda/core/archive-layout.js';
import { parseInboxKey, parseS3Notification } from '../../lambda/core/inbox.js';
import type { QueueMessage } from '../../lambda/core/ports.js';
import { LOCAL_TABLE_NAME } from '../paths.js';
import type { LocalPipeline } from '../pipeline.js';

/** Event id → the `handlers` map of its item, for the ids that are stored. */
export async function readStore(p: LocalPipeline, ids: readonly string[]): Promise<Map<string, { handlers: Record<string, boolean> }>> {
  const found = new Map<string, { handlers: Record<string, boolean> }>();
  for (let i = 0; i < ids.length; i += 100) {
    let keys = ids.slice(i, i + 100).map((id) => ({ PK: { S: `EVENT#${id}` }, SK: { S: 'EVENT' } }));
    while (keys.length > 0) {
      const out = await p.dynamodb.send(
        new BatchGetItemCommand({
          RequestItems: {
            [LOCAL_TABLE_NAME]: {
              Keys: keys,
              ProjectionExpression: '#pk, #h',
              ExpressionAttributeNames: { '#pk': 'PK', '#h': 'handlers' },
              ConsistentRead: true,
            },
          },
        }),
      );
      for (const item of out.Responses?.[LOCAL_TABLE_NAME] ?? []) {
        const handlers: Record<string, boolean> = {};
        for (const [k, v] of Object.entries(item.handlers?.M ?? {})) handlers[k] = v.BOOL === true;
        found.set((item.PK?.S ?? '').replace(/^EVENT#/, ''), { handlers });
      }
      keys = (out.UnprocessedKeys?.[LOCAL_TABLE_NAME]?.Keys ?? []) as typeof keys;
    }
  }
  return found;
}

/** Every event id in the archive's objects, read through S3. */
export async function readArchive(s3: S3Client, bucket: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const key of await listKeys(s3, bucket, ARCHIVE_EVENTS_PREFIX)) {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    for (const line of gunzipSync(body).toString('utf8').split('\n')) {
      if (line) ids.add((JSON.parse(line) as { event_id: string }).event_id);
    }
  }
  return ids;
}

/** The event ids of the spilled objects left in `inbox/spill/`. */
export async function listSpillIds(s3: S3Client, bucket: string): Promise<Set<string>> {
  const ids = new Set<string>();
  for (const key of await listKeys(s3, bucket, INBOX_SPILL_PREFIX)) {
    const ref = parseInboxKey(key);
    if (ref) ids.add(ref.eventId);
  }
  return ids;
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of out.Contents ?? []) if (o.Key) keys.push(o.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** The event ids of DLQ messages: a webhook body's attribute, or the spill an S3 notification names. */
export function deadLetterIds(deadLetters: ReadonlyArray<{ readonly message: QueueMessage }>): Set<string> {
  const ids = new Set<string>();
  for (const { message } of deadLetters) {
    if (message.attributes.eventId) {
      ids.add(message.attributes.eventId);
      continue;
    }
    const n = parseS3Notification(message.body);
    if (n?.kind !== 'objects') continue;
    for (const o of n.objects) {
      const ref = parseInboxKey(o.key);
      if (ref) ids.add(ref.eventId);
    }
  }
  return ids;
}
