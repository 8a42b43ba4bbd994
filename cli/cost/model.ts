/**
 * The bill of a synthesized stack (docs/cost.md): pure functions from its template's facts
 * (cli/cost/template-facts.ts), the per-event figures measured through local mode
 * (bench/aws-requests.ts) and docs/cost.md's prices and assumptions (cli/cost/prices.ts) to the
 * fixed cost of a month and the cost of a million events, busy and quiet, line by line.
 */
import type { FunctionFacts, LogGroupRole, TemplateFacts } from './template-facts.js';
import { ASSUMED, ASSUMED_DETAIL as A, PRICES, SQS_MESSAGES_PER_RECEIVE } from './prices.js';

/** What local mode measured per event (bench/aws-requests.ts, main phase). */
export interface MeasuredPerEvent {
  /** Write units per event by AWS's rules: new items, their index entries, handler-outcome updates. */
  readonly writeUnits: { readonly table: number; readonly indexes: number; readonly outcomes: number };
  /** GSIs of the table the measurement wrote (local mode's), to scale the index units to the template's. */
  readonly measuredGsis: number;
  /** SQS requests the receiver's sends are billed as (one per started 64 KB). */
  readonly sqsBilledSends: number;
  /** Bytes Firehose bills (each record rounded up to 5 KB). */
  readonly firehoseBilledBytes: number;
  /** Median archive line, the bytes Firehose buffers before it writes an object. */
  readonly archiveLineBytes: number;
  /** Bytes an event adds to a gzipped archive object; docs/cost.md's assumption for 2 KB events when not measured. */
  readonly archiveGzipBytes?: number;
}

/** One traffic shape: how many events a fan-out invocation gets and how fast they come. */
export interface TrafficShape {
  readonly eventsPerBatch: number;
  readonly eventsPerSecond: number;
}

export type ShapeName = 'busy' | 'quiet';

/**
 * The shape of a steady `eventsPerMonth`: the event source waits up to its batching window for a
 * batch, so a batch holds what arrives in the window, at least one event and at most the batch size.
 */
export function steadyShape(facts: TemplateFacts, eventsPerMonth: number): TrafficShape {
  const eventsPerSecond = eventsPerMonth / (A.hoursPerMonth * 3600);
  const batchSize = facts.eventSource?.batchSize ?? 1;
  const window = facts.eventSource?.windowSeconds ?? 0;
  return { eventsPerSecond, eventsPerBatch: Math.min(batchSize, Math.max(1, eventsPerSecond * window)) };
}

/** Busy: full fan-out batches (the template's batch size) at docs/cost.md's busy rate; quiet: 1 M events a month, one per batch. */
export function trafficShapes(facts: TemplateFacts): Record<ShapeName, TrafficShape> {
  return {
    busy: { eventsPerBatch: facts.eventSource?.batchSize ?? 1, eventsPerSecond: A.busyEventsPerSecond },
    quiet: { eventsPerBatch: 1, eventsPerSecond: 1e6 / (A.hoursPerMonth * 3600) },
  };
}

/** One line per million events, in USD. */
export interface PerMillionLine {
  readonly line: string;
  /** Where its quantity comes from: the template, local mode's measurement, or docs/cost.md's assumptions. */
  readonly basis: string;
  readonly busy: number;
  readonly quiet: number;
}

/** One line of a month's fixed cost, in USD. */
export interface FixedLine {
  readonly line: string;
  readonly detail: string;
  readonly monthly: number;
  /** `idle`: charged with no traffic at all; `traffic`: only in the hours events flow (published metrics). */
  readonly when: 'idle' | 'traffic';
}

export interface Bill {
  readonly fixed: readonly FixedLine[];
  readonly idlePerMonth: number;
  /** Idle plus what a month with traffic in every hour adds. */
  readonly trafficPerMonth: number;
  readonly perMillion: readonly PerMillionLine[];
  readonly perMillionTotal: Readonly<Record<ShapeName, number>>;
  readonly shapes: Readonly<Record<ShapeName, TrafficShape>>;
}

