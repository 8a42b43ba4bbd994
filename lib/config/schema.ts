/** The configuration's types: what `buildConfig` returns and the stack's constructs read. */
import type { ApiExecutionLogging, LambdaSystemLogLevel } from '../../lambda/common/defaults.js';
import type { LogLevel } from '../../lambda/common/logger.js';
import type { SignatureForm } from '../../lambda/core/signature.js';
import type { HandlersConfig } from '../../lambda/fanout/handlers/config.js';
import type { SocialPlusRegion } from '../socialplus-ips.js';
import type { Profile } from './profiles.js';

/** One Social Plus webhook registration: a URL path, the region it is sent from, its secret. */
export interface WebhookSourceConfig {
  /** Path segment (`POST /webhook/{name}`); `default` is also served at `POST /webhook`. */
  readonly name: string;
  /** The Social Plus region of the network, which selects the webhook source IPs to allow. */
  readonly region: SocialPlusRegion;
  /** A complete ARN of an existing secret holding the signing key; absent: the stack creates one. */
  readonly secretArn?: string;
}

/** The validated configuration. */
export interface WebhooksConfig {
  /** Which defaults the other keys take (lib/config/profiles.ts); a key set in the context wins. */
  readonly profile: Profile;
  /**
   * The CloudFormation stack's name: two deployments in one account and region (staging and
   * production) differ by it. Resource names derived from it (API, Athena workgroup, Glue database,
   * alarms) differ too.
   */
  readonly stackName: string;
  /** Webhook sources, at least one, names unique. */
  readonly sources: readonly WebhookSourceConfig[];
  /** Extra CIDRs the firewall allows besides Social Plus (normalised; IPv4 and IPv6 mixed). */
  readonly allowedCidrs: readonly string[];
  /** Days an event item stays in the event store before DynamoDB's TTL removes it. */
  readonly eventRetentionDays: number;
  /** DynamoDB deletion protection on the event table: nobody deletes it by mistake, the stack included. */
  readonly eventTableDeletionProtection: boolean;
  /** Days before archive objects move to S3 Standard-IA. */
  readonly archiveTransitionDays: number;
  /**
   * Days the archive keeps an event's objects (archive lines, Firehose's error output, copies of large
   * bodies) before S3 expires them; their older versions go 30 days later. Absent: kept for good.
   */
  readonly archiveRetentionDays?: number;
  /** Firehose buffering interval before it writes an archive object. */
  readonly archiveBufferSeconds: number;
  /** Firehose buffering size before it writes an archive object. */
  readonly archiveBufferMiB: number;
  /** Largest batch of queue messages one fan-out invocation gets. */
  readonly fanoutBatchSize: number;
  /** How long the event source waits to fill a batch. */
  readonly fanoutMaxBatchingWindowSeconds: number;
  /** Most fan-out invocations the event source runs at once. */
  readonly fanoutMaxConcurrency: number;
  /** Fan-out function timeout; the queue's visibility timeout is six times this. */
  readonly fanoutTimeoutSeconds: number;
  /** Receives before a message moves to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** API stage steady-state request rate limit (requests per second). */
  readonly apiRateLimit: number;
  /** API stage burst limit (requests). */
  readonly apiBurstLimit: number;
  /** API stage name, the first path segment of the webhook URL. */
  readonly apiStageName: string;
  /** Athena workgroup's per-query scan cutoff. */
  readonly athenaScanLimitGiB: number;
  /** Retention of every log group the stack creates. */
  readonly logRetentionDays: number;
  /** Log level of both functions. */
  readonly logLevel: LogLevel;
  /** An address subscribed by e-mail to the alarm topic (AWS sends it a confirmation link first). */
  readonly alarmEmail?: string;
  /**
   * The receiver's own deadline for buffering an event in the queue, SDK retries included, before
   * it spills to S3; the answer is due within Social Plus's 1.5 s whatever this says.
   */
  readonly receiverDeadlineMs: number;
  /** X-Ray tracing of the API stage and both functions. */
  readonly tracing: boolean;
  /** The share of webhook requests X-Ray traces (an X-Ray sampling rule for the stage); the fan-out follows the receiver's decision. */
  readonly tracingSampleRate: number;
  /** X-Ray tracing of the fan-out function too (with `tracing`); Lambda samples its invocations at its own fixed rate. */
  readonly fanoutTracing: boolean;
  /** Lambda's advanced logging: which of its own platform lines both functions keep (JSON log format). */
  readonly lambdaSystemLogLevel: LambdaSystemLogLevel;
  /** API Gateway's per-method metrics on the stage. */
  readonly apiDetailedMetrics: boolean;
  /** API Gateway execution logging on the stage. */
  readonly apiExecutionLogging: ApiExecutionLogging;
  /** The CloudWatch dashboard. */
  readonly dashboard: boolean;
  /** Customer-managed KMS keys (one key, rotated yearly) for the log groups and Athena's query results. */
  readonly customerManagedKeys: boolean;
  /** The receiver function's memory (MiB). */
  readonly receiverMemoryMiB: number;
  /**
   * The forms of `x-amity-signature` the receiver accepts (README, "Signature forms"): the MAC of
   * the exact bytes in base64 and hex by default; `json-base64` and `json-hex` (a MAC of the body's
   * JSON serialized again) only when listed.
   */
  readonly signatureForms: readonly SignatureForm[];
  /** CloudWatch namespace of the functions' own metrics, which the alarms and the dashboard read. */
  readonly metricsNamespace: string;
  /**
   * The example handlers' configuration, validated and with its defaults (`socialPlus.region`
   * filled in from the sources when they share one); the fan-out's `HANDLERS_CONFIG`.
   */
  readonly handlers: HandlersConfig;
  /** A complete ARN of an existing secret holding the Social Plus admin token; absent: the stack creates one when needed. */
  readonly socialPlusApiSecretArn?: string;
}
