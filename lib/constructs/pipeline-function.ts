import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { LogLevel } from '../../lambda/common/logger.js';
import { type IBindableFunction, WebhooksFunction, type WebhooksFunctionProps } from './node-function.js';
import { DEFAULT_LOG_LEVEL, DEFAULT_LOG_RETENTION_DAYS, type LambdaSystemLogLevel } from '../../lambda/common/defaults.js';

/** A pipeline function's metrics and logs, as the alarms and the dashboard use them. */
export interface IFunctionMetrics {
  /** Invocations that failed (an unhandled error or a timeout). */
  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Invocations Lambda refused to run (concurrency exhausted). */
  metricThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Invocation duration, in milliseconds. */
  metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Invocations. */
  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** The function's log group (the dashboard queries it). */
  readonly logGroupName: string;
}

/** The props the receiver and the fan-out both take, with the same defaults: logging, tracing and metrics. */
export interface PipelineFunctionProps {
  /**
   * Log level.
   * @default DEFAULT_LOG_LEVEL
   */
  readonly logLevel?: LogLevel;
  /**
   * Log group retention.
   * @default DEFAULT_LOG_RETENTION_DAYS
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The key encrypting the log group.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Which of Lambda's own platform lines are logged.
   * @default DEFAULT_LAMBDA_SYSTEM_LOG_LEVEL
   */
  readonly systemLogLevel?: LambdaSystemLogLevel;
  /**
   * X-Ray active tracing.
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * Namespace of the function's own metrics.
   * @default METRICS_NAMESPACE ('SocialPlusWebhooks')
   */
  readonly metricsNamespace?: string;
}

/** What a pipeline function sets itself (entry, sizing, invocation); the rest comes from {@link PipelineFunctionProps}. */
export type PipelineFunctionSpec = Omit<WebhooksFunctionProps, keyof PipelineFunctionProps>;

/**
 * What the receiver and the fan-out share: the function (construct id `Handler`), its role and log
 * group, their names for the stack's outputs, and the metrics the monitoring reads. A resource binds
 * itself to the pipeline function as to any {@link IBindableFunction}.
 */
export abstract class PipelineFunction extends Construct implements IFunctionMetrics, IBindableFunction {
  /** The function (the API integrates the receiver's). */
  readonly function: lambda.Function;
  /** Its execution role. */
  readonly role: iam.Role;
  /** Its log group. */
  readonly logGroup: logs.ILogGroup;

  protected constructor(scope: Construct, id: string, props: PipelineFunctionProps, spec: PipelineFunctionSpec) {
    super(scope, id);
    const fn = new WebhooksFunction(this, 'Handler', {
      ...spec,
      logLevel: props.logLevel ?? DEFAULT_LOG_LEVEL,
      logRetention: props.logRetention ?? (DEFAULT_LOG_RETENTION_DAYS as logs.RetentionDays),
      logEncryptionKey: props.logEncryptionKey,
      systemLogLevel: props.systemLogLevel,
      tracing: props.tracing,
      metricsNamespace: props.metricsNamespace,
    });
    this.function = fn.function;
    this.role = fn.role;
    this.logGroup = fn.logGroup;
  }

  /** The function's name. */
  get functionName(): string {
    return this.function.functionName;
  }

  get logGroupName(): string {
    return this.logGroup.logGroupName;
  }

  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricErrors(props);
  }

  metricThrottles(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricThrottles(props);
  }

  metricDuration(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricDuration(props);
  }

  metricInvocations(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.function.metricInvocations(props);
  }
}