const GIB = 2 ** 30;
const MINUTES_PER_MONTH = A.hoursPerMonth * 60;
const gbSecond = (seconds: number, memoryMiB: number) => seconds * (memoryMiB / 1024) * PRICES.lambdaArmPerGbSecond;

/** The month's fixed cost, line by line: what the template's resources cost whatever the volume. */
export function fixedCost(facts: TemplateFacts): FixedLine[] {
  const lines: FixedLine[] = [];
  const add = (line: string, detail: string, monthly: number, when: FixedLine['when'] = 'idle') => {
    if (monthly > 0) lines.push({ line, detail, monthly, when });
  };
  const { webAcls, alarms } = facts;
  add(
    'WAF web ACLs and rules',
    `${webAcls.count} × $${PRICES.wafPerWebAclMonth} + ${webAcls.rules} rules × $${PRICES.wafPerRuleMonth}`,
    webAcls.count * PRICES.wafPerWebAclMonth + webAcls.rules * PRICES.wafPerRuleMonth,
  );
  add('CloudWatch dashboards', `${facts.dashboards} × $${PRICES.cloudWatchDashboardPerMonth}`, facts.dashboards * PRICES.cloudWatchDashboardPerMonth);
  add(
    'CloudWatch alarms',
    `${alarms.standardMetrics} standard × $${PRICES.alarmStandardPerMonth} + ${alarms.highResolutionMetrics} high-resolution × $${PRICES.alarmHighResolutionPerMonth}`,
    alarms.standardMetrics * PRICES.alarmStandardPerMonth + alarms.highResolutionMetrics * PRICES.alarmHighResolutionPerMonth,
  );
  add('KMS keys', `${facts.kmsKeys} × $${PRICES.kmsKeyPerMonth} (+ $1 after each of the first two rotations)`, facts.kmsKeys * PRICES.kmsKeyPerMonth);
  add('Secrets Manager secrets', `${facts.secrets} × $${PRICES.secretPerMonth}`, facts.secrets * PRICES.secretPerMonth);
  if (facts.eventSource !== undefined) {
    const polls = A.idlePollers * 3 * MINUTES_PER_MONTH;
    add('SQS empty long polls', `${A.idlePollers} pollers × 3 a minute = ${fmtInt(polls)} receives`, (polls / 1e6) * PRICES.sqsPerMillionRequests);
  }
  if (facts.api.metricsEnabled) {
    const metrics = facts.api.methods * A.apiMetricsPerMethod;
    add(
      'API Gateway detailed metrics',
      `${facts.api.methods} methods × ${A.apiMetricsPerMethod} metrics × $${PRICES.cloudWatchMetricPerMonth}`,
      metrics * PRICES.cloudWatchMetricPerMonth,
      'traffic',
    );
  }
  if (facts.receiver !== undefined || facts.fanout !== undefined)
    add(
      "the functions' EMF metrics",
      `≈ ${A.functionMetrics} metrics × $${PRICES.cloudWatchMetricPerMonth}`,
      A.functionMetrics * PRICES.cloudWatchMetricPerMonth,
      'traffic',
    );
  const keyedGroups = facts.logGroups.filter((g) => g.kms && g.role !== 'other').length;
  const kmsRequests = keyedGroups * A.logGroupKmsRequestsPerHour * A.hoursPerMonth;
  add(
    'KMS requests of log groups with a customer key',
    `${keyedGroups} groups × ${fmtInt(kmsRequests / Math.max(1, keyedGroups))} requests`,
    (kmsRequests / 1e4) * PRICES.kmsPer10000Requests,
    'traffic',
  );
  return lines;
}

/**
 * X-Ray traces per event: the API's (the receiver joins its trace) at the sampling rule's share,
 * plus each fan-out invocation's at the same rule (docs/cost.md, assumption n: whether Lambda
 * applies a set rule to the SQS-triggered fan-out is still to be checked). Without a rule, X-Ray's
 * default: the first request each second and 5 % of the rest.
 */
