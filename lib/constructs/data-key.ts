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
      // Retained: switching the profile back to lean (or customerManagedKeys off) keeps the log
      // groups, whose older lines stay encrypted with this key, and Athena's older results; deleting
      // the key would make them unreadable. After `cdk destroy` it is left, at $1 a month, until
      // you schedule its deletion (README, "What `cdk destroy` keeps").
      removalPolicy: RemovalPolicy.RETAIN,
      pendingWindow: Duration.days(30),
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
