/** How each configuration key is read: {@link RULES}, and the rules of the keys with a check of their own. */
import type { ApiExecutionLogging, LambdaSystemLogLevel } from '../../lambda/common/defaults.js';
import type { LogLevel } from '../../lambda/common/logger.js';
import { SIGNATURE_FORMS, type SignatureForm } from '../../lambda/core/signature.js';
import { STACK_NAME_PATTERN } from '../stack-name.js';
import type { ConfigKey } from './defaults.js';
import { readHandlers } from './handlers.js';
import { PROFILES } from './profiles.js';
import { LOG_RETENTION_DAYS, RECEIVER_DEADLINE_MS_RANGE } from './limits.js';
import { checkSecretArn, readInteger, readList, show } from './problems.js';
import { boolean, earlier, integer, oneOf, type Field, type Rule } from './rule.js';
import { readCidrs, readSources } from './sources.js';

const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
const LAMBDA_SYSTEM_LOG_LEVELS: readonly LambdaSystemLogLevel[] = ['DEBUG', 'INFO', 'WARN'];
const API_EXECUTION_LOGGING: readonly ApiExecutionLogging[] = ['OFF', 'ERROR', 'INFO'];
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const STAGE_NAME = /^[A-Za-z0-9_]{1,128}$/;

/**
 * A metrics namespace this stack accepts: what CloudWatch, embedded metric format and metric filters
 * all take (no `:`, `*`, `$`), without spaces or quotes (the dashboard's SEARCH quotes it), and short
 * enough that the per-stack `<namespace>/<stack name>` of the throttle filter stays within 255.
 */
const METRICS_NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,126}$/;

/** `fanoutMaxBatchingWindowSeconds`: 0–300, and at least 1 when `fanoutBatchSize` is above 10 (SQS's rule). */
function readBatchingWindow(f: Field<'fanoutMaxBatchingWindowSeconds'>): number {
  const before = f.problems.count;
  const window = readInteger(f.problems, f.key, f.raw, f.fallback, 0, 300);
  const batchSize = earlier(f.read, 'fanoutBatchSize');
  if (f.problems.count === before && batchSize > 10 && window < 1) {
    f.problems.add(
      `fanoutMaxBatchingWindowSeconds: ${show(f.raw)} must be at least 1 when fanoutBatchSize ` +
        `(${batchSize}) is above 10; SQS event sources require a batching window for batches above 10`,
    );
  }
  return window;
}

/** `logRetentionDays`: one of the periods CloudWatch Logs accepts. */
function readLogRetention(f: Field<'logRetentionDays'>): number {
  const days = readInteger(f.problems, f.key, f.raw, f.fallback, 1, 3653);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(days)) {
    f.problems.add(`logRetentionDays: ${show(f.raw)} is not one of ${LOG_RETENTION_DAYS.join(', ')} (the periods CloudWatch Logs accepts)`);
  }
  return days;
}

/**
 * `archiveRetentionDays`: absent, empty or `keep` keeps the archive for good; else whole days, at
 * least `eventRetentionDays`, because an event item whose body is too large for it points at the
 * archive's copy of the body for as long as the item lives.
 */
function readArchiveRetention(f: Field<'archiveRetentionDays'>): number | undefined {
  if (f.raw === undefined || f.raw === '' || f.raw === 'keep') return undefined;
  const before = f.problems.count;
  const days = readInteger(f.problems, f.key, f.raw, 0, 1, 36_500);
  if (f.problems.count > before) return undefined;
  const events = earlier(f.read, 'eventRetentionDays');
  if (days < events)
    f.problems.add(
      `archiveRetentionDays: ${show(f.raw)} is shorter than eventRetentionDays (${events}): an event item would outlive the archive's copy of its body. Use ${events} or more, or keep the archive (omit the key)`,
    );
  return days;
}

/** `apiStageName`: letters, digits and underscores. */
function readStageName(f: Field<'apiStageName'>): string {
  if (f.raw === undefined) return f.fallback;
  if (typeof f.raw === 'string' && STAGE_NAME.test(f.raw)) return f.raw;
  f.problems.add(`apiStageName: ${show(f.raw)} is not a stage name: letters, digits and underscores, 1 to 128 characters`);
  return f.fallback;
}

/** `stackName`: CloudFormation's rule, at most 64 characters; empty means the default. */
function readStackName(f: Field<'stackName'>): string {
  if (f.raw === undefined || f.raw === '') return f.fallback;
  if (typeof f.raw !== 'string' || !STACK_NAME_PATTERN.test(f.raw)) {
    f.problems.add(
      `stackName: ${show(f.raw)} is not a stack name: a letter, then letters, digits and hyphens, at most 64 characters (e.g. SocialPlusWebhooks-staging)`,
    );
    return f.fallback;
  }
  return f.raw;
}

/** `tracingSampleRate`: a share of requests above 0 and at most 1 (as a number or, from `-c`, a string). */
function readSampleRate(f: Field<'tracingSampleRate'>): number {
  if (f.raw === undefined) return f.fallback;
  const rate = typeof f.raw === 'number' ? f.raw : typeof f.raw === 'string' && f.raw.trim() !== '' ? Number(f.raw) : NaN;
  if (Number.isFinite(rate) && rate > 0 && rate <= 1) return rate;
  f.problems.add(
    `tracingSampleRate: ${show(f.raw)} is not a share of requests above 0 and at most 1 (e.g. 0.01 traces 1 %); tracing=false turns X-Ray off`,
  );
  return f.fallback;
}

