/**
 * AWS requests per event (docs/architecture.md §10: 1 SQS send; 1 DynamoDB write to store and de-duplicate, plus
 * at most 1 to record handler outcomes; 1 Firehose `PutRecordBatch` per fan-out batch; a typical
 * item within 1 KB), and what they cost per million 2 KB events at the prices of docs/cost.md.
 *
 * Runs signed 2 KB events over HTTP through local mode (`startLocalPipeline`, in-process, the
 * registered handlers), counting:
 * - SDK calls by service and operation, with a middleware on local mode's DynamoDB and S3 clients
 *   (each `PutItem` also asks dynalite for its consumed capacity, and its item is sized by AWS's
 *   rules: cli/cost/dynamodb-size.ts);
 * - the receiver's queue sends and the fan-out's archive puts, through local mode's `wrap` hooks
 *   (the local queue and delivery stream stand in for SQS and Firehose); each `putLines` is split
 *   into `PutRecordBatch` calls by the Firehose adapter's own `chunks()`.
 * Three phases: the events; some of them delivered again (Social Plus retries: what de-duplication
 * costs); and, on a second pipeline, events that every one of two extra catch-all handlers takes
 * (the most handler-outcome writes can cost).
 *
 * Alone: `npx tsx bench/aws-requests.ts [--quick] [--events N] [--duplicates N]`; also run by `npm run bench`.
 */
import './lib/quiet-sdk.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toItem } from '../lambda/adapters/dynamodb-store.js';
import { defineHandler, type WebhookEnvelope, type WebhookHandler } from '../lambda/core/define-handler.js';
import { decodeBody, toStoredEvent } from '../lambda/core/fanout.js';
import { handlers as registeredHandlers } from '../lambda/fanout/handlers/index.js';
import type { LocalPipeline, LocalPipelineOptions } from '../local/pipeline.js';
import { hasFlag, presentFlags } from './lib/args.js';
import { runWhenMain } from './lib/bench-main.js';
import { itemSize, writeUnits } from '../cli/cost/dynamodb-size.js';
import { postAll } from './lib/http-send.js';
import { withLocalPipeline } from './lib/local-mode.js';
import { fmt, percentile } from './lib/measure.js';
import { buildPayloads, type SignedPayload } from '../cli/cost/payloads.js';
import { Counter } from './lib/request-counter.js';
import { ASSUMED, COST_TARGET_PER_MILLION, FRONT_DOOR_PER_MILLION, PRICES, SQS_MESSAGES_PER_RECEIVE } from '../cli/cost/prices.js';

const SECRET = 'bench-requests-secret-6d1f';
const EVENT_BYTES = 2048;

export interface AwsRequestsOptions {
  /** Events in the main phase. @default 10000 (2000 with quick) */
  readonly events?: number;
  /** Events delivered a second time. @default 500 (100 with quick) */
  readonly duplicates?: number;
  /** Events of the all-handled phase. @default 1000 (300 with quick) */
  readonly handledEvents?: number;
  readonly quick?: boolean;
}

/** What one phase caused, as counted. */
export interface PhaseCounts {
  readonly deliveries: number;
  /** `${service} ${operation}` → calls, from the SDK middleware. */
  readonly sdk: Readonly<Record<string, number>>;
  readonly queueSends: number;
  /** SQS requests the sends are billed as (one per started 64 KB of message). */
  readonly sqsBilledRequests: number;
  /** Fan-out batches (one archive put each). */
  readonly batches: number;
  readonly archiveLines: number;
  /** `PutRecordBatch` calls the Firehose adapter would make for the same puts. */
  readonly putRecordBatchCalls: number;
  /** Bytes Firehose bills: each record rounded up to 5 KB. */
  readonly firehoseBilledBytes: number;
  readonly archiveLineBytes: readonly number[];
  /** Event store port calls. */
  readonly storePuts: number;
  readonly storeOutcomeWrites: number;
  /** Items written by `PutItem`, sized by AWS's rules. */
  readonly itemBytes: readonly number[];
  /** Write units by AWS's rules: new items (table), their index entries, handler-outcome updates, failed conditional puts. */
  readonly units: {
    readonly table: number;
    readonly indexes: number;
    readonly indexWrites: number;
    readonly outcomes: number;
    readonly duplicates: number;
  };
  /** Write units dynalite reported (ReturnConsumedCapacity INDEXES), where it did. */
  readonly dynaliteUnits: { readonly table: number; readonly indexes: number; readonly reported: number };
  readonly conditionalCheckFailed: number;
}

