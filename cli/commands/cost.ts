/**
 * `socialplus-webhooks cost`: what a month of your traffic would cost, before you deploy. The same
 * model as the cost benchmark (docs/cost.md): the fixed lines come from the stack's synthesized
 * template (your cdk.json configuration, or another profile), the per-event units from this code
 * run on sample events of the size you name with your registered handlers (cli/cost/per-event.ts),
 * and the prices are docs/cost.md's (us-east-1 list prices, free tiers ignored).
 */
import type { Command } from 'commander';
import { handlers as registeredHandlers } from '../../lambda/fanout/handlers/index.js';
import { errorMessage } from '../../lambda/core/errors.js';
import { STORE_MAX_INLINE_PAYLOAD_BYTES } from '../../lambda/core/limits.js';
import { monthEstimate, steadyShape, type MeasuredPerEvent, type MonthEstimate } from '../cost/model.js';
import { perEventFigures } from '../cost/per-event.js';
import { PROFILES, synthTemplate, type Profile } from '../cost/template.js';
import { templateFacts } from '../cost/template-facts.js';
import { CliError } from '../errors.js';

/** The largest event the model prices: above it the receiver claim-checks bodies through S3, which it does not price. */
export const MAX_PRICED_KB = 200;
const MAX_EVENTS_PER_MONTH = 1e11;

export interface CostOptions {
  readonly eventsPerMonth?: string;
  readonly avgKb?: string;
  readonly profile?: string;
  readonly json?: boolean;
}

/** What `cost` answers (its `--json` object). */
export interface CostAnswer {
  readonly profile: Profile;
  readonly avgKb: number;
  readonly perEvent: MeasuredPerEvent;
  readonly estimate: MonthEstimate;
}

/** `--events-per-month`: a whole number, digits grouped with `,` or `_` allowed, or a power of ten like `1e6`. */
export function parseEventsPerMonth(raw: string | undefined): number {
  if (raw === undefined) return 1_000_000;
  const text = raw.trim().replace(/[,_]/g, '');
  const n = /^\d+$/.test(text) || /^\d+(\.\d+)?e\d+$/i.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_EVENTS_PER_MONTH)
    throw new CliError(`--events-per-month must be a whole number of events from 1 to ${MAX_EVENTS_PER_MONTH.toExponential()}, got '${raw}'`);
  return n;
}

/** `--avg-kb`: the average event body in KB (1,024 bytes), above 0 and at most {@link MAX_PRICED_KB}. */
export function parseAvgKb(raw: string | undefined): number {
  if (raw === undefined) return 2;
  const n = /^\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!(n > 0) || n < 0.25)
    throw new CliError(`--avg-kb must be a number of KB from 0.25 to ${MAX_PRICED_KB} (a Social Plus event is rarely under 0.5 KB), got '${raw}'`);
  if (n > MAX_PRICED_KB)
    throw new CliError(
      `--avg-kb ${raw}: events above ${MAX_PRICED_KB} KB are claim-checked through S3 and stored by reference (above ${Math.round(STORE_MAX_INLINE_PAYLOAD_BYTES / 1000)} KB compressed), which the model does not price; docs/cost.md says what they add`,
    );
  return n;
}

/** `--profile`: one of the configuration profiles; absent, cdk.json's. */
export function parseProfile(raw: string | undefined): Profile | undefined {
  if (raw === undefined) return undefined;
  if (!(PROFILES as readonly string[]).includes(raw)) throw new CliError(`--profile must be one of ${PROFILES.join(', ')}, got '${raw}'`);
  return raw as Profile;
}

/** Computes the answer (prints nothing). */
export async function estimateCost(opts: CostOptions): Promise<CostAnswer> {
  const eventsPerMonth = parseEventsPerMonth(opts.eventsPerMonth);
  const avgKb = parseAvgKb(opts.avgKb);
  const profile = parseProfile(opts.profile);
  let synthesized;
  try {
    synthesized = synthTemplate(profile);
  } catch (err) {
    throw new CliError(`the stack does not synthesize with cdk.json's configuration: ${errorMessage(err)}`);
  }
  const facts = templateFacts(synthesized.template);
  const shape = steadyShape(facts, eventsPerMonth);
  const perEvent = await perEventFigures({
    eventBytes: Math.round(avgKb * 1024),
    eventsPerBatch: shape.eventsPerBatch,
    handlers: registeredHandlers,
  });
  return { profile: synthesized.profile, avgKb, perEvent, estimate: monthEstimate(facts, perEvent, eventsPerMonth) };
}

const usd = (n: number) => `$${n < 10 ? n.toFixed(2) : n.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const int = (n: number) => Math.round(n).toLocaleString('en-US');

/** The human-readable answer. */
export function formatCost(a: CostAnswer): string {
  const e = a.estimate;
  const rate = e.shape.eventsPerSecond < 10 ? e.shape.eventsPerSecond.toFixed(2) : int(e.shape.eventsPerSecond);
  const width = Math.max(44, ...e.fixed.map((l) => l.line.length), ...e.perEvent.map((l) => l.line.length)) + 2;
  const row = (line: string, amount: number, note: string) => `  ${line.padEnd(width)}${usd(amount).padStart(10)}  ${note}`;
  const out = [
    `profile ${a.profile}: ${int(e.eventsPerMonth)} events a month of ${a.avgKb} KB (${rate} a second, ${e.shape.eventsPerBatch.toFixed(1)} per fan-out batch)`,
    '',
    'fixed, per month:',
    ...e.fixed.map((l) => row(l.line, l.monthly, l.detail)),
    row('fixed total', e.fixedPerMonth, ''),
    '',
    `the events (${usd(e.perMillion)} per million):`,
    ...e.perEvent.map((l) => row(l.line, l.monthly, l.basis)),
    row('events total', e.eventsCostPerMonth, ''),
    '',
    row('per month', e.totalPerMonth, ''),
    '',
    `Per event, from this code on sample ${a.avgKb} KB events and your registered handlers: ${a.perEvent.writeUnits.table.toFixed(2)} item write units, ${a.perEvent.writeUnits.indexes.toFixed(2)} index, ${a.perEvent.writeUnits.outcomes.toFixed(2)} outcome; archive line ${int(a.perEvent.archiveLineBytes)} B.`,
    'Prices: us-east-1 list prices, free tiers ignored; durations, logs and traces as docs/cost.md assumes. Not priced: the example',
    "handlers' own table, Athena queries, data transfer out, and what your handlers call. docs/cost.md explains each line.",
  ];
  return out.join('\n');
}

/** Registers `cost`. */
export function registerCost(program: Command): void {
  program
    .command('cost')
    .description('what a month of your traffic costs on AWS, line by line, from the stack your configuration synthesizes (no AWS account needed)')
    .option('--events-per-month <n>', 'events a month, steady (default 1,000,000)')
    .option('--avg-kb <k>', 'the average event body in KB (default 2)')
    .option('--profile <name>', `price another configuration profile (${PROFILES.join(', ')}); default: cdk.json's`)
    .option('--json', 'print exactly one JSON object on stdout')
    .addHelpText(
      'after',
      `
Synthesizes the stack offline (a few seconds) and runs sample events through the receiver and the
fan-out in this process; nothing is sent anywhere. Change cdk.json's context to price another
configuration.`,
    )
    .action(async (opts: CostOptions) => {
      const answer = await estimateCost(opts);
      process.stdout.write(opts.json ? `${JSON.stringify(answer, null, 2)}\n` : `${formatCost(answer)}\n`);
    });
}
