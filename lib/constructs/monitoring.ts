import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { MetricName } from '../../lambda/core/telemetry.js';
import { METRICS_DIMENSIONS, METRICS_NAMESPACE, METRICS_SERVICE } from '../../lambda/common/metrics-contract.js';

/** Social Plus stops waiting for an answer after this long (DESIGN §10). */
export const SOCIALPLUS_TIMEOUT_MS = 1500;

/** Where every alarm's runbook entry lives; an alarm's entry is the heading named after its id. */
export const RUNBOOK_PATH = 'docs/runbook.md';

/**
 * Every alarm, by construct id. The ids are a contract: each names its CloudWatch alarm
 * (`<stack>-<id>`) and its heading in the runbook, and renaming one replaces the alarm.
 */
export const ALARM_IDS = [
  'ReceiverErrors',
  'ReceiverThrottles',
  'ReceiverSlow',
  'SignatureInvalid',
  'SocialPlusSignatureRefused',
  'EventsSpilled',
  'EventsRefused',
  'ApiServerErrors',
  'ApiThrottled',
  'DeadLetterQueueNotEmpty',
  'QueueBacklogOld',
  'FanoutErrors',
  'FanoutThrottles',
  'ArchiveDeliveryStale',
  'WafBlockedSpike',
] as const;

/** The id of one of the alarms. */
export type AlarmId = (typeof ALARM_IDS)[number];

