/**
 * The bill, from the template (docs/cost.md): for each configuration profile, synthesizes the stack,
 * reads the facts that drive cost from its template (cli/cost/template-facts.ts: web ACL rules,
 * alarms, dashboards, keys, secrets, sampling rules, log settings, memory, batching, buffering),
 * measures the per-event figures (write units, SQS and Firehose billed sizes) with a short run of
 * the requests-per-event benchmark (bench/aws-requests.ts), and prices both (cli/cost/model.ts):
 * the fixed cost of a month when idle and the cost of a million 2 KB events busy (full fan-out
 * batches) and quiet (one event per batch), line by line. The `lean` profile's three figures are
 * printed against its targets (docs/cost.md, "Targets"); a figure that misses is reported, not failed.
 *
 * Alone: `npx tsx bench/cost.ts [--quick] [--events N]`; also run by `npm run bench`.
 */
import './lib/quiet-sdk.js';
import { TABLE } from '../lambda/common/table-schema.js';
import { runAwsRequests } from './aws-requests.js';
import { hasFlag, presentFlags } from './lib/args.js';
import { runWhenMain } from './lib/bench-main.js';
import { bill, type Bill, type MeasuredPerEvent } from '../cli/cost/model.js';
import { fmt, percentile } from './lib/measure.js';
import { LEAN_TARGETS } from '../cli/cost/prices.js';
import { PROFILES, synthProfile, type Profile } from '../cli/cost/template.js';
import { templateFacts, type FunctionFacts, type TemplateFacts } from '../cli/cost/template-facts.js';
import { errorMessage } from '../lambda/core/errors.js';

export interface CostOptions {
  /** Events of the measuring run. @default 4000 (1000 with quick) */
  readonly events?: number;
  readonly quick?: boolean;
}

/** One profile's bill, or why there is none. */
export interface ProfileBill {
  readonly profile: Profile;
  /** Why it was not computed (the synthesis failed). */
  readonly error?: string;
  readonly synthSeconds?: number;
  readonly facts?: TemplateFacts;
  readonly bill?: Bill;
}

export interface CostCheck {
  readonly what: string;
  readonly figure: number;
  readonly target: number;
  readonly ok: boolean;
}

export interface CostResult {
  readonly name: 'cost';
  readonly measuredEvents: number;
  readonly measured: MeasuredPerEvent;
  readonly profiles: readonly ProfileBill[];
  /** The lean profile's figures against its targets (empty when it could not be synthesized). */
  readonly checks: readonly CostCheck[];
}

/** The per-event figures of a short requests-per-event run (its main phase only). */
export async function measurePerEvent(events: number): Promise<MeasuredPerEvent> {
  const res = await runAwsRequests({ events, duplicates: 1, handledEvents: 1 });
  const main = res.phases[0];
  if (main === undefined || main.deliveries === 0) throw new Error('the requests-per-event run delivered no events');
  const per = (n: number) => n / main.deliveries;
  return {
    writeUnits: { table: per(main.units.table), indexes: per(main.units.indexes), outcomes: per(main.units.outcomes) },
    measuredGsis: Object.values(TABLE).filter((v) => typeof v === 'object' && 'indexName' in v).length,
    sqsBilledSends: per(main.sqsBilledRequests),
    firehoseBilledBytes: per(main.firehoseBilledBytes),
    archiveLineBytes: percentile(main.archiveLineBytes, 50),
  };
}

function profileBill(profile: Profile, measured: MeasuredPerEvent): ProfileBill {
  try {
    const synth = synthProfile(profile);
    const facts = templateFacts(synth.template);
    return { profile, synthSeconds: synth.synthMs / 1000, facts, bill: bill(facts, measured) };
  } catch (err) {
    return { profile, error: errorMessage(err) };
  }
}

/** Runs the benchmark and returns its figures (prints nothing). */
export async function runCost(opts: CostOptions = {}): Promise<CostResult> {
  const events = opts.events ?? (opts.quick ? 1000 : 4000);
  const measured = await measurePerEvent(events);
  const profiles = PROFILES.map((p) => profileBill(p, measured));
  const lean = profiles.find((p) => p.profile === 'lean')?.bill;
  const checks =
    lean === undefined
      ? []
      : [
          { what: 'per million 2 KB events, busy (full fan-out batches)', figure: lean.perMillionTotal.busy, target: LEAN_TARGETS.busyPerMillion },
          { what: 'per million 2 KB events, quiet (1 event per batch)', figure: lean.perMillionTotal.quiet, target: LEAN_TARGETS.quietPerMillion },
          { what: 'fixed per month, idle', figure: lean.idlePerMonth, target: LEAN_TARGETS.idlePerMonth },
        ].map((c) => ({ ...c, ok: c.figure <= c.target }));
  return { name: 'cost', measuredEvents: events, measured, profiles, checks };
}

const usd = (n: number, decimals = 3) => `$${n.toFixed(decimals)}`;

function describeFunction(name: string, fn: FunctionFacts | undefined): string {
  if (fn === undefined) return `${name} not found`;
  return `${name} ${fn.memoryMiB} MB, logs ${fn.logFormat} system ${fn.systemLogLevel} application ${fn.applicationLogLevel ?? '(unset)'}`;
}

