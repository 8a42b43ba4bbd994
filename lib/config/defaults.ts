/**
 * Every configuration key with its default, in documentation order. The values are stated in
 * lambda/common/defaults.ts (or next to what they configure); this table only names them per key.
 */
import {
  API_ACCOUNT_DEFAULT_THROTTLE,
  DEFAULT_API_STAGE_NAME,
  DEFAULT_ARCHIVE_BUFFER_MIB,
  DEFAULT_ARCHIVE_BUFFER_SECONDS,
  DEFAULT_ARCHIVE_TRANSITION_DAYS,
  DEFAULT_ATHENA_SCAN_LIMIT_GIB,
  DEFAULT_EVENT_RETENTION_DAYS,
  DEFAULT_EVENT_TABLE_DELETION_PROTECTION,
  DEFAULT_FANOUT_BATCH_SIZE,
  DEFAULT_FANOUT_MAX_BATCHING_WINDOW_SECONDS,
  DEFAULT_FANOUT_MAX_CONCURRENCY,
  DEFAULT_FANOUT_TIMEOUT_SECONDS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_LOG_RETENTION_DAYS,
  DEFAULT_MAX_RECEIVE_COUNT,
  DEFAULT_TRACING,
  DEFAULT_TRACING_SAMPLE_RATE,
  DEFAULT_FANOUT_TRACING,
  DEFAULT_LAMBDA_SYSTEM_LOG_LEVEL,
  DEFAULT_API_DETAILED_METRICS,
  DEFAULT_API_EXECUTION_LOGGING,
  DEFAULT_DASHBOARD,
  DEFAULT_CUSTOMER_MANAGED_KEYS,
  DEFAULT_RECEIVER_MEMORY_MIB,
  type ApiExecutionLogging,
  type LambdaSystemLogLevel,
} from '../../lambda/common/defaults.js';
import type { LogLevel } from '../../lambda/common/logger.js';
import { METRICS_NAMESPACE } from '../../lambda/common/metrics-contract.js';
import { DEFAULT_RECEIVER_DEADLINE_MS } from '../../lambda/core/deadline.js';
import { DEFAULT_SOURCE } from '../../lambda/core/sources.js';
import { DEFAULT_SIGNATURE_FORMS, type SignatureForm } from '../../lambda/core/signature.js';
import { DEFAULT_STACK_NAME } from '../stack-name.js';
import { DEFAULT_PROFILE, type Profile } from './profiles.js';
import type { WebhookSourceConfig } from './schema.js';

/** Every configuration key with its default; `sources` and `allowedCidrs` are listed for completeness. */
export const CONFIG_DEFAULTS = {
  profile: DEFAULT_PROFILE as Profile,
  stackName: DEFAULT_STACK_NAME as string,
  sources: [{ name: DEFAULT_SOURCE, region: 'us' }] as readonly WebhookSourceConfig[],
  allowedCidrs: [] as readonly string[],
  eventRetentionDays: DEFAULT_EVENT_RETENTION_DAYS,
  eventTableDeletionProtection: DEFAULT_EVENT_TABLE_DELETION_PROTECTION as boolean,
  archiveTransitionDays: DEFAULT_ARCHIVE_TRANSITION_DAYS,
  archiveRetentionDays: undefined as number | undefined,
  archiveBufferSeconds: DEFAULT_ARCHIVE_BUFFER_SECONDS,
  archiveBufferMiB: DEFAULT_ARCHIVE_BUFFER_MIB,
  fanoutBatchSize: DEFAULT_FANOUT_BATCH_SIZE,
  fanoutMaxBatchingWindowSeconds: DEFAULT_FANOUT_MAX_BATCHING_WINDOW_SECONDS,
  fanoutMaxConcurrency: DEFAULT_FANOUT_MAX_CONCURRENCY,
  fanoutTimeoutSeconds: DEFAULT_FANOUT_TIMEOUT_SECONDS,
  maxReceiveCount: DEFAULT_MAX_RECEIVE_COUNT,
  apiRateLimit: API_ACCOUNT_DEFAULT_THROTTLE.rateLimit,
  apiBurstLimit: API_ACCOUNT_DEFAULT_THROTTLE.burstLimit,
  apiStageName: DEFAULT_API_STAGE_NAME,
  athenaScanLimitGiB: DEFAULT_ATHENA_SCAN_LIMIT_GIB,
  logRetentionDays: DEFAULT_LOG_RETENTION_DAYS,
  logLevel: DEFAULT_LOG_LEVEL as LogLevel,
  alarmEmail: undefined as string | undefined,
  receiverDeadlineMs: DEFAULT_RECEIVER_DEADLINE_MS,
  tracing: DEFAULT_TRACING as boolean,
  tracingSampleRate: DEFAULT_TRACING_SAMPLE_RATE as number,
  fanoutTracing: DEFAULT_FANOUT_TRACING as boolean,
  lambdaSystemLogLevel: DEFAULT_LAMBDA_SYSTEM_LOG_LEVEL as LambdaSystemLogLevel,
  apiDetailedMetrics: DEFAULT_API_DETAILED_METRICS as boolean,
  apiExecutionLogging: DEFAULT_API_EXECUTION_LOGGING as ApiExecutionLogging,
  dashboard: DEFAULT_DASHBOARD as boolean,
  customerManagedKeys: DEFAULT_CUSTOMER_MANAGED_KEYS as boolean,
  receiverMemoryMiB: DEFAULT_RECEIVER_MEMORY_MIB as number,
  signatureForms: DEFAULT_SIGNATURE_FORMS as readonly SignatureForm[],
  metricsNamespace: METRICS_NAMESPACE as string,
  handlers: {} as Readonly<Record<string, unknown>>,
  socialPlusApiSecretArn: undefined as string | undefined,
} as const;

/** The configuration keys read from CDK context. */
export type ConfigKey = keyof typeof CONFIG_DEFAULTS;

/** The type of every key's default. */
export type ConfigDefaults = typeof CONFIG_DEFAULTS;

/** The configuration keys read from CDK context, in documentation order. */
export const CONFIG_KEYS = Object.keys(CONFIG_DEFAULTS) as ConfigKey[];
