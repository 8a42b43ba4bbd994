import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';

/**
 * Denies `kms:CreateGrant` to anyone but AWS services acting for an AWS resource (Lambda, Firehose,
 * CloudWatch Logs create their grants so): nobody can hand the key's use on through a grant. Every
 * key of the stack carries it (AWS Control Tower's CT.KMS.PR.3 asks for exactly this statement;
 * docs/security.md).
 */
export function denyGrantsButForAwsResources(key: kms.Key): void {
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsButForAwsResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
}
