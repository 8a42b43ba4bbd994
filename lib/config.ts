/**
 * The stack's configuration (DESIGN §7): one typed, validated object built from CDK context by
 * `bin/app.ts` and passed down as props. Validation collects every problem before throwing, and
 * each problem names the key, the bad value and what is allowed.
 */
import type { LogLevel } from '../lambda/common/logger.js';
import { editDistance } from '../lambda/core/near-miss.js';
import { DEFAULT_SOURCE, SOURCE_NAME } from '../lambda/core/receive.js';
import { METRICS_NAMESPACE } from '../lambda/common/metrics-contract.js';
import { HandlersConfigError, parseHandlersConfig, type HandlersConfig } from '../lambda/fanout/handlers/config.js';
import { parseCidr } from './cidr.js';
import { SOCIALPLUS_REGIONS, type SocialPlusRegion } from './socialplus-ips.js';
import { DEFAULT_STACK_NAME, STACK_NAME_PATTERN } from './stack-name.js';
import { DEFAULT_SIGNATURE_FORMS, SIGNATURE_FORMS, type SignatureForm } from '../lambda/core/signature.js';

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

/**
 * API Gateway's default account-level throttle per region (requests per second, and burst). The
 * stage's defaults are the same, so the stage never refuses what the account would let through:
 * Social Plus documents no retry, and a 429 to it is a lost event. The WAF already admits only
 * Social Plus's addresses, so a lower stage limit protects nothing but the bill (README, Deploy).
 */
export const API_ACCOUNT_DEFAULT_THROTTLE = { rateLimit: 10_000, burstLimit: 5_000 } as const;

/** SQS's longest retention, which both queues use: a message cannot wait longer than this. */
export const QUEUE_RETENTION_SECONDS = 14 * 24 * 60 * 60;

/** AWS's rule for a Lambda-triggered queue: visibility timeout at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** Every configuration key with its default; `sources` and `allowedCidrs` are listed for completeness. */
export const CONFIG_DEFAULTS = {
  stackName: DEFAULT_STACK_NAME as string,
  sources: [{ name: DEFAULT_SOURCE, region: 'us' }] as readonly WebhookSourceConfig[],
  allowedCidrs: [] as readonly string[],
  eventRetentionDays: 90,
  eventTableDeletionProtection: true as boolean,
  archiveTransitionDays: 90,
  archiveBufferSeconds: 60,
  archiveBufferMiB: 64,
  fanoutBatchSize: 100,
  fanoutMaxBatchingWindowSeconds: 1,
  fanoutMaxConcurrency: 10,
  fanoutTimeoutSeconds: 30,
  maxReceiveCount: 5,
  apiRateLimit: API_ACCOUNT_DEFAULT_THROTTLE.rateLimit,
  apiBurstLimit: API_ACCOUNT_DEFAULT_THROTTLE.burstLimit,
  apiStageName: 'prod',
  athenaScanLimitGiB: 10,
  logRetentionDays: 30,
  logLevel: 'INFO' as LogLevel,
  alarmEmail: undefined as string | undefined,
  receiverDeadlineMs: 1000,
  tracing: true as boolean,
  signatureForms: DEFAULT_SIGNATURE_FORMS as readonly SignatureForm[],
  metricsNamespace: METRICS_NAMESPACE as string,
  handlers: {} as Readonly<Record<string, unknown>>,
  socialPlusApiSecretArn: undefined as string | undefined,
} as const;

/** The configuration keys read from CDK context. */
export type ConfigKey = keyof typeof CONFIG_DEFAULTS;

/** The configuration keys read from CDK context, in documentation order. */
export const CONFIG_KEYS = Object.keys(CONFIG_DEFAULTS) as ConfigKey[];

/** The retention periods CloudWatch Logs accepts, in days (never-expire is refused on purpose). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARN', 'ERROR'];
const SOURCE_KEYS = ['name', 'region', 'secretArn'] as const;
const SECRET_ARN = /^arn:aws(?:-[a-z]+)*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const STAGE_NAME = /^[A-Za-z0-9_]{1,128}$/;

/**
 * The receiver's deadline bounds: below 100 ms an SQS send with a retry no longer fits, so events
 * would spill that the queue would have taken; above 1300 ms too little of Social Plus's 1.5 s is
 * left for the spill to S3 and the answer.
 */
