/**
 * Realistic webhook bodies for the benchmarks and the `cost` command: the samples in `fixtures/samples/`, grown to
 * varied sizes (≈0.5 KB to 20 KB by default, most of them small, as chat traffic is; or one size,
 * with `minBytes` = `maxBytes`) with text in several scripts, serialised compactly or
 * pretty-printed, and signed. Deterministic for a given seed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sign } from '../../lambda/core/signature.js';
import { mulberry32 } from '../../local/faults/injector.js';

const SAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'samples');

export interface SignedPayload {
  /** The body's exact bytes. */
  readonly body: Buffer;
  /** The body as text (what API Gateway hands a Lambda for a JSON request). */
  readonly text: string;
  /** `x-amity-signature` for `body`. */
  readonly signature: string;
  /** The sample it was grown from. */
  readonly sample: string;
}

export interface PayloadOptions {
  /** How many payloads. @default 4000 */
  readonly count?: number;
  readonly secret: string;
  /** Smallest and largest body in bytes (log-uniform in between). @default 512, 20480 */
  readonly minBytes?: number;
  readonly maxBytes?: number;
  /** @default 42 */
  readonly seed?: number;
}

const WORDS = [
  'meet',
  'at',
  'the',
  'park',
  'gate',
  'tomorrow',
  'checkout',
  'flow',
  'order',
  'refund',
  'thanks',
  'great',
  'run',
  'สวัสดี',
  'ครับ',
  'ขอบคุณ',
  '日本語',
  'テスト',
  'こんにちは',
  'café',
  'naïve',
  'Grüße',
  'привет',
  '👋',
  '🏃‍♀️',
  '🎉',
  '👍🏽',
];

function sentence(rand: () => number, approxBytes: number): string {
  const parts: string[] = [];
  let bytes = 0;
  while (bytes < approxBytes) {
    const w = WORDS[Math.floor(rand() * WORDS.length)] as string;
    parts.push(w);
    bytes += Buffer.byteLength(w) + 1;
  }
  return parts.join(' ');
}

/** Finds the object a sample keeps its user-visible text in, to grow it as real content would. */
function textHolder(payload: Record<string, unknown>): Record<string, unknown> {
  const data = (payload.data ?? {}) as Record<string, unknown>;
  for (const key of ['messages', 'posts', 'comments', 'communities', 'channel', 'users']) {
    const first = Array.isArray(data[key]) ? (data[key] as unknown[])[0] : undefined;
    if (typeof first === 'object' && first !== null) {
      const entity = first as Record<string, unknown>;
      if (typeof entity.data === 'object' && entity.data !== null) return entity.data as Record<string, unknown>;
      entity.metadata = typeof entity.metadata === 'object' && entity.metadata !== null ? entity.metadata : {};
      return entity.metadata as Record<string, unknown>;
    }
  }
  return data;
}

/** Builds `count` signed payloads of varied size from the samples. */
export function buildPayloads(opts: PayloadOptions): SignedPayload[] {
  const count = opts.count ?? 4000;
  const minBytes = opts.minBytes ?? 512;
  const maxBytes = opts.maxBytes ?? 20 * 1024;
  // Seeded, so every run measures the same bodies.
  const rand = mulberry32(opts.seed ?? 42);
  const samples = readdirSync(SAMPLES_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ name: f.slice(0, -5), json: JSON.parse(readFileSync(join(SAMPLES_DIR, f), 'utf8')) as Record<string, unknown> }));
  if (samples.length === 0) throw new Error(`no samples in ${SAMPLES_DIR}`);

  const sizes = samples.map((s) => Buffer.byteLength(JSON.stringify(s.json)));
  const out: SignedPayload[] = [];
  for (let i = 0; i < count; i++) {
    const target = Math.round(minBytes * (maxBytes / minBytes) ** (rand() ** 1.6));
    // Samples already larger than the target would overshoot it: pick among those that fit
    // (all of them when none does), so a "0.5 KB" set really holds 0.5 KB bodies.
    const fitting = samples.filter((_, j) => (sizes[j] as number) + 32 <= target);
    const pool = fitting.length > 0 ? fitting : samples;
    const sample = pool[Math.floor(rand() * pool.length)] as (typeof samples)[number];
    const pretty = rand() < 0.3 && Buffer.byteLength(JSON.stringify(sample.json, null, 2)) + 32 <= target;
    const payload = structuredClone(sample.json);
    const holder = textHolder(payload);
    // A unique field so no two bodies (and event ids) are the same.
    holder.benchSeq = i;
    const base = Buffer.byteLength(JSON.stringify(payload, null, pretty ? 2 : undefined));
    if (target > base + 16) holder.text = sentence(rand, target - base - 16);
    const text = JSON.stringify(payload, null, pretty ? 2 : undefined);
    const body = Buffer.from(text, 'utf8');
    out.push({ body, text, signature: sign(body, opts.secret), sample: sample.name });
  }
  return out;
}

/** Size statistics of a payload set, for the report. */
export function describePayloads(payloads: readonly SignedPayload[]): {
  count: number;
  totalBytes: number;
  minBytes: number;
  medianBytes: number;
  maxBytes: number;
} {
  const sizes = payloads.map((p) => p.body.length).sort((a, b) => a - b);
  return {
    count: sizes.length,
    totalBytes: sizes.reduce((s, n) => s + n, 0),
    minBytes: sizes[0] ?? 0,
    medianBytes: sizes[Math.floor(sizes.length / 2)] ?? 0,
    maxBytes: sizes[sizes.length - 1] ?? 0,
  };
}
