/**
 * Seeded fault injection for local mode (issue 4): wrappers around the pipeline's parts (queue
 * send, DynamoDB store, S3 inbox, the delivery stream and its S3 writes, handlers) that make a
 * fraction of calls fail, fail after doing their work, or wait first.
 *
 * Each decision is drawn from a small PRNG (mulberry32) seeded by the run's seed, the injection
 * point, the call's key (its event id or object key) and how many calls that key had there, so
 * the same seed makes the same calls fail whatever order concurrency runs them in: a failure seen
 * once can be replayed with `FAULT_SEED=<seed>`.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { SocialPlusWebhooksError } from '../../lambda/core/errors.js';
import type { WebhookEnvelope, WebhookHandler } from '../../lambda/core/define-handler.js';
import type { ArchiveStream, BlobStore, EventQueue, EventStore } from '../../lambda/core/ports.js';
import type { LocalPipelineWrappers } from '../pipeline.js';

/** Where faults can be injected. */
export type FaultPoint = 'queue' | 'store' | 'archive' | 'archiveS3' | 'blobs' | 'handler';

export const FAULT_POINTS: readonly FaultPoint[] = ['queue', 'store', 'archive', 'archiveS3', 'blobs', 'handler'];

/** Fractions (0..1) of a point's calls that get each fault; together at most 1. */
export interface FaultRates {
  /** Fail before reaching the real part (nothing happened). */
  readonly fail?: number;
  /** Reach the real part, which does its work, and then fail anyway: the caller cannot tell. */
  readonly failAfter?: number;
  /** Wait up to `maxDelayMs` before the call. */
  readonly delay?: number;
  /** @default 100 */
  readonly maxDelayMs?: number;
}

export type FaultPlan = Partial<Record<FaultPoint, FaultRates>>;

export type FaultKind = 'fail' | 'fail-after' | 'delay';

/** One fault that was injected, or a call that finished after its caller had given up (`late`). */
export interface InjectedFault {
  readonly point: FaultPoint;
  /** What the call was about: `<eventId>` for the queue, `put:<eventId>` / `done:<eventId>` for the store, … */
  readonly key: string;
  readonly kind: FaultKind | 'late';
}

/** The error an injected failure throws. */
export class InjectedFaultError extends SocialPlusWebhooksError {
  constructor(
    readonly point: FaultPoint,
    readonly key: string,
    readonly kind: 'fail' | 'fail-after',
  ) {
    super(`injected fault (${kind}) at ${point} for ${key}`);
    this.name = 'InjectedFaultError';
  }
}

/** mulberry32: a tiny, fast 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string to 32 bits (seeds one decision's PRNG). */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Environment variable that fixes the seed of fault-injected runs. */
export const FAULT_SEED_ENV = 'FAULT_SEED';

/** The seed from `FAULT_SEED` (an unsigned 32-bit integer), else a fresh random one. */
export function seedFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[FAULT_SEED_ENV];
  if (raw === undefined || raw.trim() === '') return Math.floor(Math.random() * 2 ** 32);
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n >= 2 ** 32)
    throw new RangeError(`${FAULT_SEED_ENV} must be an integer from 0 to 4294967295, got '${raw}'`);
  return n;
}

type Decision =
  { readonly kind: 'none' } | { readonly kind: 'fail' } | { readonly kind: 'fail-after' } | { readonly kind: 'delay'; readonly ms: number };

/** Draws faults for calls and wraps the pipeline's parts to inject them. */
export class FaultInjector {
  /** Every fault injected (and every late call), in order. */
  readonly injected: InjectedFault[] = [];
  private readonly calls = new Map<string, number>();

  constructor(
    readonly seed: number,
    readonly plan: FaultPlan,
  ) {
    for (const [point, rates] of Object.entries(plan) as Array<[FaultPoint, FaultRates | undefined]>) {
      if (!FAULT_POINTS.includes(point)) throw new RangeError(`unknown fault point '${point}': use ${FAULT_POINTS.join(', ')}`);
      const parts = [rates?.fail ?? 0, rates?.failAfter ?? 0, rates?.delay ?? 0];
      if (parts.some((r) => !(r >= 0 && r <= 1)))
        throw new RangeError(`fault rates at ${point} must be fractions from 0 to 1, got ${JSON.stringify(rates)}`);
      if (parts.reduce((a, b) => a + b, 0) > 1) throw new RangeError(`fault rates at ${point} add up to more than 1: ${JSON.stringify(rates)}`);
      if (rates?.maxDelayMs !== undefined && !(rates.maxDelayMs >= 0))
        throw new RangeError(`maxDelayMs at ${point} must be ≥ 0, got ${rates.maxDelayMs}`);
    }
  }

