/**
 * `redrive --aws` and `replay --aws` against stand-ins: SQS and CloudFormation as recording fakes
 * (no emulator exists for them here), S3 as s3rver holding a stack's archive.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runRedrive } from '../../cli/commands/redrive.js';
import { runReplayCommand } from '../../cli/commands/replay.js';
import { CliError } from '../../cli/errors.js';
import { redriveOnAws } from '../../cli/redrive-aws.js';
import { archiveLine, type ArchiveRecord } from '../../lambda/core/archive-layout.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey } from '../../lambda/core/inbox.js';
import { ensureBucket, localS3Client, startS3rver, type RunningEmulator } from '../../local/emulators.js';
import { awsError, FakeAwsClient, type RecordedCommand } from '../support/fake-aws-client.js';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/events';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/events-dlq';
const QUEUE_ARN = 'arn:aws:sqs:eu-west-1:123456789012:events';
const DLQ_ARN = 'arn:aws:sqs:eu-west-1:123456789012:events-dlq';
const BUCKET = 'stack-archive';

const stdout: string[] = [];
const realWrite = process.stdout.write.bind(process.stdout);
function captureStdout(): void {
  stdout.length = 0;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  }) as typeof process.stdout.write;
}
afterEach(() => {
  process.stdout.write = realWrite;
});

/** CloudFormation answering DescribeStacks for one stack. */
function cloudFormation(outputs: Record<string, string> = { EventQueueUrl: QUEUE_URL, DeadLetterQueueUrl: DLQ_URL, ArchiveBucketName: BUCKET }) {
  return new FakeAwsClient((c) => {
    if (c.name !== 'DescribeStacksCommand') throw new Error(`unexpected ${c.name}`);
    if (c.input.StackName !== 'SocialPlusWebhooks') throw awsError('ValidationError', `Stack with id ${String(c.input.StackName)} does not exist`);
    return {
      Stacks: [{ StackName: 'SocialPlusWebhooks', Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }],
    };
  });
}

/** SQS with a DLQ of `messages`, and move tasks that report `tasks` in turn on each listing. */
function sqsForRedrive(messages: number, tasks: Array<Record<string, unknown> | undefined>) {
  let listing = 0;
  return new FakeAwsClient((c) => {
    switch (c.name) {
      case 'GetQueueAttributesCommand':
        return c.input.QueueUrl === DLQ_URL
          ? { Attributes: { QueueArn: DLQ_ARN, ApproximateNumberOfMessages: String(messages) } }
          : { Attributes: { QueueArn: QUEUE_ARN, ApproximateNumberOfMessages: '0' } };
      case 'StartMessageMoveTaskCommand':
        return { TaskHandle: 'task-1' };
      case 'ListMessageMoveTasksCommand': {
        const t = tasks[Math.min(listing++, tasks.length - 1)];
        return { Results: t ? [t] : [] };
      }
      default:
        throw new Error(`unexpected ${c.name}`);
    }
  });
}

const names = (client: FakeAwsClient) => client.commands.map((c: RecordedCommand) => c.name);
const noSleep = async () => undefined;

