/**
 * What the inspector reads and does in a running local mode: the ledger filled from the store at
 * start and from the fan-out's notes, an event's payload, archive line and store item, the DLQ
 * with what is known of why each message failed, a redrive and a replay from the archive (the
 * same plan `socialplus-webhooks replay` follows, so a replay from the page and one from the CLI
 * are the same messages).
 */
import { join, relative, sep } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { eventItemKey, fromItem, handlerRunsOf } from '../../lambda/adapters/dynamodb-store.js';
import { TABLE } from '../../lambda/common/table-schema.js';
import { errorMessage } from '../../lambda/core/errors.js';
import type { QueueMessage } from '../../lambda/core/ports.js';
import { route, type EventPattern } from '../../lambda/core/routing.js';
import type { LogFields, Logger, MetricName } from '../../lambda/core/telemetry.js';
import { describeSignatureSplit, signatureSplit } from '../../lambda/core/signature-split.js';
import { partitionsFor, replayRequestId } from '../../cli/replay-plan.js';
import { localArchiveSource, runReplay } from '../../cli/replay-run.js';
import { readObject } from '../../cli/erase/aws-s3.js';
import { bufferedArchiveLines } from '../delivery-stream.js';
import type { QueueStats } from '../journal-queue.js';
import type { DeadLetter } from '../queue/dead-letters.js';
import { LOCAL_BUCKET_NAME, S3RVER_OBJECT_SUFFIX, type LocalPaths } from '../paths.js';
import { Ledger, type InspectorRow, type Problem } from './ledger.js';
import { summaryOf } from './observer.js';
import type { InspectorSources } from './server.js';
import type { DeadLetterView, EventDetailView, EventSourcesView } from './views.js';

export interface LocalInspectorDeps {
  readonly ledger: Ledger;
  readonly paths: LocalPaths;
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
  readonly s3: Pick<S3Client, 'send'>;
  readonly tableName: string;
  readonly queue: {
    stats(): QueueStats;
    oldestSentAt(): number | undefined;
    listDeadLetters(): readonly DeadLetter[];
    redriveDeadLetters(): Promise<number>;
    send(message: QueueMessage): Promise<void>;
  };
  readonly handlers: ReadonlyArray<{ readonly name: string; readonly events: readonly EventPattern[] }>;
  metrics(): Readonly<Partial<Record<MetricName, number>>>;
  fanoutRestarts(): number;
  /** Writes the delivery stream's buffer to the archive (a replay of an event still buffered). */
  flushArchive(): Promise<void>;
  readonly logger: Logger;
  readonly now?: () => Date;
}

