/**
 * `socialplus-webhooks state`: the example handlers' state (auto-moderation's flags and bans per
 * user, daily counters per day) read from real local mode while it runs and once it stopped, and
 * with `--aws` from a table in dynalite standing in for DynamoDB (the SDK's endpoint variable),
 * the stack's output answered by the AWS double.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DayCounters, UserModeration } from '../../cli/state/handler-state.js';
import { DynamoDbDailyCounterStore } from '../../lambda/adapters/daily-counters-store.js';
import { DynamoDbFlagCounterStore } from '../../lambda/adapters/flag-counter-store.js';
import { ensureHandlerStateTable } from '../../lambda/adapters/handler-state-table.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { localDynamoDbClient, startDynalite, type RunningEmulator } from '../../local/emulators.js';
import type { LocalPipeline } from '../../local/pipeline.js';
import { awsDoubleEnv, queryAnswer, startAwsDouble, type AwsDouble } from '../support/aws-double.js';
import { postSignedWebhook, startTempPipeline, stopTempPipeline } from '../support/local-pipeline.js';
import { sampleBody } from '../support/samples.js';
import { makeTempDir, removeTempDir } from '../support/temp-dir.js';
import { runCli } from './run-cli.js';

const SECRET = 'state-command-secret';
const HANDLERS = {
  socialPlus: { dryRun: true },
  autoModeration: { enabled: true, threshold: 2, events: ['message.didFlag'], ban: 'global' },
  dailyCounters: { enabled: true },
};

let dir: string;
let projectDir: string;
let pipeline: LocalPipeline | undefined;
/** The UTC day the events arrived on. */
let day: string;

const variant = (name: string, copy: string) => `${sampleBody(name).trimEnd().replace(/}$/, '')},"copy":"${copy}"}`;
const FLAGS = [variant('message.didFlag', 'first'), variant('message.didFlag', 'second')]; // spam.account.42 in general
const CREATED = variant('message.didCreate', 'one'); // mika.tan in support-lobby

