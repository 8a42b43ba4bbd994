/**
 * The conditional puts that read what failed their condition (`ReturnValuesOnConditionCheckFailure:
 * ALL_OLD`): the event store's `putIfAbsent` and the handler state table's `putClaim`, through the
 * real DynamoDB client against the AWS double answering as DynamoDB does. dynalite never returns
 * the old item with a failed condition, so only here does the production path (the state read from
 * the exception's `Item`, no second read) run against a real SDK exception.
 *
 * The old items are not written by hand: the production code writes them to dynalite (the event
 * store's put and handler-run update, auto-moderation's ban claim), they are read back, and the
 * double returns them in DynamoDB's wire format with the failed condition.
 */
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  ProvisionedThroughputExceededException,
  ThrottlingException,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbEventStore } from '../../lambda/adapters/dynamodb-store.js';
import { DynamoDbFlagCounterStore } from '../../lambda/adapters/flag-counter-store.js';
import { ensureHandlerStateTable, putClaim } from '../../lambda/adapters/handler-state-table.js';
import type { HandlerRunRecord, StoredEvent } from '../../lambda/core/ports.js';
import { ensureEventTable } from '../../local/emulators.js';
import { archiveRecordOf } from '../support/archive-records.js';
import { jsonServiceAnswer, jsonServiceError, startAwsDouble, type AwsAnswer, type AwsDouble } from '../support/aws-double.js';
import { doubleClientConfig } from '../support/aws-recorded-answers.js';
import { useTestDynalite } from '../support/emulators.js';
import { sampleBody } from '../support/samples.js';

const EVENTS = 'events';
const STATE = 'handler-state';
const PUT = 'dynamodb:PutItem';
const GET = 'dynamodb:GetItem';
/** DynamoDB's namespace in `__type`. */
const NS = 'com.amazonaws.dynamodb.v20120810';

const dynalite = useTestDynalite();
let double: AwsDouble;
/** The real DynamoDB client pointed at the double: one attempt, so an error answer is what the adapter sees. */
let client: DynamoDBClient;

beforeAll(async () => {
  double = await startAwsDouble();
  client = new DynamoDBClient(doubleClientConfig(double.endpoint, 'us-east-1'));
  await ensureEventTable(dynalite.client, EVENTS);
  await ensureHandlerStateTable(dynalite.client, STATE);
  for (const name of [EVENTS, STATE]) await activeTable(name);
});
afterAll(async () => {
  client.destroy();
  await double.close();
});
beforeEach(() => {
  double.calls.length = 0;
});

/** ensure…Table returns while dynalite still reports the table CREATING for a tick. */
async function activeTable(name: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const { Table } = await dynalite.client.send(new DescribeTableCommand({ TableName: name }));
    if (Table?.TableStatus === 'ACTIVE') return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`table ${name} did not become ACTIVE`);
}

/** An item read back from dynalite, as DynamoDB's JSON wire format writes it (binary values base64). */
async function storedItem(table: string, key: Record<string, AttributeValue>): Promise<Record<string, unknown>> {
  const { Item } = await dynalite.client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
  if (!Item) throw new Error(`no item ${JSON.stringify(key)} in ${table}`);
  return wire(Item) as Record<string, unknown>;
}

function wire(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(wire);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, wire(v)]));
  return value;
}

/** DynamoDB's failed condition with ALL_OLD: the old item beside the message (which DynamoDB then writes as `Message`). */
const conditionFailedWith = (item: Record<string, unknown>): AwsAnswer =>
  jsonServiceError(`${NS}#ConditionalCheckFailedException`, 'The conditional request failed', {
    jsonVersion: '1.0',
    messageKey: 'Message',
    members: { Item: item },
  });
/** The failed condition with no item, as an emulator (or a condition on a missing item) answers. */
const conditionFailed = (): AwsAnswer =>
  jsonServiceError(`${NS}#ConditionalCheckFailedException`, 'The conditional request failed', { jsonVersion: '1.0' });
const throttled = (table: string): AwsAnswer =>
  jsonServiceError(
    `${NS}#ProvisionedThroughputExceededException`,
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
    {
      jsonVersion: '1.0',
      members: {
        ThrottlingReasons: [
          { reason: 'TableWriteProvisionedThroughputExceeded', resource: `arn:aws:dynamodb:us-east-1:123456789012:table/${table}` },
        ],
      },
    },
  );
