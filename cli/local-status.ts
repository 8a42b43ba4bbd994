/**
 * What local mode holds, read from its files without changing them, so `status` is safe while
 * `dev` runs: the queue's journal and dead-letter queue (format in `local/journal-queue.ts`), the
 * delivery stream's buffer segments (`local/delivery-stream.ts`), `dev.pid`, and the archive's
 * objects for today (with DuckDB, through `cli/archive-query.ts`, which reads s3rver's files
 * offline: dynalite, the store, is reachable only while `dev` runs, the archive always is).
 * While `dev` runs, its read-only admin route `GET /admin/queue` (address and token in `dev.json`)
 * adds what the files cannot tell: which received messages are in flight and which wait out
 * their visibility timeout.
 *
 * While `dev` runs the files change under the reader; every file is read whole, a torn last line
 * is ignored, and the journal is read before the DLQ, so a message moving to the DLQ is counted
 * once. Counts are a snapshot, as approximate as SQS's own.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { ARCHIVE_EVENTS_PREFIX, parsePartition, partitionPrefix } from '../lambda/core/archive-layout.js';
import { readJournal } from '../local/append-log.js';
import { bufferedArchiveLines } from '../local/delivery-stream.js';
import { isAlive, readDevInfo } from '../local/dev-lock.js';
import { ADMIN_AUTH_HEADER } from '../local/http-front-door.js';
import { DLQ_FILE, JOURNAL_FILE } from '../local/journal-queue.js';
import { parseJsonObject } from '../local/json-object.js';
import { localPaths, S3RVER_OBJECT_SUFFIX } from '../local/paths.js';
import { locateArchive, runArchiveQuery } from './archive-query.js';
import type { SignatureSplit } from '../lambda/core/signature-split.js';

export interface LocalQueueStatus {
  /** Messages accepted and not done: waiting plus received. */
  readonly depth: number;
  /** Never delivered yet (SQS: visible). */
  readonly waiting: number;
  /**
   * Delivered at least once and not done: in a batch, or failed and waiting out the visibility
   * timeout (SQS: not visible). When `dev` is stopped they are all delivered again at its start.
   */
  readonly received: number;
  /** Of `received`, in a batch the fan-out is working on; known only from a running `dev`. */
  readonly inFlight: number | null;
  /** Of `received`, failed and hidden until their visibility timeout ends; known only from a running `dev`. */
  readonly waitingToRetry: number | null;
  /** Where the counts come from: the running `dev` (exact), or its files (a snapshot). */
  readonly countedFrom: 'dev' | 'files';
  /** Seconds since the oldest message in the queue was accepted; null when empty. */
  readonly oldestAgeSeconds: number | null;
}

export interface LocalDeadLetterStatus {
  readonly depth: number;
  /** Seconds since the oldest dead letter was first accepted by the queue; null when empty. */
  readonly oldestAgeSeconds: number | null;
}

export interface LocalStatus {
  readonly mode: 'local';
  /** Local mode's folder. */
  readonly dir: string;
  readonly dev: { readonly running: boolean; readonly pid: number | null };
  readonly queue: LocalQueueStatus;
  readonly deadLetterQueue: LocalDeadLetterStatus;
  readonly today: {
    /** The UTC day, `YYYY-MM-DD`: the archive's `dt` partition. */
    readonly date: string;
    /** Distinct events archived today: what the store received today, from the archive (see above). */
    readonly storedEvents: number;
    readonly countedFrom: 'archive';
    /** Archive lines still in the delivery stream's buffer (a few seconds), not counted above. */
    readonly bufferedArchiveLines: number;
  };
  /**
   * Deliveries accepted per signature form since dev started, and those refused for their
   * signature; null when dev is not running (or predates the count).
   */
  readonly signatures: SignatureSplit | null;
  /**
   * Objects moved out of s3rver's folder at a start because a crash cut their write short
   * (`local/s3rver-repair.ts`), kept in `s3Quarantine` for a person to look at.
   */
  readonly quarantinedObjects: number;
}

/** How long `status` waits for a running `dev`'s admin route before using the files alone. */
const ADMIN_TIMEOUT_MS = 2000;

