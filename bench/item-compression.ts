/**
 * Issue 15: can the DynamoDB event item of a 2 KB event fit one write unit (1 KB) by compressing
 * its payload attribute better? Builds the items as the fan-out does (decodeBody → toStoredEvent →
 * toItem, sized by cli/cost/dynamodb-size.ts) for the fixtures and for seeded 2 KB events
 * (cli/cost/payloads.ts, as bench/aws-requests.ts), then sizes the payload with each method of
 * bench/lib/item-compression.ts (every one round-tripped) and times them. Today's gzip is the
 * floor the others are compared to (ratio 1). zstd is not measured: Node 20's zlib has none.
 *
 * Alone: `npx tsx bench/item-compression.ts [--quick] [--events N] [--runs N]`; also run by `npm run bench`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { toItem } from '../lambda/adapters/dynamodb-store.js';
import { catalogSampleNames } from '../lambda/core/catalog/sample.js';
import { decodeBody, toStoredEvent } from '../lambda/core/fanout.js';
import { hasFlag, presentFlags } from './lib/args.js';
import { runWhenMain } from './lib/bench-main.js';
import { itemSize, writeUnits } from '../cli/cost/dynamodb-size.js';
import {
  catalogNamesDictionary,
  compressionMethods,
  cutNeeded,
  declaredFieldNames,
  leaveOneOutDictionary,
  shareInOneUnit,
  type CompressionMethod,
} from './lib/item-compression.js';
import { fmt, median, percentile } from './lib/measure.js';
import { buildPayloads } from '../cli/cost/payloads.js';

export interface ItemCompressionOptions {
  /** 2 KB events sized. @default 1000 (200 with quick) */
  readonly events?: number;
  /** Timed runs per event and method (brotli q11: a third). @default 41 (11 with quick) */
  readonly runs?: number;
  readonly quick?: boolean;
}

interface Ev {
  readonly body: Buffer;
  /** The fixture it is, or was grown from: the leave-one-out key. */
  readonly sample: string;
  readonly item: Record<string, AttributeValue>;
}

/** One set's figures for one method. */
export interface MethodRow {
  readonly label: string;
  readonly payload: { readonly median: number; readonly p90: number };
  readonly item: { readonly median: number; readonly p90: number; readonly max: number };
  readonly shareInOneUnit: number;
  /** Bytes the non-payload attributes would have to lose for 50 / 90 / 100 % of items in one unit. */
  readonly cut: readonly [number, number, number];
}

export interface SetResult {
  readonly name: string;
  readonly count: number;
  readonly bodyMedian: number;
  readonly nonPayloadMedian: number;
  readonly methods: readonly MethodRow[];
}

export interface ItemCompressionResult {
  readonly name: 'item-compression';
  readonly sets: readonly SetResult[];
  /** Per method: median over events of each event's median µs to compress (fixtures, 2 KB events). */
  readonly cpu: ReadonlyArray<{ readonly label: string; readonly fixtures: number; readonly events2k: number }>;
  readonly cpuEvents: number;
  readonly runs: number;
  readonly dictBytes: { readonly catalogNames: number; readonly fixtures: number };
}

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const NOW = new Date('2025-07-02T10:34:03.221Z');
const ATTRIBUTE_NAME_BYTES = Buffer.byteLength('payload');

/** The item as the fan-out writes it: source and receivedAt attributes, an API Gateway request id. */
function itemOf(body: Buffer, i: number): Record<string, AttributeValue> {
  const requestId = `c0ffee00-1234-4abc-9def-${String(i).padStart(12, '0')}`;
  const attributes = { source: 'default', receivedAt: NOW.toISOString(), requestId };
  return toItem(toStoredEvent(decodeBody(body, { messageId: `m-${i}`, attributes }, NOW), 90, NOW));
}

const nonPayload = (ev: Ev) => itemSize(ev.item) - itemSize({ payload: ev.item.payload as AttributeValue });

/** Median µs of `runs` calls of `fn`, after a warm-up. */
function timeMicros(fn: () => unknown, runs: number): number {
  for (let i = 0; i < 3; i++) fn();
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    fn();
    t.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  return median(t);
}

function measureSet(name: string, evs: readonly Ev[], methods: readonly CompressionMethod[]): SetResult {
  const rows = methods.map((m): MethodRow => {
    const payloads = evs.map((ev) => {
      const stored = m.compress(ev.body, ev.sample);
      if (!m.decompress(stored, ev.sample).equals(ev.body)) throw new Error(`${m.label} does not round-trip an event of ${ev.sample}`);
      return stored.length + m.markerBytes;
    });
    const items = evs.map((ev, i) => nonPayload(ev) + ATTRIBUTE_NAME_BYTES + (payloads[i] as number));
    return {
      label: m.label,
      payload: { median: median(payloads), p90: percentile(payloads, 90) },
      item: { median: median(items), p90: percentile(items, 90), max: Math.max(...items) },
      shareInOneUnit: shareInOneUnit(items),
      cut: [cutNeeded(items, 0.5), cutNeeded(items, 0.9), cutNeeded(items, 1)],
    };
  });
  return {
    name,
    count: evs.length,
    bodyMedian: median(evs.map((e) => e.body.length)),
    nonPayloadMedian: median(evs.map(nonPayload)),
    methods: rows,
  };
}

