/**
 * `verify --aws`, following the posted events: into the event table (GetItem, strongly
 * consistent, until each is found) and into the archive (the hourly partitions written since the
 * run started, each new object read once, until each event's line is found), both until a
 * deadline. A failed AWS call ends the wait with what was found and the error's wording.
 */
import { gunzipSync } from 'node:zlib';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { TABLE, eventKey } from '../../lambda/common/table-schema.js';
import { partitionPrefix } from '../../lambda/core/archive-layout.js';
import { awsError } from '../aws-errors.js';
import type { VerificationEvent } from './events.js';

/** Clock skew allowed between this machine and AWS when listing archive partitions by hour. */
export const PARTITION_SKEW_MS = 5 * 60_000;

/** The archive prefixes (`events/dt=…/hour=…/`) of every UTC hour from `fromMs` to `toMs`, in order. */
export function archivePrefixes(fromMs: number, toMs: number): string[] {
  const hour = 3_600_000;
  const prefixes: string[] = [];
  for (let t = Math.floor(fromMs / hour) * hour; t <= toMs; t += hour) prefixes.push(partitionPrefix(new Date(t)));
  return prefixes;
}

/** The event ids of an archive object: gzip NDJSON (plain NDJSON read as is); lines that do not parse are skipped. */
export function eventIdsInArchiveObject(bytes: Uint8Array): string[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
  const ids: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const id = (JSON.parse(line) as { event_id?: unknown }).event_id;
      if (typeof id === 'string') ids.push(id);
    } catch {
      // A line cut short is not one of ours to find.
    }
  }
  return ids;
}

interface Waits {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly progress: (note: string) => void;
}

/** What an event's item says. */
export interface ItemView {
  readonly flags: string[];
  readonly handlers: string[];
}

/** Polls GetItem (strongly consistent) for each event until all are found or the deadline passes. */
export async function followStore(
  dynamodb: Pick<DynamoDBClient, 'send'>,
  table: string,
  events: readonly VerificationEvent[],
  deadlineMs: number,
  pollMs: number,
  w: Waits,
): Promise<{ items: Map<string, ItemView>; error?: string }> {
  const items = new Map<string, ItemView>();
  for (;;) {
    for (const e of events) {
      if (items.has(e.eventId)) continue;
      const k = eventKey(e.eventId);
      let out;
      try {
        out = await dynamodb.send(
          new GetItemCommand({
            TableName: table,
            Key: { [TABLE.partitionKey]: { S: k.PK }, [TABLE.sortKey]: { S: k.SK } },
            ConsistentRead: true,
            ProjectionExpression: '#pk, #flags, #handlers',
            ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#flags': 'flags', '#handlers': 'handlers' },
          }),
        );
      } catch (err) {
        return { items, error: awsError(err, `read the event table ${table}`).message };
      }
      if (!out.Item) continue;
      const handlers = Object.entries(out.Item.handlers?.M ?? {})
        .filter(([, v]) => v.BOOL === true)
        .map(([name]) => name)
        .sort();
      items.set(e.eventId, { flags: [...(out.Item.flags?.SS ?? [])].sort(), handlers });
    }
    if (items.size === events.length || w.now() >= deadlineMs) return { items };
    w.progress(`waiting for the event table: ${items.size}/${events.length}`);
    await w.sleep(Math.max(1, Math.min(pollMs, deadlineMs - w.now())));
  }
}

/**
 * Lists the archive's hourly partitions since the run started (with {@link PARTITION_SKEW_MS} on
 * both sides), reads each object not read before that was written since then, and looks for the
 * events' ids, until all are found or the deadline passes.
 */
export async function followArchive(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  events: readonly VerificationEvent[],
  t: { readonly startedMs: number; readonly deadlineMs: number; readonly pollMs: number },
  w: Waits,
): Promise<{ found: Map<string, string>; error?: string }> {
  const wanted = new Set(events.map((e) => e.eventId));
  const found = new Map<string, string>();
  const read = new Set<string>();
  const since = t.startedMs - PARTITION_SKEW_MS;
  for (;;) {
    try {
      for (const prefix of archivePrefixes(since, w.now() + PARTITION_SKEW_MS)) {
        let token: string | undefined;
        do {
          const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
          for (const o of page.Contents ?? []) {
            if (!o.Key || read.has(o.Key) || (o.LastModified && o.LastModified.getTime() < since)) continue;
            const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
            const bytes = await obj.Body?.transformToByteArray();
            read.add(o.Key);
            if (!bytes) continue;
            for (const id of eventIdsInArchiveObject(bytes)) if (wanted.has(id) && !found.has(id)) found.set(id, o.Key);
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      }
    } catch (err) {
      return { found, error: awsError(err, `read the archive bucket ${bucket}`).message };
    }
    if (found.size === wanted.size || w.now() >= t.deadlineMs) return { found };
    w.progress(`waiting for the archive (Firehose buffers): ${found.size}/${wanted.size}`);
    await w.sleep(Math.max(1, Math.min(t.pollMs, t.deadlineMs - w.now())));
  }
}