const rateExceeded = (): AwsAnswer => jsonServiceError('com.amazon.coral.availability#ThrottlingException', 'Rate exceeded', { jsonVersion: '1.0' });
const denied = (table: string): AwsAnswer =>
  jsonServiceError(
    'com.amazon.coral.service#AccessDeniedException',
    `User: arn:aws:sts::123456789012:assumed-role/fanout/fn is not authorized to perform: dynamodb:PutItem on resource: arn:aws:dynamodb:us-east-1:123456789012:table/${table} because no identity-based policy allows the dynamodb:PutItem action`,
    { jsonVersion: '1.0', messageKey: 'Message' },
  );
const ops = () => double.calls.map((c) => `${c.service}:${c.operation}`);

// ---- the event store ----

let events = 0;
/** A stored event the fan-out would write, a different one per call. */
function storedEvent(extra: Partial<StoredEvent> = {}): StoredEvent {
  const body = JSON.parse(sampleBody('message.didCreate')) as { data: Record<string, unknown> };
  const payload = JSON.stringify({ ...body, data: { ...body.data, n: ++events } });
  return { ...archiveRecordOf(payload, '2025-07-02T09:54:03.221Z'), expiresAt: 1_759_000_000, archivePending: 'req-9', ...extra };
}

const run = (outcome: HandlerRunRecord['outcome'], error?: string): HandlerRunRecord => ({
  outcome,
  attempts: outcome === 'succeeded' ? 1 : 3,
  lastAt: '2025-07-02T10:00:00.000Z',
  durationMs: 12,
  ...(error !== undefined ? { error } : {}),
});
const RUNS = { audit: run('succeeded'), notify: run('failed', 'Social Plus answered 503') };

/** The event as the event table holds it after a first delivery: put, one round of handlers (audit done, notify failed), not archived. */
async function deliveredOnce(e: StoredEvent): Promise<Record<string, unknown>> {
  const store = new DynamoDbEventStore(dynalite.client, EVENTS);
  expect(await store.putIfAbsent(e)).toEqual({ created: true });
  await store.recordHandlerRuns(e.eventId, { runs: RUNS, done: ['audit'], archived: false });
  return storedItem(EVENTS, { PK: { S: `EVENT#${e.eventId}` }, SK: { S: 'EVENT' } });
}

/** What a duplicate delivery must learn about that event. */
const DUPLICATE = { created: false, handlersDone: new Set(['audit']), handlerRuns: RUNS, archivePending: 'req-9' };

