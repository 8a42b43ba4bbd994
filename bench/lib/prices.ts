/**
 * The prices and defaults the cost arithmetic of the requests-per-event benchmark uses: copied
 * from docs/cost.md ("Prices" and "Assumptions"; us-east-1 list prices, free tiers ignored), which
 * cites where each comes from. Change them there first, then here.
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
} as const;

/** Firehose bills each record rounded up to this many bytes (docs/cost.md). */
export const FIREHOSE_BILLING_INCREMENT_BYTES = 5 * 1024;
/** Each 64 KB of an SQS payload is billed as one request. */
export const SQS_BILLING_CHUNK_BYTES = 64 * 1024;
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

/** The forced front door: API Gateway REST plus WAF, per million requests (docs/architecture.md §10). */
export const FRONT_DOOR_PER_MILLION = PRICES.apiGatewayRestPerMillion + PRICES.wafPerMillionRequests;
/** docs/architecture.md §10's cost target per million 2 KB events at defaults. */
export const COST_TARGET_PER_MILLION = 6.5;
