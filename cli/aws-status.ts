/**
 * The deployed pipeline's status: the queue and DLQ from SQS `GetQueueAttributes`, the oldest
 * message's age from CloudWatch (`AWS/SQS ApproximateAgeOfOldestMessage`: SQS itself does not
 * report it), and today's stored events from the fan-out's `Stored` metric. Names come from the
 * stack's outputs (CloudFormation `DescribeStacks`) unless given explicitly.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient, GetMetricDataCommand, type MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { METRICS_NAMESPACE, METRICS_SERVICE } from '../lambda/common/metrics-contract.js';
import { SIGNATURE_FORM_METRICS } from '../lambda/core/receive.js';
import { SIGNATURE_FORMS, type SignatureForm } from '../lambda/core/signature.js';
import { signatureSplitFrom, type SignatureSplit } from '../lambda/core/signature-split.js';
import { STACK_OUTPUTS } from '../lib/stack-outputs.js';
import { awsError } from './aws-errors.js';
import { DEFAULT_STACK_NAME, readStackOutputs, requireOutput } from './aws-stack.js';
import { CliError } from './errors.js';
import type { SdkClients } from './sdk-clients.js';

/** The stack's name when `--stack` is not given (`lib/stack-name.ts`, which loads no CDK). */
export { DEFAULT_STACK_NAME };

export interface AwsStatusOptions {
  /** @default DEFAULT_STACK_NAME */
  readonly stack?: string;
  /** Skip the stack's outputs for the queue. */
  readonly queueUrl?: string;
  readonly dlqUrl?: string;
  /** Namespace of the functions' metrics (the stack's `metricsNamespace`). @default METRICS_NAMESPACE */
  readonly metricsNamespace?: string;
}

/** The SDK clients the status reads through (stand-ins in tests). */
export type AwsStatusClients = SdkClients<'cloudFormation' | 'sqs' | 'cloudWatch'>;

export interface AwsQueueStatus {
  readonly url: string;
  /** `ApproximateNumberOfMessages`: waiting to be received. */
  readonly visible: number;
  /** `ApproximateNumberOfMessagesNotVisible`: received, being processed or waiting out the visibility timeout. */
  readonly inFlight: number;
  /** `ApproximateNumberOfMessagesDelayed`. */
  readonly delayed: number;
  /** The latest `ApproximateAgeOfOldestMessage` (1-minute maximum) in the last 15 minutes; null when CloudWatch has none. */
  readonly oldestAgeSeconds: number | null;
}

export interface AwsStatus {
  readonly mode: 'aws';
  /** The stack read, or null when every name was given explicitly. */
  readonly stack: string | null;
  readonly queue: AwsQueueStatus;
  readonly deadLetterQueue: AwsQueueStatus;
  readonly today: {
    readonly date: string;
    /** Sum of the fan-out's `Stored` metric since 00:00 UTC: new events written to the store. */
    readonly storedEvents: number;
    readonly countedFrom: 'cloudwatch';
    /** Deliveries accepted today per signature form, and those refused for their signature (the receiver's metrics). */
    readonly signatures: SignatureSplit;
  };
}

/** Builds the SDK clients from the environment's credentials and region. */
export function defaultAwsStatusClients(region?: string): AwsStatusClients {
  const config = region ? { region } : {};
  return { cloudFormation: new CloudFormationClient(config), sqs: new SQSClient(config), cloudWatch: new CloudWatchClient(config) };
}

/** Reads the deployed pipeline's status. Errors a user can fix are `CliError`s naming the problem. */
export async function readAwsStatus(clients: AwsStatusClients, opts: AwsStatusOptions = {}, now: Date = new Date()): Promise<AwsStatus> {
  const explicit = opts.queueUrl !== undefined && opts.dlqUrl !== undefined;
  const stack = opts.stack ?? DEFAULT_STACK_NAME;
  const outputs = explicit ? {} : await readStackOutputs(clients.cloudFormation, stack, { instead: '--queue-url and --dlq-url' });
  const queueUrl = opts.queueUrl ?? requireOutput(outputs, STACK_OUTPUTS.queueUrl, stack, '--queue-url');
  const dlqUrl = opts.dlqUrl ?? requireOutput(outputs, STACK_OUTPUTS.deadLetterQueueUrl, stack, '--dlq-url');

  const [queueAttrs, dlqAttrs, metrics] = await Promise.all([
    queueAttributes(clients.sqs, queueUrl),
    queueAttributes(clients.sqs, dlqUrl),
    cloudWatchFigures(
      clients.cloudWatch,
      { queue: queueNameOf(queueUrl), dlq: queueNameOf(dlqUrl), namespace: opts.metricsNamespace ?? METRICS_NAMESPACE },
      now,
    ),
  ]);
  return {
    mode: 'aws',
    stack: explicit ? null : stack,
    queue: { url: queueUrl, ...queueAttrs, oldestAgeSeconds: metrics.queueAge },
    deadLetterQueue: { url: dlqUrl, ...dlqAttrs, oldestAgeSeconds: metrics.dlqAge },
    today: { date: now.toISOString().slice(0, 10), storedEvents: metrics.storedToday, countedFrom: 'cloudwatch', signatures: metrics.signatures },
  };
}

