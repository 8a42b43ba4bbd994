import { errorMessage, SocialPlusWebhooksError } from '../core/errors.js';
import { parseSignatureForms, type SignatureForm } from '../core/signature.js';

/**
 * Environment variable names shared by the stack (lib/), which sets them next to the grant that
 * makes them usable, and the functions (lambda/), which read them once at cold start.
 */
export const ENV = {
  /** Receiver: URL of the event queue. Set with its grant by `EventQueue.bindSender` (lib/constructs/queue.ts). */
  QUEUE_URL: 'QUEUE_URL',
  /** Receiver: JSON object mapping each webhook source name to its secret's ARN. Set with its grant by `WebhookSecrets.bindReader`. */
  SOURCE_SECRETS: 'SOURCE_SECRETS',
  /** Fan-out: the event store table. Set with its grant (the writes) by `EventStore.bindWriter`. */
  TABLE_NAME: 'TABLE_NAME',
  /** Fan-out: the Firehose delivery stream. Set with its grant by `EventArchive.bindRecordWriter`. */
  DELIVERY_STREAM_NAME: 'DELIVERY_STREAM_NAME',
  /** Fan-out: days an event item lives before TTL (docs/architecture.md §5); unset: `DEFAULT_EVENT_RETENTION_DAYS` (defaults.ts). */
  EVENT_RETENTION_DAYS: 'EVENT_RETENTION_DAYS',
  /** Both: DEBUG | INFO | WARN | ERROR. */
  LOG_LEVEL: 'LOG_LEVEL',
  /**
   * Both: the archive bucket, whose `inbox/` holds claim checks and spills (docs/architecture.md §6). Optional:
   * unset, the receiver neither claim-checks nor spills (a queue failure answers 503) and the
   * fan-out fails records that need the inbox. Set with its grants by `Inbox.bindWriter` (the
   * receiver: `s3:PutObject` on `inbox/spill/*` and `inbox/large/*`) and `Inbox.bindProcessor` (the
   * fan-out: `s3:GetObject` on `inbox/spill/*` and `inbox/large/*`,
   * `s3:PutObject` on `inbox/large/*` (copies of payloads too large for a record or an item),
   * `s3:DeleteObject` on `inbox/spill/*` (spills are deleted once processed) and `s3:ListBucket`
   * on the bucket (without it S3 answers a missing key with 403 instead of `NoSuchKey`, so a
   * repeated notification of an already processed spill would retry into the DLQ)). With a KMS
   * key, the matching encrypt/decrypt grants. S3 must also notify the queue of `s3:ObjectCreated:*` under
   * `inbox/spill/` (that is how spilled events reach the fan-out).
   */
  ARCHIVE_BUCKET_NAME: 'ARCHIVE_BUCKET_NAME',
  /**
   * Receiver: internal deadline in ms for the queue work, SDK retries included, before spilling
   * (default `DEFAULT_RECEIVER_DEADLINE_MS`, core/deadline.ts; the answer is due 1.5 s after the request arrived whatever this says). No grant.
   */
  RECEIVER_DEADLINE_MS: 'RECEIVER_DEADLINE_MS',
  /**
   * Receiver: the signature forms it accepts, comma-separated (`base64,hex`; see
   * `SIGNATURE_FORMS` in lambda/core/signature.ts). Unset: the default forms. No grant.
   */
  SIGNATURE_FORMS: 'SIGNATURE_FORMS',
  /** Both: namespace of the functions' own metrics (default `METRICS_NAMESPACE`, metrics-contract.ts), the one the alarms read. No grant. */
  METRICS_NAMESPACE: 'METRICS_NAMESPACE',
  /** Fan-out: JSON of the example handlers' `HandlersConfig`; unset or blank: every example handler off. No grant. */
  HANDLERS_CONFIG: 'HANDLERS_CONFIG',
  /** Fan-out: the handler state table. Paired with GetItem, PutItem, UpdateItem and Query on that table. */
  HANDLER_STATE_TABLE_NAME: 'HANDLER_STATE_TABLE_NAME',
  /** Fan-out: the forwarder's EventBridge bus (name or ARN). Paired with `bus.grantPutEventsTo`. */
  EVENT_BUS_NAME: 'EVENT_BUS_NAME',
  /** Fan-out: ARN of the secret holding the Social Plus admin token. Paired with `secret.grantRead`. */
  SOCIALPLUS_API_SECRET_ARN: 'SOCIALPLUS_API_SECRET_ARN',
  /** Local mode only: the Social Plus admin token itself, when there is no secret. Never set on AWS. */
  SOCIALPLUS_ADMIN_TOKEN: 'SOCIALPLUS_ADMIN_TOKEN',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** Error thrown at cold start when a variable is missing or malformed, naming it. */
export class ConfigurationError extends SocialPlusWebhooksError {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** Reads a required variable or throws naming it. */
export function requireEnv(env: NodeJS.ProcessEnv, name: EnvName): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new ConfigurationError(`environment variable ${name} is not set`);
  return value;
}

/** Reads a positive number with a default, or throws naming the variable and the bad value. */
export function numberEnv(env: NodeJS.ProcessEnv, name: EnvName, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new ConfigurationError(`environment variable ${name} must be a positive number, got '${raw}'`);
  return n;
}

/** Reads `SOURCE_SECRETS`: `{"<source>":"<secret arn or name>"}`. */
export function sourceSecretsEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const raw = requireEnv(env, ENV.SOURCE_SECRETS);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigurationError(
      `environment variable ${ENV.SOURCE_SECRETS} must be a JSON object of source name to secret ARN, got '${raw.slice(0, 80)}'`,
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new ConfigurationError(`environment variable ${ENV.SOURCE_SECRETS} must be a JSON object of source name to secret ARN`);
  }
  return parsed as Record<string, string>;
}

/** Reads `SIGNATURE_FORMS`: undefined when unset (the default forms), or throws naming the bad value. */
export function signatureFormsEnv(env: NodeJS.ProcessEnv): SignatureForm[] | undefined {
  const raw = optionalEnv(env, ENV.SIGNATURE_FORMS);
  if (raw === undefined) return undefined;
  try {
    return parseSignatureForms(raw);
  } catch (err) {
    throw new ConfigurationError(`environment variable ${ENV.SIGNATURE_FORMS}: ${errorMessage(err)}`);
  }
}

/** Reads an optional variable: undefined when unset or blank. */
export function optionalEnv(env: NodeJS.ProcessEnv, name: EnvName): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}
