import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { QUEUE_RETENTION_SECONDS, VISIBILITY_TIMEOUT_FACTOR } from '../config.js';

/** SQS's largest message (DESIGN §3); the queue attribute still defaults to 256 KiB, so it is set explicitly. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** AWS's rule for a Lambda-triggered queue: visibility timeout at least six times the function timeout (lib/config.ts). */
export { VISIBILITY_TIMEOUT_FACTOR };

/** Props for {@link EventQueue}. */
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
 * The event queue between the receiver and the fan-out (DESIGN §3), with its dead-letter queue:
 * both encrypted with SQS-managed keys, TLS only, 1 MiB messages, 14-day retention.
 */
export class EventQueue extends Construct {
  /** The event queue (the receiver sends, the fan-out consumes). */
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
    });
    Validations.of(this.deadLetterQueue.node.defaultChild as sqs.CfnQueue).acknowledge({
      id: 'Serverless-SQSRedrivePolicy',
      reason: 'This queue is the dead-letter queue of the event queue; giving it a DLQ of its own would only move the problem. The redrive command sends its messages back.',
    });
    this.queue = new sqs.Queue(this, 'Queue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod,
      maxMessageSizeBytes: MAX_MESSAGE_BYTES,
      visibilityTimeout: Duration.seconds(props.consumerTimeout.toSeconds() * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 5 },
    });
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
