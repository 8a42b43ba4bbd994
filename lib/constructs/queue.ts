import { Duration, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambda/common/env.js';
import { QUEUE_RETENTION_SECONDS, VISIBILITY_TIMEOUT_FACTOR } from '../config.js';
import { ScopedQueueDestination } from './inbox.js';
import { bindResource, type IBindableFunction } from './node-function.js';
import { DEFAULT_MAX_RECEIVE_COUNT } from '../../lambda/common/defaults.js';

/** SQS's largest message (docs/architecture.md §3); the queue attribute still defaults to 256 KiB, so it is set explicitly. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/**
 * The event queue as the functions see it: the receiver and the operators send to it, the fan-out
 * consumes it. An {@link WebhookQueue}, or an existing queue ({@link WebhookQueue.fromQueueArn}).
 */
export interface IWebhookQueue {
  /** The event queue's ARN (an event source mapping reads from it). */
  readonly queueArn: string;
  /** Lets `grantee` send to the event queue (`sqs:SendMessage`, and the two reads the SDK makes first). */
  grantSendMessages(grantee: iam.IGrantable): iam.Grant;
  /** Lets `grantee` receive, delete and extend the visibility of the event queue's messages. */
  grantConsumeMessages(grantee: iam.IGrantable): iam.Grant;
  /** Sets `ENV.QUEUE_URL` on `fn` and lets it send to the queue: what the receiver needs. */
  bindSender(fn: IBindableFunction): iam.Grant;
}

/** The event queue's metrics the alarms and the dashboard use. */
export interface IWebhookQueueMetrics {
  /** Messages waiting in the event queue. */
  metricApproximateNumberOfMessagesVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Messages of the event queue being processed (received, not yet deleted). */
  metricApproximateNumberOfMessagesNotVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Age of the event queue's oldest message, in seconds. */
  metricApproximateAgeOfOldestMessage(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Messages waiting in the dead-letter queue. */
  metricDeadLetterMessagesVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** The grants and bindings of {@link IWebhookQueue}, over the event queue the subclass holds. */
abstract class EventQueueBase extends Construct implements IWebhookQueue {
  /** The event queue. */
  abstract readonly queue: sqs.IQueue;

  get queueArn(): string {
    return this.queue.queueArn;
  }

  grantSendMessages(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantSendMessages(grantee);
  }

  grantConsumeMessages(grantee: iam.IGrantable): iam.Grant {
    return this.queue.grantConsumeMessages(grantee);
  }

  bindSender(fn: IBindableFunction): iam.Grant {
    return bindResource(fn, (grantee) => this.grantSendMessages(grantee), ENV.QUEUE_URL, this.queue.queueUrl);
  }
}

/** Props for {@link WebhookQueue}. */
export interface EventQueueProps {
  /** Timeout of the function that consumes the queue; the visibility timeout is six times this. */
  readonly consumerTimeout: Duration;
  /**
   * Receives before a message moves to the dead-letter queue.
   * @default 5
   */
  readonly maxReceiveCount?: number;
  /**
   * How long both queues keep a message.
   * @default Duration.days(14), the SQS maximum
   */
  readonly retentionPeriod?: Duration;
}

/**
 * The event queue between the receiver and the fan-out (docs/architecture.md §3), with its dead-letter queue:
 * both encrypted with SQS-managed keys, TLS only, 1 MiB messages, 14-day retention.
 */
export class WebhookQueue extends EventQueueBase implements IWebhookQueueMetrics {
  /** An existing event queue, for functions built outside this stack (the cold-start benchmark). */
  static fromQueueArn(scope: Construct, id: string, queueArn: string): IWebhookQueue {
    return new (class extends EventQueueBase {
      readonly queue = sqs.Queue.fromQueueArn(this, 'Queue', queueArn);
    })(scope, id);
  }

  /** The event queue (the receiver sends, the fan-out consumes); for tests and escape hatches. */
  readonly queue: sqs.Queue;
  /** Where a message goes after `maxReceiveCount` failed receives; `redrive` moves it back. */
  readonly deadLetterQueue: sqs.Queue;
  /**
   * How long both queues keep a message. A dead-lettered message keeps its first enqueue time, so
   * this is also the longest an event can wait in the DLQ to be redriven.
   */
  readonly retentionPeriod: Duration;

  constructor(scope: Construct, id: string, props: EventQueueProps) {
    super(scope, id);
    const retentionPeriod = props.retentionPeriod ?? Duration.seconds(QUEUE_RETENTION_SECONDS);
    this.retentionPeriod = retentionPeriod;
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      // SQS's default, said out loud: it marks the queue as a dead-letter queue (AWS Control Tower's
      // CT.SQS.PR.1 exempts those). Naming the event queue instead would make the two queues
      // reference each other.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.ALLOW_ALL },
    });
    Validations.of(this.deadLetterQueue.node.defaultChild as sqs.CfnQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason:
        'This queue is the dead-letter queue of the event queue; giving it a DLQ of its own would only move the problem. The redrive command sends its messages back.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT },
    });
  }

  /** The event queue's name. */
  get queueName(): string {
    return this.queue.queueName;
  }

  /** The event queue's URL. */
  get queueUrl(): string {
    return this.queue.queueUrl;
  }

  /** The dead-letter queue's name. */
  get deadLetterQueueName(): string {
    return this.deadLetterQueue.queueName;
  }

  /** The dead-letter queue's URL. */
  get deadLetterQueueUrl(): string {
    return this.deadLetterQueue.queueUrl;
  }

  /** The dead-letter queue's ARN (the source of a message move task). */
  get deadLetterQueueArn(): string {
    return this.deadLetterQueue.queueArn;
  }

  /**
   * What `redrive --aws` does: start an SQS message move task from the dead-letter queue back to
   * the event queue, follow and cancel it, and the receives and deletes the task makes on the DLQ.
   */
  grantRedrive(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'sqs:StartMessageMoveTask',
        'sqs:ListMessageMoveTasks',
        'sqs:CancelMessageMoveTask',
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:GetQueueAttributes',
      ],
      resourceArns: [this.deadLetterQueue.queueArn],
    });
  }

  /**
   * The event queue as an S3 notification destination that only the notifying bucket, in this
   * account, may use (see {@link ScopedQueueDestination}).
   */
  asBucketNotificationDestination(): s3.IBucketNotificationDestination {
    return new ScopedQueueDestination(this.queue);
  }

  metricApproximateNumberOfMessagesVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateNumberOfMessagesVisible(props);
  }

  metricApproximateNumberOfMessagesNotVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateNumberOfMessagesNotVisible(props);
  }

  metricApproximateAgeOfOldestMessage(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.queue.metricApproximateAgeOfOldestMessage(props);
  }

  metricDeadLetterMessagesVisible(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible(props);
  }

  /**
   * Lets no one send to the event queue but `senders` and AWS services (S3 notifications, which
   * the queue's own allow statement scopes to the archive bucket): an explicit deny, which no
   * identity policy in the account can override, so no other role can put an unsigned event in
   * front of the fan-out. Call once, with every role that sends.
   */
  restrictSenders(senders: readonly iam.IRole[]): void {
    this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheReceiverAndOperatorsSend',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: {
          ArnNotEquals: { 'aws:PrincipalArn': senders.map((r) => r.roleArn) },
          Bool: { 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    );
  }
}
