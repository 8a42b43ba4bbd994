import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { DescribeTableCommand, GetItemCommand, QueryCommand, type AttributeValue, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbEventStore, toItem } from '../../lambda/adapters/dynamodb-store.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import type { StoredEvent } from '../../lambda/core/ports.js';
import { TABLE } from '../../lambda/common/table-schema.js';
import { ensureEventTable } from '../../local/emulators.js';
import { archiveRecordOf } from '../support/archive-records.js';
import { useTestDynalite } from '../support/emulators.js';
import { sampleBody } from '../support/samples.js';

/** Bytes gzip cannot shrink, the same on every run (SHAKE256 of a fixed label, as long as asked). */
const fixedNoise = (bytes: number): Buffer => createHash('shake256', { outputLength: bytes }).update('dynamodb-store').digest();

const dynalite = useTestDynalite({ onDisk: 'spw-dynamodb-' });
let tableName: string;
let store: DynamoDbEventStore;
let tables = 0;

// A fresh table per test keeps the tests independent of each other's items.
beforeEach(async () => {
  tableName = `events-${++tables}`;
  await ensureEventTable(dynalite.client, tableName);
  await waitUntilActive(tableName);
  store = new DynamoDbEventStore(dynalite.client, tableName);
});

/** ensureEventTable returns while dynalite still reports the table CREATING for a tick. */
async function waitUntilActive(name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { Table } = await dynalite.client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`table ${name} did not become ACTIVE`);
}

/** The stored event the fan-out would write for a body. */
function storedEvent(raw: string, extra: Partial<StoredEvent> = {}): StoredEvent {
  return { ...archiveRecordOf(raw, '2025-07-02T09:54:03.221Z'), expiresAt: 1_759_000_000, ...extra };
}

async function rawItem(eventId: string): Promise<Record<string, AttributeValue> | undefined> {
  const out = await dynalite.client.send(
    new GetItemCommand({ TableName: tableName, Key: { PK: { S: `EVENT#${eventId}` }, SK: { S: 'EVENT' } }, ConsistentRead: true }),
  );
  return out.Item;
}

/** The items of one of the table's indexes under `key`: its key condition, with the names and values it uses. */
async function queryIndex(
  indexName: string,
  key: Pick<QueryCommandInput, 'KeyConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues' | 'ScanIndexForward'>,
): Promise<Record<string, AttributeValue>[] | undefined> {
  return (await dynalite.client.send(new QueryCommand({ TableName: tableName, IndexName: indexName, ...key }))).Items;
}

