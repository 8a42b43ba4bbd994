/**
 * Receiver CPU benchmark (docs/architecture.md §10: in-process throughput ≥ 0.5× of bare HMAC verify +
 * JSON.parse on the same payloads). Runs the real receiver handler (`createReceiverHandler`) with
 * a queue that just resolves, an inbox (so the deadline is armed, as deployed), a static secret
 * and a silent logger, at four body sizes, against a floor measured in the same run, interleaved.
 *
 * Two paths per size:
 * - `base64`, as deployed: the REST API has `binaryMediaTypes: ['*\/*']` (lib/constructs/api.ts),
 *   so API Gateway hands every body to the function base64-encoded (`isBase64Encoded: true`).
 *   Floor: decode the base64, HMAC-verify the bytes, decode them as UTF-8, `JSON.parse`.
 * - `text`, for comparison (a text body, as local mode passes it). Floor: encode the text for
 *   the HMAC, verify, `JSON.parse` the text.
 *
 * Alone: `npx tsx bench/receiver-cpu.ts [--quick] [--rounds N] [--count N]`; also run by `npm run bench`.
 */
import './lib/quiet-sdk.js';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { StaticSecretSource } from '../lambda/adapters/static-secret-source.js';
import type { BlobStore, EventQueue } from '../lambda/core/ports.js';
import { noMetrics, silentLogger } from '../lambda/core/telemetry.js';
import { withDeadline } from '../lambda/core/deadline.js';
import { parseEvent } from '../lambda/core/envelope.js';
import { eventIdOf } from '../lambda/core/event-id.js';
import { verifySignature } from '../lambda/core/signature.js';
import { createReceiverHandler } from '../lambda/receiver/handler.js';
import { hasFlag, presentFlags } from './lib/args.js';
import { runWhenMain } from './lib/bench-main.js';
import { fmt, pairedRatio, timeRounds } from './lib/measure.js';
import { buildPayloads, describePayloads, type SignedPayload } from '../cli/cost/payloads.js';
import { apiGatewayEvent } from '../test/support/api-gateway.js';

const SECRET = 'bench-secret-2f0c1a9e7b';
/** docs/architecture.md §10's target for receiver throughput relative to the floor. */
export const TARGET_RATIO = 0.5;
/** The body sizes measured, in bytes (0.5 KB, 2 KB, 20 KB, 200 KB). */
export const SIZES = [512, 2048, 20 * 1024, 200 * 1024] as const;
/** Bytes of bodies per timed round and size, so every size takes a similar time. */
const BYTES_PER_ROUND = 6e6;

export type BodyPath = 'base64' | 'text';

export interface ReceiverCpuOptions {
  /** Payloads per round at each size. @default about 6 MB of bodies, 30 to 4,000 payloads */
  readonly count?: number;
  /** Timed rounds per workload. @default 9 (5 with quick) */
  readonly rounds?: number;
  /** Untimed rounds first. @default 2 */
  readonly warmupRounds?: number;
  /** A short run for trying things: a third of the payloads, fewer rounds. */
  readonly quick?: boolean;
}

export interface Throughput {
  readonly eventsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly medianRoundMs: number;
}

export interface SizeRow {
  readonly targetBytes: number;
  readonly path: BodyPath;
  readonly payloads: ReturnType<typeof describePayloads>;
  readonly floor: Throughput;
  readonly receiver: Throughput;
  /** receiver events/s ÷ floor events/s, the median of the per-round ratios: the figure the target applies to. */
  readonly ratio: number;
  readonly meetsTarget: boolean;
}

/** Where a small event's time goes: µs per event of the receiver's steps, measured alone. */
export interface Breakdown {
  readonly targetBytes: number;
  /** Step name → µs per event (median round), `receiver` and `floor` included. */
  readonly microsPerEvent: Readonly<Record<string, number>>;
}

export interface ReceiverCpuResult {
  readonly name: 'receiver-cpu';
  readonly rounds: number;
  readonly rows: readonly SizeRow[];
  /** The smallest size's per-step costs: what dominates where the ratio is lowest. */
  readonly breakdown: Breakdown;
  readonly target: number;
  /** Whether every row meets the target. */
  readonly meetsTarget: boolean;
}

function webhookEvent(p: SignedPayload, path: BodyPath, i: number): APIGatewayProxyEvent {
  return apiGatewayEvent({
    body: path === 'base64' ? p.body.toString('base64') : p.text,
    isBase64Encoded: path === 'base64',
    headers: {
      'Content-Type': 'application/json',
      'User-Agent': 'Social-Plus-Webhooks/1.0',
      'X-Amity-Signature': p.signature,
      'X-Forwarded-For': '52.70.191.115',
    },
    requestId: `bench-${i}`,
    requestTimeEpoch: 1_751_450_043_221 + i,
  });
}

