import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { METRICS_DIMENSIONS, METRICS_SERVICE } from '../../../lambda/common/metrics-contract.js';
import type { MetricName } from '../../../lambda/core/telemetry.js';
import { ALARM_IDS, type AlarmId } from './alarms.js';
import { type MetricSources, ONE_MINUTE, pipelineMetric, RUNBOOK_PATH, SOCIALPLUS_TIMEOUT_MS } from './metric-sources.js';

const { SUM, MAXIMUM, AVERAGE } = cloudwatch.Stats;

/**
 * The end-to-end dashboard, created in `scope` (id `Dashboard`): an event from the WAF through the
 * API, the receiver, the queue and the fan-out to the handlers and the archive, with every alarm's
 * state on top, and the two functions' recent errors and warnings at the bottom.
 */
export function createDashboard(
  scope: Construct,
  m: MetricSources,
  alarms: Readonly<Record<AlarmId, cloudwatch.IAlarm>>,
  receiverSlowThreshold: number,
): cloudwatch.Dashboard {
  const dashboard = new cloudwatch.Dashboard(scope, 'Dashboard', {
    defaultInterval: Duration.hours(3),
    periodOverride: cloudwatch.PeriodOverride.AUTO,
  });
  const minute = { period: ONE_MINUTE };
  const sum = { ...minute, statistic: SUM };
  const max = { ...minute, statistic: MAXIMUM };
  const receiver = (name: MetricName) => pipelineMetric(m.namespace, 'receiver', name, { ...minute, label: name });
  const fanout = (name: MetricName) => pipelineMetric(m.namespace, 'fanout', name, { ...minute, label: name });
  const graph = (title: string, left: cloudwatch.IMetric[], extra: Partial<cloudwatch.GraphWidgetProps> = {}) =>
    new cloudwatch.GraphWidget({ title, left, width: 8, height: 6, leftYAxis: { min: 0 }, ...extra });
  const percentile = (p: number) => m.receiver.metricDuration({ ...minute, statistic: cloudwatch.Stats.p(p), label: `p${p}` });
  // A search schema takes a namespace bare only when it is alphanumeric; any other needs quotes.
  const schemaNamespace = /^[A-Za-z0-9]+$/.test(m.namespace) ? m.namespace : `"${m.namespace}"`;
  const handlerSearch = (name: MetricName, verb: string) =>
    new cloudwatch.MathExpression({
      expression:
        `SEARCH('{${schemaNamespace},${METRICS_DIMENSIONS.handler},${METRICS_DIMENSIONS.service}} ` +
        `${METRICS_DIMENSIONS.service}="${METRICS_SERVICE.fanout}" MetricName="${name}"', 'Sum', 60)`,
      usingMetrics: {},
      // A dynamic label: one line per handler, named after it.
      label: `\${PROP('Dim.${METRICS_DIMENSIONS.handler}')} ${verb}`,
      period: ONE_MINUTE,
    });

  dashboard.addWidgets(
    new cloudwatch.TextWidget({
      markdown:
        '# Social Plus webhooks\n' +
        'Social Plus → WAF → API Gateway → **receiver** (verify, ack) → SQS → **fan-out** → DynamoDB + Firehose/S3 archive + handlers. ' +
        `Each alarm's meaning and what to do: \`${RUNBOOK_PATH}\`.`,
      width: 24,
      height: 2,
    }),
  );
  dashboard.addWidgets(new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms: ALARM_IDS.map((a) => alarms[a]), width: 24, height: 3 }));
  dashboard.addWidgets(
    graph('WAF: allowed and blocked requests', [
      m.firewall.metricAllowedRequests({ ...sum, label: 'allowed' }),
      m.firewall.metricBlockedRequests({ ...sum, label: 'blocked' }),
    ]),
    graph('API: requests, 4xx, 5xx and 429', [
      m.api.metricCount({ ...sum, label: 'requests' }),
      m.api.metricClientError({ ...sum, label: '4xx' }),
      m.api.metricServerError({ ...sum, label: '5xx' }),
      m.apiThrottled.with({ period: ONE_MINUTE, label: '429 (throttled)' }),
    ]),
    graph(
      'API: latency p99 (total and receiver integration)',
      [
        m.api.metricLatency({ ...minute, statistic: cloudwatch.Stats.p(99), label: 'API latency p99' }),
        m.api.metricIntegrationLatency({ ...minute, statistic: cloudwatch.Stats.p(99), label: 'integration latency p99' }),
      ],
      { leftAnnotations: [{ value: SOCIALPLUS_TIMEOUT_MS, label: 'Social Plus timeout (1.5 s)', color: cloudwatch.Color.RED }] },
    ),
  );
  dashboard.addWidgets(
    graph(
      'Receiver: acknowledgements',
      (['Accepted', 'LegacyDropped', 'SignatureInvalid', 'SignatureMissing', 'Spilled', 'ClaimChecked'] as const).map(receiver),
    ),
    graph('Receiver: refusals and failures', [
      ...(['EnqueueFailed', 'SpillFailed', 'SecretNotConfigured', 'UnknownSource', 'EmptyBody'] as const).map(receiver),
      m.receiver.metricErrors({ ...sum, label: 'function errors' }),
      m.receiver.metricThrottles({ ...sum, label: 'throttles' }),
    ]),
    graph('Receiver: signature forms accepted, and 401s to Social Plus', [
      ...(['SignatureFormBase64', 'SignatureFormHex', 'SignatureFormJsonBase64', 'SignatureFormJsonHex'] as const).map(receiver),
      m.socialPlusRefused.with({ period: ONE_MINUTE, label: '401 to a Social Plus address' }),
    ]),
    graph('Receiver: duration p50, p90, p99', [percentile(50), percentile(90), percentile(99)], {
      leftAnnotations: [
        { value: SOCIALPLUS_TIMEOUT_MS, label: 'Social Plus timeout (1.5 s)', color: cloudwatch.Color.RED },
        { value: receiverSlowThreshold, label: 'ReceiverSlow alarm', color: cloudwatch.Color.ORANGE },
      ],
    }),
  );
  dashboard.addWidgets(
    graph(
      'Queue: depth and oldest message age',
      [
        m.queue.metricApproximateNumberOfMessagesVisible({ ...max, label: 'waiting' }),
        m.queue.metricApproximateNumberOfMessagesNotVisible({ ...max, label: 'in flight' }),
      ],
      { right: [m.queue.metricApproximateAgeOfOldestMessage({ ...max, label: 'oldest message age (s)' })], rightYAxis: { min: 0 } },
    ),
    graph('Dead-letter queue: messages', [m.queue.metricDeadLetterMessagesVisible({ ...max, label: 'in the DLQ' })]),
    graph(
      'Fan-out: invocations, errors, throttles',
      [
        m.fanout.metricInvocations({ ...sum, label: 'invocations' }),
        m.fanout.metricErrors({ ...sum, label: 'errors' }),
        m.fanout.metricThrottles({ ...sum, label: 'throttles' }),
      ],
      { right: [m.fanout.metricDuration({ ...minute, statistic: cloudwatch.Stats.p(99), label: 'duration p99 (ms)' })], rightYAxis: { min: 0 } },
    ),
  );
  dashboard.addWidgets(
    graph(
      'Fan-out: stored, duplicates, archived',
      (['RecordsReceived', 'Stored', 'Duplicate', 'Archived', 'ArchiveFailed', 'StoreFailed'] as const).map(fanout),
    ),
    graph('Handlers: succeeded and failed, by handler', [handlerSearch('HandlerSucceeded', 'succeeded'), handlerSearch('HandlerFailed', 'failed')]),
    graph(
      'Fan-out: flagged events and the inbox',
      (['Flagged', 'Undecodable', 'BlobFetchFailed', 'PayloadCopied', 'SpillDrained'] as const).map(fanout),
    ),
  );
  dashboard.addWidgets(
    graph(
      'Archive: Firehose delivery to S3',
      [m.archive.metricDeliverySuccess({ ...minute, statistic: AVERAGE, label: 'delivery success (1 = all)' })],
      {
        width: 12,
        leftYAxis: { min: 0, max: 1 },
        right: [m.archive.metricDataFreshness({ ...minute, statistic: MAXIMUM, label: 'data freshness (s)' })],
        rightYAxis: { min: 0 },
      },
    ),
    graph(
      'Archive: records in and delivered',
      [
        m.archive.metricIncomingRecords({ ...sum, label: 'records in' }),
        m.archive.metricDeliveredRecords({ ...minute, statistic: SUM, label: 'records delivered' }),
      ],
      { width: 12 },
    ),
  );
  dashboard.addWidgets(
    new cloudwatch.LogQueryWidget({
      title: 'Recent errors and warnings (receiver and fan-out)',
      logGroupNames: [m.receiver.logGroupName, m.fanout.logGroupName],
      queryLines: [
        'fields @timestamp, level, message, eventId, source, reason, handler, error',
        'filter level in ["ERROR", "WARN"]',
        'sort @timestamp desc',
        'limit 50',
      ],
      view: cloudwatch.LogQueryVisualizationType.TABLE,
      width: 24,
      height: 6,
    }),
  );
  return dashboard;
}
