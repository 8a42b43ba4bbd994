/**
 * `status --aws` with the real SDK clients against the AWS double: what it asks CloudFormation
 * (query protocol), SQS and CloudWatch (JSON 1.0), as their wire requests, and what it makes of
 * their recorded answers, errors included.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_STACK_NAME as STACK_DEFAULT_NAME } from '../../lib/webhooks-stack.js';
import { DEFAULT_STACK_NAME, queueNameOf, readAwsStatus, type AwsStatusClients } from '../../cli/aws-status.js';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { renderAws } from '../../cli/commands/status.js';
import { runCli } from '../cli/run-cli.js';
import { startAwsDouble, type AwsDouble } from '../support/aws-double.js';
import {
  describeStacks,
  doubleClientConfig,
  isolatedAwsEnv,
  json10Answer,
  queueAttributesAnswer,
  sqsAccessDenied,
} from '../support/aws-recorded-answers.js';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/SocialPlusWebhooks-EventQueue-AbC123';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/SocialPlusWebhooks-DeadLetterQueue-XyZ789';
const NOW = new Date(Date.UTC(2025, 6, 2, 0, 7, 30));
const MIDNIGHT = new Date(Date.UTC(2025, 6, 2));
/** CloudWatch's JSON protocol carries timestamps as epoch seconds. */
const epochSeconds = (d: Date) => d.getTime() / 1000;
const minute = (m: number) => new Date(NOW.getTime() - m * 60_000);

const OUTPUTS = { [STACK_OUTPUTS.queueUrl]: QUEUE_URL, [STACK_OUTPUTS.deadLetterQueueUrl]: DLQ_URL, EventTableName: 't' };

/** The figures CloudWatch answers GetMetricData with (results by query id, newest first). */
const METRICS = [
  {
    Id: 'queueAge',
    Label: 'ApproximateAgeOfOldestMessage',
    Timestamps: [minute(1), minute(2)].map(epochSeconds),
    Values: [4, 9],
    StatusCode: 'Complete',
  },
  // The DLQ's only datapoint is older than the look-back: unknown.
  { Id: 'dlqAge', Label: 'ApproximateAgeOfOldestMessage', Timestamps: [epochSeconds(minute(40))], Values: [7200], StatusCode: 'Complete' },
  // The bucket before midnight is yesterday's.
  {
    Id: 'stored',
    Label: 'Stored',
    Timestamps: [new Date(MIDNIGHT.getTime() + 300_000), MIDNIGHT, new Date(MIDNIGHT.getTime() - 300_000)].map(epochSeconds),
    Values: [5, 37, 1000],
    StatusCode: 'Complete',
  },
  {
    Id: 'sigbase64',
    Label: 'SignatureFormBase64',
    Timestamps: [MIDNIGHT, new Date(MIDNIGHT.getTime() - 300_000)].map(epochSeconds),
    Values: [40, 900],
    StatusCode: 'Complete',
  },
  { Id: 'sighex', Label: 'SignatureFormHex', Timestamps: [], Values: [], StatusCode: 'Complete' },
  {
    Id: 'sigrefused',
    Label: 'SignatureInvalid',
    Timestamps: [epochSeconds(new Date(MIDNIGHT.getTime() + 300_000))],
    Values: [2],
    StatusCode: 'Complete',
  },
];

/**
 * A fresh double and real clients per test: a failed status leaves its other calls in flight
 * (`Promise.all` rejects on the first failure), and they must not land in the next test's record.
 */
let double: AwsDouble;
let clients: AwsStatusClients & { destroy(): void };
beforeEach(async () => {
  double = await startAwsDouble();
  const config = doubleClientConfig(double.endpoint);
  const built = { cloudFormation: new CloudFormationClient(config), sqs: new SQSClient(config), cloudWatch: new CloudWatchClient(config) };
  clients = { ...built, destroy: () => Object.values(built).forEach((c) => c.destroy()) };
  double.answer({
    'cloudformation:DescribeStacks': describeStacks({ SocialPlusWebhooks: OUTPUTS }),
    'sqs:GetQueueAttributes': (call) =>
      queueAttributesAnswer(
        call.input.QueueUrl === QUEUE_URL
          ? { ApproximateNumberOfMessages: '12', ApproximateNumberOfMessagesNotVisible: '3', ApproximateNumberOfMessagesDelayed: '0', QueueArn: 'x' }
          : { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '0', ApproximateNumberOfMessagesDelayed: '0', QueueArn: 'y' },
      )(call),
    'monitoring:GetMetricData': json10Answer({ MetricDataResults: METRICS, Messages: [] }),
  });
});
afterEach(async () => {
  clients.destroy();
  await double.close();
});