/** Runs the benchmark and returns its figures (prints nothing). */
export async function runReceiverCpu(opts: ReceiverCpuOptions = {}): Promise<ReceiverCpuResult> {
  const quick = opts.quick ?? false;
  const rounds = opts.rounds ?? (quick ? 5 : 9);
  const warmupRounds = opts.warmupRounds ?? 2;
  const key = Buffer.from(SECRET, 'utf8');
  let sink = 0;
  let accepted = 0;
  const queue: EventQueue = {
    send: async () => {
      accepted++;
    },
  };
  // As deployed, with an inbox: every request then runs under the deadline (a timer and an abort
  // signal). The queue always succeeds here, so the inbox is never written.
  const blobs: BlobStore = {
    put: async () => {
      throw new Error('benchmark: the inbox should not be written');
    },
    get: async () => {
      throw new Error('benchmark: the inbox should not be read');
    },
    delete: async () => undefined,
  };
  const handler = createReceiverHandler({
    queue,
    blobs,
    secrets: new StaticSecretSource({ default: SECRET }),
    logger: silentLogger,
    metrics: noMetrics,
  });

  const rows: SizeRow[] = [];
  let breakdown: Breakdown | undefined;
  for (const size of SIZES) {
    const auto = Math.min(4000, Math.max(30, Math.round(BYTES_PER_ROUND / size)));
    const count = opts.count ?? (quick ? Math.max(10, Math.round(auto / 3)) : auto);
    const payloads = buildPayloads({ count, secret: SECRET, minBytes: size, maxBytes: size, seed: size });
    const stats = describePayloads(payloads);
    const b64 = payloads.map((p) => p.body.toString('base64'));

    const verify = (bytes: Buffer, signature: string) => {
      const expected = createHmac('sha256', key).update(bytes).digest();
      if (!timingSafeEqual(expected, Buffer.from(signature, 'base64'))) throw new Error('floor: signature mismatch');
    };
    // The floors: what any correct receiver must do per event on each path, and nothing else.
    const floorBase64 = {
      name: 'floor-base64',
      run() {
        for (let i = 0; i < payloads.length; i++) {
          const bytes = Buffer.from(b64[i] as string, 'base64');
          verify(bytes, (payloads[i] as SignedPayload).signature);
          sink += (JSON.parse(bytes.toString('utf8')) as { event?: string }).event?.length ?? 1;
        }
      },
    };
    const floorText = {
      name: 'floor-text',
      run() {
        for (const p of payloads) {
          verify(Buffer.from(p.text, 'utf8'), p.signature);
          sink += (JSON.parse(p.text) as { event?: string }).event?.length ?? 1;
        }
      },
    };
    const receiverOn = (path: BodyPath) => {
      const events = payloads.map((p, i) => webhookEvent(p, path, i));
      return {
        name: `receiver-${path}`,
        async run() {
          for (const e of events) {
            const res = await handler(e);
            if (res.statusCode !== 200) throw new Error(`receiver answered ${res.statusCode} ${res.body} on the ${path} path`);
          }
        },
      };
    };

    // The receiver's own steps, each alone over the same bodies (the smallest size only, where
    // fixed per-event costs weigh most): what makes up the gap to the floor.
    const steps =
      size !== SIZES[0]
        ? []
        : [
            {
              name: 'base64 decode',
              run() {
                for (const t of b64) sink += Buffer.from(t, 'base64').length;
              },
            },
            {
              name: 'verifySignature',
              run() {
                for (const p of payloads) sink += verifySignature(p.body, p.signature, [SECRET]).ok ? 1 : 0;
              },
            },
            {
              name: 'eventIdOf (SHA-256)',
              run() {
                for (const p of payloads) sink += eventIdOf(p.body).length;
              },
            },
            {
              name: 'parseEvent (JSON.parse + envelope)',
              run() {
                for (const p of payloads) sink += parseEvent(p.text).eventType.length;
              },
            },
            {
              name: 'JSON.parse alone',
              run() {
                for (const p of payloads) sink += Object.keys(JSON.parse(p.text) as object).length;
              },
            },
            {
              name: 'withDeadline (timer + AbortController)',
              async run() {
                for (let i = 0; i < payloads.length; i++) sink += await withDeadline('bench', 1000, async () => 1);
              },
            },
          ];
    const receiverBase64 = receiverOn('base64');
    const [fb, rb, ft, rt, ...stepTimes] = await timeRounds([floorBase64, receiverBase64, floorText, receiverOn('text'), ...steps], {
      rounds,
      warmupRounds,
    });
    if (!fb || !rb || !ft || !rt || sink === 0 || accepted === 0) throw new Error('benchmark did not run its workloads');
    if (steps.length > 0) {
      const micros = (seconds: number) => (seconds / stats.count) * 1e6;
      breakdown = {
        targetBytes: size,
        microsPerEvent: Object.fromEntries([
          ['floor (base64)', micros(fb.medianSeconds)],
          ['receiver (base64)', micros(rb.medianSeconds)],
          ...stepTimes.map((t) => [t.name, micros(t.medianSeconds)] as const),
        ]),
      };
    }
    const throughput = (seconds: number): Throughput => ({
      eventsPerSecond: stats.count / seconds,
      megabytesPerSecond: stats.totalBytes / seconds / 1e6,
      medianRoundMs: seconds * 1000,
    });
    for (const [path, floor, receiver] of [
      ['base64', fb, rb],
      ['text', ft, rt],
    ] as const) {
      const f = throughput(floor.medianSeconds);
      const r = throughput(receiver.medianSeconds);
      // Throughput ratio = floor time ÷ receiver time, paired round by round (measured back to back).
      const x = pairedRatio(floor.roundSeconds, receiver.roundSeconds);
      rows.push({ targetBytes: size, path, payloads: stats, floor: f, receiver: r, ratio: x, meetsTarget: x >= TARGET_RATIO });
    }
  }
  if (!breakdown) throw new Error('benchmark did not measure the breakdown');
  return { name: 'receiver-cpu', rounds, rows, breakdown, target: TARGET_RATIO, meetsTarget: rows.every((r) => r.meetsTarget) };
}