/** Runs the benchmark and returns its figures (prints nothing). */
export async function runItemCompression(opts: ItemCompressionOptions = {}): Promise<ItemCompressionResult> {
  const count = opts.events ?? (opts.quick ? 200 : 1000);
  const runs = opts.runs ?? (opts.quick ? 11 : 41);
  const cpuEvents = opts.quick ? 10 : 40;
  const samplesDir = join(ROOT, 'fixtures', 'samples');
  const fixtureBodies = new Map(
    readdirSync(samplesDir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => [f.slice(0, -5), readFileSync(join(samplesDir, f))] as const),
  );
  let n = 0;
  const fixtures: Ev[] = [...fixtureBodies].map(([sample, body]) => ({ body, sample, item: itemOf(body, n++) }));
  const grown = buildPayloads({ count, secret: 'bench-requests-secret-6d1f', minBytes: 2048, maxBytes: 2048, seed: 7 });
  const events2k: Ev[] = grown.map((p) => ({ body: p.body, sample: p.sample, item: itemOf(p.body, n++) }));

  const catalogDir = join(ROOT, 'lambda', 'core', 'catalog');
  const fieldCounts = new Map<string, number>();
  for (const f of readdirSync(catalogDir).filter((f) => /entities\.ts$|^events\.ts$/.test(f)))
    declaredFieldNames(readFileSync(join(catalogDir, f), 'utf8'), fieldCounts);
  const catalogNames = catalogNamesDictionary(
    fieldCounts,
    catalogSampleNames().map((s) => s.name),
  );
  const fixtureDicts = new Map<string, Buffer>();
  const fixtureDict = (sample: string): Buffer => {
    const d = fixtureDicts.get(sample) ?? leaveOneOutDictionary(fixtureBodies, sample);
    fixtureDicts.set(sample, d);
    return d;
  };
  const methods = compressionMethods({ fixtures: fixtureDict, catalogNames });

  const sets = [measureSet(`fixtures (${fixtures.length})`, fixtures, methods), measureSet(`2 KB events (${events2k.length})`, events2k, methods)];
  const timed = events2k.slice(0, cpuEvents);
  const cpu = methods.map((m) => {
    const r = m.id === 'br11' ? Math.max(5, Math.floor(runs / 3)) : runs;
    const perEvent = (evs: readonly Ev[]) => median(evs.map((ev) => timeMicros(() => m.compress(ev.body, ev.sample), r)));
    return { label: m.label, fixtures: perEvent(fixtures), events2k: perEvent(timed) };
  });
  return {
    name: 'item-compression',
    sets,
    cpu,
    cpuEvents: timed.length,
    runs,
    dictBytes: { catalogNames: catalogNames.length, fixtures: median([...fixtureBodies.keys()].map((s) => fixtureDict(s).length)) },
  };
}

const pc = (x: number) => `${Math.round(x * 100)}%`;

/** Human-readable lines for a result. */
export function formatItemCompression(res: ItemCompressionResult): string {
  const lines = [
    'item-compression: the event item (decodeBody → toStoredEvent → toItem) with its payload compressed other ways; 1 write unit = item ≤ 1,024 B',
    `  floor = today's gzip: ratio = payload bytes (or CPU) ÷ today's, so today is 1.00; non-gzip formats count +1 B of format marker; zstd not measured (Node ${process.version}'s zlib has none)`,
    `  dictionaries: catalog names ${fmt(res.dictBytes.catalogNames)} B (field and event names, no event data); other fixtures, leave-one-out, ${fmt(res.dictBytes.fixtures)} B`,
  ];
  for (const s of res.sets) {
    const today = s.methods[0] as MethodRow;
    lines.push(
      `  ${s.name}: body median ${fmt(s.bodyMedian)} B; today item median ${fmt(today.item.median)} B = ${writeUnits(today.item.median)} write unit(s), ${pc(today.shareInOneUnit)} in 1 unit; non-payload attributes median ${fmt(s.nonPayloadMedian)} B`,
      `    ${'method'.padEnd(44)} ${'payload B'.padStart(9)} ${'p90'.padStart(5)} ${'ratio'.padStart(6)} ${'item B'.padStart(7)} ${'p90'.padStart(6)} ${'max'.padStart(6)} ${'in 1 unit'.padStart(9)}  non-payload B to lose for 50/90/100% in 1 unit`,
    );
    for (const m of s.methods)
      lines.push(
        `    ${m.label.padEnd(44)} ${fmt(m.payload.median).padStart(9)} ${fmt(m.payload.p90).padStart(5)} ${(m.payload.median / today.payload.median).toFixed(2).padStart(6)} ${fmt(m.item.median).padStart(7)} ${fmt(m.item.p90).padStart(6)} ${fmt(m.item.max).padStart(6)} ${pc(m.shareInOneUnit).padStart(9)}  ${m.cut.map((c) => fmt(c)).join(' / ')}`,
      );
  }
  const todayCpu = res.cpu[0] as ItemCompressionResult['cpu'][number];
  lines.push(
    `  compress CPU, µs per event (median over events of each event's median of ${res.runs} runs; brotli q11 a third; 2 KB: first ${res.cpuEvents} events):`,
    `    ${'method'.padEnd(44)} ${'fixtures'.padStart(9)} ${'2 KB'.padStart(8)} ${'ratio'.padStart(6)}`,
  );
  for (const c of res.cpu)
    lines.push(
      `    ${c.label.padEnd(44)} ${fmt(c.fixtures, 1).padStart(9)} ${fmt(c.events2k, 1).padStart(8)} ${(c.events2k / todayCpu.events2k).toFixed(2).padStart(6)}`,
    );
  return lines.join('\n');
}

/** CLI flags shared with bench/run.ts. */
export function itemCompressionOptionsFromArgs(args: readonly string[]): ItemCompressionOptions {
  return { ...presentFlags(args, { events: '--events', runs: '--runs' }), quick: hasFlag(args, '--quick') };
}

runWhenMain(import.meta.url, {
  name: 'item-compression',
  optionsFromArgs: itemCompressionOptionsFromArgs,
  run: runItemCompression,
  format: formatItemCompression,
});
