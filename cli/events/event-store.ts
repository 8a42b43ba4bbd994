/**
 * The event store (DynamoDB, or dynalite locally) as `events` reads it: the `byActor` and
 * `byTarget` indexes, newest first; one event item in full; and each listed event's handler runs,
 * read from the event items (`handlerRuns`; `handlers`, the done-marks, for items written before
 * runs were recorded) with one `BatchGetItem` per 100 events, since the indexes project neither.
 * The same calls serve the deployed table and local mode's.
 */
import { BatchGetItemCommand, GetItemCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { eventItemKey, handlerRunsOf } from '../../lambda/adapters/dynamodb-store.js';
import { queryPages } from '../../lambda/adapters/query-pages.js';
import { TABLE, actorKey, targetKey } from '../../lambda/common/table-schema.js';
import { CliError } from '../errors.js';
import type { EventsQuestion } from './question.js';

/** Keys per `BatchGetItem`: DynamoDB's limit. */
const BATCH_GET_KEYS = 100;

/**
 * One handler's last run for an event. `attempts`, `last_at` and `duration_ms` are null for an
 * event stored before runs were recorded, whose item says only that the handler succeeded.
 */
export interface HandlerRunRow {
  readonly handler: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly attempts: number | null;
  readonly last_at: string | null;
  readonly duration_ms: number | null;
  /** The error's message, when the last run failed. */
  readonly error: string | null;
}

/** One event as the command prints it. */
export interface EventRow {
  readonly received_at: string;
  readonly event_type: string;
  readonly event_id: string;
  readonly actor_id: string | null;
  readonly target_type: string | null;
  readonly target_id: string | null;
  readonly source: string | null;
  /** Its handlers' runs, by handler name; null when the store no longer (or never) had the event. */
  readonly handlers: readonly HandlerRunRow[] | null;
}

/** An event as listed, before its handlers' runs are read. */
export type ListedEvent = Omit<EventRow, 'handlers'>;

/** One event in full, as `--id` prints it. */
export interface EventDetail extends EventRow {
  readonly handlers: readonly HandlerRunRow[];
  /** Social Plus's name as sent (`v3.message.didCreate`); null when the payload had none. */
  readonly event_name: string | null;
  readonly occurred_at: string | null;
  readonly deprecated: boolean;
  readonly flags: readonly string[];
  /** The gzipped payload's size in the item; null when the payload is kept in S3 (`payload_ref`). */
  readonly payload_gzip_bytes: number | null;
  readonly payload_ref: string | null;
  /** When DynamoDB's TTL may remove the item (ISO-8601 UTC). */
  readonly expires_at: string | null;
}

type DynamoDb = Pick<DynamoDBClient, 'send'>;

/** Queries the `byActor` or `byTarget` index, newest first, up to `limit` items, then reads their handlers' runs. */
export async function queryIndex(
  client: DynamoDb,
  tableName: string,
  question: Extract<EventsQuestion, { kind: 'user' | 'target' }>,
  limit: number,
): Promise<EventRow[]> {
  const index = question.kind === 'user' ? TABLE.byActor : TABLE.byTarget;
  const key = question.kind === 'user' ? actorKey(question.userId) : targetKey(question.targetType, question.targetId);
  const rows: ListedEvent[] = [];
  const pages = queryPages(client, () => ({
    TableName: tableName,
    IndexName: index.indexName,
    KeyConditionExpression: '#pk = :pk',
    ExpressionAttributeNames: { '#pk': index.partitionKey },
    ExpressionAttributeValues: { ':pk': { S: key } },
    ScanIndexForward: false,
    Limit: limit - rows.length,
  }));
  for await (const page of pages) {
    for (const item of page.Items ?? []) rows.push(rowOf(item));
    if (rows.length >= limit) break;
  }
  return withHandlerRuns(client, tableName, rows);
}

function rowOf(item: Record<string, AttributeValue>): ListedEvent {
  const s = (k: string) => item[k]?.S ?? null;
  return {
    received_at: s('receivedAt') ?? '',
    event_type: s('eventType') ?? '',
    event_id: (s(TABLE.partitionKey) ?? '').replace(/^EVENT#/, ''),
    actor_id: s('actorId'),
    target_type: s('targetType'),
    target_id: s('targetId'),
    source: s('source'),
  };
}

/**
 * The handler runs an event item records, by handler name: `handlerRuns`, and for a handler only
 * marked done in `handlers` (an item written before runs were recorded) a success of unknown attempts.
 */
export function handlerRunRows(item: Record<string, AttributeValue>): HandlerRunRow[] {
  const runs = handlerRunsOf(item);
  const rows: HandlerRunRow[] = Object.entries(runs).map(([handler, r]) => ({
    handler,
    outcome: r.outcome,
    attempts: r.attempts,
    last_at: r.lastAt,
    duration_ms: r.durationMs,
    error: r.error ?? null,
  }));
  for (const [handler, done] of Object.entries(item.handlers?.M ?? {})) {
    if (done.BOOL === true && runs[handler] === undefined)
      rows.push({ handler, outcome: 'succeeded', attempts: null, last_at: null, duration_ms: null, error: null });
  }
  return rows.sort((a, b) => a.handler.localeCompare(b.handler));
}

/** The rows with their handlers' runs from the event items, one `BatchGetItem` per 100 events. */
export async function withHandlerRuns(client: DynamoDb, tableName: string, rows: readonly ListedEvent[]): Promise<EventRow[]> {
  const runs = new Map<string, HandlerRunRow[]>();
  const ids = [...new Set(rows.map((r) => r.event_id).filter((id) => id !== ''))];
  for (let i = 0; i < ids.length; i += BATCH_GET_KEYS) {
    let keys: Array<Record<string, AttributeValue>> = ids.slice(i, i + BATCH_GET_KEYS).map(eventItemKey);
    for (let round = 0; keys.length > 0; round++) {
      if (round === 6)
        throw new CliError(
          `DynamoDB left ${keys.length} event items of ${tableName} unread after ${round} tries (throttled?): run the command again`,
        );
      // Unprocessed keys: DynamoDB asks for a backoff before they are asked again.
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      const out = await client.send(
        new BatchGetItemCommand({
          RequestItems: {
            [tableName]: {
              Keys: keys,
              ProjectionExpression: '#pk, #done, #runs',
              ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#done': 'handlers', '#runs': 'handlerRuns' },
            },
          },
        }),
      );
      for (const item of out.Responses?.[tableName] ?? []) runs.set((item[TABLE.partitionKey]?.S ?? '').replace(/^EVENT#/, ''), handlerRunRows(item));
      keys = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return rows.map((r) => ({ ...r, handlers: runs.get(r.event_id) ?? null }));
}

/** The rows without their handlers' runs: the store could not be read, or holds none of them. */
export function withoutHandlerRuns(rows: readonly ListedEvent[]): EventRow[] {
  return rows.map((r) => ({ ...r, handlers: null }));
}

/** One event item in full, or undefined when the store does not hold it. */
export async function readEvent(client: DynamoDb, tableName: string, eventId: string): Promise<EventDetail | undefined> {
  const item = (await client.send(new GetItemCommand({ TableName: tableName, Key: eventItemKey(eventId), ConsistentRead: true }))).Item;
  if (!item) return undefined;
  const s = (k: string) => item[k]?.S ?? null;
  const expires = Number(item[TABLE.ttlAttribute]?.N ?? NaN);
  return {
    ...rowOf(item),
    event_name: s('eventName'),
    occurred_at: s('occurredAt'),
    deprecated: item.deprecated?.BOOL === true,
    flags: [...(item.flags?.SS ?? [])].sort(),
    payload_gzip_bytes: item.payload?.B ? item.payload.B.length : null,
    payload_ref: s('payloadRef'),
    expires_at: Number.isFinite(expires) ? new Date(expires * 1000).toISOString() : null,
    handlers: handlerRunRows(item),
  };
}

/** What to say when the store does not hold an event. */
export function notStored(eventId: string, where: string): CliError {
  return new CliError(
    `no event ${eventId} in ${where}: check the id, or it is older than the store keeps it (eventRetentionDays) and only the archive has it: socialplus-webhooks query "select * from events where event_id = '${eventId}'"`,
  );
}
