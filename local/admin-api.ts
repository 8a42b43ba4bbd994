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
 * - `GET  /admin/dynamodb`: the tables the next route reads (`{"tables": {"events": …, "handlerState": …}}`).
 * - `POST /admin/dynamodb/{Query|GetItem|BatchGetItem}`: the operation's input as the body, its
 *   output as the answer (binary values as `{"$base64": "…"}`, see {@link toAdminJson}): `events`
 *   and `state` read the store the pipeline owns through it (dynalite is this process's, and stays
 *   on loopback). Only these reads, and only on those tables: nothing can be written through it.
 */
import {
  BatchGetItemCommand,
  GetItemCommand,
  QueryCommand,
  type BatchGetItemCommandInput,
  type DynamoDBClient,
  type GetItemCommandInput,
  type QueryCommandInput,
} from '@aws-sdk/client-dynamodb';
import type { QueueMessage, QueueMessageAttributes } from '../lambda/core/ports.js';
import type { SignatureSplit } from '../lambda/core/signature-split.js';
import type { AdminHandler, AdminResponse } from './http-front-door.js';
import { InvalidQueueMessageError, type QueueStats } from './journal-queue.js';
import { errorMessage } from '../lambda/core/errors.js';

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
  /** The DynamoDB tables the `/admin/dynamodb` reads may name, and the client that reads them. */
  readonly dynamodb?: {
    readonly client: Pick<DynamoDBClient, 'send'>;
    readonly tables: AdminTables;
  };
}

/** The tables `/admin/dynamodb` reads: the event store and the example handlers' state. */
export interface AdminTables {
  readonly events: string;
  readonly handlerState: string;
}

/** The DynamoDB operations `POST /admin/dynamodb/{operation}` runs: reads only. */
export const ADMIN_DYNAMODB_READS = ['Query', 'GetItem', 'BatchGetItem'] as const;
export type AdminDynamoDbRead = (typeof ADMIN_DYNAMODB_READS)[number];

/**
 * A DynamoDB input or output as JSON: each binary value (`Uint8Array`) becomes `{"$base64": "…"}`,
 * so an item's gzipped payload survives the trip. {@link fromAdminJson} undoes it.
 */
export function toAdminJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return { $base64: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(toAdminJson);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toAdminJson(v)]));
  return value;
}

/** The inverse of {@link toAdminJson}. */
export function fromAdminJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(fromAdminJson);
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value);
    const only = entries.length === 1 ? entries[0] : undefined;
    if (only?.[0] === '$base64' && typeof only[1] === 'string') return Buffer.from(only[1], 'base64');
    return Object.fromEntries(entries.map(([k, v]) => [k, fromAdminJson(v)]));
  }
  return value;
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
      case 'GET /dynamodb':
        return target.dynamodb
          ? reply(200, { tables: target.dynamodb.tables, operations: ADMIN_DYNAMODB_READS })
          : problem(404, 'this local mode does not serve its tables');
      case 'POST /redrive':
        return reply(200, { moved: await target.queue.redriveDeadLetters() });
      case 'POST /enqueue': {
        const parsed = parseEnqueueBody(body);
        if (typeof parsed === 'string') return problem(400, parsed);
        const results = await Promise.allSettled(parsed.map((m) => target.queue.send(m)));
        const failures = results.map((r, i) => ({ r, i })).filter((x): x is { r: PromiseRejectedResult; i: number } => x.r.status === 'rejected');
        if (failures.length > 0) {
          const first = failures[0] as { r: PromiseRejectedResult; i: number };
          const reason = errorMessage(first.r.reason);
          const invalid = first.r.reason instanceof InvalidQueueMessageError;
          return problem(
            invalid ? 400 : 503,
            `${failures.length} of ${parsed.length} messages were not queued (first: message ${first.i}: ${reason}); the others were`,
          );
        }
        return reply(200, { sent: parsed.length });
      }
      default: {
        const read = /^POST \/dynamodb\/([A-Za-z]+)$/.exec(route);
        if (read) return dynamoDbRead(target.dynamodb, read[1] as string, body);
        return problem(404, `no admin route ${route}: use GET /admin/queue, GET /admin/signatures, POST /admin/redrive or POST /admin/enqueue`);
      }
    }
  };
}

/** Runs one allowed read on one allowed table; DynamoDB's own refusals keep their name (e.g. `ResourceNotFoundException`). */
async function dynamoDbRead(target: AdminTarget['dynamodb'], operation: string, body: Buffer): Promise<AdminResponse> {
  if (!target) return problem(404, 'this local mode does not serve its tables');
  if (!(ADMIN_DYNAMODB_READS as readonly string[]).includes(operation)) {
    return problem(404, `DynamoDB ${operation} is not served: only the reads ${ADMIN_DYNAMODB_READS.join(', ')}`);
  }
  let input: Record<string, unknown>;
  try {
    const v = fromAdminJson(JSON.parse(body.toString('utf8')));
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return problem(400, `the body must be the ${operation} input, a JSON object`);
    input = v as Record<string, unknown>;
  } catch {
    return problem(400, `the body must be the ${operation} input, a JSON object`);
  }
  const allowed = Object.values(target.tables);
  const named = operation === 'BatchGetItem' ? Object.keys((input.RequestItems as object | null | undefined) ?? {}) : [input.TableName];
  const other = named.find((t) => typeof t !== 'string' || !allowed.includes(t));
  if (named.length === 0 || other !== undefined) {
    return problem(
      400,
      `${operation} may read only the tables ${allowed.join(', ')}${named.length === 0 ? '; it names none' : `, not ${JSON.stringify(other)}`}`,
    );
  }
  try {
    // The shapes are DynamoDB's to check: it refuses a malformed input with a ValidationException.
    const { $metadata: _metadata, ...output } =
      operation === 'Query'
        ? await target.client.send(new QueryCommand(input as unknown as QueryCommandInput))
        : operation === 'GetItem'
          ? await target.client.send(new GetItemCommand(input as unknown as GetItemCommandInput))
          : await target.client.send(new BatchGetItemCommand(input as unknown as BatchGetItemCommandInput));
    return reply(200, toAdminJson(output));
  } catch (err) {
    const e = err as Error;
    return reply(400, { name: e.name, message: e.message });
  }
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