/** One line per fact group the bill reads. */
function describeFacts(f: TemplateFacts): string[] {
  const retention = [...new Set(f.logGroups.map((g) => g.retentionDays ?? 'never'))].join('/');
  const traced = Object.entries(f.tracing)
    .filter(([, on]) => on)
    .map(([k]) => k);
  const rules = f.samplingRules.map((r) => `fixed rate ${r.fixedRate}, reservoir ${r.reservoirSize}`).join('; ') || 'none (X-Ray default 1/s + 5 %)';
  const es = f.eventSource;
  return [
    `${f.webAcls.count} web ACL(s) with ${f.webAcls.rules} rule(s); ${f.alarms.count} alarms (${f.alarms.standardMetrics} standard, ${f.alarms.highResolutionMetrics} high-resolution metrics); ${f.dashboards} dashboard(s); ${f.kmsKeys} KMS key(s); ${f.secrets} secret(s); ${f.metricFilters} metric filters`,
    `X-Ray on: ${traced.join(', ') || 'nothing'}; sampling rules: ${rules}`,
    `API: ${f.api.methods} methods, detailed metrics ${f.api.metricsEnabled ? 'on' : 'off'}, execution logs ${f.api.loggingLevel}${f.api.dataTraceEnabled ? ' + data trace' : ''}, access log format ${fmt(f.api.accessLogFormatChars)} chars`,
    `${describeFunction('receiver', f.receiver)}; ${describeFunction('fan-out', f.fanout)}`,
    `event source: batch ${es?.batchSize ?? '-'}, window ${es?.windowSeconds ?? '-'} s, max concurrency ${es?.maxConcurrency ?? '-'}; table GSIs: ${f.tables.map((t) => t.gsis.map((g) => `${g.name} (${g.projection})`).join(', ') || 'none').join('; ')}`,
    `log groups: ${f.logGroups.length}, retention ${retention} days, ${f.logGroups.filter((g) => g.kms).length} with a customer key; buckets: ${f.buckets.map((b) => `${b.archive ? 'archive ' : ''}${b.encryption}`).join(', ')}; Firehose ${f.firehose ? `${f.firehose.intervalSeconds} s / ${f.firehose.sizeMiB} MiB ${f.firehose.compression}` : 'none'}`,
  ];
}

function formatProfile(p: ProfileBill): string[] {
  if (p.bill === undefined || p.facts === undefined) return [`  profile ${p.profile}: not computed: ${p.error ?? 'no template'}`];
  const b = p.bill;
  const lines = [`  profile ${p.profile} (synthesized in ${fmt(p.synthSeconds ?? 0, 1)} s)`];
  lines.push('    template:', ...describeFacts(p.facts).map((l) => `      ${l}`));
  lines.push('    fixed, per month:');
  for (const l of b.fixed)
    lines.push(`      ${l.line.padEnd(50)} ${usd(l.monthly, 2).padStart(7)}  ${l.when === 'idle' ? 'idle too' : 'hours with traffic'}: ${l.detail}`);
  lines.push(`      ${'total when idle'.padEnd(50)} ${usd(b.idlePerMonth, 2).padStart(7)}`);
  lines.push(`      ${'total with traffic in every hour'.padEnd(50)} ${usd(b.trafficPerMonth, 2).padStart(7)}`);
  const { busy, quiet } = b.shapes;
  lines.push(
    `    per million 2 KB events: busy = ${fmt(busy.eventsPerBatch)} per fan-out batch at ${fmt(busy.eventsPerSecond)}/s; quiet = 1 per batch, 1 M a month (${fmt(quiet.eventsPerSecond, 2)}/s):`,
  );
  lines.push(`      ${''.padEnd(50)} ${'busy'.padStart(8)} ${'quiet'.padStart(8)}`);
  for (const l of b.perMillion) lines.push(`      ${l.line.padEnd(50)} ${usd(l.busy).padStart(8)} ${usd(l.quiet).padStart(8)}  ${l.basis}`);
  lines.push(`      ${'total'.padEnd(50)} ${usd(b.perMillionTotal.busy, 2).padStart(8)} ${usd(b.perMillionTotal.quiet, 2).padStart(8)}`);
  return lines;
}

/** Human-readable lines for a result. */
export function formatCost(res: CostResult): string {
  const m = res.measured;
  const lines = [
    `cost: the bill from each profile's synthesized template, prices of docs/cost.md; per event measured over ${fmt(res.measuredEvents)} 2 KB events through local mode:`,
    `  write units: items ${m.writeUnits.table.toFixed(2)}, index entries ${m.writeUnits.indexes.toFixed(2)} (${m.measuredGsis} GSIs), outcomes ${m.writeUnits.outcomes.toFixed(2)}; SQS billed sends ${m.sqsBilledSends.toFixed(2)}; Firehose billed ${fmt(m.firehoseBilledBytes)} B; archive line median ${fmt(m.archiveLineBytes)} B`,
  ];
  for (const p of res.profiles) lines.push(...formatProfile(p));
  if (res.checks.length > 0) {
    lines.push('  targets of the lean profile (docs/cost.md, "Targets"; X-Ray on as deployed):');
    for (const c of res.checks)
      lines.push(
        `    ${c.what.padEnd(56)} ${usd(c.figure, 2).padStart(8)}  target ≤ ${usd(c.target, 2)}  ratio ${(c.figure / c.target).toFixed(2)} ${c.ok ? 'OK' : 'ABOVE TARGET'}`,
      );
  }
  return lines.join('\n');
}

/** CLI flags shared with bench/run.ts. */
export function costOptionsFromArgs(args: readonly string[]): CostOptions {
  return { ...presentFlags(args, { events: '--events' }), quick: hasFlag(args, '--quick') };
}

runWhenMain(import.meta.url, {
  name: 'cost',
  optionsFromArgs: costOptionsFromArgs,
  run: runCost,
  format: formatCost,
  // A profile the configuration has but that does not synthesize is a failure to run.
  failed: (res) => res.profiles.some((p) => p.error !== undefined),
});
