import { DEFAULT_STACK_NAME } from './stack-name.js';
import { CfnOutput, Duration, Size, Stack, type StackProps } from 'aws-cdk-lib';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DEFAULT_SOURCE } from '../lambda/core/sources.js';
import { handlerResourceNeeds, handlersConfigValue, retryWindowSeconds, sourceIdPart, type WebhooksConfig } from './config.js';
import { WebhookApi } from './constructs/api.js';
import { ArchiveCatalog } from './constructs/archive-catalog.js';
import { DataKey } from './constructs/data-key.js';
import { TraceSampling } from './constructs/trace-sampling.js';
import { EventArchive } from './constructs/archive.js';
import { EventTable } from './constructs/event-store.js';
import { FanoutFunction } from './constructs/fanout-function.js';
import { WebhookFirewall } from './constructs/firewall.js';
import { HandlerResources } from './constructs/handler-resources.js';
import { WebhooksMonitoring } from './constructs/monitoring.js';
import { OperatorRole } from './constructs/operator-role.js';
import { WebhookQueue } from './constructs/queue.js';
import { ReceiverFunction } from './constructs/receiver-function.js';
import { WebhookSecrets } from './constructs/secrets.js';
import { socialPlusWebhookCidrs } from './socialplus-ips.js';
import { SOURCE_OUTPUT_PREFIXES, STACK_OUTPUTS, type StackOutputName } from './stack-outputs.js';

/** The stack's name unless the app says otherwise. */
export { DEFAULT_STACK_NAME };

/**
 * Days a leftover spill is kept beyond the queues' retention: its notification can wait in the
 * queue and then the DLQ for that long at most, and this margin leaves two weeks to notice an alarm
 * and redrive or re-announce it (docs/runbook.md, EventsSpilled).
 */
export const SPILL_REDRIVE_MARGIN_DAYS = 14;

/**
 * The oldest a queued message gets while the fan-out is working: a record that keeps failing stays
 * up to maxReceiveCount visibility timeouts before the DLQ takes it. Five minutes more means the
 * fan-out is not consuming at all; capped at a day, which is too long to wait whatever the settings.
 */
export function maxHealthyMessageAge(c: Pick<WebhooksConfig, 'maxReceiveCount' | 'fanoutTimeoutSeconds'>): Duration {
  return Duration.seconds(Math.min(retryWindowSeconds(c) + 5 * 60, 24 * 60 * 60));
}

/** Props for {@link SocialPlusWebhooksStack}. */
export interface SocialPlusWebhooksStackProps extends StackProps {
  /** The validated configuration (see `lib/config.ts`). */
  readonly config: WebhooksConfig;
}

/**
 * Everything `cdk deploy` creates (docs/architecture.md §1): WAF → REST API → receiver → SQS (+ DLQ) → fan-out →
 * DynamoDB + Firehose/S3 archive (Glue, Athena), and one secret per webhook source.
 *
 * One stack, so a deploy or destroy is one command; the stateful resources (table, buckets, secrets,
 * queues) keep their construct ids, and a test fails if one of their logical ids changes. The table
 * and both buckets are retained when the stack is deleted.
 */
export class SocialPlusWebhooksStack extends Stack {
  readonly secrets: WebhookSecrets;
  readonly queue: WebhookQueue;
  readonly eventStore: EventTable;
  readonly archive: EventArchive;
  readonly catalog: ArchiveCatalog;
  readonly receiver: ReceiverFunction;
  readonly fanout: FanoutFunction;
  /** What the enabled example handlers need (state table, bus, admin-token secret), each only when needed. */
  readonly handlerResources: HandlerResources;
  readonly api: WebhookApi;
  readonly firewall: WebhookFirewall;
  readonly monitoring: WebhooksMonitoring;
  /** The role replay --aws and redrive --aws assume to send to the queue. */
  readonly operator: OperatorRole;
  /** The customer-managed key of the log groups and Athena's results (`customerManagedKeys`). */
  readonly dataKey?: DataKey;
  /** The X-Ray sampling rule of the webhook stage (`tracingSampleRate`), when tracing is on. */
  readonly traceSampling?: TraceSampling;