/** The inspector's sources over a running local mode. */
export function localInspectorSources(deps: LocalInspectorDeps): InspectorSources {
  const now = deps.now ?? (() => new Date());
  let seeding: Promise<void> | undefined;
  let done = false;
  const warm = () =>
    (seeding ??= seedFromStore(deps)
      .catch((err) => deps.logger.warn('inspector: could not read earlier events from the store', { error: errorMessage(err) }))
      .finally(() => {
        done = true;
      }));

  const readItem = async (eventId: string) =>
    (await deps.dynamodb.send(new GetItemCommand({ TableName: deps.tableName, Key: eventItemKey(eventId), ConsistentRead: true }))).Item;

  return {
    ledger: deps.ledger,
    warm,
    seeding: () => !done,
    now,
    stats() {
      const q = deps.queue.stats();
      const at = now().getTime();
      const age = (t: number | undefined) => (t === undefined ? null : Math.max(0, Math.round((at - t) / 1000)));
      const day = now().toISOString().slice(0, 10);
      const counts = deps.metrics();
      return {
        queue: { visible: q.visible, inFlight: q.inFlight, delayed: q.delayed, deadLetters: q.deadLetters },
        oldestMessageAgeSeconds: age(deps.queue.oldestSentAt()),
        oldestDeadLetterAgeSeconds: age(deps.queue.listDeadLetters()[0]?.sentAt),
        counts,
        signatures: describeSignatureSplit(signatureSplit(counts)),
        today: deps.ledger.values().filter((r) => r.receivedAt.startsWith(day)).length,
        fanoutRestarts: deps.fanoutRestarts(),
      };
    },
    async detail(eventId) {
      let item: Record<string, AttributeValue> | undefined;
      let storeProblem: string | undefined;
      try {
        item = await readItem(eventId);
      } catch (err) {
        storeProblem = `The store could not be read: ${errorMessage(err)}`;
      }
      const row = deps.ledger.row(eventId) ?? (item ? rowOfItem(item) : undefined);
      return {
        payload: await payloadOf(item, storeProblem, deps.s3),
        archive: await archiveLineOf(eventId, row?.receivedAt, deps.paths),
        storeItem: item ? itemJson(item) : { missing: storeProblem ?? 'The store does not hold this event (never stored, or past its retention).' },
        forcible: row
          ? route(deps.handlers, { eventType: row.eventType, eventName: row.eventName, deprecated: row.deprecated }).map((h) => h.name)
          : deps.handlers.map((h) => h.name),
      } satisfies EventSourcesView;
    },
    async deadLetters() {
      const letters = deps.queue.listDeadLetters();
      const out: DeadLetterView[] = [];
      for (const d of letters) {
        const a: Partial<Record<string, string>> = { ...d.message.attributes };
        const eventId = a.eventId;
        const why: string[] = [];
        let row = eventId ? deps.ledger.row(eventId) : undefined;
        if (eventId && !row) {
          const item = await readItem(eventId).catch(() => undefined);
          if (item) row = rowOfItem(item);
        }
        const failedRuns = Object.entries(row?.handlers ?? {}).filter(([, run]) => run.outcome === 'failed');
        for (const [name, run] of failedRuns) why.push(`handler ${name} failed (${run.attempts} runs): ${run.error ?? 'no message'}`);
        // What the fan-out logged, less what the failed runs above already say.
        const said = new Set(failedRuns.map(([, run]) => run.error));
        const problems: Problem[] = [...deps.ledger.problemsOf(d.messageId), ...(eventId ? deps.ledger.problemsOf(eventId) : [])];
        const logged = [
          ...new Set(problems.filter((p) => p.error === undefined || !said.has(p.error)).map((p) => `${p.message}${p.error ? `: ${p.error}` : ''}`)),
        ];
        why.push(...logged.slice(-3));
        if (eventId && !row && why.length === 0) why.push('never stored: the fan-out failed before storing it (see the dev log)');
        out.push({
          messageId: d.messageId,
          eventId,
          eventType: a.eventType ?? row?.eventType,
          sentAt: new Date(d.sentAt).toISOString(),
          movedAt: new Date(d.movedAt).toISOString(),
          receiveCount: d.receiveCount,
          why,
        });
      }
      return out;
    },
    redrive: () => deps.queue.redriveDeadLetters(),
    async replay(eventId, force) {
      const known = new Set(deps.handlers.map((h) => h.name));
      const unknown = force.filter((n) => !known.has(n));
      if (unknown.length > 0) return { sent: 0, message: `No handler is named ${unknown.join(', ')}: nothing was replayed.` };
      const row = deps.ledger.row(eventId) ?? (await readItem(eventId).then((i) => (i ? rowOfItem(i) : undefined)));
      if (!row)
        return { sent: 0, message: 'The store does not hold this event, so its time is not known: replay it with socialplus-webhooks replay.' };
      const at = new Date(row.receivedAt);
      const range = { from: at, to: new Date(at.getTime() + 1) };
      const attempt = () =>
        runReplay({
          source: localArchiveSource(deps.paths.root),
          target: {
            description: 'the local queue',
            send: async (messages) => {
              for (const m of messages) await deps.queue.send(m);
            },
            close: async () => undefined,
          },
          rules: { range, patterns: [eventId], requestId: replayRequestId(now()), force, seen: new Set() },
          partitions: partitionsFor(range),
        });
      let summary = await attempt();
      if (summary.sent === 0) {
        // Still in the delivery stream's buffer: write it to the archive, then look again.
        await deps.flushArchive();
        summary = await attempt();
      }
      if (summary.sent === 0) {
        const skipped = Object.entries(summary.skipped)
          .filter(([reason, n]) => n > 0 && reason !== 'out-of-range' && reason !== 'filtered')
          .map(([reason]) => reason);
        return {
          sent: 0,
          message:
            skipped.length > 0
              ? `The archive's line for this event cannot be replayed (${skipped.join(', ')}): nothing was sent.`
              : 'The archive has no line for this event yet: nothing was sent.',
        };
      }
      return {
        sent: summary.sent,
        message: `Replayed from the archive: sent to the queue${force.length > 0 ? `, forcing ${force.join(', ')}` : ''}. The handlers' runs show here when the fan-out is done.`,
      };
    },
  };
}

/** Most items the start-up read scans. */
const MAX_SEED_ITEMS = 200_000;

