/**
 * The fault-injection run behind `test/faults` and `npm run soak`: local mode in this process with
 * seeded faults on every part (`injector.ts`), signed events posted over HTTP, then a check of what
 * issue 4 promises once the pipeline has settled:
 *
 * - every acknowledged event (answered 200) is in the store and in the archive;
 * - every handler ran to success once per event (a second success only where an injected fault
 *   explains it: a handler that failed after its work, a lost record of its success, or a queue
 *   send that went through after the receiver had spilled the event), and its success is recorded;
 * - the DLQ holds exactly the events whose handler always fails (all acknowledged ones; one that
 *   was answered 503 may be there too, when its send went through after all), and `inbox/spill/`
 *   holds nothing else.
 *
 * Anything else is a violation, named with examples; the report also carries the figures. The
 * handlers it installs are in `handlers.ts`, their checks in `handler-checks.ts`, and what it reads
 * back from the store, the archive and the DLQ in `read-back.ts`.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseEvent } from '../../lambda/core/envelope.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { SIGNATURE_HEADER, sign } from '../../lambda/core/signature.js';
import type { MetricName } from '../../lambda/core/telemetry.js';
import type { LocalDeliveryStreamOptions } from '../delivery-stream.js';
import type { JournalQueueOptions } from '../journal-queue.js';
import { startLocalPipeline, type LocalPipeline } from '../pipeline.js';
import { checkHandlers } from './handler-checks.js';
import { countingHandlers } from './handlers.js';
import { FaultInjector, mulberry32, type FaultKind, type FaultPlan, type FaultPoint } from './injector.js';
import { deadLetterIds, listSpillIds, readArchive, readStore } from './read-back.js';
import { errorMessage } from '../../lambda/core/errors.js';

export { PICKY, RECORDER } from './handlers.js';
export { deadLetterIds } from './read-back.js';

const SAMPLES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'samples');
const SECRET = 'fault-load-secret';

/**
 * A plan with every kind of fault on every point: what the fault test runs. The fan-out makes one
 * archive call per batch (a few hundred in the 5,000-event test), so that point's rates are higher:
 * at 1.5 % a run saw no archive failure at all about once in a hundred, and the test requires one.
 */
export const DEFAULT_FAULT_PLAN: FaultPlan = {
  queue: { fail: 0.03, failAfter: 0.01, delay: 0.03, maxDelayMs: 300 },
  store: { fail: 0.015, failAfter: 0.01, delay: 0.01, maxDelayMs: 50 },
  archive: { fail: 0.03, failAfter: 0.015, delay: 0.02, maxDelayMs: 50 },
  archiveS3: { fail: 0.1, failAfter: 0.05, delay: 0.05, maxDelayMs: 50 },
  blobs: { fail: 0.03, failAfter: 0.02, delay: 0.03, maxDelayMs: 100 },
  handler: { fail: 0.02, failAfter: 0.01, delay: 0.01, maxDelayMs: 20 },
};

/** The same plan with every rate multiplied by `factor` (capped so each point's rates stay ≤ 1). */
export function scaledPlan(plan: FaultPlan, factor: number): FaultPlan {
  if (!(factor >= 0)) throw new RangeError(`fault rate factor must be ≥ 0, got ${factor}`);
  const out: FaultPlan = {};
  for (const [point, rates] of Object.entries(plan) as Array<[FaultPoint, NonNullable<FaultPlan[FaultPoint]>]>) {
    const total = (rates.fail ?? 0) + (rates.failAfter ?? 0) + (rates.delay ?? 0);
    const f = total * factor > 1 ? 1 / total : factor;
    out[point] = {
      fail: (rates.fail ?? 0) * f,
      failAfter: (rates.failAfter ?? 0) * f,
      delay: (rates.delay ?? 0) * f,
      ...(rates.maxDelayMs !== undefined ? { maxDelayMs: rates.maxDelayMs } : {}),
    };
  }
  return out;
}

export interface FaultLoadOptions {
  /** Events to send (with `durationMs`, at least this many: sending goes on until the time is up). */
  readonly events: number;
  readonly durationMs?: number;
  readonly seed: number;
  readonly plan: FaultPlan;
  /** Fraction of events whose `picky` handler always fails. @default 0.02 */
  readonly poisonFraction?: number;
  /** Requests in flight at once. @default 16 */
  readonly concurrency?: number;
  /** Local mode's folder; by default a temporary one, removed afterwards. */
  readonly dir?: string;
  /** How long the pipeline may take to settle after the last send. @default 60000 */
  readonly settleTimeoutMs?: number;
  /** Queue tuning; by default short timeouts and more receives than AWS's 5 (see below). */
  readonly queue?: Omit<JournalQueueOptions, 'dir' | 'logger'>;
  readonly stream?: Omit<LocalDeliveryStreamOptions, 'dir' | 's3' | 'bucket' | 'logger' | 's3Directory'>;
  /** @default 150 */
  readonly receiverDeadlineMs?: number;
  /** Called every few hundred answers while sending. */
  readonly onProgress?: (progress: { readonly sent: number; readonly acknowledged: number }) => void;
}

