/**
 * Local mode's fan-out in its own process, the way Lambda runs it apart from API Gateway: the
 * front door's process keeps the receiver and the queue (whose journal is the buffer), and hands
 * each batch to this process over IPC. The fan-out's work (SDK calls, the handlers, compressing the
 * archive) then cannot hold up an acknowledgement on the front door's JavaScript thread, and the
 * process runs at a lower CPU priority ({@link BACKGROUND_PRIORITY}), so when the machine is short of
 * CPU the acknowledgements come first and the fan-out catches up after.
 *
 * A fan-out process that dies is started again; the batches it held are failed back to the queue,
 * which delivers them again after their visibility timeout, as SQS does after a Lambda crash.
 */
import { fileURLToPath } from 'node:url';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { ConfigurationError } from '../lambda/common/env.js';
import type { EventPattern } from '../lambda/core/routing.js';
import type { Logger, MetricName } from '../lambda/core/telemetry.js';
import type { LocalFanoutSettings } from './fanout-runtime.js';
import type { BatchConsumer } from './journal-queue.js';
import type { ChildLogMessage } from './child-ipc.js';
import type { InspectorNote } from './inspector/ledger.js';
import { awaitExit, childReady, forkChild, RestartBackoff, type StartSignal, type SupervisedChild } from './supervised-child.js';

/** The nice value of local mode's background processes (the fan-out, the emulators): 0 is normal, 19 the lowest. */
export const BACKGROUND_PRIORITY = 10;

