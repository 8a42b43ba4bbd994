/**
 * The admin routes of a running local mode (served by the front door, see `http-front-door.ts`):
 * the CLI's `redrive` and `replay` reach the queue through them, because only the process running
 * local mode may open the queue's journal.
 *
 * - `GET  /admin/queue`: the queue's counts (`QueueStats`).
 * - `GET  /admin/signatures`: deliveries accepted per signature form since local mode started, and
 *   those refused for their signature (`SignatureSplit`).
 * - `POST /admin/redrive`: moves the DLQ back to the queue; answers `{"moved": n}`.
 * - `POST /admin/enqueue`: `{"messages": [{"body": "…", "attributes": {"eventId": "…", …}}]}`, at
 *   most {@link MAX_ENQUEUE_MESSAGES} per request; journals each before answering `{"sent": n}`.
 */
import type { QueueMessage, QueueMessageAttributes } from '../lambda/core/ports.js';
import type { SignatureSplit } from '../lambda/core/receive.js';
import type { AdminHandler, AdminResponse } from './http-front-door.js';
import { InvalidQueueMessageError, type QueueStats } from './journal-queue.js';

/** Most messages in one `POST /admin/enqueue`. */
export const MAX_ENQUEUE_MESSAGES = 500;

/** What the admin routes act on. */
export interface AdminTarget {
  /** The queue the fan-out consumes (not a fault-injecting wrapper). */
  readonly queue: {
    send(message: QueueMessage): Promise<void>;
    redriveDeadLetters(): Promise<number>;
    stats(): QueueStats;
  };
  /** The signature forms seen since the start. */
  readonly signatures?: () => SignatureSplit;
}

const reply = (statusCode: number, body: unknown): AdminResponse => ({ statusCode, body });
const problem = (statusCode: number, message: string): AdminResponse => reply(statusCode, { message });

/** The handler of the `/admin/…` routes. */
export function createAdminHandler(target: AdminTarget): AdminHandler {
  return async ({ method, path, body }) => {
    const route = `${method} ${path.replace(/\/+$/, '') || '/'}`;
    switch (route) {
      case 'GET /queue':
        return reply(200, target.queue.stats());
      case 'GET /signatures':
        return target.signatures ? reply(200, target.signatures()) : problem(404, 'this local mode does not count signature forms');
      case 'POST /redrive':
        return reply(200, { moved: await target.queue.redriveDeadLetters() });
      case 'POST /enqueue': {
        const parsed = parseEnqueueBody(body);
        if (typeof parsed === 'string') return problem(400, parsed);
        const results = await Promise.allSettled(parsed.map((m) => target.queue.send(m)));
        const failures = results.map((r, i) => ({ r, i })).filter((x): x is { r: PromiseRejectedResult; i: number } => x.r.status === 'rejected');
        if (failures.length > 0) {
          const first = failures[0] as { r: PromiseRejectedResult; i: number };
          const reason = (first.r.reason as Error).message;
          const invalid = first.r.reason instanceof InvalidQueueMessageError;
          return problem(invalid ? 400 : 503, `${failures.length} of ${parsed.length} messages were not queued (first: message ${first.i}: ${reason}); the others were`);
        }
        return reply(200, { sent: parsed.length });
      }
      default:
        return problem(404, `no admin route ${route}: use GET /admin/queue, GET /admin/signatures, POST /admin/redrive or POST /admin/enqueue`);
    }
  };
}

/** The messages of an enqueue request, or what is wrong with it. */
function parseEnqueueBody(body: Buffer): QueueMessage[] | string {
  let v: unknown;
  try {
    v = JSON.parse(body.toString('utf8'));
  } catch {
    return 'the body must be JSON: {"messages": [{"body": "…", "attributes": {…}}]}';
  }
  const messages = (v as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return 'the body must have a "messages" array';
  if (messages.length > MAX_ENQUEUE_MESSAGES) return `at most ${MAX_ENQUEUE_MESSAGES} messages per request, got ${messages.length}`;
  const out: QueueMessage[] = [];
  for (const [i, m] of messages.entries()) {
    const o = m as { body?: unknown; attributes?: unknown } | null;
    if (typeof o?.body !== 'string' || o.body === '') return `message ${i}: "body" must be a non-empty string`;
    const attrs = o.attributes;
    if (typeof attrs !== 'object' || attrs === null || Array.isArray(attrs)) return `message ${i}: "attributes" must be an object of strings`;
    for (const [name, value] of Object.entries(attrs)) {
      if (typeof value !== 'string') return `message ${i}: attribute "${name}" must be a string, got ${typeof value}`;
    }
    out.push({ body: o.body, attributes: attrs as QueueMessageAttributes });
  }
  return out;
}