/** What the monitoring needs of the firewall: its request metrics (see `WebhookFirewall`). */
export interface IWebAclMetrics {
  /** Requests the web ACL let through. */
  metricAllowedRequests(props?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /** Requests the web ACL blocked. */
  metricBlockedRequests(props?: cloudwatch.MetricOptions): cloudwatch.IMetric;
}

/** Props for {@link WebhooksMonitoring}. */
export interface WebhooksMonitoringProps {
  /** The receiver function. */
  readonly receiver: lambda.IFunction;
  /** The receiver's log group (for the dashboard's log query). */
  readonly receiverLogGroup: logs.ILogGroup;
  /** The fan-out function. */
  readonly fanout: lambda.IFunction;
  /** The fan-out's log group (for the dashboard's log query). */
  readonly fanoutLogGroup: logs.ILogGroup;
  /** The event queue. */
  readonly queue: sqs.IQueue;
  /** The event queue's dead-letter queue. */
  readonly deadLetterQueue: sqs.IQueue;
  /** The API stage Social Plus posts to (its metrics carry the API name and the stage). */
  readonly stage: apigateway.Stage;
  /**
   * The stage's JSON access log group (the `status` field of `ACCESS_LOG_FORMAT`): API Gateway has
   * no metric for the requests it throttles, so a metric filter counts the 429s there.
   */
  readonly accessLogGroup: logs.ILogGroup;
  /** The archive's delivery stream. */
  readonly deliveryStream: firehose.IDeliveryStream;
  /**
   * The Social Plus webhook addresses the firewall admits (single addresses, no prefix length): a
   * 401 answered to one of them is a genuine delivery refused, not a tester inside `allowedCidrs`.
   * @default none: `SocialPlusSignatureRefused` never fires
   */
  readonly socialPlusAddresses?: readonly string[];
  /** The web ACL in front of the API. */
  readonly firewall: IWebAclMetrics;
  /**
   * An address to subscribe to the alarm topic (AWS sends it a confirmation link first).
   * @default - no subscription; subscribe to the topic yourself (output `AlarmTopicArn`)
   */
  readonly alarmEmail?: string;
  /**
   * Namespace of the functions' own metrics.
   * @default METRICS_NAMESPACE ('SocialPlusWebhooks')
   */
  readonly metricsNamespace?: string;
  /**
   * Receiver p99 duration that raises `ReceiverSlow`, in milliseconds: far enough below Social
   * Plus's 1.5 s to act before answers come too late.
   * @default 1000
   */
  readonly receiverP99ThresholdMs?: number;
  /**
   * Invalid signatures in 5 minutes that raise `SignatureInvalid`. Behind the IP allowlist every
   * invalid signature comes from Social Plus (a wrong secret) or from your own `allowedCidrs`, so
   * each is an event refused: the default is the first one.
   * @default 1
   */
  readonly signatureInvalidThreshold?: number;
  /**
   * Blocked requests in 5 minutes that raise `WafBlockedSpike`. The allowlist blocks the
   * internet's background scanning all day; a spike above it is a flood or, when the API's own
   * requests fall at the same time, Social Plus sending from addresses not yet allowed.
   * @default 100
   */
  readonly wafBlockedThreshold?: number;
  /**
   * Age of the oldest queued message that raises `QueueBacklogOld`. Set it above the time a
   * message that keeps failing spends in the queue before the DLQ takes it (maxReceiveCount ×
   * visibility timeout), so it fires when the fan-out is not consuming rather than when one record
   * is being retried (the DLQ alarm covers that).
   * @default Duration.minutes(20)
   */
  readonly maxMessageAge?: Duration;
  /**
   * Age of the oldest archive record not yet delivered to S3 that raises `ArchiveDeliveryStale`;
   * must be above the Firehose buffering interval.
   * @default Duration.minutes(15)
   */
  readonly maxArchiveFreshness?: Duration;
}

/** One alarm: its metric, its condition, and what a breach and missing data mean. */
export interface AlarmDefinition {
  /** The metric, with its statistic and period. */
  readonly metric: cloudwatch.IMetric;
  /** How the metric is compared with the threshold. */
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
  /** The threshold, in the metric's unit (a count, milliseconds, seconds). */
  readonly threshold: number;
  /** How many periods are looked at. */
  readonly evaluationPeriods: number;
  /** How many of them must breach. @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
  /** What a period without data counts as. */
  readonly treatMissingData: cloudwatch.TreatMissingData;
  /** What a breach means, in the notification's words (the runbook says what to do). */
  readonly meaning: string;
  /** Why missing data is treated the way it is; kept beside the choice so both are reviewed together. */
  readonly missingDataBecause: string;
}

const FIVE_MINUTES = Duration.minutes(5);
const ONE_MINUTE = Duration.minutes(1);
const { SUM, MAXIMUM, AVERAGE } = cloudwatch.Stats;
const AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
const ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
const NOT_BREACHING = cloudwatch.TreatMissingData.NOT_BREACHING;

/** Reasons shared by several alarms. */
const NO_EVENTS_NO_DATA = {
  lambda: 'Lambda publishes no datapoint for a period without invocations, and without an invocation nothing can have failed.',
  emf: 'the function publishes this count only when it happens (embedded metric format), so no datapoint means zero.',
  sqs: 'SQS stops publishing only for a queue that is empty and idle; a queue holding messages keeps publishing.',
} as const;

/**
 * The pipeline's monitoring (issue 6): one alarm per failure a team must hear about, all to one
 * KMS-encrypted, TLS-only SNS topic (optionally with an email subscription), and one dashboard
 * following an event from the WAF to the handlers and the archive. Built only from the resources'
 * `metricXxx()` methods and the functions' metric contract (`lambda/common/metrics-contract.ts`),
 * so it creates nothing the pipeline depends on.
 */
export class WebhooksMonitoring extends Construct {
  /** Every alarm publishes here, when it fires and when it recovers. */
  readonly topic: sns.Topic;
  /** The customer-managed key encrypting the topic (CloudWatch cannot use the AWS-managed SNS key). */
  readonly topicKey: kms.Key;
  /** The alarms, by id. */
  readonly alarms: Readonly<Record<AlarmId, cloudwatch.Alarm>>;
  /** The definitions the alarms were built from, by id. */
  readonly alarmDefinitions: Readonly<Record<AlarmId, AlarmDefinition>>;
  /** The end-to-end dashboard. */
  readonly dashboard: cloudwatch.Dashboard;
  /** Requests API Gateway answered 429 (stage or account throttling), counted from the access log. */
  readonly apiThrottledMetric: cloudwatch.Metric;
  /** 401s answered to Social Plus's own addresses, counted from the access log. */
  readonly socialPlusRefusedMetric: cloudwatch.Metric;

