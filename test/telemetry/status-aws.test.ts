/** `status --aws` over stand-in SDK clients: what it asks CloudFormation, SQS and CloudWatch, and what it makes of the answers. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_STACK_NAME as STACK_DEFAULT_NAME } from '../../lib/webhooks-stack.js';
import { DEFAULT_STACK_NAME, queueNameOf, readAwsStatus, type AwsStatusClients } from '../../cli/aws-status.js';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { renderAws } from '../../cli/commands/status.js';
import { runCli } from '../cli/run-cli.js';
import { awsError, FakeAwsClient, type RecordedCommand } from '../support/fake-aws-client.js';

const QUEUE_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/SocialPlusWebhooks-EventQueue-AbC123';
const DLQ_URL = 'https://sqs.eu-west-1.amazonaws.com/123456789012/SocialPlusWebhooks-DeadLetterQueue-XyZ789';
const NOW = new Date(Date.UTC(2025, 6, 2, 0, 7, 30));
const MIDNIGHT = new Date(Date.UTC(2025, 6, 2));

function clients(overrides: { cfn?: FakeAwsClient; sqs?: FakeAwsClient; cw?: FakeAwsClient } = {}) {
  const cfn =
    overrides.cfn ??
    new FakeAwsClient(() => ({
      Stacks: [
        {
          Outputs: [
            { OutputKey: STACK_OUTPUTS.queueUrl, OutputValue: QUEUE_URL },
            { OutputKey: STACK_OUTPUTS.deadLetterQueueUrl, OutputValue: DLQ_URL },
            { OutputKey: 'EventTableName', OutputValue: 't' },
          ],
        },
      ],
    }));
  const sqs =
    overrides.sqs ??
    new FakeAwsClient((c) => ({
      Attributes:
        c.input.QueueUrl === QUEUE_URL
          ? { ApproximateNumberOfMessages: '12', ApproximateNumberOfMessagesNotVisible: '3', ApproximateNumberOfMessagesDelayed: '0' }
          : { ApproximateNumberOfMessages: '2', ApproximateNumberOfMessagesNotVisible: '0', ApproximateNumberOfMessagesDelayed: '0' },
    }));
  const minute = (m: number) => new Date(NOW.getTime() - m * 60_000);
  const cw =
    overrides.cw ??
    new FakeAwsClient(() => ({
      MetricDataResults: [
        { Id: 'queueAge', Timestamps: [minute(1), minute(2)], Values: [4, 9] },
        // The DLQ's only datapoint is older than the look-back: unknown.
        { Id: 'dlqAge', Timestamps: [minute(40)], Values: [7200] },
        // The bucket before midnight is yesterday's.
        {
          Id: 'stored',
          Timestamps: [new Date(MIDNIGHT.getTime() + 300_000), MIDNIGHT, new Date(MIDNIGHT.getTime() - 300_000)],
          Values: [5, 37, 1000],
        },
        { Id: 'sigbase64', Timestamps: [MIDNIGHT, new Date(MIDNIGHT.getTime() - 300_000)], Values: [40, 900] },
        { Id: 'sighex', Timestamps: [], Values: [] },
        { Id: 'sigrefused', Timestamps: [new Date(MIDNIGHT.getTime() + 300_000)], Values: [2] },
      ],
    }));
  const c: AwsStatusClients = { cloudFormation: cfn.as(), sqs: sqs.as(), cloudWatch: cw.as() };
  return { c, cfn, sqs, cw };
}

describe('status --aws', () => {
  it("the default stack name matches the stack's", () => {
    expect(DEFAULT_STACK_NAME).toBe(STACK_DEFAULT_NAME);
  });

  it("reads the queues from the stack's outputs, their depth from SQS, the ages and today's Stored sum from CloudWatch", async () => {
    const { c, cfn, sqs, cw } = clients();
    const status = await readAwsStatus(c, {}, NOW);
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
    expect(cfn.commands).toEqual([{ name: 'DescribeStacksCommand', input: { StackName: 'SocialPlusWebhooks' } }]);
    expect(sqs.commands.map((x) => x.input.QueueUrl).sort()).toEqual([DLQ_URL, QUEUE_URL].sort());
    expect(sqs.commands[0]?.input.AttributeNames).toEqual([
      'ApproximateNumberOfMessages',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateNumberOfMessagesDelayed',
    ]);

    const [query] = cw.commands as [RecordedCommand];
    expect(query.name).toBe('GetMetricDataCommand');
    const queries = query.input.MetricDataQueries as Array<{
      Id: string;
      MetricStat: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown }; Period: number; Stat: string };
    }>;
    expect(
      queries.map((q) => [q.Id, q.MetricStat.Metric.Namespace, q.MetricStat.Metric.MetricName, q.MetricStat.Metric.Dimensions, q.MetricStat.Stat]),
    ).toEqual([
      ['queueAge', 'AWS/SQS', 'ApproximateAgeOfOldestMessage', [{ Name: 'QueueName', Value: 'SocialPlusWebhooks-EventQueue-AbC123' }], 'Maximum'],
      ['dlqAge', 'AWS/SQS', 'ApproximateAgeOfOldestMessage', [{ Name: 'QueueName', Value: 'SocialPlusWebhooks-DeadLetterQueue-XyZ789' }], 'Maximum'],
      ['stored', 'SocialPlusWebhooks', 'Stored', [{ Name: 'service', Value: 'fanout' }], 'Sum'],
      ['sigbase64', 'SocialPlusWebhooks', 'SignatureFormBase64', [{ Name: 'service', Value: 'receiver' }], 'Sum'],
      ['sighex', 'SocialPlusWebhooks', 'SignatureFormHex', [{ Name: 'service', Value: 'receiver' }], 'Sum'],
      ['sigjsonbase64', 'SocialPlusWebhooks', 'SignatureFormJsonBase64', [{ Name: 'service', Value: 'receiver' }], 'Sum'],
      ['sigjsonhex', 'SocialPlusWebhooks', 'SignatureFormJsonHex', [{ Name: 'service', Value: 'receiver' }], 'Sum'],
      ['sigrefused', 'SocialPlusWebhooks', 'SignatureInvalid', [{ Name: 'service', Value: 'receiver' }], 'Sum'],
    ]);
    // Starts on a 5-minute boundary no later than midnight, so no Stored bucket straddles it.
    const start = query.input.StartTime as Date;
    expect(start.getTime()).toBeLessThanOrEqual(MIDNIGHT.getTime());
    expect(start.getTime() % 300_000).toBe(0);
    expect(query.input.EndTime).toEqual(NOW);

    const text = renderAws(status).join('\n');
    expect(text).toMatch(/queue\s+12 visible, 3 in flight; oldest 4 s/);
    expect(text).toMatch(
      /dead-letter\s+2 visible, 0 in flight; oldest unknown \(no recent CloudWatch datapoint\) — move them back with 'socialplus-webhooks redrive --aws'/,
    );
    expect(text).toMatch(/today\s+42 events stored on 2025-07-02 \(UTC\)/);
    expect(text).toContain('signatures   40 base64; 2 refused for their signature (401) today');
  });

  it("--metrics-namespace: today's Stored sum is read from the stack's own namespace", async () => {
    const { c, cw } = clients();
    await readAwsStatus(c, { metricsNamespace: 'MyCo/Webhooks' }, NOW);
    const queries = (cw.commands[0] as RecordedCommand).input.MetricDataQueries as Array<{
      Id: string;
      MetricStat: { Metric: { Namespace: string } };
    }>;
    expect(queries.find((q) => q.Id === 'stored')?.MetricStat.Metric.Namespace).toBe('MyCo/Webhooks');
  });

  it('with both queue URLs given, CloudFormation is not asked', async () => {
    const { c, cfn } = clients();
    const status = await readAwsStatus(c, { queueUrl: QUEUE_URL, dlqUrl: DLQ_URL }, NOW);
    expect(cfn.commands).toEqual([]);
    expect(status.stack).toBeNull();
  });

  it('a stack that does not exist fails naming it and the way out', async () => {
    const cfn = new FakeAwsClient(() => {
      throw awsError('ValidationError', 'Stack with id Nope does not exist');
    });
    await expect(readAwsStatus(clients({ cfn }).c, { stack: 'Nope' }, NOW)).rejects.toThrow(
      "stack 'Nope' was not found in this account and region: deploy it (npx cdk deploy), or name yours with --stack and its region with --region, or give --queue-url and --dlq-url",
    );
  });

  it('a stack without the outputs fails naming the output and the flag', async () => {
    const cfn = new FakeAwsClient(() => ({ Stacks: [{ Outputs: [{ OutputKey: STACK_OUTPUTS.queueUrl, OutputValue: QUEUE_URL }] }] }));
    await expect(readAwsStatus(clients({ cfn }).c, { stack: 'Other' }, NOW)).rejects.toThrow(
      "stack 'Other' has no output DeadLetterQueueUrl: is it a socialplus-webhooks stack, deployed with this version (npx cdk deploy)? Otherwise pass --dlq-url. Outputs found: EventQueueUrl",
    );
  });

  it.each([
    [awsError('CredentialsProviderError', 'Could not load credentials from any providers'), 'no usable AWS credentials'],
    [awsError('AccessDenied', 'User is not authorized to perform: sqs:GetQueueAttributes'), 'access denied'],
    [new Error('Region is missing'), 'no AWS region configured; pass --region or set AWS_REGION'],
  ])('an SDK failure (%s) becomes one line with a hint', async (err, hint) => {
    const sqs = new FakeAwsClient(() => {
      throw err;
    });
    await expect(readAwsStatus(clients({ sqs }).c, { queueUrl: QUEUE_URL, dlqUrl: DLQ_URL }, NOW)).rejects.toThrow(hint);
  });

  it('--dir is refused with --aws, before any AWS call', async () => {
    const run = await runCli(['status', '--aws', '--dir', '.local']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--dir is for local mode; with --aws the stack is named by --stack');
  });

  it("queueNameOf takes the URL's last segment and refuses what is not a URL", () => {
    expect(queueNameOf(QUEUE_URL)).toBe('SocialPlusWebhooks-EventQueue-AbC123');
    expect(() => queueNameOf('my-queue')).toThrow("'my-queue' is not a queue URL");
  });
});