export const RECEIVER_DEADLINE_MS_RANGE = { min: 100, max: 1300 } as const;

/**
 * A metrics namespace this stack accepts: what CloudWatch, embedded metric format and metric filters
 * all take (no `:`, `*`, `$`), without spaces or quotes (the dashboard's SEARCH quotes it), and short
 * enough that the per-stack `<namespace>/<stack name>` of the throttle filter stays within 255.
 */
const METRICS_NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]{0,126}$/;

/** The configuration is invalid; `problems` holds one line per bad key. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(
      `Invalid configuration (CDK context, from cdk.json "context" or -c key=value):\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'See the Deploy section of the README for every key and its allowed values.',
    );
    this.name = 'ConfigError';
  }
}

/** Shows a bad value in a message: strings quoted, other values as JSON. */
function show(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 120 ? `${value.slice(0, 117)}...` : value}'`;
  if (value === undefined) return 'undefined';
  const json = JSON.stringify(value) ?? String(value);
  return json.length > 120 ? `${json.slice(0, 117)}...` : json;
}

/** PascalCase of a source name, as used in output ids (`my-app` → `MyApp`). */
export function sourceIdPart(name: string): string {
  return name
    .split('-')
    .filter((p) => p !== '')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

class Collector {
  readonly problems: string[] = [];

  add(problem: string): void {
    this.problems.push(problem);
  }

  /** An integer in [min, max], given as a number or (from `-c key=value`) a string of digits. */
  integer(key: string, raw: unknown, fallback: number, min: number, max: number): number {
    if (raw === undefined) return fallback;
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      this.add(`${key}: ${show(raw)} is not an integer from ${min} to ${max}`);
      return fallback;
    }
    return n;
  }

  /** One of a fixed list, matched without regard to case. */
  oneOf<T extends string>(key: string, raw: unknown, allowed: readonly T[], fallback: T): T {
    if (raw === undefined) return fallback;
    const found = typeof raw === 'string' ? allowed.find((a) => a.toLowerCase() === raw.trim().toLowerCase()) : undefined;
    if (found === undefined) {
      this.add(`${key}: ${show(raw)} is not one of ${allowed.join(', ')}`);
      return fallback;
    }
    return found;
  }

  /** A JSON value that may arrive as a JSON string (every `-c key=value` does). */
  json(key: string, raw: unknown, example: string): unknown {
    if (typeof raw !== 'string') return raw;
    const text = raw.trim();
    if (!text.startsWith('[') && !text.startsWith('{')) return raw;
    try {
      return JSON.parse(text) as unknown;
    } catch {
      this.add(`${key}: ${show(raw)} is not valid JSON (expected e.g. ${example})`);
      return undefined;
    }
  }
}