export interface FaultLoadReport {
  readonly seed: number;
  readonly sent: number;
  /** Answered 200. */
  readonly acknowledged: number;
  /** Answers by status (`0` for a request that got no answer). */
  readonly answers: Readonly<Record<string, number>>;
  /** Acknowledged events found in the store. */
  readonly stored: number;
  /** Acknowledged events found in the archive. */
  readonly archived: number;
  /** Acknowledged events whose handlers all did what they can (each `picky` poison event fails) and are recorded so. */
  readonly handled: number;
  /** Distinct events in the DLQ. */
  readonly deadLettered: number;
  /** Acknowledged events marked poison. */
  readonly poison: number;
  /** Successful handler runs, counted by the handlers themselves. */
  readonly handlerRuns: number;
  /** Runs beyond one per event and handler; each explained by an injected fault, or it is a violation. */
  readonly repeatedRuns: number;
  readonly metrics: Readonly<Partial<Record<MetricName, number>>>;
  readonly faults: Record<FaultPoint, Record<FaultKind | 'late', number>>;
  readonly sendMs: number;
  readonly settleMs: number;
  /** Broken promises, each with examples; empty when all hold. */
  readonly violations: readonly string[];
}

/** Runs the load, settles, checks, stops local mode; never throws for a broken promise (see `violations`). */
export async function runFaultLoad(opts: FaultLoadOptions): Promise<FaultLoadReport> {
  if (!Number.isInteger(opts.events) || opts.events < 1) throw new RangeError(`events must be a positive integer, got ${opts.events}`);
  const poisonFraction = opts.poisonFraction ?? 0.02;
  if (!(poisonFraction >= 0 && poisonFraction <= 1)) throw new RangeError(`poisonFraction must be from 0 to 1, got ${poisonFraction}`);
  const concurrency = opts.concurrency ?? 16;
  const injector = new FaultInjector(opts.seed, opts.plan);
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), 'fault-load-')));

  // Known by id before each event is sent, so what handlers get of the payload does not matter.
  const poison = new Set<string>();
  const { handlers, runs } = countingHandlers(poison);

  // The last warnings and errors logged about each event, to say why a violation happened.
  const logged = new Map<string, string[]>();
  const keep = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    const text = fields ? JSON.stringify(fields) : '';
    for (const id of new Set(text.match(/[0-9a-f]{32}/g) ?? [])) {
      const lines = logged.get(id) ?? [];
      lines.push(`${level} ${message} ${text.length > 300 ? `${text.slice(0, 300)}…` : text}`);
      if (lines.length > 4) lines.shift();
      logged.set(id, lines);
    }
  };
  const logger = { debug() {}, info() {}, warn: keep('WARN'), error: keep('ERROR') };
  const why = (id: string) => `${describeFaults(injector, id)}; last log lines: ${(logged.get(id) ?? ['none']).join(' | ')}`;

  let pipeline: LocalPipeline | undefined;
  try {
    pipeline = await startLocalPipeline({
      dir,
      port: 0,
      secret: SECRET,
      handlers,
      // Short timeouts so retries and the DLQ happen within seconds; 12 receives rather than AWS's
      // 5, because with every fault on an ordinary record fails a receive about one time in five,
      // and 5 failures in a row among thousands of records would happen.
      queue: { batchSize: 25, batchingWindowMs: 10, visibilityTimeoutMs: 25, maxReceiveCount: 12, maxConcurrency: 4, ...opts.queue },
      stream: { bufferIntervalMs: 250, retryDelayMs: 20, ...opts.stream },
      receiverDeadlineMs: opts.receiverDeadlineMs ?? 150,
      spillDrainIntervalMs: 100,
      wrap: injector.wrappers(),
      logger,
    });

    // Send.
    const templates = sampleTemplates();
    const poisonDraw = mulberry32(opts.seed ^ 0x9e3779b9);
    const sentIds: string[] = [];
    const status = new Map<string, number>();
    const started = Date.now();
    const endAt = opts.durationMs !== undefined ? started + opts.durationMs : undefined;
    let next = 0;
    let acknowledged = 0;
    const url = `${pipeline.url}/webhook`;
    const more = () => next < opts.events || (endAt !== undefined && Date.now() < endAt);
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (more()) {
          const i = next++;
          const marked = poisonDraw() < poisonFraction;
          const template = templates[i % templates.length] as string;
          const body = `${template},"faultTest":{"run":${opts.seed},"i":${i},"poison":${marked}}}`;
          const id = eventIdOf(body);
          sentIds.push(id);
          if (marked) poison.add(id);
          let code: number;
          try {
            const res = await fetch(url, {
              method: 'POST',
              body,
              headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(body, SECRET) },
            });
            await res.arrayBuffer();
            code = res.status;
          } catch {
            code = 0; // No answer at all.
          }
          status.set(id, code);
          if (code === 200) acknowledged++;
          if (status.size % 500 === 0) opts.onProgress?.({ sent: status.size, acknowledged });
        }
      }),
    );
    const sendMs = Date.now() - started;

    // Settle: the queue empty, no spill left to announce, the archive written.
    const settleStarted = Date.now();
    const violations: string[] = [];
    const settleBy = settleStarted + (opts.settleTimeoutMs ?? 60_000);
    for (;;) {
      const left = settleBy - Date.now();
      try {
        await withTimeout(pipeline.settle(), left, 'settle');
        break;
      } catch (err) {
        if (Date.now() >= settleBy) {
          violations.push(
            `the pipeline did not settle within ${opts.settleTimeoutMs ?? 60_000} ms (${errorMessage(err)}); queue: ${JSON.stringify(pipeline.queueStats())}`,
          );
          break;
        }
        await sleep(50);
      }
    }
    const settleMs = Date.now() - settleStarted;

    // Check.
    const acked = sentIds.filter((id) => status.get(id) === 200);
    const ackedPoison = acked.filter((id) => poison.has(id));
    const items = await readStore(pipeline, acked);
    const archivedIds = await readArchive(pipeline.s3, pipeline.bucket);
    const dead = deadLetterIds(pipeline.queue.listDeadLetters());
    const spillsLeft = await listSpillIds(pipeline.s3, pipeline.bucket);

    const notStored = acked.filter((id) => !items.has(id)).map((id) => `${id} (${why(id)})`);
    const notArchived = acked.filter((id) => !archivedIds.has(id)).map((id) => `${id} (${why(id)})`);
    note(violations, notStored, 'acknowledged events are missing from the store');
    note(violations, notArchived, 'acknowledged events are missing from the archive');

    const {
      handlerRuns,
      repeatedRuns,
      handled,
      violations: handlerViolations,
    } = checkHandlers({ runs, injected: injector.injected, acked, items, poison, why });
    for (const [what, found] of handlerViolations) note(violations, found, what);

    const deadNotPoison = [...dead]
      .filter((id) => !poison.has(id))
      .map((id) => `${id} (${describeDeadLetters(pipeline as LocalPipeline, id)}; ${why(id)})`);
    const poisonNotDead = ackedPoison.filter((id) => !dead.has(id));
    const spillsNotDead = [...spillsLeft].filter((id) => !dead.has(id));
    note(violations, deadNotPoison, 'events in the DLQ whose handlers do not always fail');
    note(violations, poisonNotDead, 'acknowledged events whose handler always fails are not in the DLQ');
    note(violations, spillsNotDead, 'spilled objects left in inbox/spill/ for events that are not dead-lettered');

    return {
      seed: opts.seed,
      sent: sentIds.length,
      acknowledged: acked.length,
      answers: countBy([...status.values()].map(String)),
      stored: acked.length - notStored.length,
      archived: acked.length - notArchived.length,
      handled,
      deadLettered: dead.size,
      poison: ackedPoison.length,
      handlerRuns,
      repeatedRuns,
      metrics: pipeline.metrics(),
      faults: injector.counts(),
      sendMs,
      settleMs,
      violations,
    };
  } finally {
    await pipeline?.close().catch(() => undefined);
    if (opts.dir === undefined) await rm(dir, { recursive: true, force: true });
  }
}

