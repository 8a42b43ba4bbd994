/**
 * The cost benchmark's arithmetic (cli/cost/model.ts): one case computed by hand, line for
 * line, and the directions the levers of docs/cost.md move the bill in; then the bill of the real
 * stack at defaults.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bill, fixedCost, perMillionCost, tracesPerEvent, trafficShapes, type MeasuredPerEvent } from '../../cli/cost/model.js';
import { synthProfile } from '../../cli/cost/template.js';
import { templateFacts, type FunctionFacts, type TemplateFacts } from '../../cli/cost/template-facts.js';

const fn = (logicalId: string, memoryMiB: number, overrides: Partial<FunctionFacts> = {}): FunctionFacts => ({
  logicalId,
  memoryMiB,
  tracing: false,
  logFormat: 'Text',
  systemLogLevel: 'INFO',
  applicationLogLevel: 'INFO',
  logGroup: undefined,
  ...overrides,
});

/** A small stack: API behind a web ACL, receiver 1,024 MB, fan-out 512 MB in batches of 100, no archive, no X-Ray. */
function facts(overrides: Partial<TemplateFacts> = {}): TemplateFacts {
  return {
    webAcls: { count: 1, rules: 2 },
    alarms: { count: 4, standardMetrics: 3, highResolutionMetrics: 1 },
    dashboards: 1,
    kmsKeys: 2,
    secrets: 0,
    metricFilters: 0,
    samplingRules: [],
    tracing: { apiStage: false, receiver: false, fanout: false },
    api: { methods: 2, metricsEnabled: false, loggingLevel: 'OFF', dataTraceEnabled: false, accessLogFormatChars: 600, accessLogFormat: undefined },
    receiver: fn('R', 1024),
    fanout: fn('F', 512),
    otherFunctions: [],
    eventSource: { batchSize: 100, windowSeconds: 1, maxConcurrency: 10 },
    tables: [
      {
        gsis: [
          { name: 'a', projection: 'INCLUDE' },
          { name: 'b', projection: 'INCLUDE' },
        ],
      },
    ],
    logGroups: (['receiver', 'fanout', 'api-access'] as const).map((role) => ({ logicalId: role, role, retentionDays: 30, kms: false })),
    buckets: [],
    firehose: undefined,
    ...overrides,
  };
}

const measured: MeasuredPerEvent = {
  writeUnits: { table: 2, indexes: 2, outcomes: 0 },
  measuredGsis: 2,
  sqsBilledSends: 1,
  firehoseBilledBytes: 5120,
  archiveLineBytes: 2800,
};

const line = (lines: ReturnType<typeof perMillionCost>, prefix: string) => lines.find((l) => l.line.startsWith(prefix));
const GIB = 2 ** 30;

describe('the cost model, by hand', () => {
  it('prices the fixed month: web ACL and rules, dashboard, alarms, keys, idle polls', () => {
    const b = bill(facts(), measured);
    const polls = 5 * 3 * 730 * 60; // pollers × receives a minute × minutes a month
    expect(b.idlePerMonth).toBeCloseTo(5 + 2 * 1 + 3 + 3 * 0.1 + 1 * 0.3 + 2 * 1 + (polls / 1e6) * 0.4, 9);
    // Traffic adds the functions' 8 EMF metrics; detailed API metrics are off here.
    expect(b.trafficPerMonth - b.idlePerMonth).toBeCloseTo(8 * 0.3, 9);
  });

  it('prices a million quiet events line by line', () => {
    const lines = perMillionCost(facts(), measured);
    const logGb = (kb: number) => (kb * 1024 * 1e6) / GIB;
    const expected = {
      'API Gateway': 3.5,
      WAF: 0.6,
      DynamoDB: 4 * 0.625,
      'SQS sends': 1 * 0.4,
      'SQS receives': 2 * 0.4, // one event per batch: a receive and a delete each
      receiver: 0.2 + 1e6 * (0.025 + 0.01 * 0.25) * 1 * 0.0000133334,
      'fan-out': 0.2 + 1e6 * 0.05 * 0.5 * 0.0000133334,
      'CloudWatch Logs: receiver': logGb(0.48 + 0.27) * (0.5 + 0.03),
      'CloudWatch Logs: fan-out': logGb(0.45) * (0.5 + 0.03),
      'CloudWatch Logs: API access': ((600 * 1e6) / GIB) * (0.5 + 0.03),
    };
    for (const [prefix, usd] of Object.entries(expected)) expect(line(lines, prefix)?.quiet, prefix).toBeCloseTo(usd, 9);
    expect(lines).toHaveLength(Object.keys(expected).length);
    const total = Object.values(expected).reduce((a, b) => a + b, 0);
    expect(bill(facts(), measured).perMillionTotal.quiet).toBeCloseTo(total, 9);
    expect(total).toBeCloseTo(9.8027, 3);
  });

  it('prices a million busy events with full batches: receives, invocations and platform lines per 100', () => {
    const lines = perMillionCost(facts(), measured);
    expect(line(lines, 'SQS receives')?.busy).toBeCloseTo((2 / 10) * 0.4, 9);
    expect(line(lines, 'fan-out')?.busy).toBeCloseTo(1e4 * (0.2 / 1e6 + 0.4 * 0.5 * 0.0000133334), 9);
    expect(line(lines, 'CloudWatch Logs: fan-out')?.busy).toBeCloseTo((((0.45 / 100) * 1024 * 1e6) / GIB) * 0.53, 9);
  });

  it('counts X-Ray traces as the default rule records them, or as a set rule does', () => {
    const traced = facts({ tracing: { apiStage: true, receiver: true, fanout: true } });
    const { busy, quiet } = trafficShapes(traced);
    // Default: below 1 event/s every request and every fan-out invocation; busy, 1/s + 5 % of each.
    expect(tracesPerEvent(traced, quiet)).toBeCloseTo(2, 9);
    expect(tracesPerEvent(traced, busy)).toBeCloseTo(1 / 500 + 0.05 * (499 / 500) + (1 / 5 + 0.05 * (4 / 5)) / 100, 9);
    // A rule samples what API Gateway receives; the fan-out's invocations keep Lambda's fixed rate.
    const sampled = { ...traced, samplingRules: [{ fixedRate: 0.01, reservoirSize: 0 }] };
    expect(tracesPerEvent(sampled, quiet)).toBeCloseTo(0.01 + 1, 9);
    expect(tracesPerEvent(sampled, busy)).toBeCloseTo(0.01 + (1 / 5 + 0.05 * (4 / 5)) / 100, 9);
    const receiverOnly = { ...sampled, tracing: { apiStage: true, receiver: true, fanout: false } };
    expect(tracesPerEvent(receiverOnly, quiet)).toBeCloseTo(0.01, 9);
  });
});

