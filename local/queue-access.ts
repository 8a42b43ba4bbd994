/**
 * How the CLI's tools (`redrive`, `replay`) reach local mode's queue. Only one process may open
 * the queue's journal, so:
 * - while local mode runs (its `dev.json` names a live process), through its admin routes, with
 *   the token in `dev.json` (see `admin-api.ts`): the events are processed at once;
 * - otherwise by opening the journal itself, holding the folder's lock meanwhile (so local mode
 *   cannot start on it in between): the events wait there and are processed when local mode starts.
 */
import { existsSync } from 'node:fs';
import { SocialPlusWebhooksError, errorMessage } from '../lambda/core/errors.js';
import { SQS_MAX_MESSAGE_BYTES } from '../lambda/core/limits.js';
import type { QueueMessage } from '../lambda/core/ports.js';
import { MAX_ENQUEUE_MESSAGES } from './admin-api.js';
import { ADMIN_AUTH_HEADER } from './http-front-door.js';
import { JournalQueue, type QueueStats } from './journal-queue.js';
import { localPaths } from './paths.js';
import { claimLocalDir, isAlive, readDevInfo, type DevInfo } from './dev-lock.js';

/** Local mode's queue, from a tool's side. */
export interface LocalQueueAccess {
  /** `dev`: through the running local mode; `files`: through the journal, local mode being stopped. */
  readonly via: 'dev' | 'files';
  /** The running local mode's process id (with `via: 'dev'`). */
  readonly pid?: number;
  /** Queues the messages, in order; `onProgress` gets the number queued so far. */
  send(messages: readonly QueueMessage[], onProgress?: (queued: number) => void): Promise<void>;
  /** Moves the DLQ back to the queue; resolves with how many moved. */
  redrive(): Promise<number>;
  stats(): Promise<QueueStats>;
  close(): Promise<void>;
}

/** The folder holds no local mode state. */
export class NoLocalStateError extends SocialPlusWebhooksError {
  constructor(readonly dir: string) {
    super(`no local mode state in ${dir}: run local mode there first (npm start), or point at its folder with --dir or SOCIALPLUS_LOCAL_DIR`);
    this.name = 'NoLocalStateError';
  }
}

/** Local mode runs but its admin routes did not answer as they should. */
export class LocalModeUnreachableError extends SocialPlusWebhooksError {
  constructor(message: string) {
    super(message);
    this.name = 'LocalModeUnreachableError';
  }
}

/** Batches of an admin enqueue stay well under the front door's 10 MiB body limit. */
const MAX_REQUEST_BYTES = 4 * 1024 * 1024;
/** Sends in flight at once on the journal: enough to share each disk sync among many. */
const FILE_SEND_CONCURRENCY = 256;

/** Opens the queue of the local mode in `root` (default: `.local` or `SOCIALPLUS_LOCAL_DIR`). */
export async function openLocalQueue(root?: string): Promise<LocalQueueAccess> {
  const paths = localPaths(root);
  if (!existsSync(paths.root)) throw new NoLocalStateError(paths.root);
  const info = await readDevInfo(paths.devInfoFile);
  if (info && isAlive(info.pid)) return new AdminQueue(info);
  const release = await claimLocalDir(paths.root);
  try {
    const queue = await JournalQueue.open({ dir: paths.queue, maxMessageBytes: SQS_MAX_MESSAGE_BYTES });
    return new FileQueue(queue, release);
  } catch (err) {
    await release();
    throw err;
  }
}

class AdminQueue implements LocalQueueAccess {
  readonly via = 'dev' as const;
  readonly pid: number;

  constructor(private readonly info: DevInfo) {
    this.pid = info.pid;
  }

  async send(messages: readonly QueueMessage[], onProgress?: (queued: number) => void): Promise<void> {
    let done = 0;
    let batch: QueueMessage[] = [];
    let bytes = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      const answer = (await this.request('POST', '/enqueue', { messages: batch })) as { sent?: number };
      done += answer.sent ?? batch.length;
      batch = [];
      bytes = 0;
      onProgress?.(done);
    };
    for (const m of messages) {
      const size = Buffer.byteLength(m.body) + 512;
      if (batch.length >= MAX_ENQUEUE_MESSAGES || (batch.length > 0 && bytes + size > MAX_REQUEST_BYTES)) await flush();
      batch.push(m);
      bytes += size;
    }
    await flush();
  }

  async redrive(): Promise<number> {
    const answer = (await this.request('POST', '/redrive')) as { moved?: number };
    return answer.moved ?? 0;
  }

  async stats(): Promise<QueueStats> {
    return (await this.request('GET', '/queue')) as QueueStats;
  }

  async close(): Promise<void> {}

  private async request(method: string, path: string, body?: unknown): Promise<unknown> {
    const where = `local mode (process ${this.info.pid}) at ${this.info.url}`;
    let res: Response;
    try {
      res = await fetch(`${this.info.url}/admin${path}`, {
        method,
        headers: { [ADMIN_AUTH_HEADER]: `Bearer ${this.info.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(120_000),
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? errorMessage(err);
      throw new LocalModeUnreachableError(`${where} did not answer (${cause}); if it is stuck, stop it and run this command again`);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const message = (parsed as { message?: unknown } | undefined)?.message;
      throw new LocalModeUnreachableError(
        `${where} answered ${res.status} to ${method} /admin${path}: ${typeof message === 'string' ? message : text.slice(0, 200)}`,
      );
    }
    return parsed;
  }
}

class FileQueue implements LocalQueueAccess {
  readonly via = 'files' as const;

  constructor(
    private readonly queue: JournalQueue,
    private readonly release: () => Promise<void>,
  ) {}

  async send(messages: readonly QueueMessage[], onProgress?: (queued: number) => void): Promise<void> {
    for (let i = 0; i < messages.length; i += FILE_SEND_CONCURRENCY) {
      await Promise.all(messages.slice(i, i + FILE_SEND_CONCURRENCY).map((m) => this.queue.send(m)));
      onProgress?.(Math.min(messages.length, i + FILE_SEND_CONCURRENCY));
    }
  }

  redrive(): Promise<number> {
    return this.queue.redriveDeadLetters();
  }

  async stats(): Promise<QueueStats> {
    return this.queue.stats();
  }

  async close(): Promise<void> {
    try {
      await this.queue.close();
    } finally {
      await this.release();
    }
  }
}
