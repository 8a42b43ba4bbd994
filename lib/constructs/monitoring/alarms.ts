import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { FIVE_MINUTES, type MetricSources, pipelineMetric, RUNBOOK_PATH, SOCIALPLUS_TIMEOUT_MS } from './metric-sources.js';

/**
 * Every alarm, by construct id. The ids are a contract: each names its CloudWatch alarm
 * (`<stack>-<id>`) and its heading in the runbook, and renaming one replaces the alarm.
 */
export const ALARM_IDS = [
  'ReceiverErrors',
  'ReceiverThrottles',
  'ReceiverSlow',
  'SignatureInvalid',
  'SocialPlusSignatureRefused',
  'EventsSpilled',
  'EventsRefused',
  'ApiServerErrors',
  'ApiThrottled',
  'DeadLetterQueueNotEmpty',
  'QueueBacklogOld',
  'FanoutErrors',
  'FanoutThrottles',
  'ArchiveDeliveryStale',
  'WafBlockedSpike',
] as const;

/** The id of one of the alarms. */
export type AlarmId = (typeof ALARM_IDS)[number];

/** One alarm: its metric, its condition, and what a breach and missing data mean. */
export interface AlarmDefinition {
  /** The metric, with its statistic and period. */
  readonly metric: cloudwatch.IMetric;
  /** How the metric is compared with the threshold. */
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
  /** The threshold, in the metric's unit (a count, milliseconds, seconds). */
  readonly threshold: number;
  /** How many periods are looked at. */
  readonly evaluationPeriods: number;
  /** How many of them must breach. @default evaluationPeriods */
  readonly datapointsToAlarm?: number;
  /** What a period without data counts as. */
  readonly treatMissingData: cloudwatch.TreatMissingData;
  /** What a breach means, in the notification's words (the runbook says what to do). */
  readonly meaning: string;
  /** Why missing data is treated the way it is; kept beside the choice so both are reviewed together. */
  readonly missingDataBecause: string;
}

/** The alarms' thresholds (see `WebhooksMonitoringProps` for each one's meaning and default). */
export interface AlarmThresholds {
  readonly receiverP99ThresholdMs?: number;
  readonly signatureInvalidThreshold?: number;
  readonly wafBlockedThreshold?: number;
  readonly maxMessageAge?: Duration;
  readonly maxArchiveFreshness?: Duration;
}

const { SUM, MAXIMUM } = cloudwatch.Stats;
const AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD;
const ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD;
const NOT_BREACHING = cloudwatch.TreatMissingData.NOT_BREACHING;

/** Reasons shared by several alarms. */
const NO_EVENTS_NO_DATA = {
  lambda: 'Lambda publishes no datapoint for a period without invocations, and without an invocation nothing can have failed.',
  emf: 'the function publishes this count only when it happens (embedded metric format), so no datapoint means zero.',
  sqs: 'SQS stops publishing only for a queue that is empty and idle; a queue holding messages keeps publishing.',
} as const;

/**
 * One alarm per failure a team must hear about, defined over the pipeline's metrics; throws when
 * the receiver's p99 threshold is not below Social Plus's timeout.
 */
