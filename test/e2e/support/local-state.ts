/** Reading what local mode kept, from outside it: the archive from s3rver's files, the store through dynalite. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { LOCAL_BUCKET_NAME, LOCAL_TABLE_NAME } from '../../../local/paths.js';

/** Event ids in the archive, read straight from s3rver's files (objects end in `._S3rver_object`). */
export function archivedIds(root: string): Set<string> {
  const ids = new Set<string>();
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if (n.endsWith('.gz._S3rver_object')) {
        try {
          for (const l of gunzipSync(readFileSync(p)).toString('utf8').split('\n')) if (l) ids.add((JSON.parse(l) as { event_id: string }).event_id);
        } catch {
          // Being written right now: read it on the next pass.
        }
      } else if (!n.includes('._S3rver_')) {
        walk(p);
      }
    }
  };
  walk(join(root, 's3', LOCAL_BUCKET_NAME, 'events'));
  return ids;
}

/** The ids among `ids` that have an event item in the store. */
export async function storedIds(client: DynamoDBClient, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 100) {
    let keys = ids.slice(i, i + 100).map((id) => ({ PK: { S: `EVENT#${id}` }, SK: { S: 'EVENT' } }));
    while (keys.length > 0) {
      const out = await client.send(new BatchGetItemCommand({ RequestItems: { [LOCAL_TABLE_NAME]: { Keys: keys, ProjectionExpression: 'PK' } } }));
      for (const item of out.Responses?.[LOCAL_TABLE_NAME] ?? []) found.add((item.PK?.S ?? '').replace(/^EVENT#/, ''));
      keys = (out.UnprocessedKeys?.[LOCAL_TABLE_NAME]?.Keys ?? []) as typeof keys;
    }
  }
  return found;
}
