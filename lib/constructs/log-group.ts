import { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/** How every log group of the stack is kept: the configuration's retention and, with `customerManagedKeys`, the stack's key. */
export interface LogGroupSettings {
  readonly retention: logs.RetentionDays;
  /** @default - CloudWatch Logs' own encryption */
  readonly encryptionKey?: kms.IKey;
  /** @default - a name CloudFormation generates */
  readonly logGroupName?: string;
}

/**
 * A log group of the stack: its retention, its key, and deleted with the stack (logs are kept for
 * their retention, not beyond the stack's life). Every construct creates its log groups here, so
 * none misses the retention or the key that AWS Control Tower's CT.CLOUDWATCH.PR.2 and PR.3 check.
 */
export function stackLogGroup(scope: Construct, id: string, settings: LogGroupSettings): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    retention: settings.retention,
    encryptionKey: settings.encryptionKey,
    logGroupName: settings.logGroupName,
    removalPolicy: RemovalPolicy.DESTROY,
  });
}