  private readonly namespace: string;

  constructor(scope: Construct, id: string, props: WebhooksMonitoringProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.namespace = props.metricsNamespace ?? METRICS_NAMESPACE;
    const alarmNamePrefix = `${stack.stackName}-`;

    this.topicKey = new kms.Key(this, 'AlarmTopicKey', {
      description: `Encrypts the alarm notifications of ${stack.stackName} (socialplus-webhooks)`,
      enableKeyRotation: true,
      // The key protects notifications in transit only; nothing stored outlives the topic.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    // CloudWatch publishes with its service principal; only this stack's alarms may use the key
    // and the topic (the source conditions stop any other account's or stack's alarms).
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({ service: 'cloudwatch', resource: 'alarm', resourceName: `${alarmNamePrefix}*`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      },
    };
    const cloudwatchPrincipal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisStacksAlarmsToEncrypt',
        principals: [cloudwatchPrincipal],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );
    this.topic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'socialplus-webhooks alarms',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisStacksAlarmsToPublish',
        principals: [cloudwatchPrincipal],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    // Per stack, unlike the functions' namespace: nothing but this filter writes it, and two stacks
    // in one account must not add up each other's 429s.
    const throttledFilter = new logs.MetricFilter(this, 'ApiThrottledFilter', {
      logGroup: props.accessLogGroup,
      filterPattern: logs.FilterPattern.stringValue('$.status', '=', '429'),
      metricNamespace: `${this.namespace}/${stack.stackName}`,
      metricName: 'ApiThrottled',
      metricValue: '1',
    });
    this.apiThrottledMetric = throttledFilter.metric({ statistic: SUM, period: FIVE_MINUTES });
    // The receiver cannot tell Social Plus from a tester inside allowedCidrs; the access log can.
    const addresses = props.socialPlusAddresses ?? [];
    const refusedFilter = new logs.MetricFilter(this, 'SocialPlusSignatureRefusedFilter', {
      logGroup: props.accessLogGroup,
      filterPattern:
        addresses.length === 0
          ? logs.FilterPattern.stringValue('$.sourceIp', '=', 'none')
          : logs.FilterPattern.all(
            logs.FilterPattern.stringValue('$.status', '=', '401'),
            logs.FilterPattern.any(...addresses.map((ip) => logs.FilterPattern.stringValue('$.sourceIp', '=', ip))),
          ),
      metricNamespace: `${this.namespace}/${stack.stackName}`,
      metricName: 'SocialPlusSignatureRefused',
      metricValue: '1',
    });
    this.socialPlusRefusedMetric = refusedFilter.metric({ statistic: SUM, period: FIVE_MINUTES });

    if (props.alarmEmail !== undefined) {
      const subscription = this.topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      Validations.of(subscription.node.defaultChild as sns.CfnSubscription).acknowledge({
        id: 'Serverless-SNSRedrivePolicy',
        reason:
          'An e-mail notification that cannot be delivered would sit unread in a dead-letter queue nobody watches; the alarm itself keeps ' +
          'its state and history in CloudWatch (and on the dashboard\'s alarm widget), which is the durable record.',
      });
    }

    this.alarmDefinitions = this.defineAlarms(props);
    const action = new cloudwatchActions.SnsAction(this.topic);
    const alarms: Partial<Record<AlarmId, cloudwatch.Alarm>> = {};
    for (const alarmId of ALARM_IDS) {
      const d = this.alarmDefinitions[alarmId];
      const alarm = new cloudwatch.Alarm(this, alarmId, {
        // Named, not generated: the name is the subject of every notification and the key to the runbook.
        alarmName: `${alarmNamePrefix}${alarmId}`,
        alarmDescription: `${d.meaning} Runbook: ${RUNBOOK_PATH}#${alarmId.toLowerCase()}`,
        metric: d.metric,
        comparisonOperator: d.comparisonOperator,
        threshold: d.threshold,
        evaluationPeriods: d.evaluationPeriods,
        datapointsToAlarm: d.datapointsToAlarm ?? d.evaluationPeriods,
        treatMissingData: d.treatMissingData,
      });
      // Recoveries too, so whoever was woken learns it is over without opening the console.
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      alarms[alarmId] = alarm;
    }
    this.alarms = alarms as Record<AlarmId, cloudwatch.Alarm>;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(3),
      periodOverride: cloudwatch.PeriodOverride.AUTO,
    });
    this.addDashboardWidgets(props);
  }

