/**
 * `redrive --aws` and `replay --aws` send through the stack's operator role, the only sender the
 * event queue's policy admits besides the receiver: the real CLI entry and real SDK clients
 * against the recording AWS double.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { operatorCredentials } from '../../cli/operator-role.js';
import { STSClient } from '@aws-sdk/client-sts';
import { awsDoubleEnv, jsonAnswer, queryAnswer, queryError, startAwsDouble, type AwsCall, type AwsDouble } from '../support/aws-double.js';
import { runCli } from './run-cli.js';

const ACCOUNT = '123456789012';
// SQS sends each call to the host of its queue URL, so the queues live at the double.
let QUEUE_URL: string;
let DLQ_URL: string;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/SocialPlusWebhooks-OperatorRole-Q1w2E3`;
const SESSION_KEY = 'ASIAOPERATORSESSION1';

function describeStacks(outputs: Record<string, string>) {
  const members = Object.entries(outputs)
    .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
    .join('');
  return queryAnswer(
    'DescribeStacks',
    `<Stacks><member><StackName>SocialPlusWebhooks</StackName><StackStatus>UPDATE_COMPLETE</StackStatus><CreationTime>2026-11-01T00:00:00Z</CreationTime><Outputs>${members}</Outputs></member></Stacks>`,
  );
}

/** An AssumeRole answer; by default a session valid for an hour from whenever it is asked (the CLI reads the real clock). */
const assumeRole = (expiration?: string) =>
  queryAnswer(
    'AssumeRole',
    `<Credentials><AccessKeyId>${SESSION_KEY}</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>${expiration ?? new Date(Date.now() + 3600_000).toISOString()}</Expiration></Credentials>` +
      `<AssumedRoleUser><Arn>arn:aws:sts::${ACCOUNT}:assumed-role/op/socialplus-webhooks-cli</Arn><AssumedRoleId>AROA:socialplus-webhooks-cli</AssumedRoleId></AssumedRoleUser>`,
    'https://sts.amazonaws.com/doc/2011-06-15/',
  );

const sqsAttributes = (call: AwsCall) =>
  jsonAnswer({
    Attributes: {
      QueueArn: call.input.QueueUrl === DLQ_URL ? `arn:aws:sqs:us-east-1:${ACCOUNT}:dlq` : `arn:aws:sqs:us-east-1:${ACCOUNT}:queue`,
      ApproximateNumberOfMessages: '3',
    },
  });

/** The access key a call was signed with. */
const keyOf = (call: AwsCall) => /Credential=([^/]+)\//.exec(call.headers.authorization ?? '')?.[1];

let double: AwsDouble;
beforeAll(async () => {
  double = await startAwsDouble();
  QUEUE_URL = `${double.endpoint}/${ACCOUNT}/SocialPlusWebhooks-Queue-AbC`;
  DLQ_URL = `${double.endpoint}/${ACCOUNT}/SocialPlusWebhooks-DeadLetterQueue-XyZ`;
});
afterAll(() => double.close());
afterEach(() => {
  double.calls.length = 0;
});

describe('redrive --aws', () => {
  it("assumes the stack's operator role and moves the DLQ with its session, reading the stack with the user's own credentials", async () => {
    double.answer({
      'cloudformation:DescribeStacks': describeStacks({
        EventQueueUrl: QUEUE_URL,
        DeadLetterQueueUrl: DLQ_URL,
        ArchiveBucketName: 'archive',
        OperatorRoleArn: ROLE,
      }),
      'sts:AssumeRole': assumeRole(),
      'sqs:GetQueueAttributes': sqsAttributes,
      'sqs:ListMessageMoveTasks': jsonAnswer({ Results: [] }),
      'sqs:StartMessageMoveTask': jsonAnswer({ TaskHandle: 'task-1' }),
    });
    const run = await runCli(['redrive', '--aws', '--no-wait'], awsDoubleEnv(double.endpoint));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/started a message move task from arn:aws:sqs:us-east-1:123456789012:dlq to arn:aws:sqs:us-east-1:123456789012:queue/);
    expect(double.callsTo('sts:AssumeRole')[0]?.input).toMatchObject({ RoleArn: ROLE, RoleSessionName: 'socialplus-webhooks-cli' });
    const bySigner = double.calls.map((c) => [c.service, keyOf(c)]);
    expect(bySigner).toEqual([
      ['cloudformation', 'AKIDEXAMPLE'],
      ['sts', 'AKIDEXAMPLE'],
      ['sqs', SESSION_KEY],
      ['sqs', SESSION_KEY],
      ['sqs', SESSION_KEY],
      ['sqs', SESSION_KEY],
    ]);
  });

  it('stops before touching SQS when the user may not assume the role, and says what to grant', async () => {
    double.answer({
      'cloudformation:DescribeStacks': describeStacks({ EventQueueUrl: QUEUE_URL, DeadLetterQueueUrl: DLQ_URL, OperatorRoleArn: ROLE }),
      'sts:AssumeRole': queryError(
        'AccessDenied',
        `User: arn:aws:iam::${ACCOUNT}:user/dev is not authorized to perform: sts:AssumeRole on resource: ${ROLE}`,
        403,
      ),
    });
    const run = await runCli(['redrive', '--aws'], awsDoubleEnv(double.endpoint));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`assume the stack's operator role ${ROLE}`);
    expect(run.stderr).toContain('allow sts:AssumeRole on it');
    expect(double.calls.filter((c) => c.service === 'sqs')).toEqual([]);
  });

  it("uses the user's own credentials for a stack without an operator role (deployed before it existed)", async () => {
    double.answer({
      'cloudformation:DescribeStacks': describeStacks({ EventQueueUrl: QUEUE_URL, DeadLetterQueueUrl: DLQ_URL }),
      'sqs:GetQueueAttributes': sqsAttributes,
      'sqs:ListMessageMoveTasks': jsonAnswer({ Results: [] }),
      'sqs:StartMessageMoveTask': jsonAnswer({ TaskHandle: 'task-1' }),
    });
    const run = await runCli(['redrive', '--aws', '--no-wait'], awsDoubleEnv(double.endpoint));
    expect(run.code).toBe(0);
    expect(double.callsTo('sts:AssumeRole')).toEqual([]);
    expect(new Set(double.calls.map(keyOf))).toEqual(new Set(['AKIDEXAMPLE']));
  });
});

describe('operatorCredentials', () => {
  it('takes a new session five minutes before the current one expires', async () => {
    let n = 0;
    double.answer({ 'sts:AssumeRole': () => assumeRole(n++ === 0 ? '2026-12-02T08:00:00Z' : '2026-12-02T09:00:00Z') });
    const sts = new STSClient({ endpoint: double.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 's' } });
    let now = Date.parse('2026-12-02T07:00:00Z');
    const provider = await operatorCredentials(sts, ROLE, () => now);
    expect(double.callsTo('sts:AssumeRole')).toHaveLength(1);
    now = Date.parse('2026-12-02T07:54:59Z');
    expect((await provider()).expiration.toISOString()).toBe('2026-12-02T08:00:00.000Z');
    expect(double.callsTo('sts:AssumeRole')).toHaveLength(1);
    now = Date.parse('2026-12-02T07:55:01Z');
    expect((await provider()).expiration.toISOString()).toBe('2026-12-02T09:00:00.000Z');
    expect(double.callsTo('sts:AssumeRole')).toHaveLength(2);
  });
});