  constructor(scope: Construct, id: string, props: SocialPlusWebhooksStackProps) {
    super(scope, id, {
      description: 'socialplus-webhooks: receives Social Plus webhook events into this account (verified, queued, stored, archived)',
      ...props,
    });
    const c = props.config;
    // RetentionDays values are the day counts; the config only admits counts CloudWatch accepts.
    const logRetention = c.logRetentionDays as logs.RetentionDays;
    const fanoutTimeout = Duration.seconds(c.fanoutTimeoutSeconds);

    // customerManagedKeys (the hardened profile): one key for every log group and Athena's results.
    this.dataKey = c.customerManagedKeys ? new DataKey(this, 'DataKey') : undefined;
    const logEncryptionKey = this.dataKey?.key;
    const systemLogLevel = c.lambdaSystemLogLevel;

    this.secrets = new WebhookSecrets(this, 'Secrets', { sources: c.sources });
    this.queue = new WebhookQueue(this, 'Queue', { consumerTimeout: fanoutTimeout, maxReceiveCount: c.maxReceiveCount });
    this.eventStore = new EventTable(this, 'EventStore', { deletionProtection: c.eventTableDeletionProtection });
    this.archive = new EventArchive(this, 'Archive', {
      transitionAfter: Duration.days(c.archiveTransitionDays),
      ...(c.archiveRetentionDays === undefined ? {} : { retention: Duration.days(c.archiveRetentionDays) }),
      bufferInterval: Duration.seconds(c.archiveBufferSeconds),
      bufferSize: Size.mebibytes(c.archiveBufferMiB),
      logRetention,
      logEncryptionKey,
      // Past the time the spill's notification (or its copy in the DLQ) can still be waiting.
      spillExpiration: Duration.days(this.queue.retentionPeriod.toDays() + SPILL_REDRIVE_MARGIN_DAYS),
    });
    this.archive.notifySpills(this.queue);
    this.catalog = new ArchiveCatalog(this, 'ArchiveCatalog', {
      bucketName: this.archive.bucketName,
      scanLimit: Size.gibibytes(c.athenaScanLimitGiB),
      resultsKey: this.dataKey?.key,
    });

    this.handlerResources = new HandlerResources(this, 'Handlers', {
      ...handlerResourceNeeds(c.handlers),
      socialPlusApiSecretArn: c.socialPlusApiSecretArn,
    });

    this.receiver = new ReceiverFunction(this, 'Receiver', {
      queue: this.queue,
      sourceSecrets: this.secrets,
      inbox: this.archive.inbox,
      deadline: Duration.millis(c.receiverDeadlineMs),
      signatureForms: c.signatureForms,
      memorySize: c.receiverMemoryMiB,
      logLevel: c.logLevel,
      logRetention,
      logEncryptionKey,
      systemLogLevel,
      tracing: c.tracing,
      metricsNamespace: c.metricsNamespace,
    });
    this.fanout = new FanoutFunction(this, 'Fanout', {
      queue: this.queue,
      eventStore: this.eventStore,
      archive: this.archive,
      inbox: this.archive.inbox,
      eventRetentionDays: c.eventRetentionDays,
      batchSize: c.fanoutBatchSize,
      maxBatchingWindow: Duration.seconds(c.fanoutMaxBatchingWindowSeconds),
      maxConcurrency: c.fanoutMaxConcurrency,
      timeout: fanoutTimeout,
      logLevel: c.logLevel,
      logRetention,
      logEncryptionKey,
      systemLogLevel,
      tracing: c.tracing && c.fanoutTracing,
      metricsNamespace: c.metricsNamespace,
      handlers: {
        config: handlersConfigValue(c.handlers, c.fanoutTimeoutSeconds),
        resources: this.handlerResources,
      },
    });

    // Only the receiver, the operator role (replay, redrive) and S3's spill notifications put
    // events in the queue, and only the receiver spills: every other way in would skip the
    // signature check.
    this.operator = new OperatorRole(this, 'Operator', { queue: this.queue });
    this.queue.restrictSenders([this.receiver.role, this.operator.role]);
    this.archive.restrictSpillWriters([this.receiver.role]);

    this.api = new WebhookApi(this, 'Api', {
      handler: this.receiver.function,
      stageName: c.apiStageName,
      throttlingRateLimit: c.apiRateLimit,
      throttlingBurstLimit: c.apiBurstLimit,
      logRetention,
      logEncryptionKey,
      systemLogLevel,
      tracing: c.tracing,
      logLevel: c.logLevel,
      detailedMetrics: c.apiDetailedMetrics,
      executionLogging: c.apiExecutionLogging,
    });
    if (c.tracing) {
      this.traceSampling = new TraceSampling(this, 'TraceSampling', {
        apiName: this.api.restApiName,
        stageName: c.apiStageName,
        fixedRate: c.tracingSampleRate,
      });
    }
    const socialPlusCidrs = socialPlusWebhookCidrs(c.sources.map((s) => s.region));
    const extraIpv6 = c.allowedCidrs.filter((cidr) => cidr.includes(':'));
    const ipv4 = [...new Set([...socialPlusCidrs, ...c.allowedCidrs.filter((cidr) => !cidr.includes(':'))])];
    this.firewall = new WebhookFirewall(this, 'Firewall', { api: this.api, ipv4Cidrs: ipv4, ipv6Cidrs: extraIpv6 });

    this.monitoring = new WebhooksMonitoring(this, 'Monitoring', {
      receiver: this.receiver,
      fanout: this.fanout,
      queue: this.queue,
      api: this.api,
      archive: this.archive,
      socialPlusAddresses: socialPlusCidrs.map((cidr) => cidr.replace(/\/32$/, '')),
      firewall: this.firewall,
      alarmEmail: c.alarmEmail,
      metricsNamespace: c.metricsNamespace,
      dashboard: c.dashboard,
      maxMessageAge: maxHealthyMessageAge(c),
      // Firehose waits up to its buffering interval before writing; three intervals is stuck.
      maxArchiveFreshness: Duration.seconds(Math.max(15 * 60, 3 * c.archiveBufferSeconds)),
    });

    this.addOutputs(c);
  }