describe('the levers move the bill the way docs/cost.md says', () => {
  const traced = facts({ tracing: { apiStage: true, receiver: true, fanout: true } });

  it('a sampling rule lowers the quiet X-Ray line', () => {
    const before = line(perMillionCost(traced, measured), 'X-Ray')?.quiet ?? 0;
    const after = line(perMillionCost({ ...traced, samplingRules: [{ fixedRate: 0.01, reservoirSize: 0 }] }, measured), 'X-Ray')?.quiet ?? 0;
    expect(before).toBeCloseTo(10, 9);
    expect(after).toBeLessThan(before);
  });

  it('WARN system logs lower the functions’ log lines (no START/END/REPORT)', () => {
    const warn = facts({
      receiver: fn('R', 1024, { logFormat: 'JSON', systemLogLevel: 'WARN' }),
      fanout: fn('F', 512, { logFormat: 'JSON', systemLogLevel: 'WARN' }),
    });
    for (const shape of ['busy', 'quiet'] as const) {
      const receiver = (f: TemplateFacts) => line(perMillionCost(f, measured), 'CloudWatch Logs: receiver')?.[shape] ?? 0;
      expect(receiver(warn)).toBeLessThan(receiver(facts()));
      expect(line(perMillionCost(warn, measured), 'CloudWatch Logs: fan-out')).toBeUndefined();
    }
  });

  it('removing the dashboard lowers the fixed month by $3', () => {
    expect(bill(facts(), measured).idlePerMonth - bill(facts({ dashboards: 0 }), measured).idlePerMonth).toBeCloseTo(3, 9);
  });

  it('detailed API metrics cost 5 metrics per method in the hours with traffic', () => {
    const on = fixedCost(facts({ api: { ...facts().api, metricsEnabled: true } })).find((l) => l.line.startsWith('API Gateway detailed'));
    expect(on).toMatchObject({ monthly: 2 * 5 * 0.3, when: 'traffic' });
  });

  it('longer log retention, execution logs and a KMS archive bucket only add', () => {
    const base = bill(facts(), measured).perMillionTotal;
    const longer = facts({ logGroups: facts().logGroups.map((g) => ({ ...g, retentionDays: 365 })) });
    const execution = facts({ api: { ...facts().api, loggingLevel: 'INFO' } });
    for (const f of [longer, execution]) expect(bill(f, measured).perMillionTotal.quiet).toBeGreaterThan(base.quiet);
    const firehose = { intervalSeconds: 60, sizeMiB: 64, compression: 'GZIP' };
    const plain = facts({ firehose, buckets: [{ logicalId: 'A', archive: true, encryption: 'SSE-S3' }] });
    const keyed = facts({ firehose, buckets: [{ logicalId: 'A', archive: true, encryption: 'SSE-KMS' }] });
    expect(line(perMillionCost(plain, measured), 'KMS')).toBeUndefined();
    expect(line(perMillionCost(keyed, measured), 'KMS')?.quiet).toBeCloseTo((43_800 / 1e4) * 0.03, 6);
    // Busy, the 64 MiB buffer fills before the 60 s interval ends: 2,000 s of traffic ÷ the seconds to fill it.
    const busyObjects = 1e6 / 500 / ((64 * 2 ** 20) / (500 * 2800));
    expect(line(perMillionCost(keyed, measured), 'KMS')?.busy).toBeCloseTo((busyObjects / 1e4) * 0.03, 9);
  });
});

describe('the bill of the stack at defaults', () => {
  let b: ReturnType<typeof bill>;
  beforeAll(() => {
    b = bill(templateFacts(synthProfile('lean').template), measured);
  });

  it('has the front door, the firewall and the functions in it, and costs more quiet than busy', () => {
    expect(b.fixed.map((l) => l.line)).toContain('WAF web ACLs and rules');
    expect(b.perMillion.map((l) => l.line)).toEqual(expect.arrayContaining(['API Gateway REST requests', 'WAF requests', 'Firehose ingestion']));
    expect(b.perMillionTotal.quiet).toBeGreaterThan(b.perMillionTotal.busy);
    expect(b.perMillionTotal.busy).toBeGreaterThan(3.5 + 0.6);
  });
});
