/**
 * Receiver CPU benchmark (DESIGN §10: in-process throughput ≥ 0.5× of bare HMAC verify +
 * JSON.parse on the same payloads). Runs the real receiver handler with a queue that just
 * resolves, an inbox (so the deadline is armed, as deployed), a static secret and a silent
 * logger, against the floor measured in the same run.
 *
 * Alone: `npx tsx bench/receiver-cpu.ts [--count N] [--rounds N]`; also run by `npm run bench`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { StaticSecretSource } from '../lambda/adapters/static-secret-source.js';
import type { BlobStore, EventQueue } from '../lambda/core/ports.js';
import { noMetrics, silentLogger } from '../lambda/core/telemetry.js';
import { createReceiverHandler } from '../lambda/receiver/handler.js';
import { fmt, isMain, timeRounds } from './lib/measure.js';
import { buildPayloads, describePayloads } from './lib/payloads.js';

const SECRET = 'bench-secret-2f0c1a9e7b';
/** DESIGN §10's target for receiver throughput relative to the floor. */
export const TARGET_RATIO = 0.5;

export interface ReceiverCpuOptions {
  /** Payloads per round. @default 4000 */
  readonly count?: number;
  /** Timed rounds per workload. @default 7 */
  readonly rounds?: number;
  readonly warmupRounds?: number;
}

export interface Throughput {
  readonly eventsPerSecond: number;
  readonly megabytesPerSecond: number;
  readonly medianRoundMs: number;
}

export interface ReceiverCpuResult {
  readonly name: 'receiver-cpu';
  readonly payloads: ReturnType<typeof describePayloads>;
  readonly rounds: number;
  /** DESIGN §10's floor: HMAC verify over the bytes + decode + JSON.parse. */
  readonly floor: Throughput;
  /** Reference: the floor starting from the body as text (encode for the HMAC, parse the text). */
  readonly floorFromText: Throughput;
  readonly receiver: Throughput;
  /** receiver events/s ÷ floor events/s: the figure the target applies to. */
  readonly ratio: number;
  /** receiver events/s ÷ floor-from-text events/s (reported for context). */
  readonly ratioToFloorFromText: number;
  readonly target: number;
  readonly meetsTarget: boolean;
}

