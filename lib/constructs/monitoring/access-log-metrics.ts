import { Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { IApiMetrics } from '../api.js';
import { FIVE_MINUTES } from './metric-sources.js';

/** Props for {@link createAccessLogMetrics}. */
export interface AccessLogMetricsProps {
  /** Namespace of the functions' own metrics; the filters publish under `<namespace>/<stack>`. */
  readonly namespace: string;
  /** The Social Plus webhook addresses (single addresses, no prefix length); none: the refusal count stays zero. */
  readonly socialPlusAddresses: readonly string[];
}

/** What the access log counts that API Gateway has no metric for (five-minute sums). */
export interface AccessLogMetrics {
  /** Requests API Gateway answered 429 (stage or account throttling). */
  readonly apiThrottled: cloudwatch.Metric;
  /** 401s answered to Social Plus's own addresses: genuine deliveries refused. */
  readonly socialPlusRefused: cloudwatch.Metric;
}

/**
 * The two metric filters on the API's JSON access log, created in `scope` (ids
 * `ApiThrottledFilter`, `SocialPlusSignatureRefusedFilter`): API Gateway publishes no metric of the
 * requests it throttles, and the receiver cannot tell Social Plus from a tester inside
 * `allowedCidrs`; the access log can.
 */
export function createAccessLogMetrics(
  scope: Construct,
  api: Pick<IApiMetrics, 'countAccessLogLines'>,
  props: AccessLogMetricsProps,
): AccessLogMetrics {
  // Per stack, unlike the functions' namespace: nothing but these filters writes it, and two stacks
  // in one account must not add up each other's counts.
  const metricNamespace = `${props.namespace}/${Stack.of(scope).stackName}`;
  const throttled = api.countAccessLogLines(scope, 'ApiThrottledFilter', {
    filterPattern: logs.FilterPattern.stringValue('$.status', '=', '429'),
    metricNamespace,
    metricName: 'ApiThrottled',
    metricValue: '1',
  });
  const addresses = props.socialPlusAddresses;
  const refused = api.countAccessLogLines(scope, 'SocialPlusSignatureRefusedFilter', {
    filterPattern:
      addresses.length === 0
        ? logs.FilterPattern.stringValue('$.sourceIp', '=', 'none')
        : logs.FilterPattern.all(
            logs.FilterPattern.stringValue('$.status', '=', '401'),
            logs.FilterPattern.any(...addresses.map((ip) => logs.FilterPattern.stringValue('$.sourceIp', '=', ip))),
          ),
    metricNamespace,
    metricName: 'SocialPlusSignatureRefused',
    metricValue: '1',
  });
  const fiveMinuteSum = { statistic: cloudwatch.Stats.SUM, period: FIVE_MINUTES };
  return { apiThrottled: throttled.metric(fiveMinuteSum), socialPlusRefused: refused.metric(fiveMinuteSum) };
}