describe('redrive --aws', () => {
  it('starts a message move task from the DLQ to the queue and follows it to a final count', async () => {
    const sqs = sqsForRedrive(3, [
      undefined,
      { TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 3 },
      { TaskHandle: 'task-1', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 3 },
    ]);
    const progress: Array<[number, number | undefined]> = [];
    const result = await redriveOnAws(sqs.as(), {
      queueUrl: QUEUE_URL,
      deadLetterQueueUrl: DLQ_URL,
      maxPerSecond: 50,
      sleep: noSleep,
      onProgress: (m, t) => progress.push([m, t]),
    });
    expect(result).toMatchObject({
      status: 'COMPLETED',
      moved: 3,
      toMove: 3,
      taskHandle: 'task-1',
      followedExisting: false,
      sourceArn: DLQ_ARN,
      destinationArn: QUEUE_ARN,
    });
    expect(sqs.commands.find((c) => c.name === 'StartMessageMoveTaskCommand')?.input).toEqual({
      SourceArn: DLQ_ARN,
      DestinationArn: QUEUE_ARN,
      MaxNumberOfMessagesPerSecond: 50,
    });
    expect(progress).toEqual([
      [1, 3],
      [3, 3],
    ]);
  });

  it('follows a move task that is already running instead of starting another', async () => {
    const sqs = sqsForRedrive(5, [
      { TaskHandle: 'older', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 2 },
      { TaskHandle: 'older', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 5 },
    ]);
    const result = await redriveOnAws(sqs.as(), { queueUrl: QUEUE_URL, deadLetterQueueUrl: DLQ_URL, sleep: noSleep });
    expect(result).toMatchObject({ status: 'COMPLETED', moved: 5, followedExisting: true });
    expect(names(sqs)).not.toContain('StartMessageMoveTaskCommand');
  });

  it('moves nothing from an empty DLQ', async () => {
    const sqs = sqsForRedrive(0, [{ TaskHandle: 'old', Status: 'COMPLETED' }]);
    expect(await redriveOnAws(sqs.as(), { queueUrl: QUEUE_URL, deadLetterQueueUrl: DLQ_URL, sleep: noSleep })).toMatchObject({
      status: 'EMPTY',
      moved: 0,
    });
    expect(names(sqs)).not.toContain('StartMessageMoveTaskCommand');
  });

  it('reads the queues from the stack and prints the count', async () => {
    captureStdout();
    const sqs = sqsForRedrive(2, [undefined, { TaskHandle: 'task-1', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 2 }]);
    await runRedrive({ aws: true, wait: true }, { sqs: sqs.as(), cloudFormation: cloudFormation().as() });
    expect(stdout.join('')).toBe(`moved 2 messages from ${DLQ_ARN} back to ${QUEUE_ARN}\n`);
  });

  it('starts and returns with --no-wait', async () => {
    captureStdout();
    const sqs = sqsForRedrive(7, [undefined]);
    await runRedrive({ aws: true, wait: false, queueUrl: QUEUE_URL, dlqUrl: DLQ_URL }, { sqs: sqs.as(), cloudFormation: cloudFormation().as() });
    expect(stdout.join('')).toBe(`started a message move task from ${DLQ_ARN} to ${QUEUE_ARN} (about 7 messages); task handle task-1\n`);
  });

  it('fails naming the reason when the task fails', async () => {
    const sqs = sqsForRedrive(2, [
      undefined,
      { TaskHandle: 'task-1', Status: 'FAILED', ApproximateNumberOfMessagesMoved: 1, FailureReason: 'AccessDenied on kms:Decrypt' },
    ]);
    await expect(runRedrive({ aws: true, wait: true }, { sqs: sqs.as(), cloudFormation: cloudFormation().as() })).rejects.toThrow(
      /the message move task failed after moving 1 message: AccessDenied on kms:Decrypt; run redrive --aws again/,
    );
  });

  it.each([
    [
      'a stack that does not exist',
      { aws: true, wait: true, stack: 'Nope' },
      cloudFormation(),
      /stack 'Nope' was not found in this account and region: deploy it \(npx cdk deploy\)/,
    ],
    [
      'a stack without the outputs',
      { aws: true, wait: true },
      cloudFormation({ Other: 'x' }),
      /stack 'SocialPlusWebhooks' has no output EventQueueUrl: .* Outputs found: Other/,
    ],
    ['local-only --dir', { aws: true, wait: true, dir: '.local' }, cloudFormation(), /--dir is for local mode; leave it out with --aws/],
  ])('refuses %s, naming it', async (_label, opts, cfn, message) => {
    const sqs = sqsForRedrive(1, [undefined]);
    await expect(runRedrive(opts, { sqs: sqs.as(), cloudFormation: cfn.as() })).rejects.toThrow(message);
  });

  it('turns a refused start into a message naming both queues', async () => {
    const sqs = new FakeAwsClient((c) => {
      if (c.name === 'GetQueueAttributesCommand')
        return { Attributes: { QueueArn: c.input.QueueUrl === DLQ_URL ? DLQ_ARN : QUEUE_ARN, ApproximateNumberOfMessages: '4' } };
      if (c.name === 'ListMessageMoveTasksCommand') return { Results: [] };
      throw awsError('AccessDenied', 'User is not authorized to perform: sqs:StartMessageMoveTask');
    });
    const err = await redriveOnAws(sqs.as(), { queueUrl: QUEUE_URL, deadLetterQueueUrl: DLQ_URL, sleep: noSleep }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CliError);
    expect((err as Error).message).toBe(
      `could not start a message move task from ${DLQ_ARN} to ${QUEUE_ARN}: access denied (User is not authorized to perform: sqs:StartMessageMoveTask); use credentials allowed to do this`,
    );
  });
});

