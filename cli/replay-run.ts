/**
 * `replay`'s work: read the archive objects of the range (local mode's files, or the stack's bucket
 * with `--aws`), decide each line (`replay-plan.ts`) and queue what is to be replayed (local mode's
 * queue, or the stack's SQS queue). Objects are read one at a time and messages sent in batches,
 * so a long range never sits in memory whole; only the event ids seen are kept, to skip the
 * archive's duplicates.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from '@aws-sdk/client-sqs';
import { SQS_MAX_MESSAGE_BYTES } from '../lambda/core/limits.js';
import type { QueueMessage } from '../lambda/core/ports.js';
import { LOCAL_BUCKET_NAME, localPaths, s3rverObjectFile } from '../local/paths.js';
import type { LocalQueueAccess } from '../local/queue-access.js';
import { locateArchive } from './archive-query.js';
import { awsError } from './aws-errors.js';
import { CliError } from './errors.js';
import { claimCheckFor, dayPrefixes, decideLine, partitionOf, type ReplayEvent, type ReplayRules, type SkipReason } from './replay-plan.js';
import { errorMessage } from '../lambda/core/errors.js';

/** One archive object (gzip NDJSON). */
export interface ArchiveObjectRef {
  readonly name: string;
  read(): Promise<Buffer>;
}

/** Where the archive is read from. */
export interface ReplaySource {
  /** For messages: `the local archive in …`, `s3://bucket/events/`. */
  readonly description: string;
  /** The objects of these partitions (`YYYY-MM-DD/HH`), in key order (roughly oldest first). */
  list(partitions: ReadonlySet<string>): Promise<ArchiveObjectRef[]>;
  /** The size of a claim-checked body, or undefined when the object is missing. */
  claimCheckBytes(key: string): Promise<number | undefined>;
}

/** Where replayed messages go. */
export interface ReplayTarget {
  readonly description: string;
  send(messages: readonly QueueMessage[]): Promise<void>;
  close(): Promise<void>;
}

export interface ReplaySummary {
  readonly objects: number;
  readonly lines: number;
  /** Messages sent (or, in a dry run, that would be). */
  readonly sent: number;
  /** Of `sent`, claim checks. */
  readonly claimChecks: number;
  readonly skipped: Readonly<Record<SkipReason | 'claim-check-missing', number>>;
}

export interface ReplayRunOptions {
  readonly source: ReplaySource;
  /** Undefined for a dry run. */
  readonly target?: ReplayTarget;
  readonly rules: ReplayRules;
  readonly partitions: ReadonlySet<string>;
  /** Each event that is (or would be) sent. */
  readonly onEvent?: (event: ReplayEvent, claimCheckKey?: string) => void;
  readonly onProgress?: (objectsRead: number, objects: number, sent: number) => void;
  /** Messages per send to the target. @default 500 */
  readonly batchSize?: number;
}

/** Reads, decides and sends; resolves with the counts. */
export async function runReplay(opts: ReplayRunOptions): Promise<ReplaySummary> {
  const objects = await opts.source.list(opts.partitions);
  const skipped: Record<SkipReason | 'claim-check-missing', number> = {
    'out-of-range': 0,
    duplicate: 0,
    filtered: 0,
    undecodable: 0,
    corrupt: 0,
    'too-large': 0,
    'claim-check-missing': 0,
  };
  let lines = 0;
  let sent = 0;
  let claimChecks = 0;
  let pending: QueueMessage[] = [];
  const batchSize = opts.batchSize ?? 500;
  const flush = async () => {
    if (pending.length === 0) return;
    if (opts.target) await opts.target.send(pending);
    sent += pending.length;
    pending = [];
  };

  opts.onProgress?.(0, objects.length, 0);
  for (const [i, object] of objects.entries()) {
    let text: string;
    try {
      text = gunzipSync(await object.read()).toString('utf8');
    } catch (err) {
      throw new CliError(`could not read archive object ${object.name}: ${errorMessage(err)}`);
    }
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      lines++;
      const d = decideLine(raw, opts.rules);
      if (d.kind === 'skip') {
        skipped[d.reason]++;
        continue;
      }
      if (d.kind === 'claim-check') {
        const bytes = await opts.source.claimCheckBytes(d.key);
        if (bytes === undefined) {
          skipped['claim-check-missing']++;
          opts.rules.seen.delete(d.event.eventId);
          continue;
        }
        pending.push(claimCheckFor(d, bytes));
        claimChecks++;
        opts.onEvent?.(d.event, d.key);
      } else {
        pending.push(d.message);
        opts.onEvent?.(d.event);
      }
      if (pending.length >= batchSize) await flush();
    }
    opts.onProgress?.(i + 1, objects.length, sent);
  }
  await flush();
  return { objects: objects.length, lines, sent, claimChecks, skipped };
}

/** The archive of local mode in `dir`, read from s3rver's files (whether or not local mode runs). */
export function localArchiveSource(dir: string): ReplaySource {
  const location = locateArchive(dir);
  return {
    description: `the local archive in ${location.eventsDir}`,
    async list(partitions) {
      return locateArchive(dir)
        .objects.filter((path) => partitions.has(partitionOf(path.slice(location.eventsDir.length).replace(/^[/\\]+/, '')) ?? ''))
        .map((path) => ({ name: path, read: () => readFile(path) }));
    },
    async claimCheckBytes(key) {
      for (const path of [s3rverObjectFile(localPaths(dir).s3, LOCAL_BUCKET_NAME, key), join(dir, key)]) {
        if (existsSync(path)) return (await stat(path)).size;
      }
      return undefined;
    },
  };
}

