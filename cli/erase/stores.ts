/**
 * Erasure stores over a DynamoDB table and an S3 archive bucket (cli/erase/target.ts), as local mode
 * erases them: a table is scanned whole (local tables are small) and every archive object is read.
 * A record flagged `payload-in-s3` is searched in its body's copy too; the copies themselves go last
 * (`inboxStore`), once nothing else needs to read them.
 */
import { DeleteItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { ARCHIVE_ERRORS_PREFIX, ARCHIVE_EVENTS_PREFIX, INBOX_LARGE_PREFIX, INBOX_SPILL_PREFIX } from '../../lambda/core/archive-layout.js';
import { toArchiveRecord } from '../../lambda/core/fanout/event-records.js';
import { decodeBody } from '../../lambda/core/fanout/record.js';
import { hasErrorName } from '../../lambda/core/errors.js';
import { rewriteArchiveObject, recordMentionsUser, type ArchiveRewrite } from '../../lambda/core/privacy/archive-rewrite.js';
import { PAYLOAD_IN_S3_FLAG, parsedBody } from '../../lambda/core/privacy/user-match.js';
import { readJson, readObject } from './aws-s3.js';
import type { ErasureStore, ErasureUnit } from './target.js';

/** Whether `item` holds `userId`; `body` reads the copy of a body kept in S3 (parsed JSON, or undefined). */
export type ItemMatch = (item: Record<string, AttributeValue>, userId: string, body: (key: string) => Promise<unknown>) => boolean | Promise<boolean>;

interface ItemUnit extends ErasureUnit {
  readonly key: Record<string, AttributeValue>;
}

/**
 * Items of `table` that `matches` says hold the user. A body's copy (`payloadRef`) stays for the
 * archive and the dead-letter queue to read; the inbox store, last, deletes it.
 */
export function deleteItemsStore(
  name: string,
  dynamodb: DynamoDBClient,
  table: string,
  matches: ItemMatch,
  s3: S3Client,
  bucket: string,
): ErasureStore {
  const body = (key: string) => readJson(s3, bucket, key);
  return {
    name,
    async find(userId) {
      const units: ItemUnit[] = [];
      let start: Record<string, AttributeValue> | undefined;
      try {
        do {
          const page = await dynamodb.send(
            new ScanCommand({ TableName: table, ConsistentRead: true, ...(start ? { ExclusiveStartKey: start } : {}) }),
          );
          for (const item of page.Items ?? []) {
            if (!(await matches(item, userId, body))) continue;
            units.push({ id: `${item.PK?.S}|${item.SK?.S}`, records: 1, key: { PK: item.PK!, SK: item.SK! } });
          }
          start = page.LastEvaluatedKey;
        } while (start);
      } catch (err) {
        // The example handlers' table exists only once a handler that keeps state has run.
        if (hasErrorName(err, 'ResourceNotFoundException')) return [];
        throw err;
      }
      return units;
    },
    async erase(unit) {
      const u = unit as ItemUnit;
      const out = await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: u.key, ReturnValues: 'ALL_OLD' }));
      return { removed: out.Attributes ? 1 : 0 };
    },
  };
}

/** An archive object rewritten without the user's lines, and the body copies of the lines removed. */
async function rewriteFor(
  s3: S3Client,
  bucket: string,
  key: string,
  userId: string,
): Promise<{ rewrite: ArchiveRewrite; copies: string[] } | undefined> {
  const body = (await readObject(s3, bucket, key))?.body;
  if (body === undefined) return undefined;
  // First pass: which lines keep their body in S3, so those bodies are read once, before the real pass.
  const refs = new Set<string>();
  rewriteArchiveObject(body, ({ record }) => {
    if (record.flags.includes(PAYLOAD_IN_S3_FLAG)) refs.add(record.payload);
    return false;
  });
  const bodies = new Map<string, unknown>();
  for (const ref of refs) bodies.set(ref, await readJson(s3, bucket, ref));
  const copies: string[] = [];
  const rewrite = rewriteArchiveObject(body, ({ record }) => {
    const inS3 = record.flags.includes(PAYLOAD_IN_S3_FLAG);
    const hit = recordMentionsUser(record, userId, inS3 ? bodies.get(record.payload) : parsedBody(record));
    if (hit && inS3) copies.push(record.payload);
    return hit;
  });
  return { rewrite, copies };
}

/** The keys of the objects under each of `prefixes` in turn, listed a page at a time as they are consumed. */
async function* keysUnder(s3: S3Client, bucket: string, prefixes: readonly string[]): AsyncGenerator<string> {
  for (const prefix of prefixes) {
    let token: string | undefined;
    do {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
      for (const o of page.Contents ?? []) if (o.Key) yield o.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }
}

/** Every object under `events/` and `errors/`, rewritten without the user's lines (deleted when none is left). */
export function archiveStore(s3: S3Client, bucket: string): ErasureStore {
  return {
    name: 'archive',
    async find(userId) {
      const units: ErasureUnit[] = [];
      for await (const key of keysUnder(s3, bucket, [ARCHIVE_EVENTS_PREFIX, ARCHIVE_ERRORS_PREFIX])) {
        const found = await rewriteFor(s3, bucket, key, userId);
        if (found && found.rewrite.removed > 0) units.push({ id: key, records: found.rewrite.removed });
      }
      return units;
    },
    async erase(unit, userId) {
      const found = await rewriteFor(s3, bucket, unit.id, userId);
      if (found === undefined || found.rewrite.removed === 0) return { removed: 0 };
      const { rewrite, copies } = found;
      if (rewrite.body === undefined) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: unit.id }));
      else await s3.send(new PutObjectCommand({ Bucket: bucket, Key: unit.id, Body: rewrite.body }));
      for (const copy of copies) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: copy }));
      return {
        removed: rewrite.removed,
        ...(rewrite.body === undefined ? { objectsDeleted: [unit.id, ...copies] } : { objectsRewritten: [unit.id], objectsDeleted: copies }),
      };
    },
  };
}

/**
 * The archive bucket's inbox (`inbox/large/` copies of large bodies, `inbox/spill/` leftovers): each
 * body is read as the fan-out reads it, and the user's are deleted. Last, because the other stores
 * read the copies to search the bodies they stand for.
 */
export function inboxStore(s3: S3Client, bucket: string, now: () => Date = () => new Date()): ErasureStore {
  return {
    name: 'inbox',
    async find(userId) {
      const units: ErasureUnit[] = [];
      for await (const key of keysUnder(s3, bucket, [INBOX_LARGE_PREFIX, INBOX_SPILL_PREFIX])) {
        const bytes = (await readObject(s3, bucket, key))?.body;
        if (bytes === undefined) continue;
        const event = decodeBody(bytes, { messageId: key, attributes: {} }, now());
        if (recordMentionsUser(toArchiveRecord(event), userId)) units.push({ id: key, records: 1 });
      }
      return units;
    },
    async erase(unit) {
      const there = (await readObject(s3, bucket, unit.id)) !== undefined;
      if (there) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: unit.id }));
      return there ? { removed: 1, objectsDeleted: [unit.id] } : { removed: 0 };
    },
  };
}