function buildSources(c: Collector, raw: unknown): WebhookSourceConfig[] {
  const example = '[{"name":"default","region":"us"}]';
  if (raw === undefined) return [...CONFIG_DEFAULTS.sources];
  const value = c.json('sources', raw, example);
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length === 0) {
    c.add(`sources: ${show(value)} is not a non-empty array of {name, region, secretArn?} (e.g. ${example})`);
    return [];
  }
  const sources: WebhookSourceConfig[] = [];
  const byName = new Map<string, number>();
  const byOutputId = new Map<string, number>();
  value.forEach((entry: unknown, i) => {
    const at = `sources[${i}]`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      c.add(`${at}: ${show(entry)} is not an object like {"name":"default","region":"us"}`);
      return;
    }
    const item = entry as Record<string, unknown>;
    for (const key of Object.keys(item)) {
      if (!(SOURCE_KEYS as readonly string[]).includes(key)) c.add(`${at}.${key}: is not a source key; allowed keys are ${SOURCE_KEYS.join(', ')}`);
    }
    const name = item.name;
    let nameOk = false;
    if (typeof name !== 'string' || !SOURCE_NAME.test(name)) {
      c.add(`${at}.name: ${show(name)} is not a source name: lower-case letters, digits and hyphens, starting with a letter or digit, at most 64 characters (${SOURCE_NAME.source})`);
    } else if (byName.has(name)) {
      c.add(`${at}.name: ${show(name)} is already used by sources[${byName.get(name)}]; source names must be unique`);
    } else if (byOutputId.has(sourceIdPart(name))) {
      c.add(`${at}.name: ${show(name)} would share stack output names with sources[${byOutputId.get(sourceIdPart(name))}] (both become '${sourceIdPart(name)}'); rename one`);
    } else {
      byName.set(name, i);
      byOutputId.set(sourceIdPart(name), i);
      nameOk = true;
    }
    const regionBefore = c.problems.length;
    if (item.region === undefined) c.add(`${at}.region: is missing; set the Social Plus region of the network, one of ${SOCIALPLUS_REGIONS.join(', ')}`);
    const region = c.oneOf(`${at}.region`, item.region, SOCIALPLUS_REGIONS, 'us');
    const secretArn = item.secretArn;
    let secretOk = true;
    if (secretArn !== undefined && (typeof secretArn !== 'string' || !SECRET_ARN.test(secretArn))) {
      c.add(
        `${at}.secretArn: ${show(secretArn)} is not a complete Secrets Manager secret ARN ` +
          '(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, as the Secrets Manager console shows it)',
      );
      secretOk = false;
    }
    if (nameOk && secretOk && c.problems.length === regionBefore) {
      sources.push(secretArn === undefined ? { name: name as string, region } : { name: name as string, region, secretArn: secretArn as string });
    }
  });
  return sources;
}

function buildCidrs(c: Collector, raw: unknown): string[] {
  if (raw === undefined) return [];
  let value = c.json('allowedCidrs', raw, '["203.0.113.7/32"]');
  // `-c allowedCidrs=203.0.113.7/32,198.51.100.0/24` arrives as one string.
  if (typeof value === 'string') value = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (!Array.isArray(value)) {
    c.add(`allowedCidrs: ${show(raw)} is not a list of CIDRs (e.g. ["203.0.113.7/32"] or 203.0.113.7/32,198.51.100.0/24)`);
    return [];
  }
  const cidrs: string[] = [];
  value.forEach((entry: unknown, i) => {
    if (typeof entry !== 'string') {
      c.add(`allowedCidrs[${i}]: ${show(entry)} is not a CIDR string (e.g. 203.0.113.7/32)`);
      return;
    }
    const parsed = parseCidr(entry);
    if ('problem' in parsed) c.add(`allowedCidrs[${i}]: ${show(entry)} ${parsed.problem}`);
    else if (!cidrs.includes(parsed.cidr)) cidrs.push(parsed.cidr);
  });
  return cidrs;
}

function buildOptionalEmail(c: Collector, raw: unknown): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !EMAIL.test(raw.trim())) {
    c.add(`alarmEmail: ${show(raw)} is not an email address (e.g. ops@example.com)`);
    return undefined;
  }
  return raw.trim();
}

function buildBoolean(c: Collector, key: string, raw: unknown, fallback: boolean, meaning: string): boolean {
  if (raw === undefined) return fallback;
  if (typeof raw === 'boolean') return raw;
  // `-c tracing=false` arrives as a string.
  if (typeof raw === 'string' && /^\s*(true|false)\s*$/i.test(raw)) return raw.trim().toLowerCase() === 'true';
  c.add(`${key}: ${show(raw)} is not true or false (${meaning})`);
  return fallback;
}

function buildSignatureForms(c: Collector, raw: unknown): readonly SignatureForm[] {
  if (raw === undefined) return CONFIG_DEFAULTS.signatureForms;
  let value = c.json('signatureForms', raw, '["base64","hex"]');
  // `-c signatureForms=base64,json-base64` arrives as one string.
  if (typeof value === 'string') value = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || !(SIGNATURE_FORMS as readonly string[]).includes(v))) {
    c.add(`signatureForms: ${show(raw)} is not a non-empty list of signature forms; allowed: ${SIGNATURE_FORMS.join(', ')} (e.g. ["base64","hex"] or base64,json-base64)`);
    return CONFIG_DEFAULTS.signatureForms;
  }
  return [...new Set(value as SignatureForm[])];
}