describe('DynamoDbEventStore.putIfAbsent: a duplicate', () => {
  it('reads its state from the Item DynamoDB returns with the failed condition: one PutItem, no GetItem', async () => {
    const e = storedEvent();
    const old = await deliveredOnce(e);
    double.answer({ [PUT]: conditionFailedWith(old) });

    expect(await new DynamoDbEventStore(client, EVENTS).putIfAbsent(e)).toEqual(DUPLICATE);
    expect(ops()).toEqual([PUT]);
    expect(double.calls[0]?.input).toMatchObject({
      TableName: EVENTS,
      ConditionExpression: 'attribute_not_exists(PK)',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    // The same state dynalite's path (no Item, a second read) finds for the same item.
    expect(await new DynamoDbEventStore(dynalite.client, EVENTS).putIfAbsent(e)).toEqual(DUPLICATE);
  });

  it('without an Item (as emulators answer), reads the state once, consistently, by the event key', async () => {
    const e = storedEvent();
    const old = await deliveredOnce(e);
    // GetItem answers with the projection it asks for: the state attributes only.
    const projection = Object.fromEntries(['handlers', 'handlerRuns', 'archivePending'].map((k) => [k, old[k]]));
    double.answer({ [PUT]: conditionFailed(), [GET]: jsonServiceAnswer({ Item: projection }, '1.0') });

    expect(await new DynamoDbEventStore(client, EVENTS).putIfAbsent(e)).toEqual(DUPLICATE);
    expect(ops()).toEqual([PUT, GET]);
    expect(double.callsTo(GET)[0]?.input).toEqual({
      TableName: EVENTS,
      Key: { PK: { S: `EVENT#${e.eventId}` }, SK: { S: 'EVENT' } },
      ProjectionExpression: 'handlers, handlerRuns, archivePending',
      ConsistentRead: true,
    });
  });

  it('without an Item and gone by the read → a duplicate with nothing done', async () => {
    double.answer({ [PUT]: conditionFailed(), [GET]: jsonServiceAnswer({}, '1.0') });
    expect(await new DynamoDbEventStore(client, EVENTS).putIfAbsent(storedEvent())).toEqual({
      created: false,
      handlersDone: new Set(),
      handlerRuns: {},
    });
    expect(ops()).toEqual([PUT, GET]);
  });
});

// ---- the handler state table's claims ----

const BAN = { scope: 'global', leaseMs: 60_000, holdMs: 3_600_000 };
const NOW = new Date('2025-07-02T10:00:00.000Z');
const banKey = (userId: string) => ({ PK: { S: `FLAGS#${userId}` }, SK: { S: `BAN#${BAN.scope}` } });

/** The ban marker auto-moderation writes for banning `userId` because of `eventId`: claimed, and completed when `done`. */
async function banMarker(userId: string, eventId: string, done: boolean): Promise<Record<string, unknown>> {
  const store = new DynamoDbFlagCounterStore(dynalite.client, STATE);
  expect(await store.claimBan({ ...BAN, userId, eventId, now: NOW })).toBe('claimed');
  if (done) await store.completeBan({ ...BAN, userId, eventId });
  return storedItem(STATE, banKey(userId));
}

/** A claim of the ban marker of `userId`, conditioned on its absence. */
const claim = (userId: string) =>
  putClaim(client, { TableName: STATE, Item: { ...banKey(userId), state: { S: 'pending' } }, ConditionExpression: 'attribute_not_exists(PK)' });

describe('putClaim: a claim already held', () => {
  it.each([
    ['completed → already-done', 'u-done', true, 'already-done'],
    ['in progress (lease not run out) → in-progress', 'u-pending', false, 'in-progress'],
  ])('reads the holder from the Item DynamoDB returns (%s), with no read after the put', async (_label, userId, done, expected) => {
    const old = await banMarker(userId, 'evt-first', done);
    // Another event's claim, a second later: its own ban record does not exist (GetItem answers no item).
    double.answer({ [GET]: jsonServiceAnswer({}, '1.0'), [PUT]: conditionFailedWith(old) });
    const store = new DynamoDbFlagCounterStore(client, STATE);
    expect(await store.claimBan({ ...BAN, userId, eventId: 'evt-other', now: new Date(NOW.getTime() + 1_000) })).toBe(expected);
    expect(ops()).toEqual([GET, PUT]);
    expect(double.callsTo(GET)[0]?.input.Key).toEqual({ PK: { S: `FLAGS#${userId}` }, SK: { S: 'BANEVENT#evt-other' } });
    expect(double.callsTo(PUT)[0]?.input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('putClaim resolves with the old item as the SDK decoded it, the item dynalite holds', async () => {
    const old = await banMarker('u-decoded', 'evt-decoded', true);
    double.answer({ [PUT]: conditionFailedWith(old) });
    const held = await dynalite.client.send(new GetItemCommand({ TableName: STATE, Key: banKey('u-decoded'), ConsistentRead: true }));
    expect(await claim('u-decoded')).toEqual({ claimed: false, old: held.Item });
    expect(ops()).toEqual([PUT]);
  });

  it('without an Item, reads the claim once, consistently, by its key', async () => {
    const old = await banMarker('u-fallback', 'evt-fallback', true);
    double.answer({ [PUT]: conditionFailed(), [GET]: jsonServiceAnswer({ Item: old }, '1.0') });
    expect(await claim('u-fallback')).toMatchObject({ claimed: false, old: { state: { S: 'done' }, eventId: { S: 'evt-fallback' } } });
    expect(ops()).toEqual([PUT, GET]);
    expect(double.callsTo(GET)[0]?.input).toEqual({ TableName: STATE, Key: banKey('u-fallback'), ConsistentRead: true });
  });
});

// ---- other failures: the SDK's exception, unchanged, and no read ----

describe.each([
  ['DynamoDbEventStore.putIfAbsent', EVENTS, () => new DynamoDbEventStore(client, EVENTS).putIfAbsent(storedEvent())],
  ['putClaim', STATE, () => claim('u-failures')],
])('%s: other failures', (_label, table, put) => {
  it.each([
    [
      'provisioned throughput exceeded',
      () => throttled(table),
      ProvisionedThroughputExceededException,
      { name: 'ProvisionedThroughputExceededException', ThrottlingReasons: [{ reason: 'TableWriteProvisionedThroughputExceeded' }] },
    ],
    ['throttling', rateExceeded, ThrottlingException, { name: 'ThrottlingException', message: 'Rate exceeded' }],
    [
      'access denied',
      () => denied(table),
      DynamoDBServiceException,
      { name: 'AccessDeniedException', message: expect.stringContaining('dynamodb:PutItem') },
    ],
  ])('%s → the SDK exception propagates, nothing is read', async (_what, answer, ExceptionClass, fields) => {
    double.answer({ [PUT]: answer() });
    const err = await put().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExceptionClass);
    expect(err).not.toBeInstanceOf(ConditionalCheckFailedException);
    expect(err).toMatchObject({ $fault: 'client', ...fields });
    expect(ops()).toEqual([PUT]);
  });
});