/** Reads local mode's status under `dir` (default `.local` or `SOCIALPLUS_LOCAL_DIR`). */
export async function readLocalStatus(dir: string = localPaths().root, now: Date = new Date()): Promise<LocalStatus> {
  const paths = localPaths(dir);
  const dev = await devProcess(paths.pidFile);
  const live = dev.running ? await askRunningDevQueue(paths.devInfoFile, dev.pid) : undefined;
  const files = await readQueueFiles(paths.queue, now);
  // The UTC day as the archive partitions it (`dt=`), from the archive's own layout.
  const date = dayOf(partitionPrefix(now)) as string;
  return {
    mode: 'local',
    dir: paths.root,
    dev,
    queue: live
      ? {
          depth: live.visible + live.inFlight + live.delayed,
          waiting: live.visible,
          received: live.inFlight + live.delayed,
          inFlight: live.inFlight,
          waitingToRetry: live.delayed,
          oldestAgeSeconds: files.queue.oldestAgeSeconds,
          countedFrom: 'dev',
        }
      : { ...files.queue, inFlight: null, waitingToRetry: null, countedFrom: 'files' },
    deadLetterQueue: live ? { ...files.deadLetterQueue, depth: live.deadLetters } : files.deadLetterQueue,
    today: {
      date,
      storedEvents: await archivedEventsOn(paths.root, date),
      countedFrom: 'archive',
      bufferedArchiveLines: await bufferedLines(paths.stream),
    },
    quarantinedObjects: await countObjects(paths.s3Quarantine),
    signatures: dev.running ? await askRunningDevSignatures(paths.devInfoFile, dev.pid) : null,
  };
}

/**
 * Reads one admin route of the running `dev` (`GET /admin/<route>`): its JSON object, or undefined
 * when it cannot say (no dev.json for that process, a wrong token, an older dev without the route,
 * one stopping right now): the files still answer.
 */