function buildStackName(c: Collector, raw: unknown): string {
  if (raw === undefined || raw === '') return CONFIG_DEFAULTS.stackName;
  if (typeof raw !== 'string' || !STACK_NAME_PATTERN.test(raw)) {
    c.add(`stackName: ${show(raw)} is not a stack name: a letter, then letters, digits and hyphens, at most 64 characters (e.g. SocialPlusWebhooks-staging)`);
    return CONFIG_DEFAULTS.stackName;
  }
  return raw;
}

function buildMetricsNamespace(c: Collector, raw: unknown): string {
  if (raw === undefined) return CONFIG_DEFAULTS.metricsNamespace;
  if (typeof raw !== 'string' || !METRICS_NAMESPACE_PATTERN.test(raw)) {
    c.add(
      `metricsNamespace: ${show(raw)} is not a metrics namespace: 1 to 127 letters, digits, '.', '_', '-' and '/', ` +
        'starting with a letter or digit (e.g. SocialPlusWebhooks or MyCompany/Webhooks)',
    );
    return CONFIG_DEFAULTS.metricsNamespace;
  }
  if (/^aws\//i.test(raw)) {
    c.add(`metricsNamespace: ${show(raw)} starts with 'AWS/', which CloudWatch reserves for AWS services; choose another prefix`);
    return CONFIG_DEFAULTS.metricsNamespace;
  }
  return raw;
}

function buildMaxReceiveCount(c: Collector, raw: unknown): number {
  if (raw === 1 || raw === '1') {
    c.add("maxReceiveCount: 1 is too low: SQS can count a receive the fan-out never saw, so a message could reach the DLQ unprocessed; use 2 to 1000");
    return CONFIG_DEFAULTS.maxReceiveCount;
  }
  return c.integer('maxReceiveCount', raw, CONFIG_DEFAULTS.maxReceiveCount, 2, 1000);
}

/** Lambda's limit on the size of a function's environment variables, keys and values together. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;

/** Whether an enabled example handler calls the Social Plus API (and so needs the admin token unless it is a dry run). */
export function callsSocialPlusApi(h: HandlersConfig): boolean {
  return (h.autoModeration.enabled && (h.autoModeration.ban !== 'none' || h.autoModeration.deleteFlaggedContent)) || h.keywordFilter.enabled;
}

/** What the stack creates for the example handlers: each only when a handler needs it. */
export interface HandlerResourceNeeds {
  /** Auto-moderation or daily counters keep state: the handler state table. */
  readonly stateTable: boolean;
  /** The forwarder is on: an EventBridge bus. */
  readonly eventBus: boolean;
  /**
   * The Social Plus client may call the API for real: the admin-token secret. True when a region or
   * base URL is configured (given, or the sources' shared region when a handler calls the API) and
   * it is not a dry run.
   */
  readonly socialPlusSecret: boolean;
}

/** See {@link HandlerResourceNeeds}. */
export function handlerResourceNeeds(h: HandlersConfig): HandlerResourceNeeds {
  const sp = h.socialPlus;
  return {
    stateTable: h.autoModeration.enabled || h.dailyCounters.enabled,
    eventBus: h.eventBridge.enabled,
    socialPlusSecret: sp !== undefined && !sp.dryRun && (sp.region !== undefined || sp.baseUrl !== undefined),
  };
}

/**
 * The fan-out's `HANDLERS_CONFIG` value: the configuration with its claim lease raised to twice the
 * fan-out's timeout, since a lease shorter than an invocation could let a second invocation take over
 * a claim its holder still acts on.
 */
export function handlersConfigValue(h: HandlersConfig, fanoutTimeoutSeconds: number): string {
  return JSON.stringify({ ...h, claimLeaseSeconds: Math.max(h.claimLeaseSeconds, 2 * fanoutTimeoutSeconds) });
}

const HANDLERS_EXAMPLE = '{"autoModeration":{"enabled":true},"socialPlus":{"region":"us"}}';

