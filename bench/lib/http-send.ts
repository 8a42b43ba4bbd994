/**
 * Posts signed webhook bodies to a URL as fast as a fixed number of keep-alive connections allow,
 * the way a burst from Social Plus arrives. Used where the count of requests matters, not their
 * pacing (`postAll`); {@link postSignedPayload} is the one request, which the paced load generator
 * (`load-generator.ts`) sends too.
 */
import { Agent, request } from 'node:http';
import type { SignedPayload } from '../../cli/cost/payloads.js';

export interface SendResult {
  /** HTTP status per payload, in the order given (0 when the request failed). */
  readonly statuses: readonly number[];
  /** The first few failures, for the error message. */
  readonly errors: readonly string[];
}

/** POSTs every payload (each once) with `concurrency` requests in flight; never throws for a bad status. */
export async function postAll(url: string, payloads: readonly SignedPayload[], concurrency = 32): Promise<SendResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency, scheduling: 'fifo' });
  const target = new URL(url);
  const statuses = new Array<number>(payloads.length).fill(0);
  const errors: string[] = [];
  let next = 0;
  const one = (p: SignedPayload) =>
    new Promise<number>((resolve) => {
      postSignedPayload(agent, target, p, (status, err) => {
        if (err && errors.length < 5) errors.push(err.message);
        resolve(status);
      });
    });
  try {
    await Promise.all(
      Array.from({ length: Math.min(concurrency, payloads.length) }, async () => {
        while (next < payloads.length) {
          const i = next++;
          statuses[i] = await one(payloads[i] as SignedPayload);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { statuses, errors };
}

/**
 * POSTs one signed payload as Social Plus sends it, on `agent`'s keep-alive connections, and calls
 * `done` once: with the answer's status when the answer has been read, else with 0 and the error
 * (a connection failure, or no answer within `timeoutMs` when given).
 */
export function postSignedPayload(
  agent: Agent,
  target: URL,
  p: SignedPayload,
  done: (status: number, err?: Error) => void,
  timeoutMs?: number,
): void {
  let called = false;
  const once = (status: number, err?: Error) => {
    if (called) return;
    called = true;
    done(status, err);
  };
  const req = request(
    {
      agent,
      host: target.hostname,
      port: target.port,
      path: target.pathname,
      method: 'POST',
      ...(timeoutMs !== undefined ? { timeout: timeoutMs } : {}),
      headers: {
        'content-type': 'application/json',
        'content-length': p.body.length,
        'x-amity-signature': p.signature,
        'user-agent': 'Social-Plus-Webhooks/1.0',
      },
    },
    (res) => {
      res.resume();
      res.on('end', () => once(res.statusCode ?? 0));
    },
  );
  if (timeoutMs !== undefined) req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
  req.on('error', (err) => once(0, err));
  req.end(p.body);
}