describe('status --aws', () => {
  it("the default stack name matches the stack's", () => {
    expect(DEFAULT_STACK_NAME).toBe(STACK_DEFAULT_NAME);
  });

  it("reads the queues from the stack's outputs, their depth from SQS, the ages and today's Stored sum from CloudWatch", async () => {
    const status = await readAwsStatus(clients, {}, NOW);
    expect(status).toEqual({
      mode: 'aws',
      stack: 'SocialPlusWebhooks',
      queue: { url: QUEUE_URL, visible: 12, inFlight: 3, delayed: 0, oldestAgeSeconds: 4 },
      deadLetterQueue: { url: DLQ_URL, visible: 2, inFlight: 0, delayed: 0, oldestAgeSeconds: null },
      today: {
        date: '2025-07-02',
        storedEvents: 42,
        countedFrom: 'cloudwatch',
        signatures: { base64: 40, hex: 0, 'json-base64': 0, 'json-hex': 0, refused: 2 },
      },
    });
    expect(double.callsTo('cloudformation:DescribeStacks').map((c) => c.input)).toEqual([
      { Action: 'DescribeStacks', Version: '2010-05-15', StackName: 'SocialPlusWebhooks' },
    ]);
    const sqsCalls = double.callsTo('sqs:GetQueueAttributes');
    expect(sqsCalls.map((x) => x.input.QueueUrl).sort()).toEqual([DLQ_URL, QUEUE_URL].sort());
    for (const call of sqsCalls)
      expect(call.input.AttributeNames).toEqual([
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ]);

    const [query, ...more] = double.callsTo('monitoring:GetMetricData');
    expect(more).toEqual([]);
    const queries = query?.input.MetricDataQueries as Array<{
      Id: string;
      MetricStat: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown }; Period: number; Stat: string };
    }>;
    expect(
      queries.map((q) => [
        q.Id,
        q.MetricStat.Metric.Namespace,
        q.MetricStat.Metric.MetricName,
        q.MetricStat.Metric.Dimensions,
        q.MetricStat.Period,
        q.MetricStat.Stat,
      ]),
    ).toEqual([
      ['queueAge', 'AWS/SQS', 'ApproximateAgeOfOldestMessage', [{ Name: 'QueueName', Value: 'SocialPlusWebhooks-EventQueue-AbC123' }], 60, 'Maximum'],
      [
        'dlqAge',
        'AWS/SQS',
        'ApproximateAgeOfOldestMessage',
        [{ Name: 'QueueName', Value: 'SocialPlusWebhooks-DeadLetterQueue-XyZ789' }],
        60,
        'Maximum',
      ],
      ['stored', 'SocialPlusWebhooks', 'Stored', [{ Name: 'service', Value: 'fanout' }], 300, 'Sum'],
      ['sigbase64', 'SocialPlusWebhooks', 'SignatureFormBase64', [{ Name: 'service', Value: 'receiver' }], 300, 'Sum'],
      ['sighex', 'SocialPlusWebhooks', 'SignatureFormHex', [{ Name: 'service', Value: 'receiver' }], 300, 'Sum'],
      ['sigjsonbase64', 'SocialPlusWebhooks', 'SignatureFormJsonBase64', [{ Name: 'service', Value: 'receiver' }], 300, 'Sum'],
      ['sigjsonhex', 'SocialPlusWebhooks', 'SignatureFormJsonHex', [{ Name: 'service', Value: 'receiver' }], 300, 'Sum'],
      ['sigrefused', 'SocialPlusWebhooks', 'SignatureInvalid', [{ Name: 'service', Value: 'receiver' }], 300, 'Sum'],
    ]);
    // On the wire: epoch seconds, starting on a 5-minute boundary no later than midnight, so no Stored bucket straddles it.
    const start = query?.input.StartTime as number;
    expect(start).toBeLessThanOrEqual(epochSeconds(MIDNIGHT));
    expect(start % 300).toBe(0);
    expect(query?.input.EndTime).toBe(epochSeconds(NOW));
    expect(query?.input.ScanBy).toBe('TimestampDescending');

    const text = renderAws(status).join('\n');
    expect(text).toMatch(/queue\s+12 visible, 3 in flight; oldest 4 s/);
    expect(text).toMatch(
      /dead-letter\s+2 visible, 0 in flight; oldest unknown \(no recent CloudWatch datapoint\) — move them back with 'socialplus-webhooks redrive --aws'/,
    );
    expect(text).toMatch(/today\s+42 events stored on 2025-07-02 \(UTC\)/);
    expect(text).toContain('signatures   40 base64; 2 refused for their signature (401) today');
  });

  it("--metrics-namespace: today's Stored sum is read from the stack's own namespace", async () => {
    await readAwsStatus(clients, { metricsNamespace: 'MyCo/Webhooks' }, NOW);
    const queries = double.callsTo('monitoring:GetMetricData')[0]?.input.MetricDataQueries as Array<{
      Id: string;
      MetricStat: { Metric: { Namespace: string } };
    }>;
    expect(queries.find((q) => q.Id === 'stored')?.MetricStat.Metric.Namespace).toBe('MyCo/Webhooks');
  });

  it('with both queue URLs given, CloudFormation is not asked', async () => {
    const status = await readAwsStatus(clients, { queueUrl: QUEUE_URL, dlqUrl: DLQ_URL }, NOW);
    expect(double.callsTo('cloudformation:DescribeStacks')).toEqual([]);
    expect(status.stack).toBeNull();
  });

  it("a stack that does not exist (CloudFormation's ValidationError) fails naming it and the way out", async () => {
    await expect(readAwsStatus(clients, { stack: 'Nope' }, NOW)).rejects.toThrow(
      "stack 'Nope' was not found in this account and region: deploy it (npx cdk deploy), or name yours with --stack and its region with --region, or give --queue-url and --dlq-url",
    );
    expect(double.callsTo('cloudformation:DescribeStacks').map((c) => c.input.StackName)).toEqual(['Nope']);
  });

  it('a stack without the outputs fails naming the output and the flag', async () => {
    double.answer({ 'cloudformation:DescribeStacks': describeStacks({ Other: { [STACK_OUTPUTS.queueUrl]: QUEUE_URL } }) });
    await expect(readAwsStatus(clients, { stack: 'Other' }, NOW)).rejects.toThrow(
      "stack 'Other' has no output DeadLetterQueueUrl: is it a socialplus-webhooks stack, deployed with this version (npx cdk deploy)? Otherwise pass --dlq-url. Outputs found: EventQueueUrl",
    );
  });

  it("SQS's 403 AccessDenied becomes one line naming the call, with a hint", async () => {
    double.answer({ 'sqs:GetQueueAttributes': sqsAccessDenied('User is not authorized to perform: sqs:GetQueueAttributes') });
    await expect(readAwsStatus(clients, { queueUrl: QUEUE_URL, dlqUrl: DLQ_URL }, NOW)).rejects.toThrow(
      `could not read the attributes of queue ${QUEUE_URL} (sqs:GetQueueAttributes): access denied (User is not authorized to perform: sqs:GetQueueAttributes); use credentials allowed to do this`,
    );
  });

  describe("the SDK's own failures, through the CLI with no credentials or region from this machine", () => {
    let scratch: string;
    beforeEach(() => {
      scratch = mkdtempSync(join(tmpdir(), 'status-aws-'));
    });
    afterEach(() => rmSync(scratch, { recursive: true, force: true }));
    const status = ['status', '--aws', '--queue-url', QUEUE_URL, '--dlq-url', DLQ_URL];

    it.each([
      [
        'no credentials',
        { AWS_REGION: 'eu-west-1' },
        'no usable AWS credentials (Could not load credentials from any providers); configure them (aws configure, aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)',
      ],
      [
        'no region',
        { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' },
        'no AWS region configured; pass --region or set AWS_REGION',
      ],
    ])('%s: one line with the hint, and nothing sent', async (_label, env, hint) => {
      const run = await runCli(status, isolatedAwsEnv(scratch, { AWS_ENDPOINT_URL: double.endpoint, ...env }));
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(new RegExp(`^socialplus-webhooks: could not .*: ${hint.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`));
      expect(double.calls).toEqual([]);
    });
  });

  it('--dir is refused with --aws, before any AWS call', async () => {
    const run = await runCli(['status', '--aws', '--dir', '.local']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--dir is for local mode; with --aws the stack is named by --stack');
    expect(double.calls).toEqual([]);
  });

  it("queueNameOf takes the URL's last segment and refuses what is not a URL", () => {
    expect(queueNameOf(QUEUE_URL)).toBe('SocialPlusWebhooks-EventQueue-AbC123');
    expect(() => queueNameOf('my-queue')).toThrow("'my-queue' is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)");
  });
});
