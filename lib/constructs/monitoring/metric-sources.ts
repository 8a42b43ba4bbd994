import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_DIMENSIONS, METRICS_SERVICE } from '../../../lambda/common/metrics-contract.js';
import type { MetricName } from '../../../lambda/core/telemetry.js';
import type { IApiMetrics } from '../api.js';
import type { IArchiveMetrics } from '../archive.js';
import type { IFunctionMetrics } from '../pipeline-function.js';
import type { IWebhookQueueMetrics } from '../queue.js';

/** Social Plus stops waiting for an answer after this long (docs/architecture.md §10). */
export const SOCIALPLUS_TIMEOUT_MS = 1500;

/** Where every alarm's runbook entry lives; an alarm's entry is the heading named after its id. */
export const RUNBOOK_PATH = 'docs/runbook.md';

/** What the monitoring needs of the firewall: its request metrics (see `WebhookFirewall`). */
export interface IWebAclMetrics {
  /** Requests the web ACL let through. */
  metricAllowedRequests(props?: cloudwatch.MetricOptions): cloudwatch.IMetric;
  /** Requests the web ACL blocked. */
  metricBlockedRequests(props?: cloudwatch.MetricOptions): cloudwatch.IMetric;
}

/** The service of one of the functions' own metrics. */
export type PipelineService = keyof typeof METRICS_SERVICE;

/**
 * Every metric the alarms and the dashboard read: the resources' `metricXxx()` methods, the
 * functions' own metrics (the contract in `lambda/common/metrics-contract.ts`) and the counts the
 * access-log metric filters publish.
 */
export interface MetricSources {
  readonly receiver: IFunctionMetrics;
  readonly fanout: IFunctionMetrics;
  readonly queue: IWebhookQueueMetrics;
  readonly api: IApiMetrics;
  readonly archive: IArchiveMetrics;
  readonly firewall: IWebAclMetrics;
  /** Namespace of the functions' own metrics. */
  readonly namespace: string;
  /** Requests API Gateway answered 429 (stage or account throttling), counted from the access log. */
  readonly apiThrottled: cloudwatch.Metric;
  /** 401s answered to Social Plus's own addresses, counted from the access log. */
  readonly socialPlusRefused: cloudwatch.Metric;
}

export const FIVE_MINUTES = Duration.minutes(5);
export const ONE_MINUTE = Duration.minutes(1);

/**
 * One of the functions' own metrics (the contract in `lambda/common/metrics-contract.ts`): the
 * name is a `MetricName`, so a typo fails to compile. A five-minute sum unless `options` say otherwise.
 */
export function pipelineMetric(
  namespace: string,
  service: PipelineService,
  metricName: MetricName,
  options: cloudwatch.MetricOptions = {},
): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace,
    metricName,
    dimensionsMap: { [METRICS_DIMENSIONS.service]: METRICS_SERVICE[service] },
    statistic: cloudwatch.Stats.SUM,
    period: FIVE_MINUTES,
    ...options,
  });
}