/** Reads the store's events (their headers and handler runs, not their payloads) into the ledger. */
async function seedFromStore(deps: LocalInspectorDeps): Promise<void> {
  const rows: InspectorRow[] = [];
  let start: Record<string, AttributeValue> | undefined;
  let read = 0;
  do {
    const page = await deps.dynamodb.send(
      new ScanCommand({
        TableName: deps.tableName,
        ProjectionExpression:
          '#pk, eventType, eventName, receivedAt, #source, deprecated, actorId, targetType, targetId, flags, payloadRef, handlerRuns, handlers',
        ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#source': 'source' },
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) if (item[TABLE.partitionKey]?.S?.startsWith('EVENT#')) rows.push(rowOfItem(item));
    read += page.ScannedCount ?? page.Items?.length ?? 0;
    start = page.LastEvaluatedKey;
    // A store of many events: the ledger keeps the newest 10,000 anyway, and a scan is in no order.
    if (start && read >= MAX_SEED_ITEMS) {
      deps.logger.warn('inspector: the store holds more events than it reads at start; older ones may be missing from the list', {
        read,
      });
      break;
    }
  } while (start);
  deps.ledger.seed(rows);
}

function rowOfItem(item: Record<string, AttributeValue>): InspectorRow {
  // Without the payload: a row needs none, and it is not decompressed for nothing.
  const { payload: _payload, ...header } = item;
  const stored = fromItem(header);
  const runs = handlerRunsOf(item);
  // An item written before runs were recorded marks a handler done only.
  for (const [name, done] of Object.entries(item.handlers?.M ?? {}))
    if (done.BOOL === true && !runs[name]) runs[name] = { outcome: 'succeeded', attempts: 1, lastAt: stored.receivedAt, durationMs: 0 };
  return { ...summaryOf(stored), handlers: runs };
}

async function payloadOf(
  item: Record<string, AttributeValue> | undefined,
  storeProblem: string | undefined,
  s3: Pick<S3Client, 'send'>,
): Promise<EventDetailView['payload']> {
  if (!item) return { missing: storeProblem ?? 'The store does not hold this event; its payload is in the archive line below, if anywhere.' };
  const flags = item.flags?.SS ?? [];
  let text: string;
  let note: string | undefined;
  if (item.payload?.B && item.payload.B.length > 0) {
    text = gunzipSync(item.payload.B).toString('utf8');
  } else if (item.payloadRef?.S) {
    const key = item.payloadRef.S;
    let bytes: Buffer;
    try {
      const got = await readObject(s3, LOCAL_BUCKET_NAME, key);
      if (got === undefined) return { missing: `The payload is kept in the bucket as ${key}, which is gone.` };
      bytes = got.body;
    } catch (err) {
      return { missing: `The payload is kept in the bucket as ${key}, which could not be read: ${errorMessage(err)}` };
    }
    text = flags.includes('body-base64') ? bytes.toString('base64') : bytes.toString('utf8');
    note = `Kept in the bucket as ${key} (too large for the store item).`;
  } else {
    return { missing: 'The store item holds no payload.' };
  }
  if (flags.includes('body-base64')) return { text, note: 'The body is not UTF-8 text: shown as base64.' };
  try {
    return { text: JSON.stringify(JSON.parse(text), null, 2), ...(note ? { note } : {}) };
  } catch {
    return { text, note: `${note ? `${note} ` : ''}The body is not JSON: shown as received.` };
  }
}

/** The archive's line for the event: in the archive's objects, else in the delivery stream's buffer. */
async function archiveLineOf(eventId: string, receivedAt: string | undefined, paths: LocalPaths): Promise<EventDetailView['archive']> {
  const needle = `"event_id":"${eventId}"`;
  const pretty = (line: string) => {
    try {
      return JSON.stringify(JSON.parse(line), null, 2);
    } catch {
      return line;
    }
  };
  if (receivedAt) {
    const at = new Date(receivedAt);
    const source = localArchiveSource(paths.root);
    for (const object of await source.list(partitionsFor({ from: at, to: new Date(at.getTime() + 1) }))) {
      let text: string;
      try {
        text = gunzipSync(await object.read()).toString('utf8');
      } catch {
        continue;
      }
      const line = text.split('\n').find((l) => l.includes(needle));
      if (line) return { line: pretty(line), where: `In the archive object ${archiveKeyOf(object.name, paths)}.` };
    }
  }
  for await (const line of bufferedArchiveLines(paths.stream)) {
    if (line.includes(needle)) return { line: pretty(line), where: "In the delivery stream's buffer: written to the archive within seconds." };
  }
  return {
    missing: receivedAt ? 'Not in the archive (yet): the delivery stream writes its buffer every few seconds.' : 'Not found: the event is not known.',
  };
}

/** An archive object's key in the bucket, from the path of s3rver's file. */
function archiveKeyOf(path: string, paths: LocalPaths): string {
  const rel = relative(join(paths.s3, LOCAL_BUCKET_NAME), path).split(sep).join('/');
  return rel.startsWith('..') ? path : rel.endsWith(S3RVER_OBJECT_SUFFIX) ? rel.slice(0, -S3RVER_OBJECT_SUFFIX.length) : rel;
}

/** The item as DynamoDB holds it, binary values shown by size (the payload is shown decoded above). */
function itemJson(item: Record<string, AttributeValue>): string {
  return JSON.stringify(item, (_k, v: unknown) => (v instanceof Uint8Array ? `<${v.length} bytes, gzip>` : v), 2);
}

/** A logger that also records, for the inspector, each WARN or ERROR line naming an event or a queue message. */
export function problemTap(logger: Logger, ledger: Ledger, now: () => Date = () => new Date()): Logger {
  const tap = (level: 'warn' | 'error') => (message: string, fields?: LogFields) => {
    logger[level](message, fields);
    const f = (fields ?? {}) as Record<string, unknown>;
    const problem: Problem = { at: now().toISOString(), level, message, ...(typeof f.error === 'string' ? { error: f.error } : {}) };
    for (const key of [f.eventId, f.messageId]) if (typeof key === 'string') ledger.problem(key, problem);
  };
  return { debug: (m, f) => logger.debug(m, f), info: (m, f) => logger.info(m, f), warn: tap('warn'), error: tap('error') };
}
