/**
 * The load generator of `bench/local-load.ts`, run in its own process so it does not share an
 * event loop with the pipeline it measures: `node --import tsx bench/lib/load-generator.ts <config
 * JSON>`. Sends pre-generated, distinctly signed webhook bodies at a fixed rate (open loop: each
 * request has a scheduled time, and its latency counts from then, so a server that stalls cannot
 * hide its stall by slowing the sender), over a pool of keep-alive connections, and writes what
 * happened to `config.out`: each request's status and latency, and the event ids of the bodies
 * answered 200 (for the loss check).
 */
import { writeFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { postSignedPayload } from './http-send.js';
import { buildPayloads, describePayloads, type SignedPayload } from '../../cli/cost/payloads.js';

export interface LoadConfig {
  /** Webhook URL, e.g. `http://127.0.0.1:3000/webhook`. */
  readonly url: string;
  readonly secret: string;
  /** Requests per second. */
  readonly rate: number;
  readonly seconds: number;
  /** Most requests in flight (keep-alive connections). */
  readonly connections: number;
  /** Seed of the bodies; different seeds give different events. */
  readonly seed: number;
  /** Where to write the {@link LoadReport} as JSON. */
  readonly out: string;
  /** Per-request timeout. @default 10000 */
  readonly timeoutMs?: number;
}

export interface LoadReport {
  readonly sent: number;
  readonly payloads: ReturnType<typeof describePayloads>;
  /** Status → count; 0 is a failed request (connection error, timeout). */
  readonly statuses: Readonly<Record<string, number>>;
  /** Per request, from its scheduled time to the end of the answer. */
  readonly latenciesMs: readonly number[];
  /** Event ids of the bodies answered 200. */
  readonly ackedEventIds: readonly string[];
  /** Epoch ms of the first scheduled request and of the last answer. */
  readonly startedAtMs: number;
  readonly endedAtMs: number;
  /** How late the sender itself was at its worst (scheduling delay), ms: large values make the run invalid. */
  readonly maxSendDelayMs: number;
  readonly errors: readonly string[];
}

/** Generates the bodies, sends them on schedule, resolves with the report. */
export async function generateLoad(config: LoadConfig): Promise<LoadReport> {
  const count = Math.max(1, Math.round(config.rate * config.seconds));
  const payloads = buildPayloads({ count, secret: config.secret, seed: config.seed });
  const target = new URL(config.url);
  // FIFO: every connection stays busy, so none sits idle long enough for the server's keep-alive
  // timeout to close it just as a request goes out on it (a reset that is the client's doing).
  const agent = new Agent({ keepAlive: true, maxSockets: config.connections, scheduling: 'fifo' });
  const statuses: Record<string, number> = {};
  const latencies = new Array<number>(count).fill(0);
  const acked: string[] = [];
  const errors: string[] = [];
  let maxSendDelayMs = 0;
  let lastEnd = 0;

  const send = (i: number, scheduledAt: number) =>
    new Promise<void>((resolve) => {
      const p = payloads[i] as SignedPayload;
      postSignedPayload(
        agent,
        target,
        p,
        (status, err) => {
          const end = performance.now();
          latencies[i] = end - scheduledAt;
          lastEnd = Math.max(lastEnd, end);
          statuses[status] = (statuses[status] ?? 0) + 1;
          if (status === 200) acked.push(eventIdOf(p.body));
          if (err && errors.length < 10) errors.push(err.message);
          resolve();
        },
        config.timeoutMs ?? 10_000,
      );
    });

  const wallStart = Date.now();
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  let next = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      // Everything due by now goes out, each stamped with the time it was due.
      while (next < count && start + (next * 1000) / config.rate <= now) {
        const due = start + (next * 1000) / config.rate;
        maxSendDelayMs = Math.max(maxSendDelayMs, now - due);
        inFlight.push(send(next, due));
        next++;
      }
      if (next >= count) return resolve();
      setTimeout(tick, Math.max(0, start + (next * 1000) / config.rate - performance.now()));
    };
    tick();
  });
  await Promise.all(inFlight);
  agent.destroy();
  return {
    sent: count,
    payloads: describePayloads(payloads),
    statuses,
    latenciesMs: latencies,
    ackedEventIds: acked,
    startedAtMs: wallStart,
    endedAtMs: wallStart + (lastEnd - start),
    maxSendDelayMs,
    errors,
  };
}

// Run as a child process: config as the first argument, report to config.out.
if (process.argv[1] && /load-generator\.[cm]?[jt]s$/.test(process.argv[1])) {
  const config = JSON.parse(process.argv[2] ?? '{}') as LoadConfig;
  generateLoad(config)
    .then((report) => writeFileSync(config.out, JSON.stringify(report)))
    .catch((err: unknown) => {
      console.error(`load generator failed: ${(err as Error).stack ?? String(err)}`);
      process.exitCode = 1;
    });
}