describe('replay --aws', () => {
  let dir: string;
  let s3rver: RunningEmulator;
  let s3: S3Client;
  const bodies = Array.from({ length: 24 }, (_, i) => `{"event":"${i % 2 ? 'v3.post.didCreate' : 'message.didFlag'}","data":{"n":${i}}}`);
  const bigId = eventIdOf('a body kept in S3');
  const bigKey = claimCheckKey(new Date('2025-07-02T10:00:00Z'), bigId);

  function record(body: string, minute: number): ArchiveRecord {
    const post = body.includes('post');
    return {
      eventId: eventIdOf(body),
      eventType: post ? 'post.didCreate' : 'message.didFlag',
      eventName: post ? 'v3.post.didCreate' : 'message.didFlag',
      receivedAt: `2025-07-02T10:${String(minute).padStart(2, '0')}:00.000Z`,
      source: 'default',
      deprecated: false,
      flags: [],
      payload: body,
    };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'aws-replay-'));
    s3rver = await startS3rver({ dir });
    s3 = localS3Client(s3rver.endpoint);
    await ensureBucket(s3, BUCKET);
    // Two objects in hour 10, one line repeated across them (the archive is at-least-once), one
    // line received the day before (outside the range), and one pointing at a body in S3.
    const lines = bodies.map((b, i) => archiveLine(record(b, i)));
    const pointer = archiveLine({ ...record('x', 30), eventId: bigId, flags: ['payload-in-s3'], payload: bigKey });
    const old = archiveLine({ ...record('{"event":"message.didFlag","old":true}', 1), receivedAt: '2025-07-01T23:59:00.000Z' });
    const put = (key: string, text: string) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: gzipSync(text) }));
    await put('events/dt=2025-07-02/hour=10/stream-1-2025-07-02-10-00-00-a.gz', lines.slice(0, 12).join('') + old);
    await put('events/dt=2025-07-02/hour=10/stream-1-2025-07-02-10-30-00-b.gz', lines.slice(11).join('') + pointer);
    await put(
      'events/dt=2025-07-03/hour=10/stream-1-2025-07-03-10-00-00-c.gz',
      archiveLine({ ...record('{"later":1}', 0), receivedAt: '2025-07-03T10:00:00.000Z' }),
    );
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: bigKey, Body: Buffer.alloc(1_500_000, 'y') }));
  });

  afterAll(async () => {
    s3?.destroy();
    await s3rver?.close();
    await rm(dir, { recursive: true, force: true });
  });

  function sqsForReplay(fail: (entryId: string, attempt: number) => { SenderFault: boolean; Code: string } | undefined = () => undefined) {
    const attempts = new Map<string, number>();
    return new FakeAwsClient((c) => {
      if (c.name !== 'SendMessageBatchCommand') throw new Error(`unexpected ${c.name}`);
      const entries = c.input.Entries as Array<{ Id: string; MessageAttributes: Record<string, { StringValue: string }> }>;
      const failed = [];
      for (const e of entries) {
        const key = e.MessageAttributes.eventId?.StringValue ?? e.Id;
        const n = (attempts.get(key) ?? 0) + 1;
        attempts.set(key, n);
        const f = fail(key, n);
        if (f) failed.push({ Id: e.Id, ...f, Message: 'try later' });
      }
      return { Successful: [], Failed: failed };
    });
  }

  /** Every message sent, as the last attempt carried it. */
  function sent(sqs: FakeAwsClient): Map<string, { body: string; attributes: Record<string, string> }> {
    const out = new Map<string, { body: string; attributes: Record<string, string> }>();
    for (const c of sqs.commands) {
      expect(c.input.QueueUrl).toBe(QUEUE_URL);
      const entries = c.input.Entries as Array<{ MessageBody: string; MessageAttributes: Record<string, { DataType: string; StringValue: string }> }>;
      expect(entries.length).toBeLessThanOrEqual(10);
      for (const e of entries) {
        const attributes = Object.fromEntries(Object.entries(e.MessageAttributes).map(([k, v]) => [k, v.StringValue]));
        for (const v of Object.values(e.MessageAttributes)) expect(v.DataType).toBe('String');
        out.set(attributes.eventId as string, { body: e.MessageBody, attributes });
      }
    }
    return out;
  }

  const clients = (sqs: FakeAwsClient) => ({ s3, sqs: sqs.as<never>(), cloudFormation: cloudFormation().as<never>() });

  it('sends each event of the range once, in batches of 10, with its original attributes', async () => {
    captureStdout();
    const sqs = sqsForReplay();
    const summary = await runReplayCommand({ aws: true, from: '2025-07-02', to: '2025-07-02' }, clients(sqs));
    expect(summary).toMatchObject({ objects: 2, lines: 27, sent: 25, claimChecks: 1, skipped: { duplicate: 1, 'out-of-range': 1 } });
    expect(sqs.commands).toHaveLength(3);
    const messages = sent(sqs);
    expect(messages.size).toBe(25);
    const first = messages.get(eventIdOf(bodies[0] as string));
    expect(first?.body).toBe(bodies[0]);
    expect(first?.attributes).toMatchObject({ eventType: 'message.didFlag', receivedAt: '2025-07-02T10:00:00.000Z', source: 'default' });
    expect(first?.attributes.requestId).toMatch(/^replay-/);
    expect(first?.attributes.replayForce).toBeUndefined();
    expect(messages.get(bigId)).toEqual({
      body: JSON.stringify({ claimCheckKey: bigKey, bodyBytes: 1_500_000 }),
      attributes: expect.objectContaining({ claimCheckKey: bigKey, eventId: bigId }),
    });
    expect(stdout.join('')).toMatch(
      new RegExp(
        `replayed 25 events received 2025-07-02T00:00:00.000Z to 2025-07-03T00:00:00.000Z from s3://${BUCKET}/events/ to ${QUEUE_URL} \\(27 archive lines in 2 objects; 1 as claim checks; skipped 1 duplicate lines`,
      ),
    );
  });

  it('filters by --event and marks the handlers --force names', async () => {
    captureStdout();
    const sqs = sqsForReplay();
    const summary = await runReplayCommand(
      { aws: true, from: '2025-07-02T10:00Z', to: '2025-07-02T10:20Z', event: ['post.*'], force: ['auto-moderation'] },
      clients(sqs),
    );
    expect(summary.sent).toBe(10);
    for (const m of sent(sqs).values()) expect(m.attributes).toMatchObject({ eventType: 'post.didCreate', replayForce: 'auto-moderation' });
  });

  it('refuses a plain --force before reading anything', async () => {
    captureStdout();
    const sqs = sqsForReplay();
    await expect(runReplayCommand({ aws: true, from: '2025-07-02', to: '2025-07-02', force: true }, clients(sqs))).rejects.toThrow(
      /--force without handler names/,
    );
    expect(sqs.commands).toHaveLength(0);
  });

  it('retries the entries SQS fails on its side, and stops on one it refuses', async () => {
    captureStdout();
    const flaky = sqsForReplay((_id, attempt) => (attempt === 1 ? { SenderFault: false, Code: 'InternalError' } : undefined));
    expect(
      (await runReplayCommand({ aws: true, from: '2025-07-02', to: '2025-07-02', bucket: BUCKET, queueUrl: QUEUE_URL }, clients(flaky))).sent,
    ).toBe(25);
    expect(sent(flaky).size).toBe(25);

    const refusing = sqsForReplay((id) =>
      id === eventIdOf(bodies[3] as string) ? { SenderFault: true, Code: 'InvalidMessageContents' } : undefined,
    );
    await expect(runReplayCommand({ aws: true, from: '2025-07-02', to: '2025-07-02' }, clients(refusing))).rejects.toThrow(
      new RegExp(`SQS refused the message of event ${eventIdOf(bodies[3] as string)}: InvalidMessageContents: try later`),
    );
  });

  it('lists without sending under --dry-run', async () => {
    captureStdout();
    const sqs = sqsForReplay();
    const summary = await runReplayCommand({ aws: true, from: '2025-07-02', to: '2025-07-02', dryRun: true }, clients(sqs));
    expect(summary.sent).toBe(25);
    expect(sqs.commands).toEqual([]);
    expect(stdout.join('')).toMatch(new RegExp(`${bigId} {2}message\\.didFlag {2}default {2}\\(claim check ${bigKey}\\)`));
    expect(stdout.join('')).toMatch(/would replay 25 events/);
  });
});
