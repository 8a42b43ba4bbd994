/**
 * The configuration's defaults, each stated once: the stack's configuration (lib/config/), its
 * constructs' fallbacks, the functions' environment fallbacks and local mode all read them from
 * here. Plain constants without imports, so a function bundle that needs one pulls in nothing else.
 *
 * Defaults that belong to a module of their own are stated there, next to what they configure:
 * the stack name (`DEFAULT_STACK_NAME`, lib/stack-name.ts), the source name (`DEFAULT_SOURCE`,
 * lambda/core/sources.ts), the receiver's deadline (`DEFAULT_RECEIVER_DEADLINE_MS`,
 * lambda/core/deadline.ts), the signature forms (`DEFAULT_SIGNATURE_FORMS`,
 * lambda/core/signature.ts) and the metrics namespace (`METRICS_NAMESPACE`,
 * lambda/common/metrics-contract.ts). `CONFIG_DEFAULTS` in lib/config/defaults.ts lists them all.
 */
import type { LogLevel } from './logger.js';

/** Days an event item stays in the event store: a quarter of lookups and replays; the archive keeps it after. */
export const DEFAULT_EVENT_RETENTION_DAYS = 90;

/** DynamoDB deletion protection on the event table: on, so nobody (the stack included) deletes the events by mistake. */
export const DEFAULT_EVENT_TABLE_DELETION_PROTECTION = true;

/** Days before archive objects move to S3 Standard-IA: after the quarter in which they are most read. */
export const DEFAULT_ARCHIVE_TRANSITION_DAYS = 90;

/** Firehose buffering interval (seconds): an archive object a minute keeps objects few and the archive a minute behind. */
export const DEFAULT_ARCHIVE_BUFFER_SECONDS = 60;

/** Firehose buffering size (MiB): the interval, not the size, closes an object at ordinary traffic. */
export const DEFAULT_ARCHIVE_BUFFER_MIB = 64;

/** Largest batch of queue messages one fan-out invocation gets: fewer invocations under load. */
export const DEFAULT_FANOUT_BATCH_SIZE = 100;

/** Seconds the event source waits to fill a batch: SQS requires at least 1 for batches above 10. */
export const DEFAULT_FANOUT_MAX_BATCHING_WINDOW_SECONDS = 1;

/** Most fan-out invocations at once: enough for bursts, few enough to leave the account's concurrency to others. */
export const DEFAULT_FANOUT_MAX_CONCURRENCY = 10;

/** Fan-out function timeout (seconds): a batch of 100 well within it; the queue's visibility timeout is six times this. */
export const DEFAULT_FANOUT_TIMEOUT_SECONDS = 30;

/** Receives before a message moves to the dead-letter queue: rides out a short outage without retrying a bad event for long. */
export const DEFAULT_MAX_RECEIVE_COUNT = 5;

/**
 * API Gateway's default account-level throttle per region (requests per second, and burst). The
 * stage's defaults are the same, so the stage never refuses what the account would let through:
 * Social Plus documents no retry, and a 429 to it is a lost event. The WAF already admits only
 * Social Plus's addresses, so a lower stage limit protects nothing but the bill (README, Deploy).
 */
export const API_ACCOUNT_DEFAULT_THROTTLE = { rateLimit: 10_000, burstLimit: 5_000 } as const;

/** API stage name, the first path segment of the webhook URL: the conventional one. */
export const DEFAULT_API_STAGE_NAME = 'prod';

/** Athena workgroup's per-query scan cutoff (GiB): stops a runaway query at about $0.05. */
export const DEFAULT_ATHENA_SCAN_LIMIT_GIB = 10;

/** Retention of every log group the stack creates (days): a month to investigate, not paying to keep logs forever. */
export const DEFAULT_LOG_RETENTION_DAYS = 30;

/** Log level of both functions: one line per event and every problem, without the debug detail. */
export const DEFAULT_LOG_LEVEL: LogLevel = 'INFO';

/** X-Ray tracing of the API stage and both functions: on, for the trace map the runbook uses to find slow calls. */
export const DEFAULT_TRACING = true;

/**
 * X-Ray's share of webhook requests traced (0–1): a sampling rule for the API stage with this fixed
 * rate and no per-second reservoir. X-Ray's default rule traces the first request of every second,
 * which at quiet traffic is every request ($5 per million traces, twice per event); 1 % still
 * shows the trace map, at cents per million.
 */
export const DEFAULT_TRACING_SAMPLE_RATE = 0.01;

/**
 * X-Ray tracing of the fan-out: off. Lambda starts a trace of its own for each SQS-triggered
 * invocation and samples it at a fixed rate no sampling rule changes (1 a second and 5 % of the
 * rest), so at quiet traffic every invocation is traced ($5 per million); the receiver's traces,
 * the fan-out's logs by eventId and its metrics remain.
 */
export const DEFAULT_FANOUT_TRACING = false;

/** What Lambda's advanced logging keeps of its own platform lines (START, END, REPORT are INFO). */
export type LambdaSystemLogLevel = 'DEBUG' | 'INFO' | 'WARN';

/** Lambda's own lines at WARN: no START/END/REPORT per invocation (paid per event at quiet traffic); errors and timeouts stay. */
export const DEFAULT_LAMBDA_SYSTEM_LOG_LEVEL: LambdaSystemLogLevel = 'WARN';

/** API Gateway's per-method metrics (`MetricsEnabled`): off; the stage's own metrics, which the alarms read, stay. */
export const DEFAULT_API_DETAILED_METRICS = false;

/** API Gateway execution logging of the stage (`LoggingLevel`): what it logs of each request it handles. */
export type ApiExecutionLogging = 'OFF' | 'ERROR' | 'INFO';

/** API Gateway execution logging: off; the access log records every request. */
export const DEFAULT_API_EXECUTION_LOGGING: ApiExecutionLogging = 'OFF';

/** The CloudWatch dashboard ($3 a month beyond an account's first three): off; the alarms stay. */
export const DEFAULT_DASHBOARD = false;

/** Customer-managed KMS keys for the log groups and Athena's query results: off (AWS-managed encryption). */
export const DEFAULT_CUSTOMER_MANAGED_KEYS = false;

/** The receiver's memory (MiB): Lambda gives CPU in proportion, and the cold start's imports are CPU-bound. */
export const DEFAULT_RECEIVER_MEMORY_MIB = 1024;
