/**
 * `socialplus-webhooks events`: a user's and a target's events from the store's indexes (local
 * dynalite, opened from its folder or through a running dev's endpoint), a type on a day from the
 * archive, and the same on AWS with fake DynamoDB, CloudFormation and Athena clients.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsEvents, parseQuestion, typeOnDaySql, type EventRow } from '../../cli/commands/events.js';
import { DynamoDbEventStore } from '../../lambda/adapters/dynamodb-store.js';
import { archiveLine, partitionPrefix } from '../../lambda/core/archive-layout.js';
import { parseEvent } from '../../lambda/core/envelope.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import type { StoredEvent } from '../../lambda/core/ports.js';
import { sampleEvent } from '../../lambda/fanout/kit/testing.js';
import { ensureEventTable, localDynamoDbClient, startDynalite } from '../../local/emulators.js';
import { LOCAL_TABLE_NAME, localPaths } from '../../local/paths.js';
import { runCli } from '../cli/run-cli.js';
import { awsError, FakeAwsClient } from '../support/fake-aws-client.js';

/** A stored event for a sample, made distinct by `copy`, received at `receivedAt`. */
function stored(sample: string, copy: string, receivedAt: string): StoredEvent {
  const payload = JSON.stringify({ ...(sampleEvent(sample) as object), copy });
  const parsed = parseEvent(payload);
  return {
    eventId: eventIdOf(payload), eventType: parsed.eventType, eventName: parsed.eventName, receivedAt, source: 'default',
    deprecated: parsed.deprecated, flags: parsed.flags, payload, expiresAt: 4_102_444_800, ...parsed.entities,
  };
}

const EVENTS = [
  stored('message.didCreate', 'a', '2025-07-02T08:00:00.000Z'), // mika.tan in support-lobby
  stored('message.didCreate', 'b', '2025-07-02T09:00:00.000Z'),
  stored('message.didAddReaction', 'c', '2025-07-02T10:00:00.000Z'), // ben.w reacting to mika's message
  stored('message.didCreate', 'd', '2025-07-03T07:00:00.000Z'),
  stored('channel.didBan', 'e', '2025-07-02T11:00:00.000Z'), // mod.alina in general
  stored('message.didFlag', 'f', '2025-07-02T12:00:00.000Z'), // spam.account.42 in general
];
const [m1, m2, reaction, m3, ban, flag] = EVENTS as [StoredEvent, StoredEvent, StoredEvent, StoredEvent, StoredEvent, StoredEvent];

const row = (e: StoredEvent): EventRow => ({
  received_at: e.receivedAt, event_type: e.eventType, event_id: e.eventId,
  actor_id: e.actorId ?? null, target_type: e.targetType ?? null, target_id: e.targetId ?? null, source: e.source,
});