  private addOutputs(c: WebhooksConfig): void {
    for (const source of c.sources) {
      const part = sourceIdPart(source.name);
      const isDefault = source.name === DEFAULT_SOURCE;
      new CfnOutput(this, `${SOURCE_OUTPUT_PREFIXES.webhookUrl}${part}`, {
        description: `Webhook URL to register in the Social Plus console for source '${source.name}'${isDefault ? ' (also served at /webhook/default)' : ''}`,
        value: this.api.urlFor(source.name, isDefault),
      });
      const secretArn = this.secrets.secretArnOf(source.name);
      if (secretArn !== undefined) {
        new CfnOutput(this, `${SOURCE_OUTPUT_PREFIXES.secretArn}${part}`, {
          description: `Secret holding the Social Plus secret key of source '${source.name}'`,
          value: secretArn,
        });
      }
    }
    const o = STACK_OUTPUTS;
    const outputs: Partial<Record<StackOutputName, [string, string]>> = {
      [o.eventTable]: [this.eventStore.tableName, 'DynamoDB event store'],
      [o.archiveBucket]: [this.archive.bucketName, 'S3 archive (events/, errors/, inbox/, athena-results/)'],
      [o.queueName]: [this.queue.queueName, 'SQS event queue'],
      [o.queueUrl]: [this.queue.queueUrl, 'SQS event queue URL'],
      [o.queueArn]: [this.queue.queueArn, 'SQS event queue ARN (the destination of a DLQ message move task)'],
      [o.deadLetterQueueName]: [this.queue.deadLetterQueueName, 'SQS dead-letter queue (socialplus-webhooks redrive moves it back)'],
      [o.deadLetterQueueUrl]: [this.queue.deadLetterQueueUrl, 'SQS dead-letter queue URL'],
      [o.deadLetterQueueArn]: [
        this.queue.deadLetterQueueArn,
        'SQS dead-letter queue ARN (the source of a message move task: aws sqs start-message-move-task)',
      ],
      [o.deliveryStream]: [this.archive.deliveryStreamName, 'Firehose delivery stream writing the archive'],
      [o.glueDatabase]: [this.catalog.databaseName, 'Glue database holding the events table'],
      [o.athenaWorkGroup]: [this.catalog.workGroupName, 'Athena workgroup with the saved queries'],
      [o.alarmTopicArn]: [this.monitoring.topicArn, 'SNS topic every alarm notifies (subscribe e-mail, chat or paging here)'],
      [o.receiverLogGroup]: [this.receiver.logGroupName, 'Receiver logs (structured JSON: level, message, eventId, source, reason)'],
      [o.fanoutLogGroup]: [this.fanout.logGroupName, 'Fan-out logs (structured JSON: level, message, eventId, source, handler)'],
      [o.webAclName]: [this.firewall.webAclName, 'WAF web ACL in front of the API (its sampled requests show what it blocked)'],
      [o.webAclArn]: [this.firewall.webAclArn, 'ARN of that web ACL (doctor checks it is associated with the stage)'],
      [o.apiStageArn]: [this.api.stageArn, 'ARN of the API stage the web ACL guards'],
      [o.receiverFunction]: [this.receiver.functionName, 'The receiver Lambda function'],
      [o.fanoutFunction]: [this.fanout.functionName, 'The fan-out Lambda function'],
      [o.operatorRoleArn]: [
        this.operator.roleArn,
        'Role replay --aws and redrive --aws assume to send to the event queue (its policy admits no one else but the receiver)',
      ],
      [o.apiAccessLogGroup]: [this.api.accessLogGroupName, 'API access logs (one JSON line per request: status, sourceIp, wafResponseCode, latency)'],
    };
    const { dashboardName, dashboardUrl } = this.monitoring;
    if (dashboardName !== undefined && dashboardUrl !== undefined) {
      outputs[o.dashboardName] = [dashboardName, 'CloudWatch dashboard following events end to end'];
      outputs[o.dashboardUrl] = [dashboardUrl, 'Console address of the dashboard'];
    }
    const { stateTableName, eventBusName, eventBusArn, socialPlusSecretArn } = this.handlerResources;
    if (stateTableName !== undefined)
      outputs[o.handlerStateTable] = [stateTableName, 'DynamoDB table of the example handlers (auto-moderation flags and bans, daily counters)'];
    if (eventBusName !== undefined && eventBusArn !== undefined) {
      outputs[o.eventBusName] = [eventBusName, 'EventBridge bus the forwarder puts events on (source socialplus.webhooks); add rules here'];
      outputs[o.eventBusArn] = [eventBusArn, 'ARN of that EventBridge bus'];
    }
    if (socialPlusSecretArn !== undefined)
      outputs[o.socialPlusApiSecretArn] = [socialPlusSecretArn, 'Secret holding the Social Plus admin token the example handlers call the API with'];
    for (const [id, entry] of Object.entries(outputs)) {
      if (entry !== undefined) new CfnOutput(this, id, { value: entry[0], description: entry[1] });
    }
  }
}
