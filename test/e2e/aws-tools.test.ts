/**
 * `redrive --aws` and `replay --aws` with the real SDK clients: SQS and CloudFormation against the
 * AWS double (recorded answers in their wire formats: JSON 1.0 for SQS, query XML for
 * CloudFormation), S3 as s3rver holding a stack's archive.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runRedrive } from '../../cli/commands/redrive.js';
import { runReplayCommand } from '../../cli/commands/replay.js';
import { CliError } from '../../cli/errors.js';
import { redriveOnAws } from '../../cli/redrive-aws.js';
import { archiveLine, type ArchiveRecord } from '../../lambda/core/archive-layout.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey } from '../../lambda/core/inbox.js';
import { ensureBucket, localS3Client, startS3rver, type RunningEmulator } from '../../local/emulators.js';
import { startAwsDouble, type AwsCall, type AwsDouble } from '../support/aws-double.js';
import {
  describeStacks,
  doubleClientConfig,
  json10Answer,
  md5OfAttributes,
  md5OfBody,
  queueAttributesAnswer,
  recordedQueueArn,
  recordedQueueUrl,
  sqsAccessDenied,
} from '../support/aws-recorded-answers.js';

const QUEUE_URL = recordedQueueUrl('events');
const DLQ_URL = recordedQueueUrl('events-dlq');
const QUEUE_ARN = recordedQueueArn('events');
const DLQ_ARN = recordedQueueArn('events-dlq');
const BUCKET = 'stack-archive';
const STACK_OUTPUTS = { EventQueueUrl: QUEUE_URL, DeadLetterQueueUrl: DLQ_URL, ArchiveBucketName: BUCKET };

const stdout: string[] = [];
const realWrite = process.stdout.write.bind(process.stdout);
function captureStdout(): void {
  stdout.length = 0;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString());
    return true;
  }) as typeof process.stdout.write;
}

/** A fresh double and real clients pointed at it, per test: no answer or call leaks between tests. */
let double: AwsDouble;
let sqs: SQSClient;
let cloudFormation: CloudFormationClient;
beforeEach(async () => {
  double = await startAwsDouble();
  sqs = new SQSClient(doubleClientConfig(double.endpoint));
  cloudFormation = new CloudFormationClient(doubleClientConfig(double.endpoint));
});
afterEach(async () => {
  process.stdout.write = realWrite;
  sqs.destroy();
  cloudFormation.destroy();
  await double.close();
});

/** CloudFormation knowing one stack, SocialPlusWebhooks, with these outputs. */
function answerStack(outputs: Record<string, string> = STACK_OUTPUTS): void {
  double.answer({ 'cloudformation:DescribeStacks': describeStacks({ SocialPlusWebhooks: outputs }) });
}

/** SQS with a DLQ of `messages`, and move tasks that report `tasks` in turn on each listing. */
function answerRedrive(messages: number, tasks: Array<Record<string, unknown> | undefined>): void {
  let listing = 0;
  const dlq = queueAttributesAnswer({ QueueArn: DLQ_ARN, ApproximateNumberOfMessages: String(messages), VisibilityTimeout: '30' });
  const queue = queueAttributesAnswer({ QueueArn: QUEUE_ARN, ApproximateNumberOfMessages: '0', VisibilityTimeout: '30' });
  double.answer({
    'sqs:GetQueueAttributes': (call) => (call.input.QueueUrl === DLQ_URL ? dlq(call) : queue(call)),
    'sqs:StartMessageMoveTask': json10Answer({ TaskHandle: 'task-1' }),
    'sqs:ListMessageMoveTasks': () => {
      const t = tasks[Math.min(listing++, tasks.length - 1)];
      return json10Answer({ Results: t ? [{ SourceArn: DLQ_ARN, DestinationArn: QUEUE_ARN, StartedTimestamp: 1751450400000, ...t }] : [] });
    },
  });
}

const operations = () => double.calls.map((c: AwsCall) => `${c.service}:${c.operation}`);
const noSleep = async () => undefined;

