/**
 * `socialplus-webhooks events` against real local mode: events sent through the front door,
 * stored and dispatched by the pipeline, read back while it runs (through its admin route) and
 * after it stopped (dynalite opened on its folder); each with its handlers' outcomes and attempts.
 * Then the same on AWS: the real DynamoDB, CloudFormation and Athena clients against the AWS
 * double, answering with the items the fan-out's store adapter writes, in each service's wire format.
 */
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  awsEvent,
  awsEvents,
  handlerRunRows,
  parseQuestion,
  typeOnDaySql,
  type EventDetail,
  type EventRow,
  type HandlerRunRow,
  type ListQuestion,
} from '../../cli/commands/events.js';
import { DynamoDbEventStore } from '../../lambda/adapters/dynamodb-store.js';
import { TABLE } from '../../lambda/common/table-schema.js';
import { defineHandler } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import type { StoredEvent } from '../../lambda/core/ports.js';
import { readDevInfo } from '../../local/dev-lock.js';
import { ADMIN_AUTH_HEADER } from '../../local/http-front-door.js';
import type { LocalPipeline } from '../../local/pipeline.js';
import { runCli } from '../cli/run-cli.js';
import { jsonAnswer, startAwsDouble, type AwsDouble } from '../support/aws-double.js';
import { describeStacks, DOUBLE_CREDENTIALS, doubleClientConfig, isolatedAwsEnv, json10Answer } from '../support/aws-recorded-answers.js';
import { postSignedWebhook, startTempPipeline, stopTempPipeline } from '../support/local-pipeline.js';
import { sampleBody } from '../support/samples.js';
import { withTempDir } from '../support/temp-dir.js';

const SECRET = 'events-command-secret';
/** A handler that succeeds on every event, and one that always fails on flags. */
const RECORDER = 'events-test-recorder';
const FAILING = 'events-test-failing';
const MAX_RECEIVES = 2;

let dir: string;
let pipeline: LocalPipeline | undefined;

/** A distinct body: the sample with one harmless top-level field added. */
const variant = (name: string, copy: string) => `${sampleBody(name).trimEnd().replace(/}$/, '')},"copy":"${copy}"}`;

const SENT = {
  m1: variant('message.didCreate', 'a'), // mika.tan in support-lobby
  m2: variant('message.didCreate', 'b'),
  reaction: variant('message.didAddReaction', 'c'), // on mika's message
  m3: variant('message.didCreate', 'd'),
  ban: variant('channel.didBan', 'e'), // mod.alina in general
  flag: variant('message.didFlag', 'f'), // spam.account.42 in general
};
const id = (body: string) => eventIdOf(body);

async function post(body: string): Promise<void> {
  if (pipeline === undefined) throw new Error('local mode is not running');
  const res = await postSignedWebhook(pipeline.url, body, SECRET);
  expect(res.status).toBe(200);
}

