import { gunzipSync, gzipSync } from 'node:zlib';
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { SocialPlusWebhooksError } from '../core/errors.js';
import { STORE_MAX_INLINE_PAYLOAD_BYTES } from '../core/limits.js';
import type { EventStore, PutResult, StoredEvent } from '../core/ports.js';
import { actorKey, eventKey, targetKey } from '../common/table-schema.js';

/** Event store port on DynamoDB: one conditional put per event, one update per handler round. */
export class DynamoDbEventStore implements EventStore {
  constructor(private readonly client: DynamoDBClient, private readonly tableName: string) {}

  async putIfAbsent(event: StoredEvent): Promise<PutResult> {
    try {
      await this.client.send(new PutItemCommand({
        TableName: this.tableName,
        Item: toItem(event),
        ConditionExpression: 'attribute_not_exists(PK)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }));
      return { created: true };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException) && (err as Error).name !== 'ConditionalCheckFailedException') throw err;
      const old = (err as ConditionalCheckFailedException).Item ?? (await this.readHandlers(event.eventId));
      return { created: false, handlersDone: handlersOf(old) };
    }
  }

  async markHandlersDone(eventId: string, handlerNames: readonly string[]): Promise<void> {
    if (handlerNames.length === 0) return;
    const names: Record<string, string> = { '#h': 'handlers' };
    const sets = handlerNames.map((n, i) => {
      names[`#n${i}`] = n;
      return `#h.#n${i} = :done`;
    });
    await this.client.send(new UpdateItemCommand({
      TableName: this.tableName,
      Key: keyOf(eventId),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ':done': { BOOL: true } },
    }));
  }

  /** Reads an event item back (for tools and tests), payload decompressed. */
  async get(eventId: string): Promise<(StoredEvent & { handlers: Record<string, boolean> }) | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: keyOf(eventId), ConsistentRead: true }));
    return out.Item ? fromItem(out.Item) : undefined;
  }

  private async readHandlers(eventId: string): Promise<Record<string, AttributeValue> | undefined> {
    const out = await this.client.send(new GetItemCommand({
      TableName: this.tableName,
      Key: keyOf(eventId),
      ProjectionExpression: 'handlers',
      ConsistentRead: true,
    }));
    return out.Item;
  }
}

function keyOf(eventId: string): Record<string, AttributeValue> {
  const k = eventKey(eventId);
  return { PK: { S: k.PK }, SK: { S: k.SK } };
}

function handlersOf(item: Record<string, AttributeValue> | undefined): ReadonlySet<string> {
  const m = item?.handlers?.M ?? {};
  return new Set(Object.entries(m).filter(([, v]) => v.BOOL === true).map(([k]) => k));
}

/** A payload too large for an item, with no S3 copy to point at instead. */
export class PayloadTooLargeError extends SocialPlusWebhooksError {
  constructor(eventId: string, gzipBytes: number) {
    super(`event ${eventId}: the compressed payload (${gzipBytes} bytes) is too large for a DynamoDB item (at most ${STORE_MAX_INLINE_PAYLOAD_BYTES}) and has no S3 copy; give the fan-out a blob store (ARCHIVE_BUCKET_NAME)`);
  }
}

/**
 * The item of DESIGN §5: payload gzip-compressed, or, when that is still too large for an item,
 * the key of its S3 copy (`payloadRef`, flagged `payload-in-s3`); sparse GSI keys only where the
 * entity is known.
 */
export function toItem(e: StoredEvent): Record<string, AttributeValue> {
  const compressed = gzipSync(e.payload);
  const inline = compressed.length <= STORE_MAX_INLINE_PAYLOAD_BYTES;
  if (!inline && !e.payloadRef) throw new PayloadTooLargeError(e.eventId, compressed.length);
  const flags = inline ? [...e.flags] : [...new Set([...e.flags, 'payload-in-s3' as const])];
  const item: Record<string, AttributeValue> = {
    ...keyOf(e.eventId),
    eventType: { S: e.eventType },
    receivedAt: { S: e.receivedAt },
    source: { S: e.source },
    deprecated: { BOOL: e.deprecated },
    ...(inline ? { payload: { B: compressed } } : { payloadRef: { S: e.payloadRef as string } }),
    handlers: { M: {} },
    expiresAt: { N: String(e.expiresAt) },
  };
  if (e.eventName !== null) item.eventName = { S: e.eventName };
  if (flags.length > 0) item.flags = { SS: flags };
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
export function fromItem(item: Record<string, AttributeValue>): StoredEvent & { handlers: Record<string, boolean> } {
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
    handlers,
  };
}
