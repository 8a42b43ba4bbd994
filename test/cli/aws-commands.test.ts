/**
 * The `--aws` commands through the CLI's entry (`runCli`, which calls `main()`): `status`, `events`,
 * `state`, `redrive` and `replay`, each building its real SDK clients from `--region` and reading
 * the stack named by `--stack`, against the AWS double (`test/support/aws-double.ts`) pointed at
 * by the SDK's own `AWS_ENDPOINT_URL`. Each run checks what is printed, that the outputs came from
 * DescribeStacks of exactly that stack, that every request was signed for the region given (the
 * SigV4 credential scope), and the inputs of the calls that followed; and, per command, that an
 * account that refuses the call (AccessDenied, in the service's own wire shape) gets a message
 * naming what was refused and a non-zero exit code.
 *
 * The DynamoDB answers are recorded, not written by hand: the event and handler-state items are
 * written into dynalite by the production writers (`DynamoDbEventStore`, `DynamoDbDailyCounterStore`),
 * then the production readers ask dynalite the same questions the command will ask, through a
 * client that keeps each wire answer by request body; the double serves those answers only to a
 * request with the very same body.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { readEvent, queryIndex, withHandlerRuns, type ListedEvent } from '../../cli/events/event-store.js';
import { readDayCounters } from '../../cli/state/handler-state.js';
import { DynamoDbDailyCounterStore } from '../../lambda/adapters/daily-counters-store.js';
import { DynamoDbEventStore } from '../../lambda/adapters/dynamodb-store.js';
import { ensureHandlerStateTable } from '../../lambda/adapters/handler-state-table.js';
import { archiveLine, partitionPrefix, type ArchiveRecord } from '../../lambda/core/archive-layout.js';
import type { StoredEvent } from '../../lambda/core/ports.js';
import { ensureEventTable, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/emulators.js';
import { archiveRecordOf } from '../support/archive-records.js';
import {
  awsDoubleEnv,
  escapeXml,
  jsonAnswer,
  queryAnswer,
  queryError,
  startAwsDouble,
  type AwsAnswer,
  type AwsCall,
  type AwsDouble,
} from '../support/aws-double.js';
import { isolatedAwsEnv } from '../support/aws-recorded-answers.js';
import { describeStacksFor, type StackOutputValues } from '../support/aws-stack-answers.js';
import { useTestDynalite } from '../support/emulators.js';
import { sampleBody } from '../support/samples.js';
import { runCli } from './run-cli.js';

const ACCOUNT = '123456789012';
/** The region given with --region; the environment's AWS_REGION is another, which no client may use. */
const REGION = 'eu-central-1';
const ENV_REGION = 'us-east-1';
const STACK = { name: 'Webhooks-Prod', region: REGION, account: ACCOUNT };
const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/ReadOnly/mika.tan`;
const OPERATOR_ROLE = `arn:aws:iam::${ACCOUNT}:role/Webhooks-Prod-OperatorRole1A2B3C4D-Q1w2E3r4T5y6`;
/** The operator role's session, as STS hands it out. */
const SESSION = { key: 'ASIAQNZGKIQY4EXAMPLE', secret: 'Kx9vS2mT7qL4pW8nB3cR6jH1fD5gZ0yUeXAMPLE', token: 'IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN' };

let double: AwsDouble;
beforeEach(async () => {
  double = await startAwsDouble();
});
afterEach(async () => {
  vi.useRealTimers();
  await double.close();
});

/** Only what the test sets: no profile, config file, container or instance credentials of this machine. */
function env(extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return isolatedAwsEnv(join(tmpdir(), 'aws-commands-test'), { ...awsDoubleEnv(double.endpoint, ENV_REGION), ...extra });
}

/** The `--stack` and `--region` every run gives. */
const TARGET = ['--stack', STACK.name, '--region', REGION];

/** The SigV4 credential scope of a request: its access key, region and service. */
function scopeOf(call: AwsCall): { key: string; region: string; service: string } {
  const m = /Credential=([^/]+)\/\d{8}\/([^/]+)\/([^/]+)\/aws4_request/.exec(call.headers.authorization ?? '');
  if (!m) throw new Error(`request ${call.service}:${call.operation} is not SigV4-signed: ${call.headers.authorization ?? 'no Authorization'}`);
  return { key: m[1] as string, region: m[2] as string, service: m[3] as string };
}

/** The calls, as `service:operation`, in order. */
const operations = () => double.calls.map((c) => `${c.service}:${c.operation}`);

/** Every request was signed for --region, and the stack read was exactly --stack's, once. */
function expectTargetedCalls(): void {
  expect(double.calls.length).toBeGreaterThan(0);
  for (const call of double.calls) expect(scopeOf(call).region, `${call.service}:${call.operation}`).toBe(REGION);
  expect(double.callsTo('cloudformation:DescribeStacks').map((c) => c.input.StackName)).toEqual([STACK.name]);
}

/** The stack's queues, on the double's origin: SQS clients send to the queue URL's own host. */
const queueUrl = (name: string) => `${double.endpoint}/${ACCOUNT}/${name}`;
const QUEUE = 'Webhooks-Prod-QueueEventQueue1F2E3D4C-AbCdEfGhIjKl';
const DLQ = 'Webhooks-Prod-QueueDeadLetterQueue9A8B7C6D-MnOpQrStUvWx';
const queueArn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;

/** The stack's DescribeStacks answer with these outputs. */
function stackWith(outputs: StackOutputValues): void {
  double.answer({ 'cloudformation:DescribeStacks': describeStacksFor(STACK, outputs) });
}

// ---- AccessDenied, as each service sends it ----

const denied = (action: string, resource: string) =>
  `User: ${CALLER} is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`;

/** The query protocol's (CloudFormation, STS) refusal. */
const queryDenied = (action: string, resource: string) => queryError('AccessDenied', denied(action, resource), 403);

/** DynamoDB's refusal (JSON 1.0). */
function dynamoDbDenied(action: string, resource: string): AwsAnswer {
  return {
    status: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'R7Q2KJ4V8N3M1P6L0S9T5U2W4X8Y6Z1A3B5C7D9E0F2G4H6' },
    body: JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#AccessDeniedException', Message: denied(action, resource) }),
  };
}

/** SQS's refusal (JSON 1.0, with the query-compatible error code). */
function sqsDenied(action: string, resource: string): AwsAnswer {
  return {
    status: 403,
    headers: {
      'content-type': 'application/x-amz-json-1.0',
      'x-amzn-query-error': 'AccessDenied;Sender',
      'x-amzn-requestid': '5f0c1a2b-3c4d-5e6f-7a8b-9c0d1e2f3a4b',
    },
    body: JSON.stringify({ __type: 'com.amazon.coral.service#AccessDeniedException', message: denied(action, resource) }),
  };
}

/** S3's refusal (REST-XML). */
const s3Denied: AwsAnswer = {
  status: 403,
  headers: { 'content-type': 'application/xml' },
  body: '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>Q7B3M9X2K4V8N1P6</RequestId><HostId>aGVsbG8gd29ybGQ=</HostId></Error>',
};

/** STS's AssumeRole answer: a session of the operator role. */
const assumeRoleAnswer = queryAnswer(
  'AssumeRole',
  `<AssumedRoleUser><AssumedRoleId>AROAQNZGKIQY7EXAMPLE:socialplus-webhooks-cli</AssumedRoleId><Arn>arn:aws:sts::${ACCOUNT}:assumed-role/Webhooks-Prod-OperatorRole1A2B3C4D-Q1w2E3r4T5y6/socialplus-webhooks-cli</Arn></AssumedRoleUser>` +
    `<Credentials><AccessKeyId>${SESSION.key}</AccessKeyId><SecretAccessKey>${SESSION.secret}</SecretAccessKey><SessionToken>${SESSION.token}</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>`,
  'https://sts.amazonaws.com/doc/2011-06-15/',
);

/** The SQS requests were signed with the operator role's session, not the caller's keys. */
function expectSentAsOperatorRole(): void {
  const sqs = double.calls.filter((c) => c.service === 'sqs');
  expect(sqs.length).toBeGreaterThan(0);
  for (const call of sqs) {
    expect(scopeOf(call).key).toBe(SESSION.key);
    expect(call.headers['x-amz-security-token']).toBe(SESSION.token);
  }
  expect(double.callsTo('sts:AssumeRole').map((c) => [scopeOf(c).key, c.input.RoleArn])).toEqual([
    [awsDoubleEnv('').AWS_ACCESS_KEY_ID, OPERATOR_ROLE],
  ]);
}

describe('status --aws', () => {
  const NOW = new Date('2026-03-10T15:30:00.000Z');
  const at = (iso: string) => Date.parse(iso) / 1000;

  /** GetQueueAttributes: the queue 3 visible and 12 in flight, the DLQ 2 visible. */
  const describeQueue = (call: AwsCall): AwsAnswer | undefined => {
    const attrs =
      call.input.QueueUrl === queueUrl(QUEUE)
        ? { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '12', ApproximateNumberOfMessagesDelayed: '0' }
        : call.input.QueueUrl === queueUrl(DLQ)
          ? { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '0', ApproximateNumberOfMessagesDelayed: '0' }
          : undefined;
    return attrs && jsonAnswer({ Attributes: attrs });
  };

  beforeEach(() => {
    // Only Date: today's window and the ages are computed from it; timers and I/O stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
    stackWith({ EventQueueUrl: queueUrl(QUEUE), DeadLetterQueueUrl: queueUrl(DLQ) });
    double.answer({
      'sqs:GetQueueAttributes': describeQueue,
      // The queue's oldest message is 95 s old; the DLQ has no datapoint; 120 + 80 events stored
      // today, and 500 the evening before, outside today's window.
      'monitoring:GetMetricData': (call) => {
        const values: Record<string, Array<[number, number]>> = {
          queueAge: [[at('2026-03-10T15:29:00Z'), 95]],
          stored: [
            [at('2026-03-10T15:20:00Z'), 120],
            [at('2026-03-10T09:00:00Z'), 80],
            [at('2026-03-09T23:55:00Z'), 500],
          ],
        };
        const queries = call.input.MetricDataQueries as Array<{ Id: string }>;
        return jsonAnswer({
          MetricDataResults: queries.map((q) => ({
            Id: q.Id,
            Label: q.Id,
            StatusCode: 'Complete',
            Timestamps: (values[q.Id] ?? []).map(([t]) => t),
            Values: (values[q.Id] ?? []).map(([, v]) => v),
          })),
          Messages: [],
        });
      },
    });
  });

  it("prints the queues' depths and ages and today's count, read from the named stack's queues in the region given", async () => {
    const r = await runCli(['status', '--aws', ...TARGET], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`stack        ${STACK.name}`);
    expect(lines[1]).toBe('queue        3 visible, 12 in flight; oldest 1 min');
    expect(lines[2]).toBe(
      "dead-letter  2 visible, 0 in flight; oldest unknown (no recent CloudWatch datapoint) — move them back with 'socialplus-webhooks redrive --aws'",
    );
    expect(lines[3]).toBe("today        200 events stored on 2026-03-10 (UTC), from the fan-out's Stored metric");

    expectTargetedCalls();
    expect(
      double
        .callsTo('sqs:GetQueueAttributes')
        .map((c) => c.input.QueueUrl)
        .sort(),
    ).toEqual([queueUrl(DLQ), queueUrl(QUEUE)].sort());
    const [metrics] = double.callsTo('monitoring:GetMetricData');
    const dimensions = (metrics?.input.MetricDataQueries as Array<{ MetricStat: { Metric: { MetricName: string; Dimensions: unknown[] } } }>)
      .filter((q) => q.MetricStat.Metric.MetricName === 'ApproximateAgeOfOldestMessage')
      .map((q) => q.MetricStat.Metric.Dimensions);
    expect(dimensions).toEqual([[{ Name: 'QueueName', Value: QUEUE }], [{ Name: 'QueueName', Value: DLQ }]]);
    expect(metrics?.input.EndTime).toBe(NOW.getTime() / 1000);
    expect(operations().sort()).toEqual([
      'cloudformation:DescribeStacks',
      'monitoring:GetMetricData',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueAttributes',
    ]);
  });

  it('--json prints the same figures as one object', async () => {
    const r = await runCli(['status', '--aws', ...TARGET, '--json'], env());
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      mode: 'aws',
      stack: STACK.name,
      queue: { url: queueUrl(QUEUE), visible: 3, inFlight: 12, delayed: 0, oldestAgeSeconds: 95 },
      deadLetterQueue: { url: queueUrl(DLQ), visible: 2, inFlight: 0, delayed: 0, oldestAgeSeconds: null },
      today: { date: '2026-03-10', storedEvents: 200, countedFrom: 'cloudwatch' },
    });
    expectTargetedCalls();
  });

  it('an account that may not read the stack gets the refusal named, exit 1, and nothing else is asked', async () => {
    double.answer({
      'cloudformation:DescribeStacks': queryDenied(
        'cloudformation:DescribeStacks',
        `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK.name}/*`,
      ),
    });
    const r = await runCli(['status', '--aws', ...TARGET], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `socialplus-webhooks: could not read the outputs of stack '${STACK.name}': access denied (${denied('cloudformation:DescribeStacks', `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${STACK.name}/*`)}); use credentials allowed to do this\n`,
    );
    expect(operations()).toEqual(['cloudformation:DescribeStacks']);
    expectTargetedCalls();
  });

  it('an account that may not read the queue gets the refusal named with the queue, exit 1', async () => {
    double.answer({
      'sqs:GetQueueAttributes': (call) =>
        call.input.QueueUrl === queueUrl(QUEUE) ? sqsDenied('sqs:getqueueattributes', queueArn(QUEUE)) : describeQueue(call),
    });
    const r = await runCli(['status', '--aws', ...TARGET], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `socialplus-webhooks: could not read the attributes of queue ${queueUrl(QUEUE)} (sqs:GetQueueAttributes): access denied (`,
    );
    expect(r.stderr).toContain(denied('sqs:getqueueattributes', queueArn(QUEUE)));
    expectTargetedCalls();
  });
});

/**
 * A DynamoDB client on dynalite that keeps each wire answer by its request (target and body), for
 * the double to serve to the command's identical request.
 */
