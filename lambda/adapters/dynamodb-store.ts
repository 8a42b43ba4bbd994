import { gunzipSync, gzipSync } from 'node:zlib';
import {
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type ConditionalCheckFailedException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { hasErrorName, PayloadTooLargeError } from '../core/errors.js';
import { STORE_MAX_INLINE_PAYLOAD_BYTES } from '../core/limits.js';
import type { EventStore, HandlerRunRecord, HandlerRunsUpdate, PutResult, StoredEvent, StoredEventState } from '../core/ports.js';
import { actorKey, eventKey, targetKey } from '../common/table-schema.js';

/** The item's attributes holding what {@link StoredEventState} reads. */
const STATE_ATTRIBUTES = ['handlers', 'handlerRuns', 'archivePending'] as const;

/**
 * Event store port on DynamoDB: one conditional put per event, one update per round of handler
 * runs. Item attributes besides the event: `handlers` (map: handler name → true once it
 * succeeded, which retries read), `handlerRuns` (map: handler name → its last run, for people
 * and the `events` command; written whole by each round, absent before the first) and
 * `archivePending` (set until the archive has the event).
 */
export class DynamoDbEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async putIfAbsent(event: StoredEvent): Promise<PutResult> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: toItem(event),
          ConditionExpression: 'attribute_not_exists(PK)',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { created: true };
    } catch (err) {
      if (!hasErrorName(err, 'ConditionalCheckFailedException')) throw err;
      const old = (err as ConditionalCheckFailedException).Item ?? (await this.readState(event.eventId));
      return { created: false, ...stateOf(old) };
    }
  }

  async recordHandlerRuns(eventId: string, update: HandlerRunsUpdate): Promise<void> {
    const runs = Object.entries(update.runs);
    if (runs.length === 0 && update.done.length === 0 && !update.archived) return;
    const names: Record<string, string> = {};
    const values: Record<string, AttributeValue> = {};
    const sets: string[] = [];
    // The whole map: it need not exist yet (items carry none until their first round).
    if (runs.length > 0) {
      values[':runs'] = { M: Object.fromEntries(runs.map(([name, run]) => [name, { M: runToAttribute(run) }])) };
      sets.push('handlerRuns = :runs');
    }
    // Each success on its own path, so concurrent rounds never unmark each other's.
    update.done.forEach((name, i) => {
      names[`#n${i}`] = name;
      sets.push(`#done.#n${i} = :done`);
    });
    if (update.done.length > 0) {
      names['#done'] = 'handlers';
      values[':done'] = { BOOL: true };
    }
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: eventItemKey(eventId),
        UpdateExpression: [sets.length > 0 ? `SET ${sets.join(', ')}` : '', update.archived ? 'REMOVE archivePending' : ''].filter(Boolean).join(' '),
        ConditionExpression: 'attribute_exists(PK)',
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
      }),
    );
  }

  /** Reads an event item back (for tools and tests), payload decompressed. */
  async get(eventId: string): Promise<StoredItem | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: eventItemKey(eventId), ConsistentRead: true }));
    return out.Item ? fromItem(out.Item) : undefined;
  }

  private async readState(eventId: string): Promise<Record<string, AttributeValue> | undefined> {
    const out = await this.client.send(
      new GetItemCommand({
        TableName: this.tableName,
        Key: eventItemKey(eventId),
        ProjectionExpression: STATE_ATTRIBUTES.join(', '),
        ConsistentRead: true,
      }),
    );
    return out.Item;
  }
}

/** An event item as {@link DynamoDbEventStore.get} reads it back. */
export type StoredItem = StoredEvent & {
  readonly handlers: Record<string, boolean>;
  readonly handlerRuns: Record<string, HandlerRunRecord>;
};

/** The event item's key as DynamoDB takes it (for every reader of one event's item). */
export function eventItemKey(eventId: string): Record<string, AttributeValue> {
  const k = eventKey(eventId);
  return { PK: { S: k.PK }, SK: { S: k.SK } };
}

/** What an item (or its projection) says about the event's handlers and archive. */
export function stateOf(item: Record<string, AttributeValue> | undefined): StoredEventState {
  const m = item?.handlers?.M ?? {};
  const pending = item?.archivePending?.S;
  return {
    handlersDone: new Set(
      Object.entries(m)
        .filter(([, v]) => v.BOOL === true)
        .map(([k]) => k),
    ),
    handlerRuns: handlerRunsOf(item),
    ...(pending !== undefined ? { archivePending: pending } : {}),
  };
}