async function events(...args: string[]): Promise<EventRow[]> {
  const run = await runCli(['events', ...args, '--dir', dir, '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as EventRow[];
}

/** Newest first, as the indexes order them: by arrival time, then event id. */
function expectNewestFirst(rows: readonly EventRow[]): void {
  const keys = rows.map((r) => `${r.received_at}#${r.event_id}`);
  expect(keys).toEqual([...keys].sort().reverse());
}

const succeeded = (handler: string) => ({
  handler,
  outcome: 'succeeded',
  attempts: 1,
  last_at: expect.any(String),
  duration_ms: expect.any(Number),
  error: null,
});

beforeAll(async () => {
  ({ dir, pipeline } = await startTempPipeline('events-command-', {
    secret: SECRET,
    handlers: [
      defineHandler({ name: RECORDER, events: ['*'], handle: () => undefined }),
      defineHandler({ name: FAILING, events: ['message.didFlag'], handle: () => Promise.reject(new Error('moderation backend is down')) }),
    ],
    queue: { batchingWindowMs: 10, visibilityTimeoutMs: 50, maxReceiveCount: MAX_RECEIVES },
    stream: { bufferIntervalMs: 50 },
  }));
  // One at a time, each settled, so the arrival order is the sending order.
  for (const body of Object.values(SENT)) {
    await post(body);
    await pipeline.settle();
  }
});

afterAll(() => stopTempPipeline(pipeline, dir));

describe('events while local mode runs', () => {
  it("--user: the user's events from the byActor index, newest first, each with its handlers' runs", async () => {
    const rows = await events('--user', 'mika.tan');
    expect(rows.map((r) => r.event_id)).toEqual([id(SENT.m3), id(SENT.m2), id(SENT.m1)]);
    expectNewestFirst(rows);
    expect(rows[0]).toMatchObject({ event_type: 'message.didCreate', actor_id: 'mika.tan', target_type: 'message', source: 'default' });
    for (const r of rows) expect(r.handlers).toEqual([succeeded(RECORDER)]);
    expect((await events('--user', 'mika.tan', '--limit', '2')).map((r) => r.event_id)).toEqual([id(SENT.m3), id(SENT.m2)]);
    expect(await events('--user', 'nobody')).toEqual([]);
  });

  it("--target: a channel's or message's events from the byTarget index, newest first", async () => {
    expect((await events('--target', 'channel:general')).map((r) => r.event_id)).toEqual([id(SENT.ban)]);
    const onMessage = await events('--target', 'message:6650f1a2b3c4d5e6f7a80111');
    expect(onMessage.map((r) => r.event_id)).toEqual([id(SENT.m3), id(SENT.reaction), id(SENT.m2), id(SENT.m1)]);
  });

  it("shows a failing handler's outcome, attempts and error next to the others'", async () => {
    const [flag] = await events('--user', 'spam.account.42');
    expect(flag?.event_id).toBe(id(SENT.flag));
    expect(flag?.handlers).toEqual([
      {
        handler: FAILING,
        outcome: 'failed',
        attempts: MAX_RECEIVES,
        last_at: expect.any(String),
        duration_ms: expect.any(Number),
        error: 'moderation backend is down',
      },
      succeeded(RECORDER),
    ]);
  });

  it('--type --day: from the archive, each event once, with its handlers from the store', async () => {
    const [flag] = await events('--user', 'spam.account.42');
    const day = (flag?.received_at ?? '').slice(0, 10);
    const rows = await events('--type', 'message.didFlag', '--day', day);
    expect(rows).toEqual([flag]);
    expect((await events('--type', 'v3.message.didCreate', '--day', day)).map((r) => r.event_id).sort()).toEqual(
      [id(SENT.m1), id(SENT.m2), id(SENT.m3)].sort(),
    );
  });

  it('--id: one event, its fields, flags and handler runs; --json prints the object', async () => {
    const run = await runCli(['events', '--id', id(SENT.flag), '--dir', dir, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const event = JSON.parse(run.stdout) as EventDetail;
    expect(event).toMatchObject({
      event_id: id(SENT.flag),
      event_type: 'message.didFlag',
      event_name: 'message.didFlag',
      source: 'default',
      actor_id: 'spam.account.42',
      target_type: 'message',
      deprecated: false,
      flags: [],
      payload_ref: null,
    });
    expect(event.payload_gzip_bytes).toBeGreaterThan(0);
    expect(Date.parse(event.expires_at ?? '')).toBeGreaterThan(Date.parse(event.received_at));
    expect(event.handlers.map((h) => [h.handler, h.outcome, h.attempts])).toEqual([
      [FAILING, 'failed', MAX_RECEIVES],
      [RECORDER, 'succeeded', 1],
    ]);
  });

  it('--id prints the fields, then a table of handler runs', async () => {
    const run = await runCli(['events', '--id', id(SENT.flag), '--dir', dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^event_id +${id(SENT.flag)}$`, 'm'));
    expect(run.stdout).toMatch(/^target +message:6650fb77c0ffee0000000333$/m);
    expect(run.stdout).toMatch(/^handler +│ outcome +│ attempts │ last_at +│ duration_ms │ error$/m);
    expect(run.stdout).toMatch(new RegExp(`^${FAILING} +│ failed +│ +${MAX_RECEIVES} │ [0-9T:.Z-]+ │ +\\d+ │ moderation backend is down$`, 'm'));
    expect(run.stdout).toMatch(new RegExp(`^${RECORDER} │ succeeded │ +1 │ [0-9T:.Z-]+ │ +\\d+ │$`, 'm'));
  });

  it('--id of an event the store does not hold says so and where else to look', async () => {
    const run = await runCli(['events', '--id', '0'.repeat(32), '--dir', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no event ${'0'.repeat(32)} in local mode's store`);
    expect(run.stderr).toContain('socialplus-webhooks query');
  });

  it('prints a table by default, handlers summarised', async () => {
    const run = await runCli(['events', '--user', 'spam.account.42', '--dir', dir]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(
      /^received_at\s+│\s+event_type\s+│\s+event_id\s+│\s+actor_id\s+│\s+target\s+│\s+source\s+│\s+handlers$/,
    );
    expect(run.stdout).toContain(`${FAILING} failed ×${MAX_RECEIVES}, ${RECORDER} succeeded`);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('(1 row)');
  });
});

describe("local mode's DynamoDB admin route", () => {
  async function admin(path: string, body: unknown, token?: string): Promise<{ status: number; json: { message?: string } }> {
    const info = await readDevInfo(join(dir, 'dev.json'));
    const res = await fetch(`${info?.url}/admin${path}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { [ADMIN_AUTH_HEADER]: `Bearer ${token ?? info?.token}`, 'content-type': 'application/json' },
    });
    return { status: res.status, json: (await res.json()) as { message?: string } };
  }

  it('serves only reads, only of its two tables, only with the token', async () => {
    const key = { PK: { S: `EVENT#${id(SENT.m1)}` }, SK: { S: 'EVENT' } };
    expect((await admin('/dynamodb/GetItem', { TableName: pipeline?.tableName, Key: key })).status).toBe(200);
    expect(await admin('/dynamodb/DeleteItem', { TableName: pipeline?.tableName, Key: key })).toEqual({
      status: 404,
      json: { message: 'DynamoDB DeleteItem is not served: only the reads Query, GetItem, BatchGetItem' },
    });
    const other = await admin('/dynamodb/GetItem', { TableName: 'someone-elses', Key: key });
    expect(other.status).toBe(400);
    expect(other.json.message).toMatch(
      /^GetItem may read only the tables socialplus-webhooks-events, socialplus-webhooks-handler-state, not "someone-elses"$/,
    );
    expect((await admin('/dynamodb/BatchGetItem', { RequestItems: { 'someone-elses': { Keys: [key] } } })).status).toBe(400);
    expect((await admin('/dynamodb/GetItem', { TableName: pipeline?.tableName, Key: key }, 'wrong-token-0123456789')).status).toBe(401);
    // The event is still there: nothing was deleted.
    expect(await pipeline?.store.get(id(SENT.m1))).toBeDefined();
  });
});

describe('events once local mode has stopped', () => {
  it('opens the store on its folder and answers the same', async () => {
    const running = await events('--user', 'mika.tan');
    await pipeline?.close();
    pipeline = undefined;
    expect(await events('--user', 'mika.tan')).toEqual(running);
    const [flag] = await events('--user', 'spam.account.42');
    expect(flag?.handlers?.map((h) => h.outcome)).toEqual(['failed', 'succeeded']);
  });

  it('says what to do when there is no store', async () => {
    await withTempDir('events-empty-', async (empty) => {
      const none = await runCli(['events', '--user', 'x', '--dir', empty]);
      expect(none.code).toBe(1);
      expect(none.stderr).toContain('no local event store in');
    });
  });

  it.each([
    [[], 'say which events: --user ID, --target TYPE:ID, --type NAME --day YYYY-MM-DD, or --id EVENT_ID'],
    [['--user', 'a', '--target', 'channel:x'], 'give one of --user, --target, --type with --day, --id (got --user and --target)'],
    [['--id', 'abc'], "--id must be an event id, 32 hexadecimal characters (the event_id column of events and query, and of the logs), got 'abc'"],
    [['--id', '0'.repeat(32), '--limit', '3'], '--limit is for lists; --id shows one event'],
    [['--target', 'general'], "--target must be TYPE:ID (e.g. channel:general), got 'general'"],
    [['--target', 'room:general'], "--target type 'room' is not one of message, channel, post"],
    [['--type', 'message.didFlag'], '--type needs --day YYYY-MM-DD'],
    [['--day', '2025-07-02'], '--day needs --type NAME'],
    [['--type', 'x', '--day', '2025-02-30'], "--day must be a date YYYY-MM-DD, got '2025-02-30'"],
    [['--user', 'a', '--limit', '0'], "--limit must be a whole number from 1 to 1000, got '0'"],
    [['--user', 'a', '--table', 't'], '--table is for --aws'],
  ])('events %j fails naming the problem', async (args, message) => {
    const run = await runCli(['events', ...args, '--dir', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
  });
});

describe('handler runs of an item', () => {
  it('reads handlerRuns, and a handler only marked done (an item written before runs were recorded) as succeeded with unknown attempts', () => {
    expect(
      handlerRunRows({
        handlers: { M: { 'old-handler': { BOOL: true }, 'new-handler': { BOOL: true } } },
        handlerRuns: {
          M: {
            'new-handler': {
              M: { outcome: { S: 'succeeded' }, attempts: { N: '3' }, lastAt: { S: '2025-07-02T10:00:00.000Z' }, durationMs: { N: '12' } },
            },
          },
        },
      }),
    ).toEqual([
      { handler: 'new-handler', outcome: 'succeeded', attempts: 3, last_at: '2025-07-02T10:00:00.000Z', duration_ms: 12, error: null },
      { handler: 'old-handler', outcome: 'succeeded', attempts: null, last_at: null, duration_ms: null, error: null },
    ]);
  });
});

describe('events --aws', () => {
  const TABLE_NAME = 'prod-events';
  const STACK = { EventTableName: TABLE_NAME, AthenaWorkGroupName: 'wg', GlueDatabaseName: 'db' };
  const listQuestion = (opts: Parameters<typeof parseQuestion>[0]): ListQuestion => {
    const q = parseQuestion(opts);
    if (q.kind === 'id') throw new Error('a listing question was expected');
    return q;
  };
  const [a, b, c, g] = ['1', '2', '3', '4'].map((n) => n.repeat(32)) as [string, string, string, string];
  const body = (n: string) => `{"event":"v3.message.didCreate","data":{"n":"${n}"}}`;
  const stored = (eventId: string, receivedAt: string, over: Partial<StoredEvent> = {}): StoredEvent => ({
    eventId,
    eventType: 'message.didCreate',
    eventName: 'v3.message.didCreate',
    receivedAt,
    source: 'default',
    deprecated: false,
    flags: [],
    payload: body(eventId),
    expiresAt: 1759000000,
    actorId: 'mika.tan',
    targetType: 'message',
    targetId: 'm1',
    ...over,
  });
  const EVENTS: Record<string, StoredEvent> = {
    [a]: stored(a, '2025-07-02T08:00:03.000Z', { flags: ['payload-in-s3', 'verification'], payloadRef: 'inbox/large/x' }),
    [b]: stored(b, '2025-07-02T08:00:02.000Z'),
    [c]: stored(c, '2025-07-02T08:00:01.000Z'),
    [g]: stored(g, '2025-07-02T08:00:00.000Z', { actorId: 'mod.alina', targetType: 'channel', targetId: 'general' }),
  };
  /** a's handler runs: one failed twice. */
  const RUNS = {
    'daily-counters': { outcome: 'failed', attempts: 2, lastAt: '2025-07-02T08:00:01.000Z', durationMs: 7, error: 'throttled' },
  } as const;
  const failedRun: HandlerRunRow = {
    handler: 'daily-counters',
    outcome: 'failed',
    attempts: 2,
    last_at: '2025-07-02T08:00:01.000Z',
    duration_ms: 7,
    error: 'throttled',
  };
  const row = (eventId: string, handlers: EventRow['handlers']): EventRow => {
    const e = EVENTS[eventId] as StoredEvent;
    return {
      received_at: e.receivedAt,
      event_type: e.eventType,
      event_id: eventId,
      actor_id: e.actorId ?? null,
      target_type: e.targetType ?? null,
      target_id: e.targetId ?? null,
      source: e.source,
      handlers,
    };
  };

  /**
   * The event items as the fan-out's store writes them, in DynamoDB's wire JSON: each event's
   * PutItem, then a's handler runs from its UpdateItem, captured from the production adapter
   * (DynamoDbEventStore) sending them to a double.
   */
  const items = new Map<string, Record<string, Record<string, unknown>>>();
  beforeAll(async () => {
    const writer = await startAwsDouble({ 'dynamodb:PutItem': json10Answer({}), 'dynamodb:UpdateItem': json10Answer({}) });
    const client = new DynamoDBClient(doubleClientConfig(writer.endpoint));
    try {
      const store = new DynamoDbEventStore(client, TABLE_NAME);
      for (const e of Object.values(EVENTS)) await store.putIfAbsent(e);
      await store.recordHandlerRuns(a, { runs: RUNS, done: [], archived: true });
      for (const put of writer.callsTo('dynamodb:PutItem')) {
        const item = put.input.Item as Record<string, Record<string, unknown>>;
        items.set(String(item.PK?.S).replace(/^EVENT#/, ''), item);
      }
      const [update] = writer.callsTo('dynamodb:UpdateItem');
      const values = update?.input.ExpressionAttributeValues as Record<string, Record<string, unknown>>;
      (items.get(a) as Record<string, Record<string, unknown>>).handlerRuns = values[':runs'] as Record<string, unknown>;
    } finally {
      client.destroy();
      await writer.close();
    }
  });

  /** The attributes of an item a read with this projection returns (names resolved through `#` placeholders). */
  const project = (item: Record<string, unknown>, expression: string, names: Record<string, string> = {}) =>
    Object.fromEntries(
      expression
        .split(',')
        .map((p) => p.trim())
        .map((p) => names[p] ?? p)
        .filter((k) => item[k] !== undefined)
        .map((k) => [k, item[k]]),
    );
  /** What the byActor and byTarget indexes hold of an item: the table's and index's keys, and the projected attributes. */
  const indexed = (eventId: string) =>
    project(
      items.get(eventId) as Record<string, unknown>,
      ['PK', 'SK', 'actorPK', 'actorSK', 'targetPK', 'targetSK', ...TABLE.projectedAttributes].join(','),
    );

  let double: AwsDouble;
  let dynamodb: DynamoDBClient;
  let athena: AthenaClient;
  let cloudFormation: CloudFormationClient;
  beforeEach(async () => {
    double = await startAwsDouble({ 'cloudformation:DescribeStacks': describeStacks({ SocialPlusWebhooks: STACK }) });
    const config = doubleClientConfig(double.endpoint);
    dynamodb = new DynamoDBClient(config);
    athena = new AthenaClient(config);
    cloudFormation = new CloudFormationClient(config);
  });
  afterEach(async () => {
    for (const client of [dynamodb, athena, cloudFormation]) client.destroy();
    await double.close();
  });

  /**
   * The table holding `present` (the others expired by TTL), with index queries answered page by
   * page (`pages`: the event ids of each page; every page but the last ends with a LastEvaluatedKey).
   */
  function answerTable(present: readonly string[], pages: ReadonlyArray<readonly string[]> = []): void {
    let page = 0;
    const inTable = (id: string) => (present.includes(id) ? items.get(id) : undefined);
    double.answer({
      'dynamodb:Query': () => {
        const ids = pages[page++] ?? [];
        const last = ids.at(-1);
        return json10Answer({
          Items: ids.map(indexed),
          Count: ids.length,
          ScannedCount: ids.length,
          ...(page < pages.length && last ? { LastEvaluatedKey: indexed(last) } : {}),
        });
      },
      'dynamodb:BatchGetItem': (call) => {
        const requests = call.input.RequestItems as Record<
          string,
          { Keys: Array<{ PK: { S: string } }>; ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> }
        >;
        const responses = Object.fromEntries(
          Object.entries(requests).map(([table, r]) => [
            table,
            r.Keys.map((k) => inTable(k.PK.S.replace(/^EVENT#/, '')))
              .filter((item) => item !== undefined)
              .map((item) => project(item, r.ProjectionExpression, r.ExpressionAttributeNames)),
          ]),
        );
        return json10Answer({ Responses: responses, UnprocessedKeys: {} });
      },
      'dynamodb:GetItem': (call) => {
        const item = inTable(String((call.input.Key as { PK: { S: string } }).PK.S).replace(/^EVENT#/, ''));
        return json10Answer(item ? { Item: item } : {});
      },
    });
  }

  it("--user queries byActor on the stack's table, following pages up to the limit, then reads the handler runs in one batch", async () => {
    // c is no longer in the table (its TTL passed between the index read and the batch): handlers unknown.
    answerTable([a, b], [[a], [b, c]]);
    const rows = await awsEvents(listQuestion({ user: 'mika.tan' }), 3, { dynamodb, athena, cloudFormation });
    expect(rows).toEqual([row(a, [failedRun]), row(b, []), row(c, null)]);
    expect(double.callsTo('cloudformation:DescribeStacks').map((x) => x.input.StackName)).toEqual(['SocialPlusWebhooks']);
    expect(double.calls.filter((x) => x.service === 'dynamodb').map((x) => [x.operation, x.input])).toEqual([
      [
        'Query',
        {
          TableName: TABLE_NAME,
          IndexName: 'byActor',
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': 'actorPK' },
          ExpressionAttributeValues: { ':pk': { S: 'ACTOR#mika.tan' } },
          ScanIndexForward: false,
          Limit: 3,
        },
      ],
      ['Query', expect.objectContaining({ IndexName: 'byActor', Limit: 2, ExclusiveStartKey: indexed(a) })],
      [
        'BatchGetItem',
        {
          RequestItems: {
            [TABLE_NAME]: expect.objectContaining({ Keys: [a, b, c].map((e) => ({ PK: { S: `EVENT#${e}` }, SK: { S: 'EVENT' } })) }),
          },
        },
      ],
    ]);
    expect(double.calls.filter((x) => x.service === 'athena')).toEqual([]);
  });

  it('--target with --table needs no stack', async () => {
    answerTable([g], [[g]]);
    const rows = await awsEvents(listQuestion({ target: 'channel:general' }), 50, { dynamodb, athena, cloudFormation }, { table: 'my-table' });
    expect(rows).toEqual([row(g, [])]);
    expect(double.callsTo('dynamodb:Query')[0]?.input).toMatchObject({
      TableName: 'my-table',
      IndexName: 'byTarget',
      ExpressionAttributeNames: { '#pk': 'targetPK' },
      ExpressionAttributeValues: { ':pk': { S: 'TARGET#channel#general' } },
    });
    expect(Object.keys(double.callsTo('dynamodb:BatchGetItem')[0]?.input.RequestItems as object)).toEqual(['my-table']);
    expect(double.callsTo('cloudformation:DescribeStacks')).toHaveLength(0);
  });

  it("--id reads the item from the stack's table", async () => {
    answerTable([a, b]);
    const event = await awsEvent(a, { dynamodb, cloudFormation });
    expect(event).toEqual({
      ...row(a, [failedRun]),
      event_name: 'v3.message.didCreate',
      occurred_at: null,
      deprecated: false,
      flags: ['payload-in-s3', 'verification'],
      payload_gzip_bytes: null,
      payload_ref: 'inbox/large/x',
      expires_at: '2025-09-27T19:06:40.000Z',
    });
    expect(double.callsTo('dynamodb:GetItem').map((x) => x.input)).toEqual([
      { TableName: TABLE_NAME, Key: { PK: { S: `EVENT#${a}` }, SK: { S: 'EVENT' } }, ConsistentRead: true },
    ]);
    // An item keeping its payload: the size of the gzip the store wrote, decoded from the wire's base64.
    expect((await awsEvent(b, { dynamodb, cloudFormation })).payload_gzip_bytes).toBe(gzipSync(body(b)).length);
    await expect(awsEvent(c, { dynamodb, cloudFormation })).rejects.toThrow(`no event ${c} in table ${TABLE_NAME}`);
  });

  it("--type --day runs the archive query in the stack's Athena workgroup with quoted parameters", async () => {
    answerTable([a]);
    let polls = 0;
    const header = ['received_at', 'event_type', 'event_id', 'actor_id', 'target_type', 'target_id', 'source'];
    const e = EVENTS[a] as StoredEvent;
    const values = [e.receivedAt, e.eventType, a, 'mika.tan', 'message', 'm1', 'default'];
    const QUERY_ID = '8d1f7a3c-2b4e-4c6d-9e8f-0a1b2c3d4e5f';
    double.answer({
      'athena:StartQueryExecution': jsonAnswer({ QueryExecutionId: QUERY_ID }),
      'athena:GetQueryExecution': () =>
        jsonAnswer({
          QueryExecution: { QueryExecutionId: QUERY_ID, Status: { State: ++polls < 3 ? 'RUNNING' : 'SUCCEEDED', SubmissionDateTime: 1751443200.5 } },
        }),
      'athena:GetQueryResults': jsonAnswer({
        ResultSet: {
          Rows: [{ Data: header.map((VarCharValue) => ({ VarCharValue })) }, { Data: values.map((VarCharValue) => ({ VarCharValue })) }],
          ResultSetMetadata: { ColumnInfo: header.map((Name) => ({ Name, Type: 'varchar', CatalogName: 'hive', Label: Name })) },
        },
        UpdateCount: 0,
      }),
    });
    const sleeps: number[] = [];
    const rows = await awsEvents(
      listQuestion({ type: "v3.it's.didFlag", day: '2025-07-02' }),
      20,
      { dynamodb, athena, cloudFormation },
      {},
      { sleep: async (ms) => void sleeps.push(ms) },
    );
    expect(rows).toEqual([row(a, [failedRun])]);
    expect(double.callsTo('athena:StartQueryExecution').map((x) => x.input)).toEqual([
      {
        QueryString: typeOnDaySql(20),
        WorkGroup: 'wg',
        QueryExecutionContext: { Database: 'db' },
        ExecutionParameters: ["'2025-07-02'", "'it''s.didFlag'", "'it''s.didFlag'"],
        // The SDK's idempotency token: a retried start does not run the query twice.
        ClientRequestToken: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    ]);
    expect(double.callsTo('athena:GetQueryExecution').map((x) => x.input)).toEqual(Array(3).fill({ QueryExecutionId: QUERY_ID }));
    expect(double.callsTo('athena:GetQueryResults').map((x) => x.input)).toEqual([{ QueryExecutionId: QUERY_ID }]);
    expect(sleeps).toEqual([250, 500]);
  });

  it('reports a failed Athena query with its reason, a missing stack, and a stack without the outputs', async () => {
    const reason = "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.db.events' does not exist";
    double.answer({
      'athena:StartQueryExecution': jsonAnswer({ QueryExecutionId: 'q-2' }),
      'athena:GetQueryExecution': jsonAnswer({ QueryExecution: { QueryExecutionId: 'q-2', Status: { State: 'FAILED', StateChangeReason: reason } } }),
    });
    await expect(awsEvents(listQuestion({ type: 'x.y', day: '2025-07-02' }), 5, { dynamodb, athena, cloudFormation })).rejects.toThrow(
      `Athena query q-2 failed: ${reason}`,
    );

    double.answer({ 'cloudformation:DescribeStacks': describeStacks({}) });
    await expect(awsEvents(listQuestion({ user: 'u' }), 5, { dynamodb, athena, cloudFormation })).rejects.toThrow(
      "stack 'SocialPlusWebhooks' was not found in this account and region: deploy it (npx cdk deploy), or name yours with --stack and its region with --region, or give --table",
    );

    double.answer({ 'cloudformation:DescribeStacks': describeStacks({ SocialPlusWebhooks: {} }) });
    await expect(awsEvents(listQuestion({ user: 'u' }), 5, { dynamodb, athena, cloudFormation })).rejects.toThrow(
      "stack 'SocialPlusWebhooks' has no output EventTableName: is it a socialplus-webhooks stack, deployed with this version (npx cdk deploy)? Otherwise pass --table. Outputs found: none",
    );
    expect(double.calls.filter((x) => x.service === 'dynamodb')).toEqual([]);
  });

  it("reports missing credentials as the SDK's credential chain finds none, before anything is sent", async () => {
    await withTempDir('events-aws-', async (scratch) => {
      const run = await runCli(
        ['events', '--aws', '--user', 'u', '--table', TABLE_NAME],
        isolatedAwsEnv(scratch, { AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL: double.endpoint }),
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `socialplus-webhooks: could not query the event table ${TABLE_NAME} (dynamodb:Query): no usable AWS credentials (Could not load credentials from any providers); configure them (aws configure, aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)\n`,
      );
    });
    expect(double.calls).toEqual([]);
  });

  it('answers through the CLI with clients it builds itself, pointed at AWS by the environment', async () => {
    answerTable([a, b], [[a, b]]);
    await withTempDir('events-aws-', async (scratch) => {
      const run = await runCli(
        ['events', '--aws', '--user', 'mika.tan', '--json'],
        isolatedAwsEnv(scratch, {
          AWS_REGION: 'eu-west-1',
          AWS_ACCESS_KEY_ID: DOUBLE_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: DOUBLE_CREDENTIALS.secretAccessKey,
          AWS_ENDPOINT_URL: double.endpoint,
        }),
      );
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual([row(a, [failedRun]), row(b, [])]);
    });
    expect(double.calls.map((x) => `${x.service}:${x.operation}`)).toEqual([
      'cloudformation:DescribeStacks',
      'dynamodb:Query',
      'dynamodb:BatchGetItem',
    ]);
  });
});
