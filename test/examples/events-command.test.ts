/**
 * `socialplus-webhooks events` against real local mode: events sent through the front door,
 * stored and dispatched by the pipeline, read back while it runs (through its admin route) and
 * after it stopped (dynalite opened on its folder); each with its handlers' outcomes and attempts.
 * Then the same on AWS with fake DynamoDB, CloudFormation and Athena clients.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  awsEvent,
  awsEvents,
  handlerRunRows,
  parseQuestion,
  typeOnDaySql,
  type EventDetail,
  type EventRow,
  type ListQuestion,
} from '../../cli/commands/events.js';
import { defineHandler } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { readDevInfo } from '../../local/dev-lock.js';
import { ADMIN_AUTH_HEADER } from '../../local/http-front-door.js';
import type { LocalPipeline } from '../../local/pipeline.js';
import { runCli } from '../cli/run-cli.js';
import { awsError, FakeAwsClient } from '../support/fake-aws-client.js';
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
  const listQuestion = (opts: Parameters<typeof parseQuestion>[0]): ListQuestion => {
    const q = parseQuestion(opts);
    if (q.kind === 'id') throw new Error('a listing question was expected');
    return q;
  };
  const outputs = (extra: Record<string, string> = {}) =>
    new FakeAwsClient(() => ({
      Stacks: [
        {
          Outputs: Object.entries({ EventTableName: 'prod-events', AthenaWorkGroupName: 'wg', GlueDatabaseName: 'db', ...extra }).map(
            ([OutputKey, OutputValue]) => ({ OutputKey, OutputValue }),
          ),
        },
      ],
    }));
  const EVENT = { id: 'a'.repeat(32), type: 'message.didCreate', at: '2025-07-02T08:00:00.000Z' };
  const item = (eventId: string, receivedAt: string) => ({
    PK: { S: `EVENT#${eventId}` },
    eventType: { S: EVENT.type },
    receivedAt: { S: receivedAt },
    source: { S: 'default' },
    actorId: { S: 'mika.tan' },
    targetType: { S: 'message' },
    targetId: { S: 'm1' },
  });
  const runs = (eventId: string) => ({
    PK: { S: `EVENT#${eventId}` },
    handlerRuns: {
      M: {
        'daily-counters': {
          M: {
            outcome: { S: 'failed' },
            attempts: { N: '2' },
            lastAt: { S: '2025-07-02T08:00:01.000Z' },
            durationMs: { N: '7' },
            error: { S: 'throttled' },
          },
        },
      },
    },
  });
  const failedRun = {
    handler: 'daily-counters',
    outcome: 'failed',
    attempts: 2,
    last_at: '2025-07-02T08:00:01.000Z',
    duration_ms: 7,
    error: 'throttled',
  };
  const row = (eventId: string, receivedAt: string, handlers: unknown): EventRow => ({
    received_at: receivedAt,
    event_type: EVENT.type,
    event_id: eventId,
    actor_id: 'mika.tan',
    target_type: 'message',
    target_id: 'm1',
    source: 'default',
    handlers: handlers as EventRow['handlers'],
  });
  const [a, b, c] = ['1', '2', '3'].map((n) => n.repeat(32)) as [string, string, string];

  it("--user queries byActor on the stack's table, following pages up to the limit, then reads the handler runs in one batch", async () => {
    const cfn = outputs();
    const dynamodb = new FakeAwsClient((cmd, i) => {
      if (cmd.name === 'BatchGetItemCommand') return { Responses: { 'prod-events': [runs(a), { PK: { S: `EVENT#${b}` } }] } };
      return i === 0 ? { Items: [item(a, '3')], LastEvaluatedKey: { PK: { S: 'x' } } } : { Items: [item(b, '2'), item(c, '1')] };
    });
    const rows = await awsEvents(listQuestion({ user: 'mika.tan' }), 3, {
      dynamodb: dynamodb.as(),
      athena: new FakeAwsClient().as(),
      cloudFormation: cfn.as(),
    });
    // c is no longer in the table (its TTL passed between the index read and the batch): handlers unknown.
    expect(rows).toEqual([row(a, '3', [failedRun]), row(b, '2', []), row(c, '1', null)]);
    expect(cfn.commands[0]).toMatchObject({ name: 'DescribeStacksCommand', input: { StackName: 'SocialPlusWebhooks' } });
    expect(dynamodb.commands.map((x) => x.input)).toEqual([
      expect.objectContaining({
        TableName: 'prod-events',
        IndexName: 'byActor',
        ExpressionAttributeValues: { ':pk': { S: 'ACTOR#mika.tan' } },
        ScanIndexForward: false,
        Limit: 3,
      }),
      expect.objectContaining({ Limit: 2, ExclusiveStartKey: { PK: { S: 'x' } } }),
      { RequestItems: { 'prod-events': expect.objectContaining({ Keys: [a, b, c].map((e) => ({ PK: { S: `EVENT#${e}` }, SK: { S: 'EVENT' } })) }) } },
    ]);
  });

  it('--target with --table needs no stack', async () => {
    const cfn = new FakeAwsClient(() => {
      throw new Error('not called');
    });
    const dynamodb = new FakeAwsClient((cmd) => (cmd.name === 'QueryCommand' ? { Items: [item(a, '1')] } : { Responses: { 'my-table': [runs(a)] } }));
    const rows = await awsEvents(
      listQuestion({ target: 'channel:general' }),
      50,
      { dynamodb: dynamodb.as(), athena: new FakeAwsClient().as(), cloudFormation: cfn.as() },
      { table: 'my-table' },
    );
    expect(rows).toEqual([row(a, '1', [failedRun])]);
    expect(dynamodb.commands[0]?.input).toMatchObject({
      TableName: 'my-table',
      IndexName: 'byTarget',
      ExpressionAttributeValues: { ':pk': { S: 'TARGET#channel#general' } },
    });
    expect(cfn.commands).toHaveLength(0);
  });

  it("--id reads the item from the stack's table", async () => {
    const dynamodb = new FakeAwsClient(() => ({
      Item: {
        ...item(a, EVENT.at),
        ...runs(a),
        eventName: { S: 'v3.message.didCreate' },
        flags: { SS: ['verification'] },
        payloadRef: { S: 'inbox/large/x' },
        expiresAt: { N: '1759000000' },
      },
    }));
    const event = await awsEvent(a, { dynamodb: dynamodb.as(), cloudFormation: outputs().as() });
    expect(event).toEqual({
      ...row(a, EVENT.at, [failedRun]),
      event_name: 'v3.message.didCreate',
      occurred_at: null,
      deprecated: false,
      flags: ['verification'],
      payload_gzip_bytes: null,
      payload_ref: 'inbox/large/x',
      expires_at: '2025-09-27T19:06:40.000Z',
    });
    expect(dynamodb.commands[0]).toMatchObject({
      name: 'GetItemCommand',
      input: { TableName: 'prod-events', Key: { PK: { S: `EVENT#${a}` }, SK: { S: 'EVENT' } }, ConsistentRead: true },
    });
    await expect(awsEvent(b, { dynamodb: new FakeAwsClient(() => ({})).as(), cloudFormation: outputs().as() })).rejects.toThrow(
      `no event ${b} in table prod-events`,
    );
  });

  it("--type --day runs the archive query in the stack's Athena workgroup with quoted parameters", async () => {
    let polls = 0;
    const athena = new FakeAwsClient((cmd) => {
      switch (cmd.name) {
        case 'StartQueryExecutionCommand':
          return { QueryExecutionId: 'q-1' };
        case 'GetQueryExecutionCommand':
          return { QueryExecution: { Status: { State: ++polls < 3 ? 'RUNNING' : 'SUCCEEDED' } } };
        default: {
          const header = ['received_at', 'event_type', 'event_id', 'actor_id', 'target_type', 'target_id', 'source'];
          const values = [EVENT.at, EVENT.type, a, 'mika.tan', 'message', 'm1', 'default'];
          return {
            ResultSet: {
              Rows: [{ Data: header.map((VarCharValue) => ({ VarCharValue })) }, { Data: values.map((VarCharValue) => ({ VarCharValue })) }],
            },
          };
        }
      }
    });
    const dynamodb = new FakeAwsClient(() => ({ Responses: { 'prod-events': [runs(a)] } }));
    const sleeps: number[] = [];
    const rows = await awsEvents(
      listQuestion({ type: "v3.it's.didFlag", day: '2025-07-02' }),
      20,
      { dynamodb: dynamodb.as(), athena: athena.as(), cloudFormation: outputs().as() },
      {},
      { sleep: async (ms) => void sleeps.push(ms) },
    );
    expect(rows).toEqual([row(a, EVENT.at, [failedRun])]);
    expect(athena.commands[0]?.input).toEqual({
      QueryString: typeOnDaySql(20),
      WorkGroup: 'wg',
      QueryExecutionContext: { Database: 'db' },
      ExecutionParameters: ["'2025-07-02'", "'it''s.didFlag'", "'it''s.didFlag'"],
    });
    expect(sleeps).toEqual([250, 500]);
  });

  it('reports a failed Athena query with its reason, a missing stack, and missing credentials', async () => {
    const failed = new FakeAwsClient((cmd) =>
      cmd.name === 'StartQueryExecutionCommand'
        ? { QueryExecutionId: 'q-2' }
        : { QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND' } } },
    );
    await expect(
      awsEvents(listQuestion({ type: 'x.y', day: '2025-07-02' }), 5, {
        dynamodb: new FakeAwsClient().as(),
        athena: failed.as(),
        cloudFormation: outputs().as(),
      }),
    ).rejects.toThrow('Athena query q-2 failed: TABLE_NOT_FOUND');

    const missing = new FakeAwsClient(() => {
      throw Object.assign(awsError('ValidationError'), { message: 'Stack with id SocialPlusWebhooks does not exist' });
    });
    await expect(
      awsEvents(listQuestion({ user: 'u' }), 5, {
        dynamodb: new FakeAwsClient().as(),
        athena: new FakeAwsClient().as(),
        cloudFormation: missing.as(),
      }),
    ).rejects.toThrow(
      "stack 'SocialPlusWebhooks' was not found in this account and region: deploy it (npx cdk deploy), or name yours with --stack and its region with --region, or give --table",
    );

    const noCreds = new FakeAwsClient(() => {
      throw awsError('CredentialsProviderError', 'Could not load credentials from any providers');
    });
    await expect(
      awsEvents(listQuestion({ user: 'u' }), 5, { dynamodb: noCreds.as(), athena: new FakeAwsClient().as(), cloudFormation: outputs().as() }),
    ).rejects.toThrow(
      'could not query the event table prod-events (dynamodb:Query): no usable AWS credentials (Could not load credentials from any providers)',
    );

    await expect(
      awsEvents(listQuestion({ user: 'u' }), 5, {
        dynamodb: new FakeAwsClient().as(),
        athena: new FakeAwsClient().as(),
        cloudFormation: new FakeAwsClient(() => ({ Stacks: [{ Outputs: [] }] })).as(),
      }),
    ).rejects.toThrow(
      "stack 'SocialPlusWebhooks' has no output EventTableName: is it a socialplus-webhooks stack, deployed with this version (npx cdk deploy)? Otherwise pass --table. Outputs found: none",
    );
  });
});
