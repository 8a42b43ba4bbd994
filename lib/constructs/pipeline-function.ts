import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

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

/**
 * What the receiver and the fan-out share: the function, its role and log group, their names for
 * the stack's outputs, and the metrics the monitoring reads.
 */
export abstract class PipelineFunction extends Construct implements IFunctionMetrics {
  /** The function (the API integrates the receiver's). */
  abstract readonly function: lambda.Function;
  /** Its execution role. */
  abstract readonly role: iam.Role;
  /** Its log group. */
  abstract readonly logGroup: logs.ILogGroup;

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
