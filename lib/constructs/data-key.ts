import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { denyGrantsButForAwsResources } from './kms-policy.js';

/**
 * The customer-managed key of `customerManagedKeys` (the `hardened` profile; docs/security.md):
 * one key, rotated yearly, that encrypts every log group the stack creates and Athena's query
 * results. CloudWatch Logs may use it only for this account's log groups; the key policy denies
 * grants except those AWS services make for AWS resources.
 */
export class DataKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    const stack = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: `Encrypts the log groups and Athena query results of ${stack.stackName} (socialplus-webhooks)`,
      enableKeyRotation: true,
      // Logs and query results outlive a stack only as long as their groups and objects do; a
      // retained key would keep costing $1 a month after a destroy. Seven days to undo a mistake.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowThisAccountsLogGroups',
        principals: [new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    denyGrantsButForAwsResources(this.key);
  }
}
