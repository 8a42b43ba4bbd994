import { Stack, Validations } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import type { LogLevel } from '../../lambda/common/logger.js';
import { API_ACCOUNT_DEFAULT_THROTTLE } from '../config.js';
import { ApiGatewayAccountCloudWatchRole } from './api-account-role.js';
import { stackLogGroup } from './log-group.js';
import type { IGuardedApi } from './firewall.js';
import {
  DEFAULT_API_DETAILED_METRICS,
  DEFAULT_API_EXECUTION_LOGGING,
  DEFAULT_API_STAGE_NAME,
  DEFAULT_LOG_LEVEL,
  DEFAULT_LOG_RETENTION_DAYS,
  DEFAULT_TRACING,
  type ApiExecutionLogging,
  type LambdaSystemLogLevel,
} from '../../lambda/common/defaults.js';

/** The webhook path; `POST /webhook` serves the source named `default`. */
export const WEBHOOK_PATH = 'webhook';

/**
 * One JSON object per request: enough to see who called, what the WAF and the receiver answered and
 * how long it took. Never headers or bodies (the signature and the payload stay out of the logs).
 */
export const ACCESS_LOG_FORMAT: Readonly<Record<string, string>> = {
  requestId: '$context.requestId',
  requestTime: '$context.requestTime',
  sourceIp: '$context.identity.sourceIp',
  userAgent: '$context.identity.userAgent',
  method: '$context.httpMethod',
  resourcePath: '$context.resourcePath',
  path: '$context.path',
  status: '$context.status',
  responseLength: '$context.responseLength',
  responseLatency: '$context.responseLatency',
  integrationStatus: '$context.integration.status',
  integrationLatency: '$context.integration.latency',
  integrationError: '$context.integrationErrorMessage',
  errorMessage: '$context.error.message',
  errorType: '$context.error.responseType',
  wafResponseCode: '$context.wafResponseCode',
};

/** The API's metrics the alarms and the dashboard use: the stage's, and counts of access-log lines. */
export interface IApiMetrics {
  /** Requests to the stage. */
  metricCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Requests answered 4xx. */
  metricClientError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Requests answered 5xx. */
  metricServerError(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Time from request to answer, in milliseconds. */
  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Time the receiver integration took, in milliseconds. */
  metricIntegrationLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /**
   * Counts the access-log lines (fields of {@link ACCESS_LOG_FORMAT}) that match a pattern, with a
   * metric filter created in `scope`: for what API Gateway has no metric of (its 429s, who got a 401).
   */
  countAccessLogLines(scope: Construct, id: string, options: logs.MetricFilterOptions): logs.MetricFilter;
}

/** Props for {@link WebhookApi}. */
export interface WebhookApiProps {
  /** The receiver function every webhook request goes to (Lambda proxy integration). */
  readonly handler: lambda.IFunction;
  /**
   * Stage name, the first path segment of the URL.
   * @default DEFAULT_API_STAGE_NAME
   */
  readonly stageName?: string;
  /**
   * Steady-state request rate limit for the stage, per second.
   * @default API_ACCOUNT_DEFAULT_THROTTLE.rateLimit (10,000, API Gateway's account limit per region)
   */
  readonly throttlingRateLimit?: number;
  /**
   * Burst limit for the stage: Social Plus sends in bursts when many users act at once.
   * @default API_ACCOUNT_DEFAULT_THROTTLE.burstLimit (5,000, the account's)
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Retention of the access log group.
   * @default DEFAULT_LOG_RETENTION_DAYS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * X-Ray tracing of the stage.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * Log level of the account-setup function.
   * @default DEFAULT_LOG_LEVEL
   */
  readonly logLevel?: LogLevel;
  /**
   * Which of Lambda's own lines the account-setup function logs.
   * @default DEFAULT_LAMBDA_SYSTEM_LOG_LEVEL
   */
  readonly systemLogLevel?: LambdaSystemLogLevel;
  /**
   * The key encrypting the log groups (access log, execution log, the account-setup function's).
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * API Gateway's per-method metrics (`MetricsEnabled`); the stage's own metrics are published either way.
   * @default DEFAULT_API_DETAILED_METRICS (false)
   */
  readonly detailedMetrics?: boolean;
  /**
   * Execution logging: `OFF`, or the level API Gateway logs each request at, into a log group the
   * stack creates with the name API Gateway writes to (so it gets the retention and key).
   * @default DEFAULT_API_EXECUTION_LOGGING ('OFF')
   */
  readonly executionLogging?: ApiExecutionLogging;
}

/**
 * The regional REST API (WAF attaches to REST APIs only): `POST /webhook` and
 * `POST /webhook/{source}` to the receiver, nothing else; JSON access logs, stage throttling,
 * X-Ray tracing unless turned off. Every body reaches the receiver base64-encoded, so the HMAC is computed over the
 * exact bytes Social Plus sent whatever their encoding.
 */
export class WebhookApi extends Construct implements IApiMetrics, IGuardedApi {
  /** The REST API. */
  readonly api: apigateway.RestApi;
  /** The deployed stage (what the firewall is attached to). */
  readonly stage: apigateway.Stage;
  /** The access log group. */
  readonly accessLogGroup: logs.LogGroup;
  /** The execution log group, when execution logging is on. */
  readonly executionLogGroup?: logs.LogGroup;
  /** Makes sure the account has the CloudWatch Logs role the stage's logging needs. */
  readonly accountRole: ApiGatewayAccountCloudWatchRole;