async function stateJson<T>(...args: string[]): Promise<T> {
  const run = await runCli(['state', ...args, '--dir', dir, '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as T;
}

beforeAll(async () => {
  projectDir = await makeTempDir('state-command-project-');
  ({ dir, pipeline } = await startTempPipeline('state-command-', {
    secret: SECRET,
    projectDir,
    env: { HANDLERS_CONFIG: JSON.stringify(HANDLERS) },
    queue: { batchingWindowMs: 10, visibilityTimeoutMs: 50 },
    stream: { bufferIntervalMs: 50 },
  }));
  for (const body of [...FLAGS, CREATED]) {
    const res = await postSignedWebhook(pipeline.url, body, SECRET);
    expect(res.status).toBe(200);
    await pipeline.settle();
  }
  day = (await pipeline.store.get(eventIdOf(CREATED)))?.receivedAt.slice(0, 10) ?? '';
});

afterAll(async () => {
  await stopTempPipeline(pipeline, dir);
  await removeTempDir(projectDir);
});

const expectedModeration = (): UserModeration => ({
  userId: 'spam.account.42',
  // Newest first.
  flags: [...FLAGS].reverse().map((body) => ({
    at: expect.any(String) as unknown as string,
    event_id: eventIdOf(body),
    event_type: 'message.didFlag',
    expires_at: expect.any(String) as unknown as string,
  })),
  // The second flag crossed the threshold of 2 and claimed the global ban.
  bans: [{ scope: 'global', state: 'done', event_id: eventIdOf(FLAGS[1] as string), hold_until: expect.any(String) as unknown as string }],
  banEvents: [{ event_id: eventIdOf(FLAGS[1] as string), scope: 'global' }],
});

describe('state while local mode runs', () => {
  it("--user: auto-moderation's flags (newest first) and bans of the user", async () => {
    const m = await stateJson<UserModeration>('--user', 'spam.account.42');
    expect(m).toEqual(expectedModeration());
    expect(m.flags[0]?.at.localeCompare(m.flags[1]?.at ?? '')).toBe(1);
    expect(await stateJson<UserModeration>('--user', 'mika.tan')).toEqual({ userId: 'mika.tan', flags: [], bans: [], banEvents: [] });
  });

  it('--day: the daily counters of the day', async () => {
    const d = await stateJson<DayCounters>('--day', day);
    expect(d.day).toBe(day);
    expect(d.counters).toMatchObject({ 'type#message.didFlag': 2, 'type#message.didCreate': 1, 'channel#general': 2, 'channel#support-lobby': 1 });
    expect(Object.keys(d.counters)).toEqual(Object.keys(d.counters).sort());
    expect(await stateJson<DayCounters>('--day', '2001-01-01')).toEqual({ day: '2001-01-01', counters: {} });
  });

  it('prints tables by default', async () => {
    const user = await runCli(['state', '--user', 'spam.account.42', '--dir', dir]);
    expect(user.code, user.stderr).toBe(0);
    expect(user.stdout).toMatch(/^auto-moderation state of user spam\.account\.42\n\nflags:\nat +│ event_id +│ event_type +│ expires_at$/m);
    expect(user.stdout).toMatch(/^bans:\nscope +│ state │ event_id +│ hold_until$/m);
    expect(user.stdout).toMatch(new RegExp(`^global │ done  │ ${eventIdOf(FLAGS[1] as string)} │ `, 'm'));
    expect(user.stdout).toMatch(
      new RegExp(`^bans caused \\(kept for good\\):\nevent_id +│ scope\n.*\n${eventIdOf(FLAGS[1] as string)} │ global$`, 'm'),
    );

    const counters = await runCli(['state', '--day', day, '--dir', dir]);
    expect(counters.code, counters.stderr).toBe(0);
    expect(counters.stdout).toMatch(new RegExp(`^daily counters of ${day} \\(UTC\\)\ncounter +│ +n$`, 'm'));
    expect(counters.stdout).toMatch(/^type#message\.didFlag +│ +2$/m);
  });
});

describe('state once local mode has stopped', () => {
  it('opens the table on its folder and answers the same', async () => {
    const running = await stateJson<DayCounters>('--day', day);
    await pipeline?.close();
    pipeline = undefined;
    expect(await stateJson<DayCounters>('--day', day)).toEqual(running);
    expect(await stateJson<UserModeration>('--user', 'spam.account.42')).toEqual(expectedModeration());
  });

  it('says what turns the state on when no example handler keeping state has run', async () => {
    const bare = await startTempPipeline('state-bare-', { secret: SECRET, projectDir, env: {} });
    try {
      const run = await runCli(['state', '--day', day, '--dir', bare.dir]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        'local mode has no handler state table (socialplus-webhooks-handler-state): auto-moderation and daily counters keep their state there, and neither has been on',
      );
    } finally {
      await stopTempPipeline(bare.pipeline, bare.dir);
    }
  });

  it.each([
    [[], "say which state: --user ID (auto-moderation's flags and bans) or --day YYYY-MM-DD (daily counters)"],
    [['--user', 'a', '--day', '2025-07-02'], 'give one of --user and --day (got both)'],
    [['--user', ' '], '--user is empty'],
    [['--day', '2025-02-30'], "--day must be a date YYYY-MM-DD, got '2025-02-30'"],
    [['--day', '2025-07-02', '--table', 't'], '--table is for --aws'],
    [['--day', '2025-07-02', '--aws'], '--dir is for local mode'],
  ])('state %j fails naming the problem', async (args, message) => {
    const run = await runCli(['state', ...args, '--dir', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
  });
});

describe('state --aws', () => {
  const TABLE = 'SocialPlusWebhooks-HandlerState-1A2B';
  let dynalite: RunningEmulator;
  let double: AwsDouble;

  const describeStacks = (outputs: Record<string, string>) =>
    queryAnswer(
      'DescribeStacks',
      `<Stacks><member><StackName>SocialPlusWebhooks</StackName><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-01T00:00:00Z</CreationTime><Outputs>${Object.entries(
        outputs,
      )
        .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
        .join('')}</Outputs></member></Stacks>`,
    );
  const env = () => ({ ...awsDoubleEnv(double.endpoint), AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint });

  beforeAll(async () => {
    dynalite = await startDynalite();
    double = await startAwsDouble();
    const client = localDynamoDbClient(dynalite.endpoint);
    await ensureHandlerStateTable(client, TABLE);
    const counters = new DynamoDbDailyCounterStore(client, TABLE);
    await counters.increment('e1', '2025-07-02', ['type#message.didFlag', 'channel#general'], new Date('2025-07-02T10:00:00Z'));
    await counters.increment('e2', '2025-07-02', ['type#message.didFlag'], new Date('2025-07-02T10:01:00Z'));
    const flags = new DynamoDbFlagCounterStore(client, TABLE);
    await flags.recordFlag({
      userId: 'u1',
      eventId: 'e1',
      at: new Date('2025-07-02T10:00:00Z'),
      eventType: 'message.didFlag',
      keepUntil: new Date('2025-07-03T11:00:00Z'),
    });
    client.destroy();
  });
  afterAll(async () => {
    await double.close();
    await dynalite.close();
  });

  it("reads the table the stack's HandlerStateTableName output names", async () => {
    double.answer({ 'cloudformation:DescribeStacks': describeStacks({ HandlerStateTableName: TABLE, EventTableName: 'events' }) });
    const run = await runCli(['state', '--aws', '--day', '2025-07-02', '--json'], env());
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual({ day: '2025-07-02', counters: { 'channel#general': 1, 'type#message.didFlag': 2 } });
    expect(double.callsTo('cloudformation:DescribeStacks')[0]?.input).toMatchObject({ StackName: 'SocialPlusWebhooks' });

    const user = await runCli(['state', '--aws', '--user', 'u1', '--json', '--table', TABLE], env());
    expect(user.code, user.stderr).toBe(0);
    expect(JSON.parse(user.stdout)).toEqual({
      userId: 'u1',
      flags: [{ at: '2025-07-02T10:00:00.000Z', event_id: 'e1', event_type: 'message.didFlag', expires_at: '2025-07-03T11:00:00.000Z' }],
      bans: [],
      banEvents: [],
    });
  });

  it('says what to do when the stack has no handler state table, or the table is not there', async () => {
    double.answer({ 'cloudformation:DescribeStacks': describeStacks({ EventTableName: 'events' }) });
    const none = await runCli(['state', '--aws', '--day', '2025-07-02'], env());
    expect(none.code).toBe(1);
    expect(none.stderr).toContain(
      "stack 'SocialPlusWebhooks' has no output HandlerStateTableName, so it has no handler state table: auto-moderation and daily counters keep their state there",
    );

    const missing = await runCli(['state', '--aws', '--day', '2025-07-02', '--table', 'nope'], env());
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('table nope does not exist in this account and region');
  });
});