function apiGatewayEvent(text: string, signature: string, i: number): APIGatewayProxyEvent {
  return {
    body: text,
    isBase64Encoded: false,
    headers: { 'Content-Type': 'application/json', 'User-Agent': 'Social-Plus-Webhooks/1.0', 'X-Amity-Signature': signature, 'X-Forwarded-For': '52.70.191.115' },
    multiValueHeaders: {},
    httpMethod: 'POST',
    path: '/webhook',
    resource: '/webhook',
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    requestContext: {
      accountId: '123456789012', apiId: 'bench', authorizer: undefined, protocol: 'HTTP/1.1', httpMethod: 'POST',
      identity: { sourceIp: '52.70.191.115', userAgent: 'Social-Plus-Webhooks/1.0' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: '/prod/webhook', stage: 'prod', requestId: `bench-${i}`, requestTimeEpoch: 1_751_450_043_221 + i, resourceId: 'r', resourcePath: '/webhook',
    },
  };
}

/** Runs the benchmark and returns its figures (prints nothing). */
export async function runReceiverCpu(opts: ReceiverCpuOptions = {}): Promise<ReceiverCpuResult> {
  const payloads = buildPayloads({ count: opts.count ?? 4000, secret: SECRET });
  const stats = describePayloads(payloads);

  // The floor: what any correct receiver must do per event, and nothing else.
  const key = Buffer.from(SECRET, 'utf8');
  let sink = 0;
  const floor = {
    name: 'floor',
    run() {
      for (const p of payloads) {
        const given = Buffer.from(p.signature, 'base64');
        const expected = createHmac('sha256', key).update(p.body).digest();
        if (!timingSafeEqual(expected, given)) throw new Error('floor: signature mismatch');
        const parsed = JSON.parse(p.body.toString('utf8')) as { event?: string };
        sink += parsed.event?.length ?? 1;
      }
    },
  };

  // For reference, the same floor starting from the text API Gateway hands the function (encode
  // for the HMAC, parse the text as is): the receiver's own starting point.
  const floorFromText = {
    name: 'floor-from-text',
    run() {
      for (const p of payloads) {
        const given = Buffer.from(p.signature, 'base64');
        const expected = createHmac('sha256', key).update(Buffer.from(p.text, 'utf8')).digest();
        if (!timingSafeEqual(expected, given)) throw new Error('floor-from-text: signature mismatch');
        const parsed = JSON.parse(p.text) as { event?: string };
        sink += parsed.event?.length ?? 1;
      }
    },
  };

  let accepted = 0;
  const queue: EventQueue = { send: async () => { accepted++; } };
  // As deployed, with an inbox: every request then runs under the deadline (a timer and an abort
  // signal). The queue always succeeds here, so the inbox is never written.
  const blobs: BlobStore = {
    put: async () => { throw new Error('benchmark: the inbox should not be written'); },
    get: async () => { throw new Error('benchmark: the inbox should not be read'); },
    delete: async () => undefined,
  };
  const handler = createReceiverHandler({ queue, blobs, secrets: new StaticSecretSource({ default: SECRET }), logger: silentLogger, metrics: noMetrics });
  const events = payloads.map((p, i) => apiGatewayEvent(p.text, p.signature, i));
  const receiver = {
    name: 'receiver',
    async run() {
      for (const e of events) {
        const res = await handler(e);
        if (res.statusCode !== 200) throw new Error(`receiver answered ${res.statusCode} ${res.body}`);
      }
    },
  };

  const rounds = opts.rounds ?? 7;
  const [f, ft, r] = await timeRounds([floor, floorFromText, receiver], { rounds, warmupRounds: opts.warmupRounds ?? 2 });
  if (!f || !ft || !r || sink === 0 || accepted === 0) throw new Error('benchmark did not run its workloads');
  const throughput = (seconds: number): Throughput => ({
    eventsPerSecond: stats.count / seconds,
    megabytesPerSecond: stats.totalBytes / seconds / 1e6,
    medianRoundMs: seconds * 1000,
  });
  const floorT = throughput(f.medianSeconds);
  const receiverT = throughput(r.medianSeconds);
  const floorFromTextT = throughput(ft.medianSeconds);
  const ratio = receiverT.eventsPerSecond / floorT.eventsPerSecond;
  return {
    name: 'receiver-cpu',
    payloads: stats,
    rounds,
    floor: floorT,
    floorFromText: floorFromTextT,
    receiver: receiverT,
    ratio,
    ratioToFloorFromText: receiverT.eventsPerSecond / floorFromTextT.eventsPerSecond,
    target: TARGET_RATIO,
    meetsTarget: ratio >= TARGET_RATIO,
  };
}

/** Human-readable lines for a result. */
export function formatReceiverCpu(res: ReceiverCpuResult): string {
  const p = res.payloads;
  const row = (label: string, t: Throughput) =>
    `  ${label.padEnd(34)} ${fmt(t.eventsPerSecond).padStart(9)} events/s  ${fmt(t.megabytesPerSecond, 1).padStart(7)} MB/s  (median round ${fmt(t.medianRoundMs, 1)} ms)`;
  return [
    `receiver-cpu: ${fmt(p.count)} signed payloads, ${fmt(p.minBytes)}–${fmt(p.maxBytes)} B (median ${fmt(p.medianBytes)} B, ${fmt(p.totalBytes / 1e6, 1)} MB per round), median of ${res.rounds} rounds`,
    row('floor (HMAC verify + JSON.parse)', res.floor),
    row('floor from text (reference)', res.floorFromText),
    row('receiver (createReceiverHandler)', res.receiver),
    `  ratio ${res.ratio.toFixed(2)} (target ≥ ${res.target}) ${res.meetsTarget ? 'OK' : 'BELOW TARGET'}; vs floor from text ${res.ratioToFloorFromText.toFixed(2)}`,
  ].join('\n');
}

function numberFlag(args: readonly string[], name: string): number | undefined {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const n = Number(args[i + 1]);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer, got '${args[i + 1] ?? ''}'`);
  return n;
}

/** CLI flags shared with bench/run.ts. */
export function receiverCpuOptionsFromArgs(args: readonly string[]): ReceiverCpuOptions {
  const count = numberFlag(args, '--count');
  const rounds = numberFlag(args, '--rounds');
  return { ...(count ? { count } : {}), ...(rounds ? { rounds } : {}) };
}

if (isMain(import.meta.url)) {
  Promise.resolve()
    .then(() => runReceiverCpu(receiverCpuOptionsFromArgs(process.argv.slice(2))))
    .then((res) => console.log(formatReceiverCpu(res)))
    .catch((err: unknown) => {
      console.error(`receiver-cpu benchmark failed: ${(err as Error).message}`);
      process.exitCode = 1;
    });
}