  /** The console address of the dashboard. */
  get dashboardUrl(): string {
    const region = Stack.of(this).region;
    return `https://console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${this.dashboard.dashboardName}`;
  }

  /**
   * One of the functions' own metrics (the contract in `lambda/common/metrics-contract.ts`): the
   * name is a `MetricName`, so a typo fails to compile.
   */
  pipelineMetric(service: keyof typeof METRICS_SERVICE, metricName: MetricName, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: this.namespace,
      metricName,
      dimensionsMap: { [METRICS_DIMENSIONS.service]: METRICS_SERVICE[service] },
      statistic: SUM,
      period: FIVE_MINUTES,
      ...options,
    });
  }

  private defineAlarms(props: WebhooksMonitoringProps): Record<AlarmId, AlarmDefinition> {
    const p99ThresholdMs = props.receiverP99ThresholdMs ?? 1000;
    if (p99ThresholdMs >= SOCIALPLUS_TIMEOUT_MS) {
      throw new Error(`receiverP99ThresholdMs is ${p99ThresholdMs}; it must be below Social Plus's ${SOCIALPLUS_TIMEOUT_MS} ms timeout to warn before answers come too late`);
    }
    const maxMessageAge = props.maxMessageAge ?? Duration.minutes(20);
    const maxFreshness = props.maxArchiveFreshness ?? Duration.minutes(15);
    const fiveMinuteSum = { period: FIVE_MINUTES, statistic: SUM };
    const fiveMinuteMax = { period: FIVE_MINUTES, statistic: MAXIMUM };
    const once = { evaluationPeriods: 1, comparisonOperator: AT_LEAST, threshold: 1, treatMissingData: NOT_BREACHING } as const;
    return {
      ReceiverErrors: {
        ...once,
        metric: props.receiver.metricErrors(fiveMinuteSum),
        meaning: 'The receiver function failed (an unhandled error or a timeout): Social Plus got a 5xx for those deliveries and may not retry them.',
        missingDataBecause: NO_EVENTS_NO_DATA.lambda,
      },
      ReceiverThrottles: {
        ...once,
        metric: props.receiver.metricThrottles(fiveMinuteSum),
        meaning: 'Lambda refused to run the receiver (account or function concurrency exhausted): those deliveries were answered with an error.',
        missingDataBecause: NO_EVENTS_NO_DATA.lambda,
      },
      ReceiverSlow: {
        metric: props.receiver.metricDuration({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(99) }),
        comparisonOperator: ABOVE,
        threshold: p99ThresholdMs,
        // Two of three periods: one cold start in a quiet period is its p99, and is not a trend.
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: NOT_BREACHING,
        meaning: `Receiver p99 duration is above ${p99ThresholdMs} ms, approaching the ${SOCIALPLUS_TIMEOUT_MS} ms after which Social Plus stops waiting.`,
        missingDataBecause: 'no invocations in a period means no duration datapoint, and no request can have been slow.',
      },
      SignatureInvalid: {
        ...once,
        threshold: props.signatureInvalidThreshold ?? 1,
        metric: this.pipelineMetric('receiver', 'SignatureInvalid'),
        meaning: 'Deliveries were refused with 401 invalid signature: the secret in Secrets Manager does not match the Social Plus console (or a rotation is half done), or someone inside the allowlist is sending forged requests.',
        missingDataBecause: NO_EVENTS_NO_DATA.emf,
      },
      EventsSpilled: {
        ...once,
        metric: this.pipelineMetric('receiver', 'Spilled'),
        meaning: 'The queue failed or was too slow, and verified events were written to the inbox/spill/ prefix instead. They are not lost and reach the fan-out by themselves, but the queue path is degraded.',
        missingDataBecause: NO_EVENTS_NO_DATA.emf,
      },
      EventsRefused: {
        ...once,
        metric: this.pipelineMetric('receiver', 'SpillFailed'),
        meaning: 'Both the queue and the spill to S3 failed: verified events were answered 503 and are lost unless Social Plus retries them.',
        missingDataBecause: NO_EVENTS_NO_DATA.emf,
      },
      ApiServerErrors: {
        ...once,
        metric: props.stage.metricServerError(fiveMinuteSum),
        meaning: 'The webhook API answered 5xx (secret not configured or unreadable, queue and spill down, receiver failed or throttled): those deliveries were not accepted.',
        missingDataBecause: 'API Gateway publishes no datapoint for a period without requests, and without a request nothing can have failed.',
      },
      SocialPlusSignatureRefused: {
        ...once,
        metric: this.socialPlusRefusedMetric,
        meaning:
          'The API answered 401 to a request from a Social Plus webhook address: a genuine delivery was refused (a wrong or half-rotated secret, ' +
          'or a signature form signatureForms does not accept; the receiver\'s WARN line names the form that matched) and is lost.',
        missingDataBecause: 'a metric filter publishes only when a log line matches, so no datapoint means no such 401.',
      },
      ApiThrottled: {
        ...once,
        metric: this.apiThrottledMetric,
        meaning: 'API Gateway answered 429 to webhook deliveries (the stage limits apiRateLimit/apiBurstLimit or the account-wide API Gateway limit): those deliveries were refused before the receiver ran.',
        missingDataBecause: 'a metric filter publishes only when a log line matches, so no datapoint means no 429.',
      },
      DeadLetterQueueNotEmpty: {
        ...once,
        metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible(fiveMinuteMax),
        meaning: 'Events are in the dead-letter queue: the fan-out failed them maxReceiveCount times (a handler, the store or the archive kept failing). They are stored nowhere else until redriven.',
        missingDataBecause: NO_EVENTS_NO_DATA.sqs,
      },
      QueueBacklogOld: {
        metric: props.queue.metricApproximateAgeOfOldestMessage(fiveMinuteMax),
        comparisonOperator: ABOVE,
        threshold: maxMessageAge.toSeconds(),
        evaluationPeriods: 1,
        treatMissingData: NOT_BREACHING,
        meaning: `The oldest queued event is older than ${maxMessageAge.toMinutes()} minutes: the fan-out is not consuming (failing, throttled, or its trigger disabled), and events are waiting.`,
        missingDataBecause: NO_EVENTS_NO_DATA.sqs,
      },
      FanoutErrors: {
        ...once,
        metric: props.fanout.metricErrors(fiveMinuteSum),
        meaning: 'A fan-out invocation failed as a whole (an unhandled error or a timeout): its whole batch goes back to the queue and is retried.',
        missingDataBecause: NO_EVENTS_NO_DATA.lambda,
      },
      FanoutThrottles: {
        ...once,
        metric: props.fanout.metricThrottles(fiveMinuteSum),
        // Sustained only: a throttled batch is retried by the event source and only delayed.
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        meaning: 'The fan-out is being throttled in most of the last 15 minutes (account concurrency exhausted by other functions): events are delayed and the backlog grows.',
        missingDataBecause: NO_EVENTS_NO_DATA.lambda,
      },
      ArchiveDeliveryStale: {
        metric: props.deliveryStream.metric('DeliveryToS3.DataFreshness', fiveMinuteMax),
        comparisonOperator: ABOVE,
        threshold: maxFreshness.toSeconds(),
        evaluationPeriods: 1,
        treatMissingData: NOT_BREACHING,
        meaning: `Firehose holds archive records older than ${maxFreshness.toMinutes()} minutes: it cannot write to the archive bucket, and it discards records it could not deliver within 24 hours.`,
        missingDataBecause: 'Firehose publishes freshness only while it holds records; no datapoint means nothing is waiting.',
      },
      WafBlockedSpike: {
        ...once,
        threshold: props.wafBlockedThreshold ?? 100,
        metric: props.firewall.metricBlockedRequests(fiveMinuteSum),
        meaning: 'The firewall blocked an unusual number of requests: a flood from outside the allowlist, or Social Plus sending from addresses not yet in lib/socialplus-ips.ts (then API requests fall at the same time).',
        missingDataBecause: 'WAF publishes no datapoint for a period in which it blocked nothing.',
      },
    };
  }

  private addDashboardWidgets(props: WebhooksMonitoringProps): void {
    const minute = { period: ONE_MINUTE };
    const sum = { ...minute, statistic: SUM };
    const max = { ...minute, statistic: MAXIMUM };
    const receiver = (name: MetricName) => this.pipelineMetric('receiver', name, { ...minute, label: name });
    const fanout = (name: MetricName) => this.pipelineMetric('fanout', name, { ...minute, label: name });
    const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
      new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, leftYAxis: { min: 0 }, ...extra });
    const percentile = (p: number) => props.receiver.metricDuration({ ...minute, statistic: cloudwatch.Stats.p(p), label: `p${p}` });
    // A search schema takes a namespace bare only when it is alphanumeric; any other needs quotes.
    const schemaNamespace = /^[A-Za-z0-9]+$/.test(this.namespace) ? this.namespace : `"${this.namespace}"`;
    const handlerSearch = (name: MetricName, verb: string) =>
      new cloudwatch.MathExpression({
        expression:
          `SEARCH('{${schemaNamespace},${METRICS_DIMENSIONS.handler},${METRICS_DIMENSIONS.service}} ` +
          `${METRICS_DIMENSIONS.service}="${METRICS_SERVICE.fanout}" MetricName="${name}"', 'Sum', 60)`,
        usingMetrics: {},
        // A dynamic label: one line per handler, named after it.
        label: `\${PROP('Dim.${METRICS_DIMENSIONS.handler}')} ${verb}`,
        period: ONE_MINUTE,
      });
    const firehoseMetric = (name: string, statistic: string, label: string) => props.deliveryStream.metric(name, { ...minute, statistic, label });

    this.dashboard.addWidgets(
      new cloudwatch.TextWidget({
        markdown:
          '# Social Plus webhooks\n' +
          'Social Plus → WAF → API Gateway → **receiver** (verify, ack) → SQS → **fan-out** → DynamoDB + Firehose/S3 archive + handlers. ' +
          `Each alarm's meaning and what to do: \`${RUNBOOK_PATH}\`.`,
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: ALARM_IDS.map((a) => this.alarms[a]), width: 24, height: 3 }),
    );
    this.dashboard.addWidgets(
      graph('WAF: allowed and blocked requests', [
        props.firewall.metricAllowedRequests({ ...sum, label: 'allowed' }),
        props.firewall.metricBlockedRequests({ ...sum, label: 'blocked' }),
      ]),
      graph('API: requests, 4xx, 5xx and 429', [
        props.stage.metricCount({ ...sum, label: 'requests' }),
        props.stage.metricClientError({ ...sum, label: '4xx' }),
        props.stage.metricServerError({ ...sum, label: '5xx' }),
        this.apiThrottledMetric.with({ period: ONE_MINUTE, label: '429 (throttled)' }),
      ]),
      graph('API: latency p99 (total and receiver integration)', [
        props.stage.metricLatency({ ...minute, statistic: cloudwatch.Stats.p(99), label: 'API latency p99' }),
        props.stage.metricIntegrationLatency({ ...minute, statistic: cloudwatch.Stats.p(99), label: 'integration latency p99' }),
      ], { leftAnnotations: [{ value: SOCIALPLUS_TIMEOUT_MS, label: 'Social Plus timeout (1.5 s)', color: cloudwatch.Color.RED }] }),
    );
    this.dashboard.addWidgets(
      graph('Receiver: acknowledgements', (['Accepted', 'LegacyDropped', 'SignatureInvalid', 'SignatureMissing', 'Spilled', 'ClaimChecked'] as const).map(receiver)),
      graph('Receiver: refusals and failures', [
        ...(['EnqueueFailed', 'SpillFailed', 'SecretNotConfigured', 'UnknownSource', 'EmptyBody'] as const).map(receiver),
        props.receiver.metricErrors({ ...sum, label: 'function errors' }),
        props.receiver.metricThrottles({ ...sum, label: 'throttles' }),
      ]),
      graph('Receiver: signature forms accepted, and 401s to Social Plus', [
        ...(['SignatureFormBase64', 'SignatureFormHex', 'SignatureFormJsonBase64', 'SignatureFormJsonHex'] as const).map(receiver),
        this.socialPlusRefusedMetric.with({ period: ONE_MINUTE, label: '401 to a Social Plus address' }),
      ]),
      graph('Receiver: duration p50, p90, p99', [percentile(50), percentile(90), percentile(99)], {
        leftAnnotations: [
          { value: SOCIALPLUS_TIMEOUT_MS, label: 'Social Plus timeout (1.5 s)', color: cloudwatch.Color.RED },
          { value: this.alarmDefinitions.ReceiverSlow.threshold, label: 'ReceiverSlow alarm', color: cloudwatch.Color.ORANGE },
        ],
      }),
    );
    this.dashboard.addWidgets(
      graph('Queue: depth and oldest message age', [
        props.queue.metricApproximateNumberOfMessagesVisible({ ...max, label: 'waiting' }),
        props.queue.metricApproximateNumberOfMessagesNotVisible({ ...max, label: 'in flight' }),
      ], { right: [props.queue.metricApproximateAgeOfOldestMessage({ ...max, label: 'oldest message age (s)' })], rightYAxis: { min: 0 } }),
      graph('Dead-letter queue: messages', [props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ ...max, label: 'in the DLQ' })]),
      graph('Fan-out: invocations, errors, throttles', [
        props.fanout.metricInvocations({ ...sum, label: 'invocations' }),
        props.fanout.metricErrors({ ...sum, label: 'errors' }),
        props.fanout.metricThrottles({ ...sum, label: 'throttles' }),
      ], { right: [props.fanout.metricDuration({ ...minute, statistic: cloudwatch.Stats.p(99), label: 'duration p99 (ms)' })], rightYAxis: { min: 0 } }),
    );
    this.dashboard.addWidgets(
      graph('Fan-out: stored, duplicates, archived', (['RecordsReceived', 'Stored', 'Duplicate', 'Archived', 'ArchiveFailed', 'StoreFailed'] as const).map(fanout)),
      graph('Handlers: succeeded and failed, by handler', [handlerSearch('HandlerSucceeded', 'succeeded'), handlerSearch('HandlerFailed', 'failed')]),
      graph('Fan-out: flagged events and the inbox', (['Flagged', 'Undecodable', 'BlobFetchFailed', 'PayloadCopied', 'SpillDrained'] as const).map(fanout)),
    );
    this.dashboard.addWidgets(
      graph('Archive: Firehose delivery to S3', [firehoseMetric('DeliveryToS3.Success', AVERAGE, 'delivery success (1 = all)')], {
        width: 12,
        leftYAxis: { min: 0, max: 1 },
        right: [firehoseMetric('DeliveryToS3.DataFreshness', MAXIMUM, 'data freshness (s)')],
        rightYAxis: { min: 0 },
      }),
      graph('Archive: records in and delivered', [
        props.deliveryStream.metricIncomingRecords({ ...sum, label: 'records in' }),
        firehoseMetric('DeliveryToS3.Records', SUM, 'records delivered'),
      ], { width: 12 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.LogQueryWidget({
        title: 'Recent errors and warnings (receiver and fan-out)',
        logGroupNames: [props.receiverLogGroup.logGroupName, props.fanoutLogGroup.logGroupName],
        queryLines: [
          'fields @timestamp, level, message, eventId, source, reason, handler, error',
          'filter level in ["ERROR", "WARN"]',
          'sort @timestamp desc',
          'limit 50',
        ],
        view: cloudwatch.LogQueryVisualizationType.TABLE,
        width: 24,
        height: 6,
      }),
    );
  }
}