export interface PhaseResult extends PhaseCounts {
  readonly name: string;
  readonly seconds: number;
  /** Outcome metrics of local mode for the phase (Accepted, Stored, Duplicate, HandlerSucceeded, …). */
  readonly metrics: Readonly<Record<string, number>>;
}

export interface CostLine {
  readonly line: string;
  readonly basis: 'measured' | 'assumed (docs/cost.md)';
  readonly busy: number;
  readonly quiet: number;
}

export interface AwsRequestsResult {
  readonly name: 'aws-requests';
  readonly eventBytes: { readonly median: number; readonly min: number; readonly max: number };
  readonly phases: readonly PhaseResult[];
  /** Items of the fixtures as they are (no growth), sized with the store adapter's own `toItem`. */
  readonly fixtureItems: ReadonlyArray<{ readonly sample: string; readonly bodyBytes: number; readonly itemBytes: number; readonly units: number }>;
  readonly eventsPerBatch: number;
  readonly cost: readonly CostLine[];
  readonly costWithoutTraces: { readonly busy: number; readonly quiet: number };
  readonly costAsDeployed: { readonly busy: number; readonly quiet: number };
  readonly floor: number;
  readonly target: number;
  readonly checks: ReadonlyArray<{ readonly what: string; readonly measured: number; readonly target: number; readonly ok: boolean }>;
}

function diff(after: PhaseCounts, before: PhaseCounts, deliveries: number): PhaseCounts {
  const sdk: Record<string, number> = {};
  for (const [k, v] of Object.entries(after.sdk)) {
    const d = v - (before.sdk[k] ?? 0);
    if (d > 0) sdk[k] = d;
  }
  const sub = <T extends Record<string, number>>(a: T, b: T): T => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)])) as T;
  return {
    deliveries,
    sdk,
    queueSends: after.queueSends - before.queueSends,
    sqsBilledRequests: after.sqsBilledRequests - before.sqsBilledRequests,
    batches: after.batches - before.batches,
    archiveLines: after.archiveLines - before.archiveLines,
    putRecordBatchCalls: after.putRecordBatchCalls - before.putRecordBatchCalls,
    firehoseBilledBytes: after.firehoseBilledBytes - before.firehoseBilledBytes,
    archiveLineBytes: after.archiveLineBytes.slice(before.archiveLineBytes.length),
    storePuts: after.storePuts - before.storePuts,
    storeOutcomeWrites: after.storeOutcomeWrites - before.storeOutcomeWrites,
    itemBytes: after.itemBytes.slice(before.itemBytes.length),
    units: sub(after.units, before.units),
    dynaliteUnits: sub(after.dynaliteUnits, before.dynaliteUnits),
    conditionalCheckFailed: after.conditionalCheckFailed - before.conditionalCheckFailed,
  };
}

/** Two handlers that take every event, for the phase where every event has outcomes to record. */
function catchAllHandlers(): WebhookHandler<WebhookEnvelope>[] {
  return ['bench-catch-all-a', 'bench-catch-all-b'].map(
    (name) => defineHandler({ name, events: ['*'], async handle() {} }) as unknown as WebhookHandler<WebhookEnvelope>,
  );
}