function recordingDynamoDb(endpoint: string): { client: DynamoDBClient; answers: Map<string, AwsAnswer> } {
  const answers = new Map<string, AwsAnswer>();
  const requestHandler = {
    async handle(request: { method: string; path: string; headers: Record<string, string>; body?: unknown }) {
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([k]) => !['host', 'content-length'].includes(k.toLowerCase())));
      const body = String(request.body ?? '');
      const res = await fetch(`${endpoint}${request.path}`, { method: request.method, headers, body });
      const bytes = new Uint8Array(await res.arrayBuffer());
      const kept: Record<string, string> = {};
      for (const name of ['content-type', 'x-amz-crc32', 'x-amzn-requestid']) {
        const value = res.headers.get(name);
        if (value !== null) kept[name] = value;
      }
      answers.set(requestKey(request.headers['x-amz-target'] ?? '', body), {
        status: res.status,
        headers: kept,
        body: Buffer.from(bytes).toString('utf8'),
      });
      return { response: { statusCode: res.status, reason: res.statusText, headers: Object.fromEntries(res.headers), body: bytes } };
    },
  };
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, requestHandler, maxAttempts: 1 });
  return { client, answers };
}

const requestKey = (target: string, body: string) => `${target}\n${body}`;

/** The double's DynamoDB: the recorded answers, served only to the same request. */
function serveRecorded(answers: ReadonlyMap<string, AwsAnswer>): void {
  const recorded = (call: AwsCall) => answers.get(requestKey(call.headers['x-amz-target'] ?? '', call.body.toString('utf8')));
  double.answer({ 'dynamodb:Query': recorded, 'dynamodb:BatchGetItem': recorded, 'dynamodb:GetItem': recorded });
}