  /** The fault for the next call at `point` about `key`. */
  decide(point: FaultPoint, key: string): Decision {
    const rates = this.plan[point];
    if (!rates) return { kind: 'none' };
    const id = `${point}\u0000${key}`;
    const n = this.calls.get(id) ?? 0;
    this.calls.set(id, n + 1);
    const random = mulberry32(hash32(`${this.seed}:${point}:${key}:${n}`));
    const r = random();
    const fail = rates.fail ?? 0;
    const failAfter = rates.failAfter ?? 0;
    const delay = rates.delay ?? 0;
    if (r < fail) return { kind: 'fail' };
    if (r < fail + failAfter) return { kind: 'fail-after' };
    if (r < fail + failAfter + delay) return { kind: 'delay', ms: Math.floor(random() * (rates.maxDelayMs ?? 100)) };
    return { kind: 'none' };
  }

  /** How many faults of each kind each point got. */
  counts(): Record<FaultPoint, Record<FaultKind | 'late', number>> {
    const out = Object.fromEntries(FAULT_POINTS.map((p) => [p, { fail: 0, 'fail-after': 0, delay: 0, late: 0 }])) as Record<
      FaultPoint,
      Record<FaultKind | 'late', number>
    >;
    for (const f of this.injected) out[f.point][f.kind]++;
    return out;
  }

  /** Runs `work` under the fault drawn for it. */
  async call<T>(point: FaultPoint, key: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const d = this.decide(point, key);
    switch (d.kind) {
      case 'fail':
        this.injected.push({ point, key, kind: 'fail' });
        throw new InjectedFaultError(point, key, 'fail');
      case 'fail-after': {
        await work();
        this.injected.push({ point, key, kind: 'fail-after' });
        throw new InjectedFaultError(point, key, 'fail-after');
      }
      case 'delay':
        this.injected.push({ point, key, kind: 'delay' });
        // The caller may give up meanwhile (the receiver's deadline): the call still goes ahead,
        // as a request already on its way to AWS would.
        await new Promise((r) => setTimeout(r, d.ms));
        return this.finish(point, key, work, signal);
      default:
        return this.finish(point, key, work, signal);
    }
  }

  /** Runs the real call, noting when it finished after its caller had given up on it. */
  private async finish<T>(point: FaultPoint, key: string, work: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    const result = await work();
    if (signal?.aborted) this.injected.push({ point, key, kind: 'late' });
    return result;
  }

  /** The wrappers to pass to `startLocalPipeline({ wrap })`. */
  wrappers(): LocalPipelineWrappers {
    return {
      queue: (queue) => this.wrapQueue(queue),
      store: (store) => this.wrapStore(store),
      archive: (archive) => this.wrapArchive(archive),
      blobs: (blobs, user) => this.wrapBlobs(blobs, user),
      archiveS3: (client) => this.wrapS3(client),
      handler: (handler) => this.wrapHandler(handler),
    };
  }

  wrapQueue(queue: EventQueue): EventQueue {
    return {
      send: (message, options) =>
        this.call('queue', message.attributes.eventId || message.body.slice(0, 64), () => queue.send(message, options), options?.signal),
    };
  }

  wrapStore(store: EventStore): EventStore {
    return {
      putIfAbsent: (event) => this.call('store', `put:${event.eventId}`, () => store.putIfAbsent(event)),
      recordHandlerRuns: (eventId, update) => this.call('store', `done:${eventId}`, () => store.recordHandlerRuns(eventId, update)),
    };
  }

  wrapArchive(archive: ArchiveStream): ArchiveStream {
    return {
      // Lines start with `{"event_id":"<id>"`: the batch is named by its first event and its size.
      putLines: (lines) => this.call('archive', `${lines[0]?.slice(13, 45) ?? ''}:${lines.length}`, () => archive.putLines(lines)),
    };
  }

  wrapBlobs(blobs: BlobStore, user: string): BlobStore {
    return {
      ...(blobs.bucket !== undefined ? { bucket: blobs.bucket } : {}),
      put: (key, body, options) => this.call('blobs', `${user}:put:${key}`, () => blobs.put(key, body, options), options?.signal),
      get: (key, options) => this.call('blobs', `${user}:get:${key}`, () => blobs.get(key, options), options?.signal),
      delete: (key, options) => this.call('blobs', `${user}:delete:${key}`, () => blobs.delete(key, options), options?.signal),
    };
  }

  /** Adds a middleware to the client, so every command it sends (put, read-back) may fail or wait. */
  wrapS3(client: S3Client): S3Client {
    client.middlewareStack.add(
      (next, context) => (args) => {
        const key = `${context.commandName ?? 'command'}:${String((args.input as { Key?: unknown }).Key ?? '')}`;
        return this.call('archiveS3', key, () => next(args));
      },
      { step: 'initialize', name: 'faultInjection' },
    );
    return client;
  }

  wrapHandler(handler: WebhookHandler<WebhookEnvelope>): WebhookHandler<WebhookEnvelope> {
    return {
      name: handler.name,
      events: handler.events,
      handle: (event, ctx) => this.call('handler', `${handler.name}:${ctx.eventId}`, async () => handler.handle(event, ctx)),
    };
  }
}