export function tracesPerEvent(facts: TemplateFacts, shape: TrafficShape): number {
  // The reservoir takes the first `reservoirSize` requests each second, the fixed rate a share of the rest.
  const sampledShare = (rule: { reservoirSize: number; fixedRate: number }, perSecond: number) => {
    const reservoir = Math.min(1, rule.reservoirSize / perSecond);
    return reservoir + rule.fixedRate * (1 - reservoir);
  };
  // API Gateway samples by the stack's rule (X-Ray's default without one), and the receiver follows it.
  const receiver =
    facts.tracing.apiStage || facts.tracing.receiver ? sampledShare(facts.samplingRules[0] ?? A.defaultSampling, shape.eventsPerSecond) : 0;
  // An SQS-triggered invocation starts a trace of its own (linked to the messages' traces), which
  // Lambda samples at its fixed rate (1 a second and 5 % of the rest), not by any sampling rule.
  const fanout = facts.tracing.fanout ? sampledShare(A.defaultSampling, shape.eventsPerSecond / shape.eventsPerBatch) / shape.eventsPerBatch : 0;
  return receiver + fanout;
}

/** CloudWatch Logs bytes per event by log group role, from the functions' log levels and the API's log settings. */
export function logBytesPerEvent(facts: TemplateFacts, shape: TrafficShape): Partial<Record<LogGroupRole, number>> {
  const kb = 1024;
  const platform = (fn: FunctionFacts | undefined) => fn !== undefined && ['TRACE', 'DEBUG', 'INFO'].includes(fn.systemLogLevel.toUpperCase());
  const appLogs = (fn: FunctionFacts | undefined) => ['TRACE', 'DEBUG', 'INFO'].includes((fn?.applicationLogLevel ?? 'INFO').toUpperCase());
  const receiver =
    facts.receiver === undefined
      ? 0
      : (platform(facts.receiver) ? A.receiverPlatformKb : 0) + (appLogs(facts.receiver) ? A.receiverAcceptedLineKb : 0);
  const fanout = platform(facts.fanout) ? A.fanoutPlatformKb / shape.eventsPerBatch : 0;
  const level = facts.api.loggingLevel.toUpperCase();
  const execution = (level === 'INFO' ? A.apiExecutionInfoKb : 0) + (facts.api.dataTraceEnabled && level !== 'OFF' ? A.apiDataTraceKb : 0);
  return {
    receiver: receiver * kb,
    fanout: fanout * kb,
    // The access log line has about the format's length: each `$context` variable gives way to a value of similar length.
    'api-access': facts.api.accessLogFormatChars,
    'api-execution': execution * kb,
  };
}

/** Months a log group keeps what it ingests (never-expiring groups, and API Gateway's own execution log group when the template has none, counted as 12). */
function retentionMonths(facts: TemplateFacts, role: LogGroupRole): number {
  const days = facts.logGroups.find((g) => g.role === role)?.retentionDays;
  return days === undefined ? 12 : days / 30;
}

/** S3 objects Firehose writes per million events: one per buffer interval, or per full buffer when it fills first. */
export function archiveObjectsPerMillion(facts: TemplateFacts, measured: MeasuredPerEvent, shape: TrafficShape): number {
  const hose = facts.firehose;
  if (hose === undefined) return 0;
  if (hose.intervalSeconds === 0) return 1e6 / shape.eventsPerBatch;
  const seconds = 1e6 / shape.eventsPerSecond;
  const fillSeconds = (hose.sizeMiB * 2 ** 20) / (shape.eventsPerSecond * measured.archiveLineBytes);
  return seconds / Math.min(hose.intervalSeconds, fillSeconds);
}