export function defineAlarms(m: MetricSources, t: AlarmThresholds): Record<AlarmId, AlarmDefinition> {
  const p99ThresholdMs = t.receiverP99ThresholdMs ?? 1000;
  if (p99ThresholdMs >= SOCIALPLUS_TIMEOUT_MS) {
    throw new Error(
      `receiverP99ThresholdMs is ${p99ThresholdMs}; it must be below Social Plus's ${SOCIALPLUS_TIMEOUT_MS} ms timeout to warn before answers come too late`,
    );
  }
  const maxMessageAge = t.maxMessageAge ?? Duration.minutes(20);
  const maxFreshness = t.maxArchiveFreshness ?? Duration.minutes(15);
  const fiveMinuteSum = { period: FIVE_MINUTES, statistic: SUM };
  const fiveMinuteMax = { period: FIVE_MINUTES, statistic: MAXIMUM };
  const once = { evaluationPeriods: 1, comparisonOperator: AT_LEAST, threshold: 1, treatMissingData: NOT_BREACHING } as const;
  return {
    ReceiverErrors: {
      ...once,
      metric: m.receiver.metricErrors(fiveMinuteSum),
      meaning: 'The receiver function failed (an unhandled error or a timeout): Social Plus got a 5xx for those deliveries and may not retry them.',
      missingDataBecause: NO_EVENTS_NO_DATA.lambda,
    },
    ReceiverThrottles: {
      ...once,
      metric: m.receiver.metricThrottles(fiveMinuteSum),
      meaning: 'Lambda refused to run the receiver (account or function concurrency exhausted): those deliveries were answered with an error.',
      missingDataBecause: NO_EVENTS_NO_DATA.lambda,
    },
    ReceiverSlow: {
      metric: m.receiver.metricDuration({ period: FIVE_MINUTES, statistic: cloudwatch.Stats.p(99) }),
      comparisonOperator: ABOVE,
      threshold: p99ThresholdMs,
      // Two of three periods: one cold start in a quiet period is its p99, and is not a trend.
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: NOT_BREACHING,
      meaning: `Receiver p99 duration is above ${p99ThresholdMs} ms, approaching the ${SOCIALPLUS_TIMEOUT_MS} ms after which Social Plus stops waiting.`,
      missingDataBecause: 'no invocations in a period means no duration datapoint, and no request can have been slow.',
    },
    SignatureInvalid: {
      ...once,
      threshold: t.signatureInvalidThreshold ?? 1,
      metric: pipelineMetric(m.namespace, 'receiver', 'SignatureInvalid'),
      meaning:
        'Deliveries were refused with 401 invalid signature: the secret in Secrets Manager does not match the Social Plus console (or a rotation is half done), or someone inside the allowlist is sending forged requests.',
      missingDataBecause: NO_EVENTS_NO_DATA.emf,
    },
    EventsSpilled: {
      ...once,
      metric: pipelineMetric(m.namespace, 'receiver', 'Spilled'),
      meaning:
        'The queue failed or was too slow, and verified events were written to the inbox/spill/ prefix instead. They are not lost and reach the fan-out by themselves, but the queue path is degraded.',
      missingDataBecause: NO_EVENTS_NO_DATA.emf,
    },
    EventsRefused: {
      ...once,
      metric: pipelineMetric(m.namespace, 'receiver', 'SpillFailed'),
      meaning: 'Both the queue and the spill to S3 failed: verified events were answered 503 and are lost unless Social Plus retries them.',
      missingDataBecause: NO_EVENTS_NO_DATA.emf,
    },
    ApiServerErrors: {
      ...once,
      metric: m.api.metricServerError(fiveMinuteSum),
      meaning:
        'The webhook API answered 5xx (secret not configured or unreadable, queue and spill down, receiver failed or throttled): those deliveries were not accepted.',
      missingDataBecause: 'API Gateway publishes no datapoint for a period without requests, and without a request nothing can have failed.',
    },
    SocialPlusSignatureRefused: {
      ...once,
      metric: m.socialPlusRefused,
      meaning:
        'The API answered 401 to a request from a Social Plus webhook address: a genuine delivery was refused (a wrong or half-rotated secret, ' +
        "or a signature form signatureForms does not accept; the receiver's WARN line names the form that matched) and is lost.",
      missingDataBecause: 'a metric filter publishes only when a log line matches, so no datapoint means no such 401.',
    },
    ApiThrottled: {
      ...once,
      metric: m.apiThrottled,
      meaning:
        'API Gateway answered 429 to webhook deliveries (the stage limits apiRateLimit/apiBurstLimit or the account-wide API Gateway limit): those deliveries were refused before the receiver ran.',
      missingDataBecause: 'a metric filter publishes only when a log line matches, so no datapoint means no 429.',
    },
    DeadLetterQueueNotEmpty: {
      ...once,
      metric: m.queue.metricDeadLetterMessagesVisible(fiveMinuteMax),
      meaning:
        'Events are in the dead-letter queue: the fan-out failed them maxReceiveCount times (a handler, the store or the archive kept failing). They are stored nowhere else until redriven.',
      missingDataBecause: NO_EVENTS_NO_DATA.sqs,
    },
    QueueBacklogOld: {
      metric: m.queue.metricApproximateAgeOfOldestMessage(fiveMinuteMax),
      comparisonOperator: ABOVE,
      threshold: maxMessageAge.toSeconds(),
      evaluationPeriods: 1,
      treatMissingData: NOT_BREACHING,
      meaning: `The oldest queued event is older than ${maxMessageAge.toMinutes()} minutes: the fan-out is not consuming (failing, throttled, or its trigger disabled), and events are waiting.`,
      missingDataBecause: NO_EVENTS_NO_DATA.sqs,
    },
    FanoutErrors: {
      ...once,
      metric: m.fanout.metricErrors(fiveMinuteSum),
      meaning: 'A fan-out invocation failed as a whole (an unhandled error or a timeout): its whole batch goes back to the queue and is retried.',
      missingDataBecause: NO_EVENTS_NO_DATA.lambda,
    },
    FanoutThrottles: {
      ...once,
      metric: m.fanout.metricThrottles(fiveMinuteSum),
      // Sustained only: a throttled batch is retried by the event source and only delayed.
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      meaning:
        'The fan-out is being throttled in most of the last 15 minutes (account concurrency exhausted by other functions): events are delayed and the backlog grows.',
      missingDataBecause: NO_EVENTS_NO_DATA.lambda,
    },
    ArchiveDeliveryStale: {
      metric: m.archive.metricDataFreshness(fiveMinuteMax),
      comparisonOperator: ABOVE,
      threshold: maxFreshness.toSeconds(),
      evaluationPeriods: 1,
      treatMissingData: NOT_BREACHING,
      meaning: `Firehose holds archive records older than ${maxFreshness.toMinutes()} minutes: it cannot write to the archive bucket, and it discards records it could not deliver within 24 hours.`,
      missingDataBecause: 'Firehose publishes freshness only while it holds records; no datapoint means nothing is waiting.',
    },
    WafBlockedSpike: {
      ...once,
      threshold: t.wafBlockedThreshold ?? 100,
      metric: m.firewall.metricBlockedRequests(fiveMinuteSum),
      meaning:
        'The firewall blocked an unusual number of requests: a flood from outside the allowlist, or Social Plus sending from addresses not yet in lib/socialplus-ips.ts (then API requests fall at the same time).',
      missingDataBecause: 'WAF publishes no datapoint for a period in which it blocked nothing.',
    },
  };
}