describe('DynamoDbEventStore against dynalite', () => {
  it('the table has the keys and sparse GSIs of docs/architecture.md §5', async () => {
    const { Table } = await dynalite.client.send(new DescribeTableCommand({ TableName: tableName }));
    expect(Table?.KeySchema).toEqual([
      { AttributeName: 'PK', KeyType: 'HASH' },
      { AttributeName: 'SK', KeyType: 'RANGE' },
    ]);
    expect(Table?.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort()).toEqual(['byActor', 'byTarget']);
  });

  it('conditional put: the first write creates, the second reports a duplicate with no handlers done', async () => {
    const e = storedEvent(sampleBody('message.didCreate'));
    expect(await store.putIfAbsent(e)).toEqual({ created: true });
    expect(await store.putIfAbsent(e)).toEqual({ created: false, handlersDone: new Set(), handlerRuns: {} });
  });

  it('a duplicate does not overwrite the first item', async () => {
    const e = storedEvent(sampleBody('message.didCreate'));
    await store.putIfAbsent(e);
    await store.putIfAbsent({ ...e, receivedAt: '2030-01-01T00:00:00.000Z', source: 'other' });
    expect(await store.get(e.eventId)).toMatchObject({ receivedAt: e.receivedAt, source: 'default' });
  });

  const run = (outcome: 'succeeded' | 'failed', attempts = 1, error?: string) => ({
    outcome,
    attempts,
    lastAt: '2025-07-02T10:00:00.000Z',
    durationMs: 12,
    ...(error !== undefined ? { error } : {}),
  });

  it('recordHandlerRuns marks successes done and keeps every run, which a duplicate put then returns', async () => {
    const e = storedEvent(sampleBody('message.didFlag'));
    await store.putIfAbsent(e);
    const firstRound = { 'auto-ban': run('succeeded'), 'flagged-content-log': run('succeeded'), notify: run('failed', 1, 'timeout') };
    await store.recordHandlerRuns(e.eventId, { runs: firstRound, done: ['auto-ban', 'flagged-content-log'], archived: false });
    await store.recordHandlerRuns(e.eventId, { runs: { ...firstRound, notify: run('succeeded', 2) }, done: ['notify'], archived: false });
    expect(await store.putIfAbsent(e)).toEqual({
      created: false,
      handlersDone: new Set(['auto-ban', 'flagged-content-log', 'notify']),
      handlerRuns: { 'auto-ban': run('succeeded'), 'flagged-content-log': run('succeeded'), notify: run('succeeded', 2) },
    });
    expect(await store.get(e.eventId)).toMatchObject({
      handlers: { 'auto-ban': true, 'flagged-content-log': true, notify: true },
      handlerRuns: { notify: run('succeeded', 2) },
    });
  });

  it('a failed run is recorded, as the item attribute handlerRuns, with its message but not marked done', async () => {
    const e = storedEvent(sampleBody('message.didFlag'));
    await store.putIfAbsent(e);
    expect((await rawItem(e.eventId))?.handlerRuns).toBeUndefined();
    await store.recordHandlerRuns(e.eventId, { runs: { notify: run('failed', 3, 'HTTP 503') }, done: [], archived: false });
    const item = await rawItem(e.eventId);
    expect(item?.handlers).toEqual({ M: {} });
    expect(item?.handlerRuns).toEqual({
      M: {
        notify: {
          M: {
            outcome: { S: 'failed' },
            attempts: { N: '3' },
            lastAt: { S: '2025-07-02T10:00:00.000Z' },
            durationMs: { N: '12' },
            error: { S: 'HTTP 503' },
          },
        },
      },
    });
  });

  it('the put names the delivery that is to archive the event; a round that archived clears it in the same write', async () => {
    const e = storedEvent(sampleBody('message.didFlag'), { archivePending: 'req-1' });
    await store.putIfAbsent(e);
    expect(await store.putIfAbsent(e)).toMatchObject({ created: false, archivePending: 'req-1' });
    await store.recordHandlerRuns(e.eventId, { runs: { a: run('failed', 1, 'x') }, done: [], archived: false });
    expect((await rawItem(e.eventId))?.archivePending).toEqual({ S: 'req-1' });
    await store.recordHandlerRuns(e.eventId, { runs: { a: run('succeeded', 2) }, done: ['a'], archived: true });
    expect((await rawItem(e.eventId))?.archivePending).toBeUndefined();
    expect(await store.putIfAbsent(e)).toEqual({ created: false, handlersDone: new Set(['a']), handlerRuns: { a: run('succeeded', 2) } });
  });

  it('recordHandlerRuns with nothing to record makes no request', async () => {
    await expect(store.recordHandlerRuns('0'.repeat(32), { runs: {}, done: [], archived: false })).resolves.toBeUndefined();
  });

  it('recordHandlerRuns on a missing event fails rather than creating a stub item', async () => {
    const eventId = eventIdOf('never stored');
    await expect(store.recordHandlerRuns(eventId, { runs: { x: run('succeeded') }, done: ['x'], archived: true })).rejects.toThrow();
    expect(await rawItem(eventId)).toBeUndefined();
  });

  it('the item: gzip payload, GSI keys, TTL, flags, and what get() reads back', async () => {
    const raw = sampleBody('v3.post.didCreate');
    const e = storedEvent(raw);
    await store.putIfAbsent(e);
    const item = await rawItem(e.eventId);
    expect(item).toBeDefined();
    expect(Object.keys(item ?? {}).sort()).toEqual([
      'PK',
      'SK',
      'actorId',
      'actorPK',
      'actorSK',
      'deprecated',
      'eventName',
      'eventType',
      'expiresAt',
      'handlers',
      'occurredAt',
      'payload',
      'receivedAt',
      'source',
      'targetId',
      'targetPK',
      'targetSK',
      'targetType',
    ]);
    expect(gunzipSync(item?.payload?.B as Uint8Array).toString('utf8')).toBe(raw);
    expect((item?.payload?.B as Uint8Array)[0]).toBe(0x1f);
    expect(item?.expiresAt).toEqual({ N: '1759000000' });
    expect(item?.actorPK).toEqual({ S: 'ACTOR#nok.s' });
    expect(item?.actorSK).toEqual({ S: `2025-07-02T09:54:03.221Z#${e.eventId}` });
    expect(item?.targetPK).toEqual({ S: 'TARGET#post#66510a0a0a0a0a0a0a0a0444' });
    expect(item?.handlers).toEqual({ M: {} });
    expect(await store.get(e.eventId)).toEqual({ ...e, handlers: {}, handlerRuns: {} });
  });

  it('sparse GSI keys: absent when the actor or the target is unknown', async () => {
    const noActor = storedEvent(sampleBody('channel.didCreate'));
    const nothing = storedEvent('not json', { receivedAt: '2025-07-02T10:00:00.000Z' });
    await store.putIfAbsent(noActor);
    await store.putIfAbsent(nothing);

    const a = await rawItem(noActor.eventId);
    expect(a?.actorPK).toBeUndefined();
    expect(a?.actorSK).toBeUndefined();
    expect(a?.targetPK).toEqual({ S: 'TARGET#channel#trail-runners-bkk' });

    const n = await rawItem(nothing.eventId);
    for (const k of ['actorId', 'actorPK', 'actorSK', 'targetType', 'targetId', 'targetPK', 'targetSK', 'eventName', 'occurredAt']) {
      expect(n?.[k], k).toBeUndefined();
    }
    expect(n?.flags).toEqual({ SS: ['invalid-json'] });
    expect(await store.get(nothing.eventId)).toEqual({ ...nothing, handlers: {}, handlerRuns: {} });
  });

  it("query byActor: a user's activity in time order", async () => {
    const first = storedEvent(sampleBody('message.didFlag'), { receivedAt: '2025-07-02T09:00:00.000Z' });
    const later = storedEvent(sampleBody('user.didBan.inferred'), { receivedAt: '2025-07-02T09:30:00.000Z' });
    const other = storedEvent(sampleBody('message.didCreate'));
    for (const e of [later, other, first]) await store.putIfAbsent(e);

    const items = await queryIndex(TABLE.byActor.indexName, {
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': TABLE.byActor.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: 'ACTOR#spam.account.42' } },
    });
    expect(items?.map((i) => i.PK?.S)).toEqual([`EVENT#${first.eventId}`, `EVENT#${later.eventId}`]);
    expect(items?.[0]?.eventType).toEqual({ S: 'message.didFlag' });
  });

  it("query byTarget: a channel's activity, newest first, between two times", async () => {
    const ban = storedEvent(sampleBody('channel.didBan'), { receivedAt: '2025-07-02T09:20:31.000Z' });
    const update = storedEvent('{"event":"channel.didUpdate","data":{"channel":[{"channelId":"general"}]}}', {
      receivedAt: '2025-07-02T11:00:00.000Z',
    });
    const outside = storedEvent('{"event":"channel.didUpdate","data":{"channel":[{"channelId":"general"}],"x":1}}', {
      receivedAt: '2025-07-03T11:00:00.000Z',
    });
    for (const e of [ban, update, outside]) await store.putIfAbsent(e);

    const items = await queryIndex(TABLE.byTarget.indexName, {
      KeyConditionExpression: '#pk = :pk AND #sk BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#pk': TABLE.byTarget.partitionKey, '#sk': TABLE.byTarget.sortKey },
      ExpressionAttributeValues: { ':pk': { S: 'TARGET#channel#general' }, ':from': { S: '2025-07-02' }, ':to': { S: '2025-07-03' } },
      ScanIndexForward: false,
    });
    expect(items?.map((i) => i.PK?.S)).toEqual([`EVENT#${update.eventId}`, `EVENT#${ban.eventId}`]);
  });

  it("a typical chat event's item stays within 1 KB (one write unit), with the archive mark the fan-out writes", () => {
    for (const name of ['message.didCreate', 'message.didFlag', 'channel.didBan', 'follow.didCreate']) {
      // As the fan-out writes it: with the digest naming the delivery that is to archive the event.
      expect(itemBytes(toItem(storedEvent(sampleBody(name), { archivePending: 'AbCdEfGhIjK' }))), name).toBeLessThanOrEqual(1024);
    }
  });
});