export interface EmulatorAccess {
  readonly endpoints: { readonly dynamodb: string; readonly s3: string };
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

/** Parent → child. */
export type FanoutParentMessage =
  | ({ type: 'init'; settings: LocalFanoutSettings; inboxKey: string } & EmulatorAccess)
  | { type: 'batch'; id: number; event: SQSEvent }
  | { type: 'flush'; id: number }
  | { type: 'close'; id: number };

/** Child → parent. */
export type FanoutChildMessage =
  | { type: 'ready'; handlers: Array<{ name: string; events: EventPattern[] }> }
  | { type: 'failed'; error: { name: string; message: string } }
  | ChildLogMessage
  | {
      type: 'result';
      id: number;
      response?: SQSBatchResponse;
      error?: string;
      metrics: Partial<Record<MetricName, number>>;
      /** The inspector's notes since the last answer (`inspector/observer.ts`). */
      notes?: InspectorNote[];
    };

export interface FanoutProcessOptions extends EmulatorAccess {
  readonly settings: LocalFanoutSettings;
  /** The inbox MAC key (`inbox-mac.ts`), sent over IPC. */
  readonly inboxKey: Buffer;
  readonly logger: Logger;
  /** Told of the metric counts each answer brings. */
  readonly onMetrics: (counts: Partial<Record<MetricName, number>>) => void;
  /** Told of the inspector's notes each answer brings. */
  readonly onNotes?: (notes: readonly InspectorNote[]) => void;
  /** First delay before starting a fan-out process that died; doubles up to 5 s. @default 200 */
  readonly restartDelayMs?: number;
  /** How long a start may take. @default 60000 */
  readonly readyTimeoutMs?: number;
}

export interface FanoutProcess {
  /** The handlers the fan-out runs, with their event patterns. */
  readonly handlers: ReadonlyArray<{ readonly name: string; readonly events: readonly EventPattern[] }>;
  /** What the queue delivers batches to. */
  readonly consumer: BatchConsumer;
  /** Writes the delivery stream's buffer to S3 (for `settle`). */
  flush(): Promise<void>;
  /** The live process's id (undefined between a crash and its restart). */
  pid(): number | undefined;
  /** Restarts since start. */
  restarts(): number;
  /** Closes the fan-out (its stream flushes) and ends the process. */
  close(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./fanout-process.mjs', import.meta.url));
const NAME = 'local fan-out process';

type ResultMessage = Extract<FanoutChildMessage, { type: 'result' }>;
type ReadyMessage = Extract<FanoutChildMessage, { type: 'ready' }>;

interface Pending {
  resolve(msg: ResultMessage): void;
  reject(err: Error): void;
}

interface Live {
  readonly child: SupervisedChild;
  readonly ready: Promise<ReadyMessage>;
}

/** What a starting fan-out process's message means; a ConfigurationError keeps its class across the process boundary. */
function startSignal(msg: FanoutChildMessage): StartSignal<ReadyMessage> {
  if (msg.type === 'ready') return { ready: msg };
  if (msg.type !== 'failed') return undefined;
  const { name, message } = msg.error;
  return { failed: name === 'ConfigurationError' ? new ConfigurationError(message) : Object.assign(new Error(message), { name }) };
}

/** Starts the fan-out process; resolves once its fan-out is built (or rejects with why it could not be). */
export async function startFanoutProcess(opts: FanoutProcessOptions): Promise<FanoutProcess> {
  const logger = opts.logger;
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let restarts = 0;
  let closing = false;
  /** Set once `close` began: the process's exit is then expected. */
  let ending = false;
  const backoff = new RestartBackoff(opts.restartDelayMs);
  let live: Live | undefined;
  let starting: Promise<Live> | undefined;

  const spawn = (): Live => {
    const child = forkChild(ENTRY, { stdout: 'inherit', serialization: 'advanced' });
    child.process.on('message', (raw) => {
      const msg = raw as FanoutChildMessage;
      if (msg.type === 'log') {
        logger[msg.level](msg.message, msg.fields);
      } else if (msg.type === 'result') {
        opts.onMetrics(msg.metrics);
        if (msg.notes && msg.notes.length > 0) opts.onNotes?.(msg.notes);
        const p = pending.get(msg.id);
        pending.delete(msg.id);
        p?.resolve(msg);
      }
    });
    const ready = childReady(child, { name: NAME, timeoutMs: opts.readyTimeoutMs ?? 60_000, read: (raw) => startSignal(raw as FanoutChildMessage) });
    ready.catch(() => undefined);
    void child.exited.then(({ code, signal }) => onExit(child, code, signal));
    const init: FanoutParentMessage = {
      type: 'init',
      settings: opts.settings,
      endpoints: opts.endpoints,
      credentials: opts.credentials,
      inboxKey: opts.inboxKey.toString('base64'),
    };
    child.process.send(init);
    return { child, ready };
  };

  const onExit = (child: SupervisedChild, code: number | null, signal: NodeJS.Signals | null): void => {
    if (live?.child !== child) return;
    live = undefined;
    const why = new Error(
      `the local fan-out process exited (${signal ?? `code ${code}`}); its batches are delivered again after their visibility timeout`,
    );
    for (const p of pending.values()) p.reject(why);
    pending.clear();
    if (closing || ending) return;
    // One that keeps dying right after it starts waits longer each time.
    const delay = backoff.next(Date.now() - child.startedAt);
    logger.error('local fan-out process exited; starting it again', { exitCode: code, signal, restartInMs: delay });
    starting = new Promise<Live>((resolve) => setTimeout(() => resolve(startLive()), delay));
  };

  const startLive = (): Live => {
    restarts++;
    live = spawn();
    live.ready.catch((err: Error) => {
      if (!closing) logger.error('local fan-out process could not start', { error: err.message });
    });
    starting = undefined;
    return live;
  };

  const current = async (): Promise<Live> => {
    for (;;) {
      if (closing) throw new Error('the local fan-out is closing');
      const l = live ?? (await starting);
      if (!l) throw new Error('the local fan-out process is not running');
      await l.ready;
      if (live === l) return l;
    }
  };

  const request = async (make: (id: number) => FanoutParentMessage): Promise<ResultMessage> => {
    const l = await current();
    const id = nextId++;
    const answer = new Promise<ResultMessage>((resolve, reject) => pending.set(id, { resolve, reject }));
    l.child.process.send(make(id));
    const msg = await answer;
    if (msg.error !== undefined) throw new Error(msg.error);
    return msg;
  };

  live = spawn();
  const first = await live.ready.catch(async (err: Error) => {
    closing = true;
    live?.child.process.kill('SIGKILL');
    throw err;
  });

  return {
    handlers: first.handlers,
    consumer: async (event) => (await request((id) => ({ type: 'batch', id, event }))).response,
    async flush() {
      await request((id) => ({ type: 'flush', id }));
    },
    pid: () => live?.child.process.pid,
    restarts: () => restarts,
    async close() {
      if (closing || ending) return;
      ending = true;
      const l = live;
      let failure: Error | undefined;
      if (l) {
        try {
          await request((id) => ({ type: 'close', id }));
        } catch (err) {
          failure = err as Error;
        }
        closing = true;
        await awaitExit(l.child, 10_000);
      }
      closing = true;
      if (failure) throw failure;
    },
  };
}