  constructor(scope: Construct, id: string, props: WebhookApiProps) {
    super(scope, id);
    const logRetention = props.logRetention ?? (DEFAULT_LOG_RETENTION_DAYS as logs.RetentionDays);
    const executionLogging = props.executionLogging ?? DEFAULT_API_EXECUTION_LOGGING;
    const stageName = props.stageName ?? DEFAULT_API_STAGE_NAME;
    this.accessLogGroup = stackLogGroup(this, 'AccessLogs', { retention: logRetention, encryptionKey: props.logEncryptionKey });
    this.api = new apigateway.RestApi(this, 'RestApi', {
      // API Gateway publishes its metrics under the API's name (dimension ApiName), not its id: the
      // construct id 'RestApi' would merge the metrics of every copy of this stack in the account.
      restApiName: `${Stack.of(this).stackName}-api`,
      description: 'Social Plus webhooks: POST /webhook and POST /webhook/{source}',
      endpointConfiguration: { types: [apigateway.EndpointType.REGIONAL] },
      binaryMediaTypes: ['*/*'],
      cloudWatchRole: false,
      deploy: true,
      deployOptions: {
        stageName,
        throttlingRateLimit: props.throttlingRateLimit ?? API_ACCOUNT_DEFAULT_THROTTLE.rateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit ?? API_ACCOUNT_DEFAULT_THROTTLE.burstLimit,
        accessLogDestination: new apigateway.LogGroupLogDestination(this.accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.custom(JSON.stringify(ACCESS_LOG_FORMAT)),
        tracingEnabled: props.tracing ?? DEFAULT_TRACING,
        metricsEnabled: props.detailedMetrics ?? DEFAULT_API_DETAILED_METRICS,
        dataTraceEnabled: false,
        ...(executionLogging === 'OFF' ? {} : { loggingLevel: apigateway.MethodLoggingLevel[executionLogging] }),
      },
    });
    this.stage = this.api.deploymentStage;
    // A stage that writes logs needs the account's API Gateway CloudWatch role: ensured first.
    this.accountRole = new ApiGatewayAccountCloudWatchRole(this, 'AccountCloudWatchRole', {
      logLevel: props.logLevel ?? DEFAULT_LOG_LEVEL,
      logRetention,
      logEncryptionKey: props.logEncryptionKey,
      systemLogLevel: props.systemLogLevel,
      tracing: props.tracing,
    });
    this.stage.node.addDependency(this.accountRole.resource);
    if (executionLogging !== 'OFF') {
      // API Gateway would create this group itself, outside the stack, never expiring and
      // unencrypted; created first under the name it writes to, it has the stack's retention and key.
      this.executionLogGroup = stackLogGroup(this, 'ExecutionLogs', {
        logGroupName: `API-Gateway-Execution-Logs_${this.api.restApiId}/${stageName}`,
        retention: logRetention,
        encryptionKey: props.logEncryptionKey,
      });
      this.stage.node.addDependency(this.executionLogGroup);
    }

    const integration = new apigateway.LambdaIntegration(props.handler, { proxy: true, allowTestInvoke: false });
    const webhook = this.api.root.addResource(WEBHOOK_PATH);
    const withSource = webhook.addResource('{source}');
    for (const resource of [webhook, withSource]) {
      const method = resource.addMethod('POST', integration, { authorizationType: apigateway.AuthorizationType.NONE });
      for (const rule of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) {
        Validations.of(method.node.defaultChild as apigateway.CfnMethod).acknowledge({
          id: rule,
          reason:
            'Social Plus cannot send credentials: it signs each body with the webhook secret (x-amity-signature, HMAC-SHA256), ' +
            "which the receiver verifies in constant time before anything is stored, and the WAF admits only Social Plus's webhook IPs. " +
            'An authorizer cannot check the signature because it never sees the body.',
        });
      }
    }

    Validations.of(this.api.node.defaultChild as apigateway.CfnRestApi).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'The receiver must get every body byte for byte and answer 200 even to bodies that are not valid JSON (they are stored and flagged, ' +
        'docs/architecture.md §2); a request validator would reject them before the signature is checked.',
    });
    if (props.tracing === false) {
      Validations.of(this.stage.node.defaultChild as apigateway.CfnStage).acknowledge({
        id: 'Serverless-APIGWXrayEnabled',
        reason:
          'X-Ray is off because the deployment set tracing=false (its cost, about $5 per million traced requests, was not wanted); ' +
          "the JSON access log still records each request's status, latency and integration error.",
      });
    }
    if (executionLogging === 'OFF') {
      Validations.of(this.stage.node.defaultChild as apigateway.CfnStage).acknowledge({
        id: 'AwsSolutions-APIG6',
        reason:
          'Execution logging is off (apiExecutionLogging=OFF, the lean profile): API Gateway writes it to a log group it creates itself (API-Gateway-Execution-Logs_<api id>/<stage>), outside ' +
          'the stack, never expiring and never deleted, and bills a line per request at INFO. The stage writes JSON access logs with status, ' +
          'WAF result, integration status, latency and error message instead, and the receiver logs why each request failed.',
      });
    }
  }