function buildHandlers(c: Collector, raw: unknown, sources: readonly WebhookSourceConfig[]): HandlersConfig {
  const fallback = parseHandlersConfig({});
  const value = raw === undefined || raw === '' ? {} : c.json('handlers', raw, HANDLERS_EXAMPLE);
  if (value === undefined) return fallback;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    c.add(`handlers: ${show(value)} is not a JSON object (e.g. ${HANDLERS_EXAMPLE})`);
    return fallback;
  }
  const given = value as Record<string, unknown>;
  // The API client is for one network: when every source is in one region, that is the API's region.
  const regions = [...new Set(sources.map((s) => s.region))];
  const sp = given.socialPlus;
  const spObject = typeof sp === 'object' && sp !== null && !Array.isArray(sp) ? (sp as Record<string, unknown>) : undefined;
  const fillRegion = regions.length === 1 && (sp === undefined || (spObject !== undefined && spObject.region === undefined && spObject.baseUrl === undefined));
  const input = fillRegion ? { ...given, socialPlus: { ...spObject, region: regions[0] } } : given;
  let parsed: HandlersConfig;
  try {
    parsed = parseHandlersConfig(input, "context key 'handlers'");
  } catch (err) {
    if (!(err instanceof HandlersConfigError)) throw err;
    for (const problem of err.problems) c.add(problem);
    return fallback;
  }
  // A region filled in for nothing would only create a secret no handler reads.
  if (sp === undefined && fillRegion && !callsSocialPlusApi(parsed)) {
    const { socialPlus: _unused, ...rest } = parsed;
    return rest;
  }
  return parsed;
}

function buildApiSecretArn(c: Collector, raw: unknown): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw !== 'string' || !SECRET_ARN.test(raw)) {
    c.add(
      `socialPlusApiSecretArn: ${show(raw)} is not a complete Secrets Manager secret ARN ` +
        '(arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 characters>, as the Secrets Manager console shows it)',
    );
    return undefined;
  }
  return raw;
}

/** Reports keys that look like a misspelt configuration key (other context keys are left alone). */
function checkUnknownKeys(c: Collector, context: Readonly<Record<string, unknown>>): void {
  for (const key of Object.keys(context)) {
    if ((CONFIG_KEYS as string[]).includes(key) || key.includes(':') || key.includes('@')) continue;
    const near = CONFIG_KEYS.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
    if (near !== undefined) c.add(`${key}: is not a configuration key; did you mean ${near}?`);
  }
}

/**
 * Builds the configuration from CDK context (all of it: keys that are not ours are ignored unless
 * they look like a misspelt one). Throws a {@link ConfigError} listing every problem at once.
 */