describe('DynamoDbEventStore: payloads too large for an item', () => {
  /** Base64 of incompressible bytes: text that gzip cannot shrink much. */
  const incompressible = (bytes: number) => JSON.stringify({ event: 'v3.post.didCreate', data: { blob: fixedNoise(bytes).toString('base64') } });
  const REF = `inbox/large/2025-07-02/${'c'.repeat(32)}`;

  it('keeps the S3 key in place of a payload the core flagged payload-in-s3 (dynalite accepts the item)', async () => {
    const raw = incompressible(450_000);
    const event = storedEvent(raw, { payloadRef: REF, flags: ['payload-in-s3'] });
    expect(await store.putIfAbsent(event)).toEqual({ created: true });
    const item = await rawItem(event.eventId);
    expect(item?.payload).toBeUndefined();
    expect(item?.payloadRef).toEqual({ S: REF });
    expect(item?.flags?.SS).toEqual(['payload-in-s3']);
    expect(await store.get(event.eventId)).toMatchObject({ payload: '', payloadRef: REF, flags: ['payload-in-s3'] });
  });

  it('keeps the payload inline unless flagged payload-in-s3, even with an S3 copy at hand', async () => {
    const raw = JSON.stringify({ event: 'v3.post.didCreate', data: { text: 'a'.repeat(900_000) } });
    const item = toItem(storedEvent(raw, { payloadRef: REF }));
    expect(item.payloadRef).toBeUndefined();
    expect(gunzipSync(item.payload?.B as Uint8Array).toString()).toBe(raw);
    expect(item.flags).toBeUndefined();
  });

  it('a payload too large with no S3 copy fails with a message saying what is missing', () => {
    expect(() => toItem(storedEvent(incompressible(450_000)))).toThrow(
      /too large for a DynamoDB item .* and has no S3 copy; give the fan-out a blob store \(ARCHIVE_BUCKET_NAME\)/,
    );
  });

  it('writes the flags as the core gives them', () => {
    const item = toItem(storedEvent(incompressible(450_000), { payloadRef: REF, flags: ['invalid-json', 'payload-in-s3'] }));
    expect(item.flags?.SS).toEqual(['invalid-json', 'payload-in-s3']);
    expect(item.payload).toBeUndefined();
  });

  it('refuses an item flagged payload-in-s3 with no key to keep', () => {
    expect(() => toItem(storedEvent('{}', { flags: ['payload-in-s3'] }))).toThrow(/flagged payload-in-s3 without a payloadRef/);
  });
});

/** DynamoDB's item size: attribute names plus values (numbers ≈ 1 byte per two digits + 1). */
function itemBytes(item: Record<string, AttributeValue>): number {
  let total = 0;
  for (const [name, value] of Object.entries(item)) total += Buffer.byteLength(name) + valueBytes(value);
  return total;
}

function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\./g, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS !== undefined) return v.SS.reduce((s, x) => s + Buffer.byteLength(x), 0);
  if (v.M !== undefined) return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + Buffer.byteLength(k) + 1 + valueBytes(x), 0);
  if (v.L !== undefined) return 3 + v.L.reduce((s, x) => s + 1 + valueBytes(x), 0);
  return 0;
}