function runToAttribute(run: HandlerRunRecord): Record<string, AttributeValue> {
  return {
    outcome: { S: run.outcome },
    attempts: { N: String(run.attempts) },
    lastAt: { S: run.lastAt },
    durationMs: { N: String(run.durationMs) },
    ...(run.error !== undefined ? { error: { S: run.error } } : {}),
  };
}

/**
 * The `handlerRuns` map of an item: handler name → its last run. Entries that do not have the
 * shape are left out rather than guessed at.
 */
export function handlerRunsOf(item: Record<string, AttributeValue> | undefined): Record<string, HandlerRunRecord> {
  const out: Record<string, HandlerRunRecord> = {};
  for (const [name, v] of Object.entries(item?.handlerRuns?.M ?? {})) {
    const r = v.M;
    const outcome = r?.outcome?.S;
    if (!r || (outcome !== 'succeeded' && outcome !== 'failed')) continue;
    const error = r.error?.S;
    out[name] = {
      outcome,
      attempts: Number(r.attempts?.N ?? 0),
      lastAt: r.lastAt?.S ?? '',
      durationMs: Number(r.durationMs?.N ?? 0),
      ...(error !== undefined ? { error } : {}),
    };
  }
  return out;
}

/**
 * The item of docs/architecture.md §5: the payload gzip-compressed, or, where the core decided the item keeps
 * the key of its S3 copy instead (flag `payload-in-s3`), that key (`payloadRef`); sparse GSI keys
 * only where the entity is known. Marshals only: it asserts that what it was given fits.
 */
export function toItem(e: StoredEvent): Record<string, AttributeValue> {
  const inS3 = e.flags.includes('payload-in-s3');
  if (inS3 && e.payloadRef === undefined) throw new TypeError(`event ${e.eventId}: flagged payload-in-s3 without a payloadRef`);
  const compressed = inS3 ? undefined : gzipSync(e.payload);
  if (compressed !== undefined && compressed.length > STORE_MAX_INLINE_PAYLOAD_BYTES)
    throw new PayloadTooLargeError(e.eventId, compressed.length, STORE_MAX_INLINE_PAYLOAD_BYTES);
  const item: Record<string, AttributeValue> = {
    ...eventItemKey(e.eventId),
    eventType: { S: e.eventType },
    receivedAt: { S: e.receivedAt },
    source: { S: e.source },
    deprecated: { BOOL: e.deprecated },
    ...(compressed !== undefined ? { payload: { B: compressed } } : { payloadRef: { S: e.payloadRef as string } }),
    handlers: { M: {} },
    expiresAt: { N: String(e.expiresAt) },
  };
  if (e.archivePending !== undefined) item.archivePending = { S: e.archivePending };
  if (e.eventName !== null) item.eventName = { S: e.eventName };
  if (e.flags.length > 0) item.flags = { SS: [...e.flags] };
  if (e.occurredAt) item.occurredAt = { S: e.occurredAt };
  const sortKey = `${e.receivedAt}#${e.eventId}`;
  if (e.actorId) {
    item.actorId = { S: e.actorId };
    item.actorPK = { S: actorKey(e.actorId) };
    item.actorSK = { S: sortKey };
  }
  if (e.targetType && e.targetId) {
    item.targetType = { S: e.targetType };
    item.targetId = { S: e.targetId };
    item.targetPK = { S: targetKey(e.targetType, e.targetId) };
    item.targetSK = { S: sortKey };
  }
  return item;
}

/** Reads an item back; a payload kept in S3 reads as `''` with its key in `payloadRef`. */
export function fromItem(item: Record<string, AttributeValue>): StoredItem {
  const s = (k: string) => item[k]?.S;
  const payload = item.payload?.B ? gunzipSync(item.payload.B).toString('utf8') : '';
  const handlers: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(item.handlers?.M ?? {})) handlers[k] = v.BOOL === true;
  return {
    eventId: (s('PK') ?? '').replace(/^EVENT#/, ''),
    eventType: s('eventType') ?? '',
    eventName: s('eventName') ?? null,
    receivedAt: s('receivedAt') ?? '',
    source: s('source') ?? '',
    deprecated: item.deprecated?.BOOL === true,
    flags: (item.flags?.SS ?? []) as StoredEvent['flags'],
    payload,
    ...(s('payloadRef') ? { payloadRef: s('payloadRef') } : {}),
    expiresAt: Number(item.expiresAt?.N ?? 0),
    ...(s('occurredAt') ? { occurredAt: s('occurredAt') } : {}),
    ...(s('actorId') ? { actorId: s('actorId') } : {}),
    ...(s('targetType') ? { targetType: s('targetType'), targetId: s('targetId') } : {}),
    ...(s('archivePending') ? { archivePending: s('archivePending') } : {}),
    handlers,
    handlerRuns: handlerRunsOf(item),
  };
}