describe('events --aws and state --aws (DynamoDB, Athena)', () => {
  const dynalite = useTestDynalite();
  const EVENT_TABLE = 'Webhooks-Prod-EventStoreTable8C2D1F0A-1Q2W3E4R5T6Y';
  const STATE_TABLE = 'Webhooks-Prod-HandlerStateTable3B4C5D6E-7U8I9O0P1A2S';
  const WORKGROUP = 'Webhooks-Prod-archive';
  const DATABASE = 'webhooks_prod_archive';
  const variant = (name: string, copy: string) => `${sampleBody(name).trimEnd().replace(/}$/, '')},"copy":"${copy}"}`;
  const older = archiveRecordOf(variant('message.didCreate', 'a'), '2026-03-09T10:15:00.000Z');
  const newer = archiveRecordOf(variant('message.didCreate', 'b'), '2026-03-09T10:40:00.000Z');
  const user = older.actorId as string;
  const stored = (r: ArchiveRecord): StoredEvent => ({ ...r, expiresAt: Date.parse('2026-06-07T00:00:00Z') / 1000 });
  let recording: ReturnType<typeof recordingDynamoDb>;

  beforeAll(async () => {
    expect(user).toBeTruthy();
    expect(newer.actorId).toBe(user);
    await ensureEventTable(dynalite.client, EVENT_TABLE);
    await ensureHandlerStateTable(dynalite.client, STATE_TABLE);
    // Written as the fan-out writes them: the item, then a round of handler runs.
    const store = new DynamoDbEventStore(dynalite.client, EVENT_TABLE);
    for (const r of [older, newer]) await store.putIfAbsent(stored(r));
    await store.recordHandlerRuns(older.eventId, {
      runs: { 'test-recorder': { outcome: 'succeeded', attempts: 1, lastAt: '2026-03-09T10:15:00.410Z', durationMs: 12 } },
      done: ['test-recorder'],
      archived: true,
    });
    await store.recordHandlerRuns(newer.eventId, {
      runs: {
        'test-notifier': { outcome: 'failed', attempts: 3, lastAt: '2026-03-09T10:42:10.000Z', durationMs: 3004, error: 'chat API timed out' },
      },
      done: [],
      archived: true,
    });
    const counters = new DynamoDbDailyCounterStore(dynalite.client, STATE_TABLE);
    await counters.increment(older.eventId, '2026-03-09', ['type#message.didCreate', 'channel#support-lobby'], new Date('2026-03-09T10:15:01Z'));
    await counters.increment(newer.eventId, '2026-03-09', ['type#message.didCreate', 'channel#general'], new Date('2026-03-09T10:40:01Z'));

    // The questions the commands below ask, asked of dynalite by the same readers.
    recording = recordingDynamoDb(dynalite.endpoint);
    await queryIndex(recording.client, EVENT_TABLE, { kind: 'user', userId: user }, 50);
    await readEvent(recording.client, EVENT_TABLE, newer.eventId);
    const listed = (r: ArchiveRecord): ListedEvent => ({
      received_at: r.receivedAt,
      event_type: r.eventType,
      event_id: r.eventId,
      actor_id: r.actorId ?? null,
      target_type: r.targetType ?? null,
      target_id: r.targetId ?? null,
      source: r.source,
    });
    await withHandlerRuns(recording.client, EVENT_TABLE, [listed(newer), listed(older)]);
    await readDayCounters(recording.client, STATE_TABLE, '2026-03-09');
    recording.client.destroy();
  });

  beforeEach(() => {
    stackWith({ EventTableName: EVENT_TABLE, HandlerStateTableName: STATE_TABLE, AthenaWorkGroupName: WORKGROUP, GlueDatabaseName: DATABASE });
    serveRecorded(recording.answers);
  });

  it("--user lists the user's events newest first with their handlers' runs, from the named stack's table in the region given", async () => {
    const r = await runCli(['events', '--aws', ...TARGET, '--user', user, '--json'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    /** The listing of one of the user's message.didCreate events from the default source, with its handlers' runs. */
    const listing = (e: ArchiveRecord, handlers: readonly object[]) => ({
      received_at: e.receivedAt,
      event_type: 'message.didCreate',
      event_id: e.eventId,
      actor_id: user,
      target_type: e.targetType ?? null,
      target_id: e.targetId ?? null,
      source: 'default',
      handlers,
    });
    expect(JSON.parse(r.stdout)).toEqual([
      listing(newer, [
        {
          handler: 'test-notifier',
          outcome: 'failed',
          attempts: 3,
          last_at: '2026-03-09T10:42:10.000Z',
          duration_ms: 3004,
          error: 'chat API timed out',
        },
      ]),
      listing(older, [
        { handler: 'test-recorder', outcome: 'succeeded', attempts: 1, last_at: '2026-03-09T10:15:00.410Z', duration_ms: 12, error: null },
      ]),
    ]);
    expectTargetedCalls();
    expect(operations()).toEqual(['cloudformation:DescribeStacks', 'dynamodb:Query', 'dynamodb:BatchGetItem']);
    expect(double.callsTo('dynamodb:Query')[0]?.input).toMatchObject({
      TableName: EVENT_TABLE,
      IndexName: 'byActor',
      ExpressionAttributeValues: { ':pk': { S: `ACTOR#${user}` } },
      ScanIndexForward: false,
    });
    expect(Object.keys(double.callsTo('dynamodb:BatchGetItem')[0]?.input.RequestItems as object)).toEqual([EVENT_TABLE]);
  });

  it('--id prints the one event with its fields and handler runs', async () => {
    const r = await runCli(['events', '--aws', ...TARGET, '--id', newer.eventId], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`event_id     ${newer.eventId}\n`);
    expect(r.stdout).toContain('event_type   message.didCreate\n');
    expect(r.stdout).toContain(`received_at  ${newer.receivedAt}\n`);
    expect(r.stdout).toContain(`actor_id     ${user}\n`);
    expect(r.stdout).toContain('expires_at   2026-06-07T00:00:00.000Z\n');
    expect(r.stdout).toMatch(/payload {6}in the item, \d+ bytes gzipped\n/);
    expect(r.stdout).toMatch(/\ntest-notifier *│ *failed *│ *3 *│ *2026-03-09T10:42:10\.000Z *│ *3004 *│ *chat API timed out\n/);
    expectTargetedCalls();
    expect(operations()).toEqual(['cloudformation:DescribeStacks', 'dynamodb:GetItem']);
    expect(double.callsTo('dynamodb:GetItem')[0]?.input).toMatchObject({
      TableName: EVENT_TABLE,
      Key: { PK: { S: `EVENT#${newer.eventId}` }, SK: { S: 'EVENT' } },
    });
  });

  it("--type --day runs the day's query in the stack's Athena workgroup and database, then reads the handler runs", async () => {
    const columns = ['received_at', 'event_type', 'event_id', 'actor_id', 'target_type', 'target_id', 'source'];
    const row = (r: ArchiveRecord) => [r.receivedAt, r.eventType, r.eventId, r.actorId, r.targetType, r.targetId, r.source];
    const cells = (values: ReadonlyArray<string | undefined>) => ({ Data: values.map((v) => (v === undefined ? {} : { VarCharValue: v })) });
    double.answer({
      'athena:StartQueryExecution': jsonAnswer({ QueryExecutionId: '8d1f7a3c-2b4e-4c6d-9e8f-0a1b2c3d4e5f' }),
      'athena:GetQueryExecution': jsonAnswer({
        QueryExecution: { QueryExecutionId: '8d1f7a3c-2b4e-4c6d-9e8f-0a1b2c3d4e5f', Status: { State: 'SUCCEEDED' } },
      }),
      'athena:GetQueryResults': jsonAnswer({
        ResultSet: {
          Rows: [cells(columns), cells(row(newer)), cells(row(older))],
          ResultSetMetadata: { ColumnInfo: columns.map((Name) => ({ Name, Type: 'varchar' })) },
        },
      }),
    });
    const r = await runCli(['events', '--aws', ...TARGET, '--type', 'message.didCreate', '--day', '2026-03-09', '--json'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<{ event_id: string; handlers: Array<{ handler: string }> }>;
    expect(rows.map((x) => [x.event_id, x.handlers.map((h) => h.handler)])).toEqual([
      [newer.eventId, ['test-notifier']],
      [older.eventId, ['test-recorder']],
    ]);
    expectTargetedCalls();
    expect(operations()).toEqual([
      'cloudformation:DescribeStacks',
      'athena:StartQueryExecution',
      'athena:GetQueryExecution',
      'athena:GetQueryResults',
      'dynamodb:BatchGetItem',
    ]);
    expect(double.callsTo('athena:StartQueryExecution')[0]?.input).toMatchObject({
      WorkGroup: WORKGROUP,
      QueryExecutionContext: { Database: DATABASE },
      ExecutionParameters: ["'2026-03-09'", "'message.didCreate'", "'message.didCreate'"],
    });
  });

  it('an account that may not query the table gets the refusal named with the table, exit 1', async () => {
    const index = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${EVENT_TABLE}/index/byActor`;
    double.answer({ 'dynamodb:Query': dynamoDbDenied('dynamodb:Query', index) });
    const r = await runCli(['events', '--aws', ...TARGET, '--user', user], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `socialplus-webhooks: could not query the event table ${EVENT_TABLE} (dynamodb:Query): access denied (${denied('dynamodb:Query', index)}); use credentials allowed to do this\n`,
    );
    expect(operations()).toEqual(['cloudformation:DescribeStacks', 'dynamodb:Query']);
    expectTargetedCalls();
  });

  it("state --day prints the day's counters from the named stack's handler state table", async () => {
    const r = await runCli(['state', '--aws', ...TARGET, '--day', '2026-03-09', '--json'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      day: '2026-03-09',
      counters: { 'channel#general': 1, 'channel#support-lobby': 1, 'type#message.didCreate': 2 },
    });
    expectTargetedCalls();
    expect(operations()).toEqual(['cloudformation:DescribeStacks', 'dynamodb:Query']);
    expect(double.callsTo('dynamodb:Query')[0]?.input).toMatchObject({ TableName: STATE_TABLE });
  });

  it('state: an account that may not read the handler state table gets the refusal named, exit 1', async () => {
    const table = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${STATE_TABLE}`;
    double.answer({ 'dynamodb:Query': dynamoDbDenied('dynamodb:Query', table) });
    const r = await runCli(['state', '--aws', ...TARGET, '--day', '2026-03-09'], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `socialplus-webhooks: could not read the handler state table ${STATE_TABLE}: access denied (${denied('dynamodb:Query', table)}); use credentials allowed to do this\n`,
    );
    expectTargetedCalls();
  });
});

describe('redrive --aws', () => {
  const HANDLE = 'eyJ0YXNrSWQiOiI0ZWQ3ZjJlYy1hMGJjLTRmMTctYjY2YS1mZjEzZWQ4YzNhMDIifQ==';

  beforeEach(() => {
    stackWith({ EventQueueUrl: queueUrl(QUEUE), DeadLetterQueueUrl: queueUrl(DLQ), OperatorRoleArn: OPERATOR_ROLE });
    double.answer({
      'sts:AssumeRole': assumeRoleAnswer,
      'sqs:GetQueueAttributes': (call) =>
        call.input.QueueUrl === queueUrl(DLQ)
          ? jsonAnswer({ Attributes: { QueueArn: queueArn(DLQ), ApproximateNumberOfMessages: '7' } })
          : call.input.QueueUrl === queueUrl(QUEUE)
            ? jsonAnswer({ Attributes: { QueueArn: queueArn(QUEUE), ApproximateNumberOfMessages: '0' } })
            : undefined,
      'sqs:StartMessageMoveTask': jsonAnswer({ TaskHandle: HANDLE }),
      // No task before the start; then the one started, already done.
      'sqs:ListMessageMoveTasks': () =>
        jsonAnswer({
          Results:
            double.callsTo('sqs:StartMessageMoveTask').length === 0
              ? []
              : [
                  {
                    TaskHandle: HANDLE,
                    Status: 'COMPLETED',
                    SourceArn: queueArn(DLQ),
                    DestinationArn: queueArn(QUEUE),
                    ApproximateNumberOfMessagesMoved: 7,
                    ApproximateNumberOfMessagesToMove: 7,
                    StartedTimestamp: 1773150000000,
                  },
                ],
        }),
    });
  });

  it("moves the named stack's DLQ back to its queue as the operator role, in the region given, and prints the count", async () => {
    const r = await runCli(['redrive', '--aws', ...TARGET], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`moved 7 messages from ${queueArn(DLQ)} back to ${queueArn(QUEUE)}\n`);
    expectTargetedCalls();
    expectSentAsOperatorRole();
    expect(operations()).toEqual([
      'cloudformation:DescribeStacks',
      'sts:AssumeRole',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueAttributes',
      'sqs:ListMessageMoveTasks',
      'sqs:StartMessageMoveTask',
      'sqs:ListMessageMoveTasks',
    ]);
    expect(double.callsTo('sqs:GetQueueAttributes').map((c) => c.input.QueueUrl)).toEqual([queueUrl(DLQ), queueUrl(QUEUE)]);
    expect(double.callsTo('sqs:StartMessageMoveTask')[0]?.input).toEqual({ SourceArn: queueArn(DLQ), DestinationArn: queueArn(QUEUE) });
  });

  it('an account that may not assume the operator role gets the refusal named with the role, exit 1, and SQS is never asked', async () => {
    double.answer({ 'sts:AssumeRole': queryDenied('sts:AssumeRole', OPERATOR_ROLE) });
    const r = await runCli(['redrive', '--aws', ...TARGET], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`socialplus-webhooks: could not assume the stack's operator role ${OPERATOR_ROLE}`);
    expect(r.stderr).toContain(`access denied (${denied('sts:AssumeRole', OPERATOR_ROLE)}); use credentials allowed to do this\n`);
    expect(operations()).toEqual(['cloudformation:DescribeStacks', 'sts:AssumeRole']);
    expectTargetedCalls();
  });
});

describe('replay --aws', () => {
  const BUCKET = 'webhooks-prod-archivebucket7c3e9a1f-x2y4z6';
  const first = archiveRecordOf(sampleBody('message.didFlag'), '2026-03-09T10:15:00.000Z');
  const second = archiveRecordOf(sampleBody('v3.post.didCreate'), '2026-03-09T10:40:00.000Z');
  /** The hour's object as the delivery stream writes it: gzip NDJSON under its partition, named like Firehose names them. */
  const KEY = `${partitionPrefix(new Date(first.receivedAt))}Webhooks-Prod-archive-1-2026-03-09-10-15-00-4b8e2c1d-9f0a-4e3b-8c7d-6a5b4c3d2e1f.gz`;
  const OBJECT = gzipSync(archiveLine(first) + archiveLine(second));
  const ETAG = `"${createHash('md5').update(OBJECT).digest('hex')}"`;

  /**
   * GetObject's answer: the object's bytes.
   */
  const objectAnswer: AwsAnswer = {
    status: 200,
    headers: { 'content-type': 'application/x-ndjson', etag: ETAG },
    body: OBJECT,
  };
  /** ListObjectsV2 of the bucket, which holds that one object: the keys under `prefix`. */
  const listing = (prefix: string): AwsAnswer => {
    const contents = KEY.startsWith(prefix)
      ? `<Contents><Key>${KEY}</Key><LastModified>2026-03-09T10:20:03.000Z</LastModified><ETag>${escapeXml(ETAG)}</ETag>` +
        `<Size>${OBJECT.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`
      : '';
    return {
      status: 200,
      headers: { 'content-type': 'application/xml' },
      body:
        '<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">' +
        `<Name>${BUCKET}</Name><Prefix>${prefix}</Prefix><KeyCount>${contents ? 1 : 0}</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>` +
        `${contents}</ListBucketResult>`,
    };
  };
  /** The object's request path: each segment of the key URL-encoded, as the S3 client sends it. */
  const objectPath = `/${BUCKET}/${KEY.split('/').map(encodeURIComponent).join('/')}`;

  beforeEach(() => {
    stackWith({ ArchiveBucketName: BUCKET, EventQueueUrl: queueUrl(QUEUE), OperatorRoleArn: OPERATOR_ROLE });
    double.answer({
      'sts:AssumeRole': assumeRoleAnswer,
      [`s3:GET /${BUCKET}/`]: (call) => (call.input['list-type'] === '2' ? listing(String(call.input.prefix)) : undefined),
      [`s3:GET ${objectPath}`]: objectAnswer,
      'sqs:SendMessageBatch': (call) => {
        const entries = call.input.Entries as Array<{ Id: string; MessageBody: string }>;
        return jsonAnswer({
          Successful: entries.map((e, i) => ({
            Id: e.Id,
            MessageId: `0e6a9f3c-1b2d-4e5f-8a7b-${String(i).padStart(12, '0')}`,
            MD5OfMessageBody: createHash('md5').update(e.MessageBody).digest('hex'),
          })),
          Failed: [],
        });
      },
    });
  });

  it("queues the range's archived events from the named stack's bucket to its queue, as the operator role, in the region given", async () => {
    const r = await runCli(['replay', '--aws', ...TARGET, '--from', '2026-03-09', '--to', '2026-03-09'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe(
      `replayed 2 events received 2026-03-09T00:00:00.000Z to 2026-03-10T00:00:00.000Z from s3://${BUCKET}/events/ to ${queueUrl(QUEUE)} (2 archive lines in 1 object)`,
    );
    expectTargetedCalls();
    expectSentAsOperatorRole();
    // The range's partitions run to the hour after --to: the next day's first hour is listed too.
    expect(double.callsTo(`s3:GET /${BUCKET}/`).map((c) => c.input.prefix)).toEqual(['events/dt=2026-03-09/', 'events/dt=2026-03-10/']);
    const [batch, ...more] = double.callsTo('sqs:SendMessageBatch');
    expect(more).toEqual([]);
    expect(batch?.input.QueueUrl).toBe(queueUrl(QUEUE));
    const sent = (batch?.input.Entries as Array<{ MessageBody: string; MessageAttributes: Record<string, { StringValue: string }> }>).map((e) => [
      e.MessageAttributes.eventId?.StringValue,
      e.MessageAttributes.eventType?.StringValue,
      e.MessageBody,
    ]);
    expect(sent).toEqual([
      [first.eventId, first.eventType, first.payload],
      [second.eventId, second.eventType, second.payload],
    ]);
  });

  it('--dry-run lists the events and reads only the bucket', async () => {
    const r = await runCli(['replay', '--aws', ...TARGET, '--from', '2026-03-09T10:30Z', '--to', '2026-03-09T11:00Z', '--dry-run'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      `${second.receivedAt}  ${second.eventId}  ${second.eventType}  default\n` +
        `would replay 1 event received 2026-03-09T10:30:00.000Z to 2026-03-09T11:00:00.000Z from s3://${BUCKET}/events/ (2 archive lines in 1 object; skipped 1 received outside the range)\n`,
    );
    expectTargetedCalls();
    expect(operations()).toEqual(['cloudformation:DescribeStacks', `s3:GET /${BUCKET}/`, `s3:GET ${objectPath}`]);
  });

  it('an account that may not list the bucket gets the refusal named with the prefix, exit 1, and nothing is sent', async () => {
    double.answer({ [`s3:GET /${BUCKET}/`]: s3Denied });
    const r = await runCli(['replay', '--aws', ...TARGET, '--from', '2026-03-09', '--to', '2026-03-09'], env());
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      `socialplus-webhooks: could not list s3://${BUCKET}/events/dt=2026-03-09/: access denied (Access Denied); use credentials allowed to do this\n`,
    );
    expect(double.callsTo('sqs:SendMessageBatch')).toEqual([]);
    expectTargetedCalls();
  });
});