describe('redrive --aws', () => {
  it('starts a message move task from the DLQ to the queue and follows it to a final count', async () => {
    answerRedrive(3, [
      undefined,
      { TaskHandle: 'task-1', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 1, ApproximateNumberOfMessagesToMove: 3 },
      { TaskHandle: 'task-1', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 3 },
    ]);
    const progress: Array<[number, number | undefined]> = [];
    const result = await redriveOnAws(sqs, {
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
    expect(double.callsTo('sqs:StartMessageMoveTask').map((c) => c.input)).toEqual([
      { SourceArn: DLQ_ARN, DestinationArn: QUEUE_ARN, MaxNumberOfMessagesPerSecond: 50 },
    ]);
    // Each move-task listing is of the DLQ's tasks, and the SQS calls went to the double, not the queue URL's host.
    for (const c of double.callsTo('sqs:ListMessageMoveTasks')) expect(c.input).toEqual({ SourceArn: DLQ_ARN, MaxResults: 10 });
    expect(operations()).toEqual([
      'sqs:GetQueueAttributes',
      'sqs:GetQueueAttributes',
      'sqs:ListMessageMoveTasks',
      'sqs:StartMessageMoveTask',
      'sqs:ListMessageMoveTasks',
      'sqs:ListMessageMoveTasks',
    ]);
    expect(progress).toEqual([
      [1, 3],
      [3, 3],
    ]);
  });

  it('follows a move task that is already running instead of starting another', async () => {
    answerRedrive(5, [
      { TaskHandle: 'older', Status: 'RUNNING', ApproximateNumberOfMessagesMoved: 2 },
      { TaskHandle: 'older', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 5 },
    ]);
    const result = await redriveOnAws(sqs, { queueUrl: QUEUE_URL, deadLetterQueueUrl: DLQ_URL, sleep: noSleep });
    expect(result).toMatchObject({ status: 'COMPLETED', moved: 5, followedExisting: true, taskHandle: 'older' });
    expect(operations()).not.toContain('sqs:StartMessageMoveTask');
  });

  it('moves nothing from an empty DLQ', async () => {
    answerRedrive(0, [{ TaskHandle: 'old', Status: 'COMPLETED' }]);
    expect(await redriveOnAws(sqs, { queueUrl: QUEUE_URL, deadLetterQueueUrl: DLQ_URL, sleep: noSleep })).toMatchObject({
      status: 'EMPTY',
      moved: 0,
    });
    expect(operations()).not.toContain('sqs:StartMessageMoveTask');
  });

  it('reads the queues from the stack and prints the count', async () => {
    captureStdout();
    answerStack();
    answerRedrive(2, [undefined, { TaskHandle: 'task-1', Status: 'COMPLETED', ApproximateNumberOfMessagesMoved: 2 }]);
    await runRedrive({ aws: true, wait: true }, { sqs, cloudFormation });
    expect(stdout.join('')).toBe(`moved 2 messages from ${DLQ_ARN} back to ${QUEUE_ARN}\n`);
    expect(double.callsTo('cloudformation:DescribeStacks').map((c) => c.input)).toEqual([
      { Action: 'DescribeStacks', Version: '2010-05-15', StackName: 'SocialPlusWebhooks' },
    ]);
  });

  it('starts and returns with --no-wait', async () => {
    captureStdout();
    answerStack();
    answerRedrive(7, [undefined]);
    await runRedrive({ aws: true, wait: false, queueUrl: QUEUE_URL, dlqUrl: DLQ_URL }, { sqs, cloudFormation });
    expect(stdout.join('')).toBe(`started a message move task from ${DLQ_ARN} to ${QUEUE_ARN} (about 7 messages); task handle task-1\n`);
    // Both queues given: the stack is not read.
    expect(double.callsTo('cloudformation:DescribeStacks')).toEqual([]);
  });

  it('fails naming the reason when the task fails', async () => {
    answerStack();
    answerRedrive(2, [
      undefined,
      { TaskHandle: 'task-1', Status: 'FAILED', ApproximateNumberOfMessagesMoved: 1, FailureReason: 'AccessDenied on kms:Decrypt' },
    ]);
    await expect(runRedrive({ aws: true, wait: true }, { sqs, cloudFormation })).rejects.toThrow(
      /the message move task failed after moving 1 message: AccessDenied on kms:Decrypt; run redrive --aws again/,
    );
  });

  it.each([
    [
      'a stack that does not exist',
      { aws: true, wait: true, stack: 'Nope' },
      STACK_OUTPUTS,
      /stack 'Nope' was not found in this account and region: deploy it \(npx cdk deploy\)/,
    ],
    [
      'a stack without the outputs',
      { aws: true, wait: true },
      { Other: 'x' },
      /stack 'SocialPlusWebhooks' has no output EventQueueUrl: .* Outputs found: Other/,
    ],
    ['local-only --dir', { aws: true, wait: true, dir: '.local' }, STACK_OUTPUTS, /--dir is for local mode; leave it out with --aws/],
  ])('refuses %s, naming it', async (_label, opts, outputs, message) => {
    answerStack(outputs);
    answerRedrive(1, [undefined]);
    await expect(runRedrive(opts, { sqs, cloudFormation })).rejects.toThrow(message);
    // Refused before any queue is touched.
    expect(operations().filter((o) => o.startsWith('sqs:'))).toEqual([]);
  });

  it("turns a refused start (SQS's 403 AccessDenied) into a message naming both queues", async () => {
    answerRedrive(4, [undefined]);
    double.answer({ 'sqs:StartMessageMoveTask': sqsAccessDenied('User is not authorized to perform: sqs:StartMessageMoveTask') });
    const err = await redriveOnAws(sqs, { queueUrl: QUEUE_URL, deadLetterQueueUrl: DLQ_URL, sleep: noSleep }).catch((e: unknown) => e);
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

  type SentEntry = { Id: string; MessageBody: string; MessageAttributes: Record<string, { DataType: string; StringValue: string }> };

  /**
   * SQS answering SendMessageBatch as it does: each entry either in `Successful` (with the MD5s of
   * its body and attributes, which the SDK checks against what it sent) or in `Failed`, as `fail`
   * decides per event id and attempt.
   */
  function answerReplay(fail: (entryId: string, attempt: number) => { SenderFault: boolean; Code: string } | undefined = () => undefined) {
    const attempts = new Map<string, number>();
    double.answer({
      'sqs:SendMessageBatch': (call) => {
        const entries = call.input.Entries as SentEntry[];
        const successful = [];
        const failed = [];
        for (const e of entries) {
          const key = e.MessageAttributes.eventId?.StringValue ?? e.Id;
          const n = (attempts.get(key) ?? 0) + 1;
          attempts.set(key, n);
          const f = fail(key, n);
          if (f) failed.push({ Id: e.Id, ...f, Message: 'try later' });
          else
            successful.push({
              Id: e.Id,
              MessageId: `5fea7756-0ea4-451a-a703-a558b933e2${String(n).padStart(2, '0')}`,
              MD5OfMessageBody: md5OfBody(e.MessageBody),
              MD5OfMessageAttributes: md5OfAttributes(e.MessageAttributes),
            });
        }
        return json10Answer({ Successful: successful, Failed: failed });
      },
    });
  }

  /** Every message sent, as the last attempt carried it on the wire. */
  function sent(): Map<string, { body: string; attributes: Record<string, string> }> {
    const out = new Map<string, { body: string; attributes: Record<string, string> }>();
    expect(double.calls.every((c) => c.operation === 'SendMessageBatch' || c.service === 'cloudformation')).toBe(true);
    for (const c of double.callsTo('sqs:SendMessageBatch')) {
      expect(c.input.QueueUrl).toBe(QUEUE_URL);
      const entries = c.input.Entries as SentEntry[];
      expect(entries.length).toBeLessThanOrEqual(10);
      for (const e of entries) {
        const attributes = Object.fromEntries(Object.entries(e.MessageAttributes).map(([k, v]) => [k, v.StringValue]));
        for (const v of Object.values(e.MessageAttributes)) expect(v.DataType).toBe('String');
        out.set(attributes.eventId as string, { body: e.MessageBody, attributes });
      }
    }
    return out;
  }

  const clients = () => {
    answerStack();
    return { s3, sqs, cloudFormation };
  };
  const batches = () => double.callsTo('sqs:SendMessageBatch');

  it('sends each event of the range once, in batches of 10, with its original attributes', async () => {
    captureStdout();
    answerReplay();
    const summary = await runReplayCommand({ aws: true, from: '2025-07-02', to: '2025-07-02' }, clients());
    expect(summary).toMatchObject({ objects: 2, lines: 27, sent: 25, claimChecks: 1, skipped: { duplicate: 1, 'out-of-range': 1 } });
    expect(batches()).toHaveLength(3);
    const messages = sent();
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
    answerReplay();
    const summary = await runReplayCommand(
      { aws: true, from: '2025-07-02T10:00Z', to: '2025-07-02T10:20Z', event: ['post.*'], force: ['auto-moderation'] },
      clients(),
    );
    expect(summary.sent).toBe(10);
    expect(sent().size).toBe(10);
    for (const m of sent().values()) expect(m.attributes).toMatchObject({ eventType: 'post.didCreate', replayForce: 'auto-moderation' });
  });

  it('refuses a plain --force before reading anything', async () => {
    captureStdout();
    answerReplay();
    await expect(runReplayCommand({ aws: true, from: '2025-07-02', to: '2025-07-02', force: true }, clients())).rejects.toThrow(
      /--force without handler names/,
    );
    // Nothing asked of AWS at all, not even the stack.
    expect(double.calls).toEqual([]);
  });

  it('retries the entries SQS fails on its side, and stops on one it refuses', async () => {
    captureStdout();
    answerReplay((_id, attempt) => (attempt === 1 ? { SenderFault: false, Code: 'InternalError' } : undefined));
    // The waits before each retry are recorded, not slept.
    const waits: number[] = [];
    const sleep = async (ms: number) => void waits.push(ms);
    const run = runReplayCommand({ aws: true, from: '2025-07-02', to: '2025-07-02', bucket: BUCKET, queueUrl: QUEUE_URL }, clients(), sleep);
    expect((await run).sent).toBe(25);
    expect(waits).toEqual([200, 200, 200]);
    expect(sent().size).toBe(25);
    // Every batch failed once on SQS's side and was sent again, with only the failed entries.
    expect(batches()).toHaveLength(6);
    expect(batches().map((c) => (c.input.Entries as SentEntry[]).length)).toEqual([10, 10, 10, 10, 5, 5]);
    expect(double.callsTo('cloudformation:DescribeStacks')).toEqual([]);

    double.calls.length = 0;
    answerReplay((id) => (id === eventIdOf(bodies[3] as string) ? { SenderFault: true, Code: 'InvalidMessageContents' } : undefined));
    await expect(runReplayCommand({ aws: true, from: '2025-07-02', to: '2025-07-02' }, clients())).rejects.toThrow(
      new RegExp(`SQS refused the message of event ${eventIdOf(bodies[3] as string)}: InvalidMessageContents: try later`),
    );
  });

  it('lists without sending under --dry-run', async () => {
    captureStdout();
    answerReplay();
    const summary = await runReplayCommand({ aws: true, from: '2025-07-02', to: '2025-07-02', dryRun: true }, clients());
    expect(summary.sent).toBe(25);
    expect(batches()).toEqual([]);
    expect(stdout.join('')).toMatch(new RegExp(`${bigId} {2}message\\.didFlag {2}default {2}\\(claim check ${bigKey}\\)`));
    expect(stdout.join('')).toMatch(/would replay 25 events/);
  });
});