/** The cost of a million events in each shape, line by line. */
export function perMillionCost(facts: TemplateFacts, measured: MeasuredPerEvent, shapes = trafficShapes(facts)): PerMillionLine[] {
  const lines: PerMillionLine[] = [];
  const add = (line: string, basis: string, f: (s: TrafficShape) => number) => {
    const busy = f(shapes.busy);
    const quiet = f(shapes.quiet);
    if (busy > 0 || quiet > 0) lines.push({ line, basis, busy, quiet });
  };
  const M = 1e6;
  add('API Gateway REST requests', 'template: 1 per event', () => PRICES.apiGatewayRestPerMillion);
  if (facts.webAcls.count > 0) add('WAF requests', 'template: web ACL on the stage', () => PRICES.wafPerMillionRequests);
  // The event store is the table with indexes (a handler state table has none).
  const templateGsis = Math.max(0, ...facts.tables.map((t) => t.gsis.length));
  const indexUnits = measured.measuredGsis > 0 ? (measured.writeUnits.indexes * templateGsis) / measured.measuredGsis : 0;
  const units = measured.writeUnits.table + indexUnits + measured.writeUnits.outcomes;
  add(
    `DynamoDB writes (${units.toFixed(2)} units/event)`,
    `measured; ${templateGsis} GSIs in the template`,
    () => units * PRICES.dynamoDbPerMillionWriteUnits,
  );
  add('SQS sends', 'measured (billed per 64 KB)', () => measured.sqsBilledSends * PRICES.sqsPerMillionRequests);
  add(
    'SQS receives + deletes',
    'assumed: 10 messages per call',
    (s) => (2 / Math.min(s.eventsPerBatch, SQS_MESSAGES_PER_RECEIVE)) * PRICES.sqsPerMillionRequests,
  );
  const receiver = facts.receiver;
  if (receiver !== undefined) {
    add(`receiver requests + duration + INIT (${receiver.memoryMiB} MB)`, 'template memory; assumed 25 ms, 1 % cold', () => {
      const seconds = ASSUMED.receiverWarmSeconds + ASSUMED.receiverColdStartShare * ASSUMED.receiverInitSeconds;
      return PRICES.lambdaPerMillionRequests + M * gbSecond(seconds, receiver.memoryMiB);
    });
  }
  const fanout = facts.fanout;
  if (fanout !== undefined) {
    add(`fan-out requests + duration (${fanout.memoryMiB} MB)`, 'template memory, batch; assumed duration', (s) => {
      const invocations = M / s.eventsPerBatch;
      return (
        (invocations / M) * PRICES.lambdaPerMillionRequests + invocations * gbSecond(ASSUMED.fanoutSecondsFor(s.eventsPerBatch), fanout.memoryMiB)
      );
    });
  }
  if (facts.firehose !== undefined) {
    add('Firehose ingestion', 'measured (records rounded up to 5 KB)', () => ((M * measured.firehoseBilledBytes) / GIB) * PRICES.firehosePerGb);
    add('S3 PUTs by Firehose', `template buffering ${facts.firehose.intervalSeconds} s / ${facts.firehose.sizeMiB} MiB`, (s) => {
      return (archiveObjectsPerMillion(facts, measured, s) / 1000) * PRICES.s3PutPer1000;
    });
    const gzipBytes = measured.archiveGzipBytes ?? A.archiveGzipKb * 1024;
    add(
      'S3 storage, first month',
      measured.archiveGzipBytes === undefined
        ? `assumed ${A.archiveGzipKb} KB gzipped per event`
        : `measured ${fmtInt(gzipBytes)} B gzipped per event`,
      () => ((M * gzipBytes) / GIB) * PRICES.s3StandardPerGbMonth,
    );
    const archive = facts.buckets.find((b) => b.archive);
    if (archive?.encryption === 'SSE-KMS')
      add('KMS requests of the archive bucket', 'template: SSE-KMS without bucket key, 1 per object', (s) => {
        return (archiveObjectsPerMillion(facts, measured, s) / 1e4) * PRICES.kmsPer10000Requests;
      });
  }
  const logLine = (role: LogGroupRole, name: string) => {
    const months = retentionMonths(facts, role);
    add(`CloudWatch Logs: ${name}`, `template log settings; ingested + stored ${fmtMonths(months)}`, (s) => {
      const gb = (M * (logBytesPerEvent(facts, s)[role] ?? 0)) / GIB;
      return gb * (PRICES.cloudWatchLogsIngestPerGb + months * PRICES.cloudWatchLogsStorePerGbMonth);
    });
  };
  logLine('receiver', 'receiver');
  logLine('fanout', 'fan-out');
  logLine('api-access', 'API access log');
  logLine('api-execution', 'API execution log');
  if (facts.secrets > 0)
    add(
      'Secrets Manager calls',
      'assumed: cold starts + every 5 min',
      (s) => (A.secretCallsPerMillionFor(s.eventsPerBatch) / 1e4) * PRICES.secretsManagerPer10000Calls,
    );
  add(
    'X-Ray traces',
    facts.samplingRules[0]
      ? `template sampling rule: ${Number((facts.samplingRules[0].fixedRate * 100).toPrecision(4))} %, reservoir ${facts.samplingRules[0].reservoirSize}/s`
      : 'X-Ray default sampling (no rule)',
    (s) => {
      return tracesPerEvent(facts, s) * PRICES.xrayPerMillionTraces;
    },
  );
  return lines;
}

