import { type Duration, Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../lambda/common/metrics-contract.js';
import type { MetricName } from '../../lambda/core/telemetry.js';
import type { IApiMetrics } from './api.js';
import type { IArchiveMetrics } from './archive.js';
import { createAccessLogMetrics } from './monitoring/access-log-metrics.js';
import { createAlarmTopic } from './monitoring/alarm-topic.js';
import { type AlarmDefinition, type AlarmId, alarmNamePrefixOf, createAlarms, defineAlarms } from './monitoring/alarms.js';
import { createDashboard } from './monitoring/dashboard.js';
import { type IWebAclMetrics, type MetricSources, pipelineMetric, type PipelineService } from './monitoring/metric-sources.js';
import type { IFunctionMetrics } from './pipeline-function.js';
import type { IWebhookQueueMetrics } from './queue.js';
import { DEFAULT_DASHBOARD } from '../../lambda/common/defaults.js';

export { ALARM_IDS, type AlarmDefinition, type AlarmId } from './monitoring/alarms.js';
export { type IWebAclMetrics, RUNBOOK_PATH, SOCIALPLUS_TIMEOUT_MS } from './monitoring/metric-sources.js';

/** Props for {@link WebhooksMonitoring}. */
export interface WebhooksMonitoringProps {
  /** The receiver function (its metrics, and its log group for the dashboard's log query). */
  readonly receiver: IFunctionMetrics;
  /** The fan-out function (its metrics, and its log group for the dashboard's log query). */
  readonly fanout: IFunctionMetrics;
  /** The event queue and its dead-letter queue. */
  readonly queue: IWebhookQueueMetrics;
  /**
   * The API Social Plus posts to: its stage's metrics (they carry the API name and the stage), and
   * its JSON access log (the `status` and `sourceIp` fields of `ACCESS_LOG_FORMAT`), where metric
   * filters count what API Gateway has no metric for.
   */
  readonly api: IApiMetrics;
  /** The archive (its delivery stream's metrics). */
  readonly archive: IArchiveMetrics;
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
   * Whether to create the dashboard ($3 a month beyond an account's first three); the alarms do not depend on it.
   * @default DEFAULT_DASHBOARD (false)
   */
  readonly dashboard?: boolean;
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

/**
 * The pipeline's monitoring (issue 6): one alarm per failure a team must hear about, all to one
 * KMS-encrypted, TLS-only SNS topic (optionally with an email subscription), and one dashboard
 * following an event from the WAF to the handlers and the archive. Built only from the resources'
 * `metricXxx()` methods, two metric filters on the API's access log and the functions' metric
 * contract (`lambda/common/metrics-contract.ts`), so it creates nothing the pipeline depends on.
 *
 * The parts live in `monitoring/`: the topic (`alarm-topic.ts`), the access-log counts
 * (`access-log-metrics.ts`), the alarms (`alarms.ts`) and the dashboard (`dashboard.ts`); each
 * creates its constructs in this one, so their ids (and logical ids) are this construct's children.
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
  /** The end-to-end dashboard, unless turned off. */
  readonly dashboard?: cloudwatch.Dashboard;
  /** Requests API Gateway answered 429 (stage or account throttling), counted from the access log. */
  readonly apiThrottledMetric: cloudwatch.Metric;
  /** 401s answered to Social Plus's own addresses, counted from the access log. */
  readonly socialPlusRefusedMetric: cloudwatch.Metric;

  private readonly namespace: string;

  constructor(scope: Construct, id: string, props: WebhooksMonitoringProps) {
    super(scope, id);
    this.namespace = props.metricsNamespace ?? METRICS_NAMESPACE;

    ({ topic: this.topic, topicKey: this.topicKey } = createAlarmTopic(this, {
      alarmNamePrefix: alarmNamePrefixOf(this),
      alarmEmail: props.alarmEmail,
    }));
    const counted = createAccessLogMetrics(this, props.api, { namespace: this.namespace, socialPlusAddresses: props.socialPlusAddresses ?? [] });
    this.apiThrottledMetric = counted.apiThrottled;
    this.socialPlusRefusedMetric = counted.socialPlusRefused;

    const metrics: MetricSources = {
      receiver: props.receiver,
      fanout: props.fanout,
      queue: props.queue,
      api: props.api,
      archive: props.archive,
      firewall: props.firewall,
      namespace: this.namespace,
      ...counted,
    };
    this.alarmDefinitions = defineAlarms(metrics, props);
    this.alarms = createAlarms(this, this.alarmDefinitions, this.topic);
    if (props.dashboard ?? DEFAULT_DASHBOARD) {
      this.dashboard = createDashboard(this, metrics, this.alarms, this.alarmDefinitions.ReceiverSlow.threshold);
    }
  }

  /** The alarm topic's ARN. */
  get topicArn(): string {
    return this.topic.topicArn;
  }

  /** The dashboard's name, when there is one. */
  get dashboardName(): string | undefined {
    return this.dashboard?.dashboardName;
  }

  /** The console address of the dashboard, when there is one. */
  get dashboardUrl(): string | undefined {
    if (this.dashboard === undefined) return undefined;
    const region = Stack.of(this).region;
    return `https://console.aws.amazon.com/cloudwatch/home?region=${region}#dashboards/dashboard/${this.dashboard.dashboardName}`;
  }

  /**
   * One of the functions' own metrics (the contract in `lambda/common/metrics-contract.ts`): the
   * name is a `MetricName`, so a typo fails to compile.
   */
  pipelineMetric(service: PipelineService, metricName: MetricName, options: cloudwatch.MetricOptions = {}): cloudwatch.Metric {
    return pipelineMetric(this.namespace, service, metricName, options);
  }
}