/** The faults injected into calls about an event, for a violation's example. */
function describeFaults(injector: FaultInjector, eventId: string): string {
  const mine = injector.injected.filter((f) => f.key.includes(eventId)).map((f) => `${f.point} ${f.key.replace(eventId, '…')} ${f.kind}`);
  return mine.length > 0 ? `faults: ${mine.join(', ')}` : 'no faults injected';
}

/** How an event's DLQ messages carried it. */
function describeDeadLetters(p: LocalPipeline, eventId: string): string {
  const kinds = p.queue
    .listDeadLetters()
    .filter((d) => deadLetterIds([d]).has(eventId))
    .map(
      (d) =>
        `${d.message.attributes.claimCheckKey ? 'claim check' : d.message.attributes.eventId ? 'inline' : 'spill notification'} after ${d.receiveCount} receives`,
    );
  return `dead letters: ${kinds.join(', ')}`;
}

/** One line per finding: the count, what it is, and a few examples. */
function note(violations: string[], found: readonly string[], what: string): void {
  if (found.length === 0) return;
  violations.push(`${found.length} ${what}: ${found.slice(0, 5).join(', ')}${found.length > 5 ? ', …' : ''}`);
}

function countBy(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/** Sample bodies without their closing brace, ready for one more field: parseable and not deprecated. */
function sampleTemplates(): string[] {
  const out: string[] = [];
  for (const f of readdirSync(SAMPLES_DIR)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const text = readFileSync(join(SAMPLES_DIR, f), 'utf8').trimEnd();
    const parsed = parseEvent(text);
    if (parsed.deprecated || parsed.envelope === 'unknown' || parsed.flags.length > 0 || !text.endsWith('}')) continue;
    out.push(text.slice(0, -1));
  }
  if (out.length === 0) throw new Error(`no usable sample events in ${SAMPLES_DIR}`);
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${Math.max(0, Math.round(ms))} ms`)), Math.max(0, ms));
    }),
  ]).finally(() => clearTimeout(timer));
}