/** A month of `eventsPerMonth` steady events: the fixed lines, the per-event lines at that shape, and the totals. */
export interface MonthEstimate {
  readonly eventsPerMonth: number;
  readonly shape: TrafficShape;
  /** The fixed lines, a traffic line scaled by the share of hours with events. */
  readonly fixed: readonly FixedLine[];
  /** Each line's cost for the month's events (its per-million figure at the shape, scaled). */
  readonly perEvent: ReadonlyArray<{ readonly line: string; readonly basis: string; readonly perMillion: number; readonly monthly: number }>;
  /** Fixed cost of the month: idle lines, plus the traffic lines when events come in every hour. */
  readonly fixedPerMonth: number;
  readonly eventsCostPerMonth: number;
  readonly perMillion: number;
  readonly totalPerMonth: number;
}

/** The month's bill of `eventsPerMonth` steady events on the template of `facts`. */
export function monthEstimate(facts: TemplateFacts, measured: MeasuredPerEvent, eventsPerMonth: number): MonthEstimate {
  const shape = steadyShape(facts, eventsPerMonth);
  // Metrics are billed by the hours they are published in: every hour, unless fewer events than hours.
  const hoursWithTraffic = Math.min(1, eventsPerMonth / A.hoursPerMonth);
  const fixed = fixedCost(facts).map((l) => (l.when === 'idle' ? l : { ...l, monthly: l.monthly * hoursWithTraffic }));
  const fixedPerMonth = fixed.reduce((s, l) => s + l.monthly, 0);
  const perEvent = perMillionCost(facts, measured, { busy: shape, quiet: shape }).map((l) => ({
    line: l.line,
    basis: l.basis,
    perMillion: l.busy,
    monthly: (l.busy * eventsPerMonth) / 1e6,
  }));
  const eventsCostPerMonth = perEvent.reduce((s, l) => s + l.monthly, 0);
  return {
    eventsPerMonth,
    shape,
    fixed,
    perEvent,
    fixedPerMonth,
    eventsCostPerMonth,
    perMillion: perEvent.reduce((s, l) => s + l.perMillion, 0),
    totalPerMonth: fixedPerMonth + eventsCostPerMonth,
  };
}

/** The whole bill of a template. */
export function bill(facts: TemplateFacts, measured: MeasuredPerEvent): Bill {
  const shapes = trafficShapes(facts);
  const fixed = fixedCost(facts);
  const perMillion = perMillionCost(facts, measured, shapes);
  const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
  const idlePerMonth = sum(fixed.filter((l) => l.when === 'idle').map((l) => l.monthly));
  return {
    fixed,
    idlePerMonth,
    trafficPerMonth: sum(fixed.map((l) => l.monthly)),
    perMillion,
    perMillionTotal: { busy: sum(perMillion.map((l) => l.busy)), quiet: sum(perMillion.map((l) => l.quiet)) },
    shapes,
  };
}

function fmtMonths(months: number): string {
  const m = Number(months.toFixed(1));
  return `${m} month${m === 1 ? '' : 's'}`;
}

function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