let tmp: string;
let root: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'events-command-'));
  root = join(tmp, 'local');
  const dynalite = await startDynalite({ dir: localPaths(root).dynamodb });
  const client = localDynamoDbClient(dynalite.endpoint);
  await ensureEventTable(client, LOCAL_TABLE_NAME);
  const store = new DynamoDbEventStore(client, LOCAL_TABLE_NAME);
  for (const e of EVENTS) await store.putIfAbsent(e);
  client.destroy();
  await dynalite.close();
  // The archive, as a plain events/ copy: both flags-day events, one delivered twice.
  for (const e of [flag, ban, flag, m3]) {
    const dir = join(root, partitionPrefix(new Date(e.receivedAt)));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${e.eventId}-${Math.random().toString(36).slice(2)}.gz`), gzipSync(archiveLine({ ...e })));
  }
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

async function events(...args: string[]): Promise<EventRow[]> {
  const run = await runCli(['events', ...args, '--dir', root, '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as EventRow[];
}

describe('events, local mode', () => {
  it("--user: the user's events from the byActor index, newest first", async () => {
    expect(await events('--user', 'mika.tan')).toEqual([row(m3), row(m2), row(m1)]);
    expect(await events('--user', 'mika.tan', '--limit', '2')).toEqual([row(m3), row(m2)]);
    expect(await events('--user', 'nobody')).toEqual([]);
  });

  it("--target: a channel's or message's events from the byTarget index, newest first", async () => {
    expect(await events('--target', 'channel:general')).toEqual([row(ban)]);
    expect(await events('--target', `message:${m1.targetId}`)).toEqual([row(m3), row(reaction), row(m2), row(m1)]);
  });

  it('--type --day: from the archive, each event once, routing or raw name', async () => {
    expect(await events('--type', 'message.didFlag', '--day', '2025-07-02')).toEqual([row(flag)]);
    expect(await events('--type', 'channel.didBan', '--day', '2025-07-02')).toEqual([row(ban)]);
    expect(await events('--type', 'message.didFlag', '--day', '2025-07-03')).toEqual([]);
  });

  it('prints a table by default', async () => {
    const run = await runCli(['events', '--user', 'mika.tan', '--dir', root]);
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n')[0]).toMatch(/^received_at\s+│\s+event_type\s+│\s+event_id\s+│\s+actor_id\s+│\s+target\s+│\s+source$/);
    expect(run.stdout).toContain(`message:${m1.targetId}`);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe('(3 rows)');
  });

  it('reads through the endpoint a running dev publishes in dev.json', async () => {
    const other = join(tmp, 'running');
    mkdirSync(other, { recursive: true });
    const dynalite = await startDynalite();
    const client = localDynamoDbClient(dynalite.endpoint);
    try {
      await ensureEventTable(client, LOCAL_TABLE_NAME);
      await new DynamoDbEventStore(client, LOCAL_TABLE_NAME).putIfAbsent(flag);
      writeFileSync(join(other, 'dev.pid'), `${process.pid}\n`);
      writeFileSync(join(other, 'dev.json'), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:1', token: 't', startedAt: '', dynamodb: dynalite.endpoint }));
      const run = await runCli(['events', '--user', 'spam.account.42', '--dir', other, '--json']);
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual([row(flag)]);
    } finally {
      client.destroy();
      await dynalite.close();
    }
  });

  it('says what to do when dev runs without publishing an endpoint, or when there is no store', async () => {
    const busy = join(tmp, 'busy');
    mkdirSync(busy, { recursive: true });
    writeFileSync(join(busy, 'dev.pid'), `${process.pid}\n`);
    const running = await runCli(['events', '--user', 'x', '--dir', busy]);
    expect(running.code).toBe(1);
    expect(running.stderr).toContain(`local mode is running (process ${process.pid}) and holds the event store`);

    const empty = join(tmp, 'empty');
    mkdirSync(empty, { recursive: true });
    const none = await runCli(['events', '--user', 'x', '--dir', empty]);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no local event store in');
  });

  it.each([
    [[], 'say which events: --user ID, --target TYPE:ID, or --type NAME --day YYYY-MM-DD'],
    [['--user', 'a', '--target', 'channel:x'], 'give one of --user, --target, --type with --day (got --user and --target)'],
    [['--target', 'general'], "--target must be TYPE:ID (e.g. channel:general), got 'general'"],
    [['--target', 'room:general'], "--target type 'room' is not one of message, channel, post"],
    [['--type', 'message.didFlag'], '--type needs --day YYYY-MM-DD'],
    [['--day', '2025-07-02'], '--day needs --type NAME'],
    [['--type', 'x', '--day', '2025-02-30'], "--day must be a date YYYY-MM-DD, got '2025-02-30'"],
    [['--user', 'a', '--limit', '0'], "--limit must be a whole number from 1 to 1000, got '0'"],
    [['--user', 'a', '--table', 't'], '--table is for --aws'],
  ])('events %j fails naming the problem', async (args, message) => {
    const run = await runCli(['events', ...args, '--dir', root]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
  });
});

describe('events --aws', () => {
  const outputs = (extra: Record<string, string> = {}) => new FakeAwsClient(() => ({
    Stacks: [{ Outputs: Object.entries({ EventTableName: 'prod-events', AthenaWorkGroupName: 'wg', GlueDatabaseName: 'db', ...extra }).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
  }));
  const item = (e: StoredEvent) => ({
    PK: { S: `EVENT#${e.eventId}` }, eventType: { S: e.eventType }, receivedAt: { S: e.receivedAt }, source: { S: e.source },
    ...(e.actorId ? { actorId: { S: e.actorId } } : {}),
    ...(e.targetType ? { targetType: { S: e.targetType }, targetId: { S: e.targetId as string } } : {}),
  });

  it('--user queries byActor on the stack\'s table, following pages up to the limit', async () => {
    const cfn = outputs();
    const dynamodb = new FakeAwsClient((_c, i) => (i === 0 ? { Items: [item(m3)], LastEvaluatedKey: { PK: { S: 'x' } } } : { Items: [item(m2), item(m1)] }));
    const athena = new FakeAwsClient();
    const rows = await awsEvents(parseQuestion({ user: 'mika.tan' }), 3, { dynamodb: dynamodb.as(), athena: athena.as(), cloudFormation: cfn.as() });
    expect(rows).toEqual([row(m3), row(m2), row(m1)]);
    expect(cfn.commands[0]).toMatchObject({ name: 'DescribeStacksCommand', input: { StackName: 'SocialPlusWebhooks' } });
    expect(dynamodb.commands.map((c) => c.input)).toEqual([
      expect.objectContaining({ TableName: 'prod-events', IndexName: 'byActor', ExpressionAttributeValues: { ':pk': { S: 'ACTOR#mika.tan' } }, ScanIndexForward: false, Limit: 3 }),
      expect.objectContaining({ Limit: 2, ExclusiveStartKey: { PK: { S: 'x' } } }),
    ]);
  });

  it('--target with --table needs no stack', async () => {
    const cfn = new FakeAwsClient(() => {
      throw new Error('not called');
    });
    const dynamodb = new FakeAwsClient(() => ({ Items: [item(ban)] }));
    const rows = await awsEvents(parseQuestion({ target: 'channel:general' }), 50, { dynamodb: dynamodb.as(), athena: new FakeAwsClient().as(), cloudFormation: cfn.as() }, { table: 'my-table' });
    expect(rows).toEqual([row(ban)]);
    expect(dynamodb.commands[0]?.input).toMatchObject({ TableName: 'my-table', IndexName: 'byTarget', ExpressionAttributeValues: { ':pk': { S: 'TARGET#channel#general' } } });
    expect(cfn.commands).toHaveLength(0);
  });

  it('--type --day runs the archive query in the stack\'s Athena workgroup with quoted parameters', async () => {
    let polls = 0;
    const athena = new FakeAwsClient((c) => {
      switch (c.name) {
        case 'StartQueryExecutionCommand':
          return { QueryExecutionId: 'q-1' };
        case 'GetQueryExecutionCommand':
          return { QueryExecution: { Status: { State: ++polls < 3 ? 'RUNNING' : 'SUCCEEDED' } } };
        default: {
          const header = ['received_at', 'event_type', 'event_id', 'actor_id', 'target_type', 'target_id', 'source'];
          const values = [flag.receivedAt, flag.eventType, flag.eventId, flag.actorId, flag.targetType, flag.targetId, flag.source];
          return { ResultSet: { Rows: [{ Data: header.map((VarCharValue) => ({ VarCharValue })) }, { Data: values.map((VarCharValue) => ({ VarCharValue })) }] } };
        }
      }
    });
    const sleeps: number[] = [];
    const rows = await awsEvents(parseQuestion({ type: "v3.it's.didFlag", day: '2025-07-02' }), 20, { dynamodb: new FakeAwsClient().as(), athena: athena.as(), cloudFormation: outputs().as() }, {}, { sleep: async (ms) => void sleeps.push(ms) });
    expect(rows).toEqual([row(flag)]);
    expect(athena.commands[0]?.input).toEqual({
      QueryString: typeOnDaySql(20),
      WorkGroup: 'wg',
      QueryExecutionContext: { Database: 'db' },
      ExecutionParameters: ["'2025-07-02'", "'it''s.didFlag'", "'it''s.didFlag'"],
    });
    expect(sleeps).toEqual([250, 500]);
  });

  it('reports a failed Athena query with its reason, a missing stack, and missing credentials', async () => {
    const failed = new FakeAwsClient((c) => (c.name === 'StartQueryExecutionCommand' ? { QueryExecutionId: 'q-2' } : { QueryExecution: { Status: { State: 'FAILED', StateChangeReason: 'TABLE_NOT_FOUND' } } }));
    await expect(awsEvents(parseQuestion({ type: 'x.y', day: '2025-07-02' }), 5, { dynamodb: new FakeAwsClient().as(), athena: failed.as(), cloudFormation: outputs().as() }))
      .rejects.toThrow('Athena query q-2 failed: TABLE_NOT_FOUND');

    const missing = new FakeAwsClient(() => {
      throw Object.assign(awsError('ValidationError'), { message: 'Stack with id SocialPlusWebhooks does not exist' });
    });
    await expect(awsEvents(parseQuestion({ user: 'u' }), 5, { dynamodb: new FakeAwsClient().as(), athena: new FakeAwsClient().as(), cloudFormation: missing.as() }))
      .rejects.toThrow("stack 'SocialPlusWebhooks' not found in this account and region");

    const noCreds = new FakeAwsClient(() => {
      throw awsError('CredentialsProviderError', 'Could not load credentials from any providers');
    });
    await expect(awsEvents(parseQuestion({ user: 'u' }), 5, { dynamodb: noCreds.as(), athena: new FakeAwsClient().as(), cloudFormation: outputs().as() }))
      .rejects.toThrow('DynamoDB Query on table prod-events: no AWS credentials');

    await expect(awsEvents(parseQuestion({ user: 'u' }), 5, { dynamodb: new FakeAwsClient().as(), athena: new FakeAwsClient().as(), cloudFormation: new FakeAwsClient(() => ({ Stacks: [{ Outputs: [] }] })).as() }))
      .rejects.toThrow("stack 'SocialPlusWebhooks' has no output EventTableName: is it a socialplus-webhooks stack? Otherwise pass --table");
  });
});