  /** The REST API's name (API Gateway's metrics and X-Ray's service name carry it). */
  get restApiName(): string {
    return this.api.restApiName;
  }

  /** The stage's ARN (what the web ACL guards). */
  get stageArn(): string {
    return this.stage.stageArn;
  }

  /** The access log group's name. */
  get accessLogGroupName(): string {
    return this.accessLogGroup.logGroupName;
  }

  metricCount(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stage.metricCount(props);
  }

  metricClientError(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stage.metricClientError(props);
  }

  metricServerError(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stage.metricServerError(props);
  }

  metricLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stage.metricLatency(props);
  }

  metricIntegrationLatency(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stage.metricIntegrationLatency(props);
  }

  countAccessLogLines(scope: Construct, id: string, options: logs.MetricFilterOptions): logs.MetricFilter {
    return new logs.MetricFilter(scope, id, { logGroup: this.accessLogGroup, ...options });
  }

  /** Associates a web ACL with the stage, with the association created in `scope` (the firewall) under `id`. */
  associateWebAcl(scope: Construct, id: string, webAclArn: string): wafv2.CfnWebACLAssociation {
    const association = new wafv2.CfnWebACLAssociation(scope, id, { resourceArn: this.stage.stageArn, webAclArn });
    // The stage ARN is built from the API id and the stage name, which does not make CloudFormation wait for the stage.
    association.node.addDependency(this.stage);
    return association;
  }

  /** URL of `POST /webhook/{source}` for a source (or `POST /webhook` for `default` when `bare`). */
  urlFor(source: string, bare = false): string {
    return this.api.urlForPath(bare ? `/${WEBHOOK_PATH}` : `/${WEBHOOK_PATH}/${source}`);
  }
}
