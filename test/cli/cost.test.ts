/**
 * `socialplus-webhooks cost`: its flags, the month it computes (cli/cost/model.ts `monthEstimate`)
 * against the cost benchmark's bill of the same template, the per-event units it computes from the
 * product's code (cli/cost/per-event.ts) against what local mode and dynalite measure for the same
 * events (bench/cost.ts), and a run through the CLI entry.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { measurePerEvent } from '../../bench/cost.js';
import { parseAvgKb, parseEventsPerMonth, parseProfile, type CostAnswer } from '../../cli/commands/cost.js';
import { bill, fixedCost, monthEstimate, steadyShape, type MeasuredPerEvent } from '../../cli/cost/model.js';
import { perEventFigures } from '../../cli/cost/per-event.js';
import { synthProfile } from '../../cli/cost/template.js';
import { templateFacts, type TemplateFacts } from '../../cli/cost/template-facts.js';
import { handlers as registeredHandlers } from '../../lambda/fanout/handlers/index.js';
import { runCli } from './run-cli.js';

const HOURS = 730;

describe('cost: flags', () => {
  it('reads events a month as a whole number, grouped or as a power of ten', () => {
    expect(parseEventsPerMonth(undefined)).toBe(1_000_000);
    expect(parseEventsPerMonth('250000')).toBe(250_000);
    expect(parseEventsPerMonth('2,500,000')).toBe(2_500_000);
    expect(parseEventsPerMonth('3_000')).toBe(3000);
    expect(parseEventsPerMonth('1e6')).toBe(1_000_000);
    expect(parseEventsPerMonth('2.5e6')).toBe(2_500_000);
  });

  it.each(['0', '-5', '1.5', 'many', '1e12', ''])('refuses --events-per-month %j, naming it', (raw) => {
    expect(() => parseEventsPerMonth(raw)).toThrow(`--events-per-month must be a whole number of events from 1 to 1e+11, got '${raw}'`);
  });

  it('reads the average size in KB, and refuses sizes it cannot price, saying why', () => {
    expect(parseAvgKb(undefined)).toBe(2);
    expect(parseAvgKb('0.5')).toBe(0.5);
    expect(parseAvgKb('200')).toBe(200);
    for (const raw of ['0', '0.1', 'big', '-2', '2kb']) expect(() => parseAvgKb(raw)).toThrow(`--avg-kb must be a number of KB from 0.25 to 200`);
    expect(() => parseAvgKb('300')).toThrow(/--avg-kb 300: events above 200 KB are claim-checked through S3/);
  });

  it('takes a known profile, or none (cdk.json decides)', () => {
    expect(parseProfile(undefined)).toBeUndefined();
    expect(parseProfile('hardened')).toBe('hardened');
    expect(() => parseProfile('cheap')).toThrow("--profile must be one of lean, hardened, got 'cheap'");
  });
});

describe('cost: the month of a template', () => {
  let facts: TemplateFacts;
  beforeAll(() => {
    facts = templateFacts(synthProfile('lean').template);
  }, 60_000);

  const perEvent: MeasuredPerEvent = {
    writeUnits: { table: 2, indexes: 2, outcomes: 0.5 },
    measuredGsis: 2,
    sqsBilledSends: 1,
    firehoseBilledBytes: 5120,
    archiveLineBytes: 2500,
    archiveGzipBytes: 400,
  };

  it('batches what arrives in the batching window: one event when quiet, the batch size when busy', () => {
    const es = facts.eventSource!;
    expect(steadyShape(facts, 1_000_000)).toEqual({ eventsPerSecond: 1e6 / (HOURS * 3600), eventsPerBatch: 1 });
    const busy = steadyShape(facts, 1e10);
    expect(busy.eventsPerBatch).toBe(es.batchSize);
    const between = 5 * HOURS * 3600;
    expect(steadyShape(facts, between).eventsPerBatch).toBeCloseTo(Math.min(es.batchSize, Math.max(1, 5 * es.windowSeconds)), 10);
  });

  it('is the benchmark’s quiet bill at a million events a month: same fixed lines, same per-million lines', () => {
    const month = monthEstimate(facts, perEvent, 1_000_000);
    const benchBill = bill(facts, perEvent);
    expect(month.perEvent.map((l) => [l.line, l.perMillion])).toEqual(benchBill.perMillion.map((l) => [l.line, l.quiet]));
    expect(month.perMillion).toBeCloseTo(benchBill.perMillionTotal.quiet, 10);
    expect(month.eventsCostPerMonth).toBeCloseTo(benchBill.perMillionTotal.quiet, 10);
    expect(month.fixedPerMonth).toBeCloseTo(benchBill.trafficPerMonth, 10);
    expect(month.totalPerMonth).toBeCloseTo(benchBill.trafficPerMonth + benchBill.perMillionTotal.quiet, 10);
    expect(month.perEvent.find((l) => l.line === 'S3 storage, first month')?.basis).toBe('measured 400 B gzipped per event');
  });

  it('scales the events’ lines with the volume and bills published metrics only in the hours with events', () => {
    const few = monthEstimate(facts, perEvent, 365);
    const idle = fixedCost(facts).filter((l) => l.when === 'idle');
    const traffic = fixedCost(facts).filter((l) => l.when === 'traffic');
    expect(traffic.length).toBeGreaterThan(0);
    const sum = (ls: readonly { monthly: number }[]) => ls.reduce((s, l) => s + l.monthly, 0);
    expect(few.fixedPerMonth).toBeCloseTo(sum(idle) + sum(traffic) * (365 / HOURS), 10);
    const a = monthEstimate(facts, perEvent, 200_000);
    const b = monthEstimate(facts, perEvent, 400_000);
    // Same shape (one event per batch) at both volumes: each line costs twice as much, except
    // Firehose's objects, one per buffer interval whatever the volume while the buffer never fills.
    expect(a.shape.eventsPerBatch).toBe(1);
    expect(b.shape.eventsPerBatch).toBe(1);
    const PER_INTERVAL = 'S3 PUTs by Firehose';
    const monthly = (m: typeof a, line: string) => m.perEvent.find((l) => l.line === line)?.monthly;
    for (const l of a.perEvent.filter((x) => x.line !== PER_INTERVAL)) expect(monthly(b, l.line), l.line).toBeCloseTo(2 * l.monthly, 10);
    const interval = facts.firehose!.intervalSeconds;
    expect(monthly(a, PER_INTERVAL)).toBeCloseTo(((HOURS * 3600) / interval / 1000) * 0.005, 10);
    expect(monthly(b, PER_INTERVAL)).toBeCloseTo(monthly(a, PER_INTERVAL)!, 10);
    expect(b.fixedPerMonth).toBe(a.fixedPerMonth);
  });
});

describe('cost: the units of one event, from the code', () => {
  it('are what local mode and dynalite measure for the same 2 KB events', async () => {
    // The benchmark's measurement runs the same seeded sample events through local mode over HTTP.
    const measured = await measurePerEvent(200);
    const computed = await perEventFigures({ eventBytes: 2048, eventsPerBatch: 1, handlers: registeredHandlers, samples: 200 });
    expect(computed.writeUnits.table).toBeCloseTo(measured.writeUnits.table, 5);
    expect(computed.writeUnits.indexes).toBeCloseTo(measured.writeUnits.indexes, 5);
    expect(computed.writeUnits.outcomes).toBeCloseTo(measured.writeUnits.outcomes, 5);
    expect(computed.sqsBilledSends).toBe(measured.sqsBilledSends);
    expect(computed.firehoseBilledBytes).toBe(measured.firehoseBilledBytes);
    expect(computed.archiveLineBytes).toBe(measured.archiveLineBytes);
  }, 120_000);

  it('grow with the event: a 20 KB event needs more item units, Firehose bills more, the index entries stay small', async () => {
    const small = await perEventFigures({ eventBytes: 2048, eventsPerBatch: 10, handlers: registeredHandlers, samples: 40 });
    const large = await perEventFigures({ eventBytes: 20 * 1024, eventsPerBatch: 10, handlers: registeredHandlers, samples: 40 });
    expect(large.writeUnits.table).toBeGreaterThan(small.writeUnits.table + 1);
    expect(large.firehoseBilledBytes).toBeGreaterThanOrEqual(4 * small.firehoseBilledBytes);
    expect(large.writeUnits.indexes).toBeCloseTo(small.writeUnits.indexes, 1);
    expect(large.archiveGzipBytes!).toBeGreaterThan(small.archiveGzipBytes!);
    expect(small.archiveGzipBytes!).toBeLessThan(small.archiveLineBytes);
  });

  it('are the same on every run (seeded samples, fixed clock)', async () => {
    const run = () => perEventFigures({ eventBytes: 3000, eventsPerBatch: 5, handlers: registeredHandlers, samples: 30 });
    expect(await run()).toEqual(await run());
  });
});

describe('socialplus-webhooks cost (through the CLI entry)', () => {
  it('prints the month of the configured stack as one JSON object', async () => {
    const r = await runCli(['cost', '--events-per-month', '3,000,000', '--avg-kb', '16', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.stdout) as CostAnswer;
    expect(answer.profile).toBe('lean');
    expect(answer.avgKb).toBe(16);
    expect(answer.estimate.eventsPerMonth).toBe(3_000_000);
    const lines = answer.estimate.perEvent.map((l) => l.line);
    expect(lines).toContain('API Gateway REST requests');
    expect(answer.estimate.perEvent.find((l) => l.line === 'API Gateway REST requests')?.monthly).toBeCloseTo(3 * 3.5, 10);
    expect(answer.estimate.totalPerMonth).toBeCloseTo(answer.estimate.fixedPerMonth + answer.estimate.eventsCostPerMonth, 10);
    // A 16 KB event's item takes more than the 2 units of a 2 KB one.
    expect(answer.perEvent.writeUnits.table).toBeGreaterThan(2);
  }, 120_000);

  it('prices the hardened profile when asked, and prints a table a person reads', async () => {
    const r = await runCli(['cost', '--profile', 'hardened']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^profile hardened: 1,000,000 events a month of 2 KB \(0\.38 a second, 1\.0 per fan-out batch\)$/m);
    expect(r.stdout).toMatch(/^ {2}CloudWatch dashboards +\$3\.00 {2}1 × \$3$/m);
    expect(r.stdout).toMatch(/^ {2}per month +\$\d+\.\d\d/m);
  }, 120_000);

  it('refuses a bad flag with its message and exit code 2, before synthesizing anything', async () => {
    const r = await runCli(['cost', '--avg-kb', 'large']);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain("--avg-kb must be a number of KB from 0.25 to 200 (a Social Plus event is rarely under 0.5 KB), got 'large'");
    expect(r.code).not.toBe(0);
  });
});