export function buildConfig(context: Readonly<Record<string, unknown>>): WebhooksConfig {
  const c = new Collector();
  checkUnknownKeys(c, context);
  const d = CONFIG_DEFAULTS;
  const sources = buildSources(c, context.sources);
  const allowedCidrs = buildCidrs(c, context.allowedCidrs);
  const fanoutBatchSize = c.integer('fanoutBatchSize', context.fanoutBatchSize, d.fanoutBatchSize, 1, 10_000);
  const windowBefore = c.problems.length;
  const fanoutMaxBatchingWindowSeconds = c.integer('fanoutMaxBatchingWindowSeconds', context.fanoutMaxBatchingWindowSeconds, d.fanoutMaxBatchingWindowSeconds, 0, 300);
  if (c.problems.length === windowBefore && fanoutBatchSize > 10 && fanoutMaxBatchingWindowSeconds < 1) {
    c.add(
      `fanoutMaxBatchingWindowSeconds: ${show(context.fanoutMaxBatchingWindowSeconds)} must be at least 1 when fanoutBatchSize ` +
        `(${fanoutBatchSize}) is above 10; SQS event sources require a batching window for batches above 10`,
    );
  }
  const logRetentionDays = c.integer('logRetentionDays', context.logRetentionDays, d.logRetentionDays, 1, 3653);
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    c.add(`logRetentionDays: ${show(context.logRetentionDays)} is not one of ${LOG_RETENTION_DAYS.join(', ')} (the periods CloudWatch Logs accepts)`);
  }
  let apiStageName: string = d.apiStageName;
  if (context.apiStageName !== undefined) {
    if (typeof context.apiStageName === 'string' && STAGE_NAME.test(context.apiStageName)) apiStageName = context.apiStageName;
    else c.add(`apiStageName: ${show(context.apiStageName)} is not a stage name: letters, digits and underscores, 1 to 128 characters`);
  }
  const config: WebhooksConfig = {
    stackName: buildStackName(c, context.stackName),
    sources,
    allowedCidrs,
    eventRetentionDays: c.integer('eventRetentionDays', context.eventRetentionDays, d.eventRetentionDays, 1, 3650),
    eventTableDeletionProtection: buildBoolean(
      c,
      'eventTableDeletionProtection',
      context.eventTableDeletionProtection,
      d.eventTableDeletionProtection,
      'true makes DynamoDB refuse to delete the event table; false lets a user or the stack delete it',
    ),
    archiveTransitionDays: c.integer('archiveTransitionDays', context.archiveTransitionDays, d.archiveTransitionDays, 30, 3650),
    archiveBufferSeconds: c.integer('archiveBufferSeconds', context.archiveBufferSeconds, d.archiveBufferSeconds, 0, 900),
    archiveBufferMiB: c.integer('archiveBufferMiB', context.archiveBufferMiB, d.archiveBufferMiB, 1, 128),
    fanoutBatchSize,
    fanoutMaxBatchingWindowSeconds,
    fanoutMaxConcurrency: c.integer('fanoutMaxConcurrency', context.fanoutMaxConcurrency, d.fanoutMaxConcurrency, 2, 1000),
    fanoutTimeoutSeconds: c.integer('fanoutTimeoutSeconds', context.fanoutTimeoutSeconds, d.fanoutTimeoutSeconds, 1, 900),
    maxReceiveCount: buildMaxReceiveCount(c, context.maxReceiveCount),
    apiRateLimit: c.integer('apiRateLimit', context.apiRateLimit, d.apiRateLimit, 1, 100_000),
    apiBurstLimit: c.integer('apiBurstLimit', context.apiBurstLimit, d.apiBurstLimit, 1, 50_000),
    apiStageName,
    athenaScanLimitGiB: c.integer('athenaScanLimitGiB', context.athenaScanLimitGiB, d.athenaScanLimitGiB, 1, 10_240),
    logRetentionDays,
    logLevel: c.oneOf('logLevel', context.logLevel, LOG_LEVELS, d.logLevel),
    alarmEmail: buildOptionalEmail(c, context.alarmEmail),
    receiverDeadlineMs: c.integer('receiverDeadlineMs', context.receiverDeadlineMs, d.receiverDeadlineMs, RECEIVER_DEADLINE_MS_RANGE.min, RECEIVER_DEADLINE_MS_RANGE.max),
    tracing: buildBoolean(c, 'tracing', context.tracing, d.tracing, 'true traces the API stage and both functions with X-Ray; false turns X-Ray off'),
    signatureForms: buildSignatureForms(c, context.signatureForms),
    metricsNamespace: buildMetricsNamespace(c, context.metricsNamespace),
    handlers: buildHandlers(c, context.handlers, sources),
    socialPlusApiSecretArn: buildApiSecretArn(c, context.socialPlusApiSecretArn),
  };
  checkRetryWindow(c, config);
  if (c.problems.length > 0) throw new ConfigError(c.problems);
  return config;
}

/**
 * A message that keeps failing stays in the queue for up to maxReceiveCount visibility timeouts
 * before the DLQ takes it; if that is longer than the queue keeps a message, SQS deletes it first
 * and the event is lost without ever reaching the DLQ.
 */
function checkRetryWindow(c: Collector, config: Pick<WebhooksConfig, 'maxReceiveCount' | 'fanoutTimeoutSeconds'>): void {
  const visibility = config.fanoutTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;
  const window = config.maxReceiveCount * visibility;
  if (window <= QUEUE_RETENTION_SECONDS) return;
  const most = Math.floor(QUEUE_RETENTION_SECONDS / visibility);
  c.add(
    `maxReceiveCount: ${config.maxReceiveCount} receives × a ${visibility} s visibility timeout (${VISIBILITY_TIMEOUT_FACTOR} × fanoutTimeoutSeconds ${config.fanoutTimeoutSeconds}) ` +
      `is ${window} s, longer than the ${QUEUE_RETENTION_SECONDS} s (14 days) the queue keeps a message: a failing event would expire before reaching the dead-letter queue. ` +
      `Use maxReceiveCount ${most} or less, or a shorter fanoutTimeoutSeconds.`,
  );
}
