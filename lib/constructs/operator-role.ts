import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { WebhookQueue } from './queue.js';

/** Props for {@link OperatorRole}. */
export interface OperatorRoleProps {
  /**
   * The event queue `replay --aws` sends to and `redrive --aws` moves messages back into, from its
   * dead-letter queue.
   */
  readonly queue: Pick<WebhookQueue, 'grantSendMessages' | 'grantRedrive'>;
}

/**
 * The role the CLI's `replay --aws` and `redrive --aws` assume to put events back in the queue:
 * the queue's policy denies every other sender but the receiver (and S3's notifications), so an
 * operator's own credentials, however broad, cannot. Any principal of this account that its own
 * IAM policy allows `sts:AssumeRole` on this role may assume it (administrators can).
 */
export class OperatorRole extends Construct {
  /** The role; the queue's policy admits its sends. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: OperatorRoleProps) {
    super(scope, id);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.AccountRootPrincipal(),
      description: 'socialplus-webhooks operator: replay --aws and redrive --aws put events back in the event queue through this role',
      maxSessionDuration: Duration.hours(1),
    });
    // replay --aws: SendMessageBatch of archived events.
    props.queue.grantSendMessages(this.role);
    // redrive --aws: an SQS message move task from the DLQ back to the queue, and following it.
    props.queue.grantRedrive(this.role);
  }

  /** The role's ARN. */
  get roleArn(): string {
    return this.role.roleArn;
  }
}
