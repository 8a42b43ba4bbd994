import { Arn, CustomResource, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { LambdaSystemLogLevel } from '../../lambda/common/defaults.js';
import { Construct } from 'constructs';
import type { LogLevel } from '../../lambda/common/logger.js';
import { WebhooksFunction } from './node-function.js';

/** The AWS managed policy API Gateway documents for its account-wide CloudWatch Logs role. */
export const PUSH_TO_CLOUDWATCH_LOGS_POLICY = 'service-role/AmazonAPIGatewayPushToCloudWatchLogs';

/** Props for {@link ApiGatewayAccountCloudWatchRole}. */
export interface ApiGatewayAccountCloudWatchRoleProps {
  readonly logLevel: LogLevel;
  readonly logRetention: logs.RetentionDays;
  /** @default - CloudWatch Logs' own encryption */
  readonly logEncryptionKey?: kms.IKey;
  /** @default DEFAULT_LAMBDA_SYSTEM_LOG_LEVEL */
  readonly systemLogLevel?: LambdaSystemLogLevel;
  /** @default true */
  readonly tracing?: boolean;
}

/**
 * Makes sure the account has an API Gateway CloudWatch Logs role in the stack's region, which a
 * stage that writes access logs needs: a fresh account (or a region nobody set up) has none, and
 * API Gateway then fails the stage and the whole first deploy.
 *
 * A custom resource, not `AWS::ApiGateway::Account`: that resource sets the account's role
 * unconditionally, so it would take the setting over from whatever role another stack or a person
 * set (and CDK's `cloudWatchRole` would also remove it on `cdk destroy` unless retained). This
 * one sets the role the stack creates only when none is set, leaves an existing one alone, and
 * never unsets anything. The role it creates is retained on `cdk destroy`: once the account points
 * at it, other APIs in the account log through it.
 *
 * Depend on {@link resource} from whatever needs the setting (the stage).
 */
export class ApiGatewayAccountCloudWatchRole extends Construct {
  /** The role the account is set to when it has none; retained. */
  readonly role: iam.Role;
  /** The custom resource; its `RoleArn` attribute is the account's role after the deploy, `Action` `set` or `keep`. */
  readonly resource: CustomResource;
  /** The custom resource's function. */
  readonly setup: WebhooksFunction;

  constructor(scope: Construct, id: string, props: ApiGatewayAccountCloudWatchRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description:
        'API Gateway account CloudWatch Logs role (execution and access logs of every REST API in this account and region); kept after the stack is deleted',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName(PUSH_TO_CLOUDWATCH_LOGS_POLICY)],
    });
    this.role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    Validations.of(this.role.node.defaultChild as iam.CfnRole).acknowledge({
      id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${PUSH_TO_CLOUDWATCH_LOGS_POLICY}]`,
      reason:
        "This is the account-wide role API Gateway writes every REST API's logs with, in log groups of any name it creates itself; " +
        "AWS documents exactly this managed policy for it, and a role scoped to this stack's log groups would break other APIs in the account.",
    });

    const fn = (this.setup = new WebhooksFunction(this, 'Setup', {
      entry: 'lambda/account-setup/index.ts',
      description: 'socialplus-webhooks account setup: sets the API Gateway CloudWatch Logs role when the account has none (deploy time only)',
      memorySize: 256,
      timeout: Duration.minutes(3),
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      logEncryptionKey: props.logEncryptionKey,
      systemLogLevel: props.systemLogLevel,
      invocation: 'CloudFormation',
      deadLetterReason:
        "CloudFormation invokes this custom resource function, at deploy time only, and waits for the answer it sends to the request's " +
        'response URL; every failure is answered FAILED and fails the deploy, which is the signal a person sees. A dead-letter queue would hold nothing to act on.',
      tracing: props.tracing,
      enableSourceMaps: false,
      // It publishes no metrics: it runs once per deploy and answers CloudFormation.
      metricsNamespace: null,
    }));
    const accountArn = Arn.format({ service: 'apigateway', account: '', resource: '/account' }, stack);
    fn.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['apigateway:GET', 'apigateway:PATCH'], resources: [accountArn] }));
    fn.function.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.role.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'apigateway.amazonaws.com' } },
      }),
    );

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: fn.function.functionArn,
      resourceType: 'Custom::ApiGatewayAccountCloudWatchRole',
      properties: { RoleArn: this.role.roleArn },
    });
    // The function must hold its permissions before CloudFormation calls it.
    this.resource.node.addDependency(fn.role);
  }
}