/**
 * The alarms, created in `scope` under their ids and named `<stack>-<id>`, each notifying `topic`
 * when it fires and when it recovers; the description ends with its runbook entry.
 */
export function createAlarms(
  scope: Construct,
  definitions: Readonly<Record<AlarmId, AlarmDefinition>>,
  topic: sns.ITopic,
): Record<AlarmId, cloudwatch.Alarm> {
  const alarmNamePrefix = alarmNamePrefixOf(scope);
  const action = new cloudwatchActions.SnsAction(topic);
  const alarms: Partial<Record<AlarmId, cloudwatch.Alarm>> = {};
  for (const alarmId of ALARM_IDS) {
    const d = definitions[alarmId];
    const alarm = new cloudwatch.Alarm(scope, alarmId, {
      // Named, not generated: the name is the subject of every notification and the key to the runbook.
      alarmName: `${alarmNamePrefix}${alarmId}`,
      alarmDescription: `${d.meaning} Runbook: ${RUNBOOK_PATH}#${alarmId.toLowerCase()}`,
      metric: d.metric,
      comparisonOperator: d.comparisonOperator,
      threshold: d.threshold,
      evaluationPeriods: d.evaluationPeriods,
      datapointsToAlarm: d.datapointsToAlarm ?? d.evaluationPeriods,
      treatMissingData: d.treatMissingData,
    });
    // Recoveries too, so whoever was woken learns it is over without opening the console.
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    alarms[alarmId] = alarm;
  }
  return alarms as Record<AlarmId, cloudwatch.Alarm>;
}

/** What every alarm's name starts with: the stack's name and a dash. */
export function alarmNamePrefixOf(scope: Construct): string {
  return `${Stack.of(scope).stackName}-`;
}