/** `maxReceiveCount`: 2–1000; 1 is refused with its own reason. */
function readMaxReceiveCount(f: Field<'maxReceiveCount'>): number {
  if (f.raw === 1 || f.raw === '1') {
    f.problems.add(
      'maxReceiveCount: 1 is too low: SQS can count a receive the fan-out never saw, so a message could reach the DLQ unprocessed; use 2 to 1000',
    );
    return f.fallback;
  }
  return readInteger(f.problems, f.key, f.raw, f.fallback, 2, 1000);
}

/** `alarmEmail`: an address, trimmed; absent or empty means none. */
function readAlarmEmail(f: Field<'alarmEmail'>): string | undefined {
  if (f.raw === undefined || f.raw === '') return undefined;
  if (typeof f.raw !== 'string' || !EMAIL.test(f.raw.trim())) {
    f.problems.add(`alarmEmail: ${show(f.raw)} is not an email address (e.g. ops@example.com)`);
    return undefined;
  }
  return f.raw.trim();
}

/** `signatureForms`: a non-empty list of forms, as a list or (from `-c`) a comma-separated string; without repeats. */
function readSignatureForms(f: Field<'signatureForms'>): readonly SignatureForm[] {
  if (f.raw === undefined) return f.fallback;
  const value = readList(f.problems, 'signatureForms', f.raw, '["base64","hex"]');
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.some((v) => typeof v !== 'string' || !(SIGNATURE_FORMS as readonly string[]).includes(v))
  ) {
    f.problems.add(
      `signatureForms: ${show(f.raw)} is not a non-empty list of signature forms; allowed: ${SIGNATURE_FORMS.join(', ')} (e.g. ["base64","hex"] or base64,json-base64)`,
    );
    return f.fallback;
  }
  return [...new Set(value as SignatureForm[])];
}

/** `metricsNamespace`: see {@link METRICS_NAMESPACE_PATTERN}; not under `AWS/`. */
function readMetricsNamespace(f: Field<'metricsNamespace'>): string {
  const raw = f.raw;
  if (raw === undefined) return f.fallback;
  if (typeof raw !== 'string' || !METRICS_NAMESPACE_PATTERN.test(raw)) {
    f.problems.add(
      `metricsNamespace: ${show(raw)} is not a metrics namespace: 1 to 127 letters, digits, '.', '_', '-' and '/', ` +
        'starting with a letter or digit (e.g. SocialPlusWebhooks or MyCompany/Webhooks)',
    );
    return f.fallback;
  }
  if (/^aws\//i.test(raw)) {
    f.problems.add(`metricsNamespace: ${show(raw)} starts with 'AWS/', which CloudWatch reserves for AWS services; choose another prefix`);
    return f.fallback;
  }
  return raw;
}

/** `socialPlusApiSecretArn`: a complete secret ARN; absent or empty means the stack's own secret. */
function readApiSecretArn(f: Field<'socialPlusApiSecretArn'>): string | undefined {
  if (f.raw === undefined || f.raw === '') return undefined;
  return checkSecretArn(f.problems, f.key, f.raw) ? (f.raw as string) : undefined;
}

/**
 * Every key's rule. They run in this order, which is the order their problems are listed in; a
 * rule that depends on another key (the batching window on the batch size, `handlers` on
 * `sources`) comes after it.
 */
export const RULES: { readonly [K in ConfigKey]: Rule<K> } = {
  profile: oneOf(PROFILES),
  sources: readSources,
  allowedCidrs: readCidrs,
  fanoutBatchSize: integer(1, 10_000),
  fanoutMaxBatchingWindowSeconds: readBatchingWindow,
  logRetentionDays: readLogRetention,
  apiStageName: readStageName,
  stackName: readStackName,
  eventRetentionDays: integer(1, 3650),
  eventTableDeletionProtection: boolean('true makes DynamoDB refuse to delete the event table; false lets a user or the stack delete it'),
  archiveTransitionDays: integer(30, 3650),
  archiveRetentionDays: readArchiveRetention,
  archiveBufferSeconds: integer(0, 900),
  archiveBufferMiB: integer(1, 128),
  fanoutMaxConcurrency: integer(2, 1000),
  fanoutTimeoutSeconds: integer(1, 900),
  maxReceiveCount: readMaxReceiveCount,
  apiRateLimit: integer(1, 100_000),
  apiBurstLimit: integer(1, 50_000),
  athenaScanLimitGiB: integer(1, 10_240),
  logLevel: oneOf(LOG_LEVELS),
  alarmEmail: readAlarmEmail,
  receiverDeadlineMs: integer(RECEIVER_DEADLINE_MS_RANGE.min, RECEIVER_DEADLINE_MS_RANGE.max),
  tracing: boolean('true traces the API stage and both functions with X-Ray; false turns X-Ray off'),
  tracingSampleRate: readSampleRate,
  fanoutTracing: boolean('true traces the fan-out with X-Ray too (when tracing is true); false traces the API and the receiver only'),
  lambdaSystemLogLevel: oneOf(LAMBDA_SYSTEM_LOG_LEVELS),
  apiDetailedMetrics: boolean("true publishes API Gateway's per-method metrics; false keeps the stage's metrics only"),
  apiExecutionLogging: oneOf(API_EXECUTION_LOGGING),
  dashboard: boolean('true creates the CloudWatch dashboard; false leaves it out (the alarms stay)'),
  customerManagedKeys: boolean(
    "true encrypts the log groups and Athena's results with a customer-managed KMS key; false uses AWS-managed encryption",
  ),
  receiverMemoryMiB: integer(128, 10_240),
  signatureForms: readSignatureForms,
  metricsNamespace: readMetricsNamespace,
  handlers: readHandlers,
  socialPlusApiSecretArn: readApiSecretArn,
};