const sizeLabel = (bytes: number) => (bytes >= 1024 ? `${fmt(bytes / 1024, bytes % 1024 === 0 ? 0 : 1)} KB` : `${(bytes / 1024).toFixed(1)} KB`);

/** Human-readable lines for a result. */
export function formatReceiverCpu(res: ReceiverCpuResult): string {
  const lines = [
    `receiver-cpu: the receiver handler in-process vs the floor (HMAC verify + JSON.parse, plus the base64 decode on the base64 path); medians of ${res.rounds} interleaved rounds, ratio = median of the per-round ratios`,
    `  ${'size'.padEnd(7)} ${'path'.padEnd(6)} ${'bodies (median B)'.padStart(18)} ${'floor ev/s'.padStart(11)} ${'receiver ev/s'.padStart(14)} ${'receiver MB/s'.padStart(14)} ${'ratio'.padStart(6)}  target ≥ ${res.target}`,
  ];
  for (const r of res.rows) {
    lines.push(
      `  ${sizeLabel(r.targetBytes).padEnd(7)} ${r.path.padEnd(6)} ${`${fmt(r.payloads.count)} (${fmt(r.payloads.medianBytes)})`.padStart(18)} ${fmt(r.floor.eventsPerSecond).padStart(11)} ${fmt(r.receiver.eventsPerSecond).padStart(14)} ${fmt(r.receiver.megabytesPerSecond, 1).padStart(14)} ${r.ratio.toFixed(2).padStart(6)}  ${r.meetsTarget ? 'OK' : 'BELOW TARGET'}`,
    );
  }
  const worst = res.rows.reduce((a, b) => (b.ratio < a.ratio ? b : a));
  lines.push(
    `  lowest ratio ${worst.ratio.toFixed(2)} (${sizeLabel(worst.targetBytes)}, ${worst.path}): ${res.meetsTarget ? 'every size meets the target' : 'BELOW TARGET'}`,
  );
  lines.push(`  where a ${sizeLabel(res.breakdown.targetBytes)} event's time goes (µs per event, each step timed alone):`);
  const steps = Object.entries(res.breakdown.microsPerEvent);
  for (const [step, us] of steps) lines.push(`    ${step.padEnd(40)} ${us.toFixed(2).padStart(7)}`);
  // JSON.parse alone is part of parseEvent, and the floor is a reference: neither is added.
  const counted = steps.filter(([step]) => !step.startsWith('floor') && !step.startsWith('receiver') && step !== 'JSON.parse alone');
  const rest = (res.breakdown.microsPerEvent['receiver (base64)'] ?? 0) - counted.reduce((sum, [, us]) => sum + us, 0);
  lines.push(`    ${'rest (promises, objects, headers, dates)'.padEnd(40)} ${rest.toFixed(2).padStart(7)}`);
  return lines.join('\n');
}

/** CLI flags shared with bench/run.ts. */
export function receiverCpuOptionsFromArgs(args: readonly string[]): ReceiverCpuOptions {
  return { ...presentFlags(args, { count: '--count', rounds: '--rounds' }), quick: hasFlag(args, '--quick') };
}

runWhenMain(import.meta.url, { name: 'receiver-cpu', optionsFromArgs: receiverCpuOptionsFromArgs, run: runReceiverCpu, format: formatReceiverCpu });