async function askRunningDev(devInfoFile: string, pid: number | null, route: 'queue' | 'signatures'): Promise<Record<string, unknown> | undefined> {
  const info = await readDevInfo(devInfoFile);
  if (!info || info.pid !== pid) return undefined;
  try {
    const res = await fetch(`${info.url}/admin/${route}`, {
      headers: { [ADMIN_AUTH_HEADER]: `Bearer ${info.token}` },
      signal: AbortSignal.timeout(ADMIN_TIMEOUT_MS),
    });
    return res.ok ? ((await res.json()) as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A count in an admin answer: a whole number from 0, else undefined. */
function countIn(v: Record<string, unknown>, key: string): number | undefined {
  const n = v[key];
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 ? n : undefined;
}

/** The signature forms the running `dev` counted; null if it cannot say. */
async function askRunningDevSignatures(devInfoFile: string, pid: number | null): Promise<SignatureSplit | null> {
  const v = await askRunningDev(devInfoFile, pid, 'signatures');
  if (v === undefined) return null;
  const n = (k: string) => countIn(v, k) ?? 0;
  return { base64: n('base64'), hex: n('hex'), 'json-base64': n('json-base64'), 'json-hex': n('json-hex'), refused: n('refused') };
}

/** The queue's counts as the running `dev` reports them (`QueueStats`); undefined if it cannot say. */
async function askRunningDevQueue(
  devInfoFile: string,
  pid: number | null,
): Promise<{ visible: number; inFlight: number; delayed: number; deadLetters: number } | undefined> {
  const v = await askRunningDev(devInfoFile, pid, 'queue');
  if (v === undefined) return undefined;
  const [visible, inFlight, delayed, deadLetters] = (['visible', 'inFlight', 'delayed', 'deadLetters'] as const).map((k) => countIn(v, k));
  if (visible === undefined || inFlight === undefined || delayed === undefined || deadLetters === undefined) return undefined;
  return { visible, inFlight, delayed, deadLetters };
}

/** The queue and DLQ as their files say. */
async function readQueueFiles(
  dir: string,
  now: Date,
): Promise<{ queue: Omit<LocalQueueStatus, 'inFlight' | 'waitingToRetry' | 'countedFrom'>; deadLetterQueue: LocalDeadLetterStatus }> {
  // Journal before DLQ: a message moving to the DLQ is written there before `dead` is journaled.
  const live = await liveMessages(join(dir, JOURNAL_FILE));
  const dead = await deadLetters(join(dir, DLQ_FILE));
  for (const d of dead) live.delete(d.messageId);

  let waiting = 0;
  let received = 0;
  let oldestSentAt = Infinity;
  for (const m of live.values()) {
    if (m.receiveCount > 0) received++;
    else waiting++;
    oldestSentAt = Math.min(oldestSentAt, m.sentAt);
  }
  const oldestDead = dead.reduce((min, d) => Math.min(min, d.sentAt), Infinity);
  return {
    queue: { depth: live.size, waiting, received, oldestAgeSeconds: ageSeconds(oldestSentAt, now) },
    deadLetterQueue: { depth: dead.length, oldestAgeSeconds: ageSeconds(oldestDead, now) },
  };
}

function ageSeconds(sentAtMs: number, now: Date): number | null {
  return Number.isFinite(sentAtMs) && sentAtMs > 0 ? Math.max(0, Math.floor((now.getTime() - sentAtMs) / 1000)) : null;
}

/** Whether `dev` runs on this folder: its pid file names a live process. */
async function devProcess(pidFile: string): Promise<{ running: boolean; pid: number | null }> {
  let text: string;
  try {
    text = await readFile(pidFile, 'utf8');
  } catch {
    return { running: false, pid: null };
  }
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return { running: false, pid: null };
  // Not alive: a pid file left by a crash.
  return isAlive(pid) ? { running: true, pid } : { running: false, pid: null };
}

interface LiveMessage {
  sentAt: number;
  receiveCount: number;
}

/** Replays the journal's operations: `send` adds, `recv` counts a delivery, `ack` and `dead` remove. */
async function liveMessages(path: string): Promise<Map<string, LiveMessage>> {
  const live = new Map<string, LiveMessage>();
  for (const line of (await readJournal(path)).lines) {
    const op = parseJsonObject(line);
    if (!op || typeof op.id !== 'string') continue;
    if (op.op === 'send' && typeof op.sentAt === 'number') {
      live.set(op.id, { sentAt: op.sentAt, receiveCount: typeof op.n === 'number' ? op.n : 0 });
    } else if (op.op === 'recv' && typeof op.n === 'number') {
      const m = live.get(op.id);
      if (m) m.receiveCount = Math.max(m.receiveCount, op.n);
    } else if (op.op === 'ack' || op.op === 'dead') {
      live.delete(op.id);
    }
  }
  return live;
}

async function deadLetters(path: string): Promise<Array<{ messageId: string; sentAt: number }>> {
  const out: Array<{ messageId: string; sentAt: number }> = [];
  for (const line of (await readJournal(path)).lines) {
    const d = parseJsonObject(line);
    if (d && typeof d.messageId === 'string') out.push({ messageId: d.messageId, sentAt: Number(d.sentAt) || 0 });
  }
  return out;
}

/** Lines in the delivery stream's buffer segments. */
async function bufferedLines(dir: string): Promise<number> {
  let count = 0;
  for await (const _line of bufferedArchiveLines(dir)) count++;
  return count;
}

/** s3rver object files under `dir`, at any depth. */
async function countObjects(dir: string): Promise<number> {
  try {
    const names = await readdir(dir, { recursive: true });
    return names.filter((n) => n.endsWith(S3RVER_OBJECT_SUFFIX)).length;
  } catch {
    return 0;
  }
}

/** The `dt` of an archive key (`events/dt=…/hour=…/…`); undefined for other keys. */
function dayOf(key: string): string | undefined {
  return parsePartition(key)?.dt;
}

/** Distinct event ids in the archive's objects for day `date` (`dt=` partition). */
async function archivedEventsOn(root: string, date: string): Promise<number> {
  const { eventsDir, objects: all } = locateArchive(root);
  // An object file's key in the bucket, from its path under the events folder.
  const objects = all.filter((o) => dayOf(`${ARCHIVE_EVENTS_PREFIX}${relative(eventsDir, o).split(sep).join('/')}`) === date);
  if (objects.length === 0) return 0;
  const { rows } = await runArchiveQuery('select count(distinct event_id) as n from events', objects);
  return Number(rows[0]?.n ?? 0);
}