async function withPipeline<T>(
  handlers: readonly WebhookHandler<WebhookEnvelope>[],
  counter: Counter,
  fn: (p: LocalPipeline) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'spw-bench-requests-'));
  try {
    // The queue sends and archive puts, through local mode's hooks; the SDK calls, by middleware.
    const wrap: LocalPipelineOptions['wrap'] = {
      queue: counter.wrapQueue,
      archive: counter.wrapArchive,
      store: counter.wrapStore,
      archiveS3: (client) => {
        counter.instrument(client, 'S3 (archive objects)');
        return client;
      },
    };
    return await withLocalPipeline({ dir, port: 0, secret: SECRET, env: {}, handlers, wrap }, (pipeline) => {
      counter.instrument(pipeline.dynamodb, 'DynamoDB');
      counter.instrument(pipeline.s3, 'S3');
      return fn(pipeline);
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function phase(name: string, pipeline: LocalPipeline, counter: Counter, payloads: readonly SignedPayload[]): Promise<PhaseResult> {
  const before = counter.snapshot();
  const metricsBefore = pipeline.metrics();
  const started = performance.now();
  const sent = await postAll(`${pipeline.url}/webhook`, payloads);
  const rejected = sent.statuses.filter((s) => s !== 200).length;
  if (rejected > 0)
    throw new Error(
      `${name}: ${rejected} of ${payloads.length} requests were not answered 200 (${sent.errors.join('; ') || `statuses ${[...new Set(sent.statuses)].join(', ')}`})`,
    );
  await pipeline.settle();
  const seconds = (performance.now() - started) / 1000;
  const metricsAfter = pipeline.metrics();
  const metrics: Record<string, number> = {};
  for (const [k, v] of Object.entries(metricsAfter)) {
    const d = (v ?? 0) - ((metricsBefore as Record<string, number | undefined>)[k] ?? 0);
    if (d !== 0) metrics[k] = d;
  }
  return { name, seconds, metrics, ...diff(counter.snapshot(), before, payloads.length) };
}

/** Items of the fixtures as they are, through the same decode → stored event → item path as the fan-out. */
function fixtureItems(): AwsRequestsResult['fixtureItems'] {
  const now = new Date('2025-07-02T10:34:03.221Z');
  const seen = new Set<string>();
  return buildPayloads({ count: 200, secret: SECRET, minBytes: 1, maxBytes: 1 })
    .filter((p) => !seen.has(p.sample) && seen.add(p.sample))
    .map((p) => {
      const event = decodeBody(p.body, { messageId: 'm', attributes: { source: 'default', receivedAt: now.toISOString() } }, now);
      const item = toItem(toStoredEvent(event, 90, now));
      const bytes = itemSize(item);
      return { sample: p.sample, bodyBytes: p.body.length, itemBytes: bytes, units: writeUnits(bytes) };
    })
    .sort((a, b) => a.sample.localeCompare(b.sample));
}

function costOf(
  main: PhaseResult,
  eventsPerBatch: number,
): { lines: CostLine[]; withoutTraces: { busy: number; quiet: number }; asDeployed: { busy: number; quiet: number } } {
  const perMillion = (count: number) => (count / main.deliveries) * 1e6;
  const lines: CostLine[] = [];
  const add = (line: string, basis: CostLine['basis'], f: (b: number) => number) => lines.push({ line, basis, busy: f(eventsPerBatch), quiet: f(1) });
  add('API Gateway REST requests (1 per event)', 'measured', () => (perMillion(main.deliveries) / 1e6) * PRICES.apiGatewayRestPerMillion);
  add('WAF requests', 'measured', () => (perMillion(main.deliveries) / 1e6) * PRICES.wafPerMillionRequests);
  add(
    'DynamoDB write units (items, indexes, outcomes)',
    'measured',
    () => (perMillion(main.units.table + main.units.indexes + main.units.outcomes) / 1e6) * PRICES.dynamoDbPerMillionWriteUnits,
  );
  add('SQS sends (billed per 64 KB)', 'measured', () => (perMillion(main.sqsBilledRequests) / 1e6) * PRICES.sqsPerMillionRequests);
  add(
    'SQS receives + deletes by the event source',
    'assumed (docs/cost.md)',
    (b) => (2 / Math.min(b, SQS_MESSAGES_PER_RECEIVE)) * PRICES.sqsPerMillionRequests,
  );
  add('Firehose ingestion (records rounded up to 5 KB)', 'measured', () => (perMillion(main.firehoseBilledBytes) / 2 ** 30) * PRICES.firehosePerGb);
  add(
    'receiver requests + duration + INIT',
    'assumed (docs/cost.md)',
    () =>
      PRICES.lambdaPerMillionRequests +
      1e6 * ASSUMED.receiverWarmSeconds * ASSUMED.receiverMemoryGb * PRICES.lambdaArmPerGbSecond +
      1e6 * ASSUMED.receiverColdStartShare * ASSUMED.receiverInitSeconds * ASSUMED.receiverMemoryGb * PRICES.lambdaArmPerGbSecond,
  );
  add(
    'fan-out requests + duration (per batch)',
    'assumed (docs/cost.md)',
    (b) => (1e6 / b) * (PRICES.lambdaPerMillionRequests / 1e6 + ASSUMED.fanoutSecondsFor(b) * ASSUMED.fanoutMemoryGb * PRICES.lambdaArmPerGbSecond),
  );
  add(
    'S3 PUTs of archive objects by Firehose',
    'assumed (docs/cost.md)',
    (b) => (ASSUMED.archiveObjectsPerMillionFor(b) / 1000) * PRICES.s3PutPer1000,
  );
  add(
    'CloudWatch Logs (ingestion + 30 days)',
    'assumed (docs/cost.md)',
    (b) => ((1e6 * ASSUMED.logKbFor(b)) / 1e6) * (PRICES.cloudWatchLogsIngestPerGb + PRICES.cloudWatchLogsStorePerGbMonth),
  );
  const sum = (k: 'busy' | 'quiet') => lines.reduce((s, l) => s + l[k], 0);
  const withoutTraces = { busy: sum('busy'), quiet: sum('quiet') };
  const traces = (b: number) => ASSUMED.tracesPerEventFor(b) * PRICES.xrayPerMillionTraces;
  return { lines, withoutTraces, asDeployed: { busy: withoutTraces.busy + traces(eventsPerBatch), quiet: withoutTraces.quiet + traces(1) } };
}

/** Runs the benchmark and returns its figures (prints nothing). */
export async function runAwsRequests(opts: AwsRequestsOptions = {}): Promise<AwsRequestsResult> {
  const quick = opts.quick ?? false;
  const events = opts.events ?? (quick ? 2000 : 10_000);
  const duplicates = Math.min(opts.duplicates ?? (quick ? 100 : 500), events);
  const handledEvents = opts.handledEvents ?? (quick ? 300 : 1000);
  const payloads = buildPayloads({ count: events + handledEvents, secret: SECRET, minBytes: EVENT_BYTES, maxBytes: EVENT_BYTES, seed: 7 });
  const main = payloads.slice(0, events);
  const handled = payloads.slice(events);
  const sizes = main.map((p) => p.body.length);

  const counter = new Counter();
  const [first, again] = await withPipeline(
    registeredHandlers,
    counter,
    async (p) =>
      [
        await phase(`${fmt(events)} events, registered handlers`, p, counter, main),
        await phase(`${fmt(duplicates)} of them delivered again`, p, counter, main.slice(0, duplicates)),
      ] as const,
  );
  const third = await withPipeline([...registeredHandlers, ...catchAllHandlers()], counter, (p) =>
    phase(`${fmt(handledEvents)} events, 2 more handlers taking every event`, p, counter, handled),
  );

  const eventsPerBatch = first.archiveLines / Math.max(1, first.batches);
  const cost = costOf(first, eventsPerBatch);
  const per1000 = (n: number, phaseResult: PhaseResult) => (n / phaseResult.deliveries) * 1000;
  const typicalUnits = writeUnits(
    percentile(
      fixtureItems().map((f) => f.itemBytes),
      50,
    ),
  );
  const checks = [
    { what: 'SQS sends per 1,000 events', measured: per1000(first.queueSends, first), target: 1000 },
    { what: 'DynamoDB writes to store + de-duplicate per 1,000 events', measured: per1000(first.storePuts, first), target: 1000 },
    { what: 'DynamoDB writes per 1,000 duplicate deliveries', measured: per1000(again.storePuts + again.storeOutcomeWrites, again), target: 1000 },
    { what: 'handler-outcome writes per 1,000 events, every event handled twice', measured: per1000(third.storeOutcomeWrites, third), target: 1000 },
    { what: 'PutRecordBatch calls per fan-out batch', measured: first.putRecordBatchCalls / Math.max(1, first.batches), target: 1 },
    { what: "write units of a typical event's item (median fixture)", measured: typicalUnits, target: 1 },
    { what: "write units of a 2 KB event's item (median)", measured: writeUnits(percentile(first.itemBytes, 50)), target: 1 },
  ].map((c) => ({ ...c, ok: c.measured <= c.target }));
  return {
    name: 'aws-requests',
    eventBytes: { median: percentile(sizes, 50), min: Math.min(...sizes), max: Math.max(...sizes) },
    phases: [first, again, third],
    fixtureItems: fixtureItems(),
    eventsPerBatch,
    cost: cost.lines,
    costWithoutTraces: cost.withoutTraces,
    costAsDeployed: cost.asDeployed,
    floor: FRONT_DOOR_PER_MILLION,
    target: COST_TARGET_PER_MILLION,
    checks,
  };
}

/** Human-readable lines for a result. */
export function formatAwsRequests(res: AwsRequestsResult): string {
  const [main] = res.phases as [PhaseResult];
  const lines = [
    `aws-requests: signed ${fmt(res.eventBytes.median)} B events (${fmt(res.eventBytes.min)}–${fmt(res.eventBytes.max)}) over HTTP through local mode; counts per 1,000 deliveries`,
  ];
  for (const p of res.phases) {
    const k = (n: number) => fmt((n / p.deliveries) * 1000, 1);
    lines.push(`  ${p.name} (${fmt(p.seconds, 1)} s):`);
    lines.push(`    receiver → queue: ${k(p.queueSends)} SQS sends (${k(p.sqsBilledRequests)} billed requests)`);
    lines.push(
      `    fan-out: ${fmt(p.batches)} batches (${fmt(p.archiveLines / Math.max(1, p.batches), 1)} events each), ${fmt(p.putRecordBatchCalls / Math.max(1, p.batches), 2)} PutRecordBatch per batch; ${k(p.archiveLines)} archive records`,
    );
    lines.push(
      `    store: ${k(p.storePuts)} conditional puts (${k(p.conditionalCheckFailed)} found a duplicate), ${k(p.storeOutcomeWrites)} handler-outcome updates`,
    );
    lines.push(
      `    write units (AWS rules): items ${k(p.units.table)}, index entries ${k(p.units.indexes)} (${k(p.units.indexWrites)} index writes), outcomes ${k(p.units.outcomes)}, failed conditions ${k(p.units.duplicates)}; dynalite reported ${p.dynaliteUnits.reported > 0 ? `table ${k(p.dynaliteUnits.table)}, indexes ${k(p.dynaliteUnits.indexes)}` : 'none'}`,
    );
    lines.push(
      `    SDK calls: ${
        Object.entries(p.sdk)
          .sort((a, b) => b[1] - a[1])
          .map(([op, n]) => `${op} ${k(n)}`)
          .join(', ') || 'none'
      }`,
    );
    lines.push(
      `    local mode counted: ${Object.entries(p.metrics)
        .map(([m, n]) => `${m} ${fmt(n)}`)
        .join(', ')}`,
    );
  }
  const ib = main.itemBytes;
  const within = ib.filter((b) => b <= 1024).length;
  lines.push(
    `  items of ${fmt(res.eventBytes.median)} B events: median ${fmt(percentile(ib, 50))} B, p90 ${fmt(percentile(ib, 90))} B, max ${fmt(Math.max(...ib))} B; ${fmt((within / ib.length) * 100, 1)} % within 1 KB; archive lines median ${fmt(percentile(main.archiveLineBytes, 50))} B`,
  );
  lines.push(
    `  items of the fixtures as they are (body B → item B, write units): ${res.fixtureItems.map((f) => `${f.sample} ${fmt(f.bodyBytes)}→${fmt(f.itemBytes)} (${f.units})`).join(', ')}`,
  );
  lines.push('  targets (docs/architecture.md §10):');
  for (const c of res.checks)
    lines.push(
      `    ${c.what.padEnd(72)} ${fmt(c.measured, c.measured % 1 === 0 ? 0 : 2).padStart(8)}  target ≤ ${fmt(c.target)}  ratio ${(c.measured / c.target).toFixed(2)} ${c.ok ? 'OK' : 'ABOVE TARGET'}`,
    );
  lines.push(
    `  cost per million ${fmt(res.eventBytes.median)} B events, prices of docs/cost.md; busy = ${fmt(res.eventsPerBatch, 1)} events per fan-out batch (as measured), quiet = 1:`,
  );
  for (const c of res.cost)
    lines.push(`    ${c.line.padEnd(50)} ${`$${c.busy.toFixed(3)}`.padStart(8)} ${`$${c.quiet.toFixed(3)}`.padStart(8)}  ${c.basis}`);
  const t = res.costWithoutTraces;
  const d = res.costAsDeployed;
  lines.push(
    `    ${'total without X-Ray'.padEnd(50)} ${`$${t.busy.toFixed(2)}`.padStart(8)} ${`$${t.quiet.toFixed(2)}`.padStart(8)}  floor (front door) $${res.floor.toFixed(2)}: ratio ${(t.busy / res.floor).toFixed(2)} busy, ${(t.quiet / res.floor).toFixed(2)} quiet; target ≤ $${res.target.toFixed(2)} ${t.busy <= res.target ? 'OK' : 'ABOVE TARGET'} busy, ${t.quiet <= res.target ? 'OK' : 'ABOVE TARGET'} quiet`,
  );
  lines.push(
    `    ${'total as deployed (X-Ray traces on)'.padEnd(50)} ${`$${d.busy.toFixed(2)}`.padStart(8)} ${`$${d.quiet.toFixed(2)}`.padStart(8)}  ratio to the floor ${(d.busy / res.floor).toFixed(2)} busy, ${(d.quiet / res.floor).toFixed(2)} quiet`,
  );
  return lines.join('\n');
}

/** CLI flags shared with bench/run.ts. */
export function awsRequestsOptionsFromArgs(args: readonly string[]): AwsRequestsOptions {
  return { ...presentFlags(args, { events: '--events', duplicates: '--duplicates' }), quick: hasFlag(args, '--quick') };
}

runWhenMain(import.meta.url, { name: 'aws-requests', optionsFromArgs: awsRequestsOptionsFromArgs, run: runAwsRequests, format: formatAwsRequests });