/** The queue's name, the last segment of its URL (CloudWatch's `QueueName` dimension). */
export function queueNameOf(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw new CliError(`'${url}' is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)`);
  }
  const name = path.split('/').filter(Boolean).pop();
  if (!name) throw new CliError(`'${url}' is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)`);
  return name;
}

async function queueAttributes(sqs: AwsStatusClients['sqs'], url: string): Promise<{ visible: number; inFlight: number; delayed: number }> {
  let res;
  try {
    res = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
  } catch (err) {
    throw awsError(err, `read the attributes of queue ${url} (sqs:GetQueueAttributes)`);
  }
  const a = res.Attributes ?? {};
  return {
    visible: Number(a.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(a.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/** How far back to look for the queues' latest age datapoint (SQS publishes one a minute while active). */
const AGE_LOOKBACK_MS = 15 * 60_000;
/** Buckets of the `Stored` sum: small enough to start exactly at midnight, few enough for one call (≤ 288). */
const STORED_PERIOD_S = 300;

async function cloudWatchFigures(
  cw: AwsStatusClients['cloudWatch'],
  names: { readonly queue: string; readonly dlq: string; readonly namespace: string },
  now: Date,
): Promise<{ queueAge: number | null; dlqAge: number | null; storedToday: number; signatures: SignatureSplit }> {
  const midnight = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  const age = (id: string, name: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage', Dimensions: [{ Name: 'QueueName', Value: name }] },
      Period: 60,
      Stat: 'Maximum',
    },
  });
  const todaySum = (id: string, service: keyof typeof METRICS_SERVICE, metricName: string): MetricDataQuery => ({
    Id: id,
    MetricStat: {
      Metric: { Namespace: names.namespace, MetricName: metricName, Dimensions: [{ Name: 'service', Value: METRICS_SERVICE[service] }] },
      Period: STORED_PERIOD_S,
      Stat: 'Sum',
    },
  });
  const formId = (form: SignatureForm) => `sig${form.replace(/-/g, '')}`;
  const queries: MetricDataQuery[] = [
    age('queueAge', names.queue),
    age('dlqAge', names.dlq),
    todaySum('stored', 'fanout', 'Stored'),
    ...SIGNATURE_FORMS.map((form) => todaySum(formId(form), 'receiver', SIGNATURE_FORM_METRICS[form])),
    todaySum('sigrefused', 'receiver', 'SignatureInvalid'),
  ];
  // One call covers both windows: from the earlier of midnight and the age look-back, to now. The
  // start sits on a period boundary, so no `Stored` bucket straddles midnight.
  const periodMs = STORED_PERIOD_S * 1000;
  const start = new Date(Math.min(midnight.getTime(), Math.floor((now.getTime() - AGE_LOOKBACK_MS) / periodMs) * periodMs));
  let res;
  try {
    res = await cw.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: now, ScanBy: 'TimestampDescending' }));
  } catch (err) {
    throw awsError(err, "read the queues' age and today's counts from CloudWatch (cloudwatch:GetMetricData)");
  }
  const series = (id: string) => {
    const r = res.MetricDataResults?.find((m) => m.Id === id);
    const ts = r?.Timestamps ?? [];
    return (r?.Values ?? []).map((v, i) => ({ value: v, at: ts[i]?.getTime() ?? 0 }));
  };
  const latest = (id: string): number | null => {
    const recent = series(id)
      .filter((p) => p.at >= now.getTime() - AGE_LOOKBACK_MS)
      .sort((a, b) => b.at - a.at);
    return recent[0] === undefined ? null : Math.round(recent[0].value);
  };
  const sinceMidnight = (id: string) =>
    Math.round(
      series(id)
        .filter((p) => p.at >= midnight.getTime())
        .reduce((s, p) => s + p.value, 0),
    );
  const signatures = signatureSplitFrom((key) => sinceMidnight(key === 'refused' ? 'sigrefused' : formId(key)));
  return { queueAge: latest('queueAge'), dlqAge: latest('dlqAge'), storedToday: sinceMidnight('stored'), signatures };
}