/** The stack's archive bucket. */
export function s3ArchiveSource(s3: Pick<S3Client, 'send'>, bucket: string): ReplaySource {
  return {
    description: `s3://${bucket}/events/`,
    async list(partitions) {
      const out: ArchiveObjectRef[] = [];
      for (const prefix of dayPrefixes(partitions)) {
        let token: string | undefined;
        do {
          let page;
          try {
            page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
          } catch (err) {
            throw awsError(err, `list s3://${bucket}/${prefix}`);
          }
          for (const o of page.Contents ?? []) {
            const key = o.Key;
            if (!key || !partitions.has(partitionOf(key) ?? '')) continue;
            out.push({
              name: `s3://${bucket}/${key}`,
              read: async () => {
                try {
                  const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
                  return Buffer.from(got.Body ? await got.Body.transformToByteArray() : new Uint8Array(0));
                } catch (err) {
                  throw awsError(err, `read s3://${bucket}/${key}`);
                }
              },
            });
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      }
      return out.sort((a, b) => a.name.localeCompare(b.name));
    },
    async claimCheckBytes(key) {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return head.ContentLength ?? 0;
      } catch (err) {
        const name = (err as { name?: string }).name;
        if (name === 'NotFound' || name === 'NoSuchKey') return undefined;
        throw awsError(err, `read s3://${bucket}/${key}`);
      }
    },
  };
}

/** Local mode's queue (through the running local mode, or its files). */
export function localQueueTarget(open: () => Promise<LocalQueueAccess>): ReplayTarget & { readonly access: () => LocalQueueAccess | undefined } {
  let access: LocalQueueAccess | undefined;
  return {
    description: 'the local queue',
    access: () => access,
    async send(messages) {
      // Opened on the first send: a replay that finds nothing never touches the queue.
      access ??= await open();
      await access.send(messages);
    },
    async close() {
      await access?.close();
    },
  };
}

/** Largest SendMessageBatch: 10 entries, and SQS's message size for the whole batch. */
const SQS_BATCH_ENTRIES = 10;
const SQS_BATCH_BYTES = SQS_MAX_MESSAGE_BYTES;
const SEND_ATTEMPTS = 4;

/** The stack's SQS queue, with `SendMessageBatch`; entries SQS fails on its side are retried. */
export function sqsTarget(
  sqs: Pick<SQSClient, 'send'>,
  queueUrl: string,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): ReplayTarget {
  const sendBatch = async (entries: SendMessageBatchRequestEntry[]) => {
    let todo = entries;
    for (let attempt = 1; todo.length > 0; attempt++) {
      let out;
      try {
        out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: todo }));
      } catch (err) {
        throw awsError(err, `send messages to ${queueUrl}`);
      }
      const failed = out.Failed ?? [];
      const fatal = failed.find((f) => f.SenderFault);
      if (fatal) {
        const entry = todo.find((e) => e.Id === fatal.Id);
        throw new CliError(
          `SQS refused the message of event ${entry?.MessageAttributes?.eventId?.StringValue ?? fatal.Id}: ${fatal.Code}: ${fatal.Message ?? 'no reason given'}`,
        );
      }
      const retry = new Set(failed.map((f) => f.Id));
      todo = todo.filter((e) => retry.has(e.Id));
      if (todo.length > 0 && attempt >= SEND_ATTEMPTS) {
        throw new CliError(
          `SQS did not take ${todo.length} message(s) after ${SEND_ATTEMPTS} attempts (${failed[0]?.Code ?? 'unknown error'}); run the replay again: events already queued are de-duplicated downstream`,
        );
      }
      if (todo.length > 0) await sleep(200 * attempt);
    }
  };
  return {
    description: queueUrl,
    async send(messages) {
      let batch: SendMessageBatchRequestEntry[] = [];
      let bytes = 0;
      for (const m of messages) {
        const entry = toEntry(m, batch.length);
        const size = entryBytes(entry);
        if (batch.length >= SQS_BATCH_ENTRIES || (batch.length > 0 && bytes + size > SQS_BATCH_BYTES)) {
          await sendBatch(batch);
          batch = [];
          bytes = 0;
        }
        batch.push({ ...entry, Id: String(batch.length) });
        bytes += size;
      }
      if (batch.length > 0) await sendBatch(batch);
    },
    async close() {},
  };
}

function toEntry(m: QueueMessage, index: number): SendMessageBatchRequestEntry {
  const attributes: NonNullable<SendMessageBatchRequestEntry['MessageAttributes']> = {};
  for (const [name, value] of Object.entries(m.attributes)) {
    if (typeof value === 'string' && value !== '') attributes[name] = { DataType: 'String', StringValue: value };
  }
  return { Id: String(index), MessageBody: m.body, MessageAttributes: attributes };
}

/** Bytes SQS counts for an entry: body, and each attribute's name, type and value. */
function entryBytes(e: SendMessageBatchRequestEntry): number {
  let n = Buffer.byteLength(e.MessageBody ?? '', 'utf8');
  for (const [name, v] of Object.entries(e.MessageAttributes ?? {}))
    n += Buffer.byteLength(name) + 'String'.length + Buffer.byteLength(v.StringValue ?? '');
  return n;
}
