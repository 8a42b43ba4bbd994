/**
 * The prices and defaults the cost arithmetic of the requests-per-event benchmark and of the cost
 * benchmark (cli/cost/model.ts) uses: copied from docs/cost.md ("Prices" and "Assumptions";
 * us-east-1 list prices, free tiers ignored), which cites where each comes from. Change them there
 * first, then here.
 */

/** USD prices, per the unit in each name. */
export const PRICES = {
  apiGatewayRestPerMillion: 3.5,
  wafPerMillionRequests: 0.6,
  lambdaPerMillionRequests: 0.2,
  lambdaArmPerGbSecond: 0.0000133334,
  sqsPerMillionRequests: 0.4,
  dynamoDbPerMillionWriteUnits: 0.625,
  firehosePerGb: 0.029,
  s3PutPer1000: 0.005,
  cloudWatchLogsIngestPerGb: 0.5,
  cloudWatchLogsStorePerGbMonth: 0.03,
  xrayPerMillionTraces: 5,
  /** WAF: per web ACL and per rule, a month. */
  wafPerWebAclMonth: 5,
  wafPerRuleMonth: 1,
  /** Secrets Manager: per secret a month, and per 10,000 API calls. */
  secretPerMonth: 0.4,
  secretsManagerPer10000Calls: 0.05,
  /** CloudWatch alarms, per alarm metric a month: standard resolution, high resolution (period under 60 s). */
  alarmStandardPerMonth: 0.1,
  alarmHighResolutionPerMonth: 0.3,
  cloudWatchDashboardPerMonth: 3,
  /** A custom metric (detailed API metrics, the functions' EMF metrics), per month it is published, prorated by the hour. */
  cloudWatchMetricPerMonth: 0.3,
  kmsKeyPerMonth: 1,
  kmsPer10000Requests: 0.03,
  s3StandardPerGbMonth: 0.023,
} as const;

/** Firehose bills each record rounded up to this many bytes (docs/cost.md). */
export const FIREHOSE_BILLING_INCREMENT_BYTES = 5 * 1024;
/** Each 64 KB of an SQS payload is billed as one request. */
export const SQS_BILLING_CHUNK_BYTES = 64 * 1024;
/** The requests SQS bills a send of `message` as: one per started 64 KB of body and attributes. */
export function sqsBilledRequests(message: { readonly body: string; readonly attributes: object }): number {
  const bytes =
    Buffer.byteLength(message.body, 'utf8') +
    Object.entries(message.attributes).reduce((s, [k, v]) => s + k.length + String(v ?? '').length + 'String'.length, 0);
  return Math.max(1, Math.ceil(bytes / SQS_BILLING_CHUNK_BYTES));
}

/** The bytes Firehose bills for one record of `line`: rounded up to 5 KB. */
export function firehoseBilledBytes(line: string): number {
  return Math.ceil(Buffer.byteLength(line, 'utf8') / FIREHOSE_BILLING_INCREMENT_BYTES) * FIREHOSE_BILLING_INCREMENT_BYTES;
}

/** SQS's event source receives, and deletes, at most this many messages per call. */
export const SQS_MESSAGES_PER_RECEIVE = 10;

/** What docs/cost.md assumes where the benchmark measures nothing (Lambda durations, logs, traces). */
export const ASSUMED = {
  receiverMemoryGb: 1,
  receiverWarmSeconds: 0.025,
  receiverColdStartShare: 0.01,
  receiverInitSeconds: 0.25,
  fanoutMemoryGb: 0.5,
  /** Fan-out duration per invocation: 50 ms with one event, 400 ms with 100 (interpolated linearly). */
  fanoutSecondsFor: (eventsPerBatch: number) => 0.05 + (0.35 * (Math.min(eventsPerBatch, 100) - 1)) / 99,
  /** CloudWatch Logs per event: 1.8 KB with one event per batch, 1.35 KB with full batches. */
  logKbFor: (eventsPerBatch: number) => (eventsPerBatch <= 1 ? 1.8 : 1.35),
  /** X-Ray traces per event: all below 1 event/s, about 5 % plus the fan-out's when busy. */
  tracesPerEventFor: (eventsPerBatch: number) => (eventsPerBatch <= 1 ? 2 : 0.0544),
  /** Archive objects per million events (Firehose): one per 60 s buffer when quiet, per 64 MiB when busy. */
  archiveObjectsPerMillionFor: (eventsPerBatch: number) => (eventsPerBatch <= 1 ? 43_800 : 40),
} as const;

/**
 * What docs/cost.md assumes for the cost benchmark's finer lines (cli/cost/model.ts): the
 * per-event log lines of assumption g split by where they come from, the traffic shapes, and the
 * idle costs nobody can measure locally.
 */
export const ASSUMED_DETAIL = {
  /** Receiver START/END/REPORT platform lines per invocation (system log level INFO). */
  receiverPlatformKb: 0.48,
  /** The receiver's INFO `accepted` line per event (application log level INFO or DEBUG). */
  receiverAcceptedLineKb: 0.27,
  /** Fan-out START/END/REPORT platform lines per invocation (system log level INFO). */
  fanoutPlatformKb: 0.45,
  /** API Gateway execution logs per request: at INFO (a dozen lines), and what data tracing adds (request and response). */
  apiExecutionInfoKb: 2,
  apiDataTraceKb: 3,
  /** Busy traffic's rate (full fan-out batches); quiet traffic is 1 M events a month. */
  busyEventsPerSecond: 500,
  /** Hours in a month, the unit CloudWatch prorates metrics by. */
  hoursPerMonth: 730,
  /** Idle SQS pollers of the event source, each long-polling 20 s (3 receives a minute). */
  idlePollers: 5,
  /** Custom metrics the functions publish (EMF) in every hour with traffic. */
  functionMetrics: 8,
  /** Per-method metrics API Gateway publishes with detailed metrics (Count, 4XXError, 5XXError, Latency, IntegrationLatency). */
  apiMetricsPerMethod: 5,
  /** Secrets Manager calls per million events: one per cold start and one per warm environment every 5 minutes. */
  secretCallsPerMillionFor: (eventsPerBatch: number) => (eventsPerBatch <= 1 ? 18_760 : 200),
  /** Gzipped archive bytes per 2 KB event in S3 (assumption f). */
  archiveGzipKb: 0.5,
  /** KMS requests CloudWatch Logs makes per log group with a customer key, per hour it receives lines. */
  logGroupKmsRequestsPerHour: 12,
  /** X-Ray's default sampling when no rule is set: the first request each second, 5 % of the rest. */
  defaultSampling: { fixedRate: 0.05, reservoirSize: 1 },
} as const;

/** The forced front door: API Gateway REST plus WAF, per million requests (docs/architecture.md §10). */
export const FRONT_DOOR_PER_MILLION = PRICES.apiGatewayRestPerMillion + PRICES.wafPerMillionRequests;
/** docs/architecture.md §10's cost target per million 2 KB events at defaults. */
export const COST_TARGET_PER_MILLION = 6.5;
/** The `lean` profile's targets (docs/cost.md, "Targets"): per million 2 KB events busy and quiet, and a month idle, X-Ray on. */
export const LEAN_TARGETS = { busyPerMillion: COST_TARGET_PER_MILLION, quietPerMillion: 8, idlePerMonth: 10 } as const;
