/**
 * Environment variable names shared by the stack (lib/), which sets them next to the grant that
 * makes them usable, and the functions (lambda/), which read them once at cold start.
 */
export const ENV = {
  /** Receiver: URL of the event queue. Paired with `queue.grantSendMessages`. */
  QUEUE_URL: 'QUEUE_URL',
  /** Receiver: JSON object mapping each webhook source name to its secret's ARN. Paired with `secret.grantRead`. */
  SOURCE_SECRETS: 'SOURCE_SECRETS',
  /** Fan-out: the event store table. Paired with `table.grantReadWriteData`. */
  TABLE_NAME: 'TABLE_NAME',
  /** Fan-out: the Firehose delivery stream. Paired with `deliveryStream.grantPutRecords`. */
  DELIVERY_STREAM_NAME: 'DELIVERY_STREAM_NAME',
  /** Fan-out: days an event item lives before TTL (DESIGN §5). */
  EVENT_RETENTION_DAYS: 'EVENT_RETENTION_DAYS',
  /** Both: DEBUG | INFO | WARN | ERROR. */
  LOG_LEVEL: 'LOG_LEVEL',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** Error thrown at cold start when a variable is missing or malformed, naming it. */
export class ConfigurationError extends Error {
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
    throw new ConfigurationError(`environment variable ${ENV.SOURCE_SECRETS} must be a JSON object of source name to secret ARN, got '${raw.slice(0, 80)}'`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new ConfigurationError(`environment variable ${ENV.SOURCE_SECRETS} must be a JSON object of source name to secret ARN`);
  }
  return parsed as Record<string, string>;
}
