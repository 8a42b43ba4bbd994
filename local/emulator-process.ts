/**
 * Local mode's emulators (dynalite for DynamoDB, the S3 emulator), each in a supervised child
 * process rather than in the front door's process: an emulator that throws (dynalite rethrows
 * storage errors from its callbacks) then takes down only itself, and is started again on the same
 * port, with its data, while the front door keeps accepting webhooks into the queue's journal.
 *
 * Each child serves its emulator behind `guardEmulator` (SigV4 with this installation's credentials,
 * loopback Host, no browsers) on 127.0.0.1. The credentials reach it over IPC, never argv or the
 * environment (other local users can read a command line). A child exits when its parent is gone,
 * so a SIGKILLed local mode leaves no emulator holding the port or dynalite's LevelDB lock for
 * long; a start waits a few seconds for a lock or port that a dying process still holds.
 */
import { fileURLToPath } from 'node:url';
import type { Logger } from '../lambda/core/telemetry.js';
import { createConsoleLogger } from './console-logger.js';
import type { EmulatorCredentials } from './emulator-credentials.js';
import type { ChildLogMessage } from './child-ipc.js';
import { awaitExit, childReady, forkChild, isRunning, RestartBackoff, type StartSignal, type SupervisedChild } from './supervised-child.js';

export type EmulatorKind = 'dynamodb' | 's3';

export interface EmulatorProcessOptions {
  readonly kind: EmulatorKind;
  /** The emulator's data folder (dynalite's LevelDB, or the S3 emulator's files). */
  readonly dir: string;
  /** 127.0.0.1 port; 0 or unset: any free one (kept across restarts). */
  readonly port?: number;
  readonly credentials: EmulatorCredentials;
  /** Where the credentials live, named in the guard's refusals. @default '.local/emulator-credentials.json' */
  readonly credentialsFile?: string;
  /** Where crashes, restarts, refusals and the child's stderr go. @default a console logger */
  readonly logger?: Logger;
  /** First delay before starting a child that died; doubles (while it keeps dying soon after starting) up to 5 s. @default 200 */
  readonly restartDelayMs?: number;
  /** How long a start may take, waiting for the port and the LevelDB lock included. @default 30000 */
  readonly readyTimeoutMs?: number;
  /** How long a start waits for a port or LevelDB lock still held by a process that is exiting. @default 10000 */
  readonly lockWaitMs?: number;
  /** How long `close` waits for the child to close its emulator before killing it. @default 10000 */
  readonly closeTimeoutMs?: number;
  /** The child's nice value (e.g. the fan-out's BACKGROUND_PRIORITY); unset: the parent's. */
  readonly priority?: number;
}

export interface EmulatorProcess {
  readonly kind: EmulatorKind;
  /** `http://127.0.0.1:<port>`, the same across restarts. */
  readonly endpoint: string;
  readonly port: number;
  /** The live child's process id (undefined between a crash and its restart). */
  pid(): number | undefined;
  /** Restarts since start (children started again after one died). */
  restarts(): number;
  /** Asks the child to close its emulator (dynalite closes its database), kills it after a timeout. */
  close(): Promise<void>;
}

/** Parent → child. */
export type EmulatorParentMessage =
  | {
      type: 'start';
      kind: EmulatorKind;
      dir: string;
      port: number;
      credentials: EmulatorCredentials;
      credentialsFile?: string;
      lockWaitMs: number;
      priority?: number;
    }
  | { type: 'close' };

/** Child → parent. */
export type EmulatorChildMessage = { type: 'ready'; port: number } | { type: 'failed'; error: { message: string; code?: string } } | ChildLogMessage;

const ENTRY = fileURLToPath(new URL('./emulator-process.mjs', import.meta.url));
const NAMES: Record<EmulatorKind, string> = { dynamodb: 'DynamoDB emulator (dynalite)', s3: 'S3 emulator' };

/** Starts the emulator's process; resolves once it listens, or rejects with why it could not. */
export async function startEmulatorProcess(opts: EmulatorProcessOptions): Promise<EmulatorProcess> {
  const name = NAMES[opts.kind];
  const logger = opts.logger ?? createConsoleLogger();
  const backoff = new RestartBackoff(opts.restartDelayMs);
  const readyTimeoutMs = opts.readyTimeoutMs ?? 30_000;
  const closeTimeoutMs = opts.closeTimeoutMs ?? 10_000;
  /** The child started last, ready or not. */
  let live: SupervisedChild | undefined;
  /** The child that listens (live once ready). */
  let serving: SupervisedChild | undefined;
  let restarts = 0;
  let closing = false;
  let restartTimer: NodeJS.Timeout | undefined;

  /** Forks a child and waits until it listens on `port` (0: any), or rejects. */
  const spawn = async (port: number): Promise<{ child: SupervisedChild; port: number }> => {
    // stdout is dropped; stderr is read line by line into the logger.
    const child = forkChild(ENTRY, { stdout: 'ignore', onStderrLine: (line) => logger.warn(`${name}: ${line}`) });
    const proc = child.process;
    proc.on('message', (raw) => {
      const msg = raw as EmulatorChildMessage;
      if (msg.type === 'log') logger[msg.level](msg.message, msg.fields);
    });
    const ready = childReady(child, {
      name,
      timeoutMs: readyTimeoutMs,
      read: (raw): StartSignal<number> => {
        const msg = raw as EmulatorChildMessage;
        if (msg.type === 'ready') return { ready: msg.port };
        if (msg.type === 'failed') return { failed: new Error(`the ${name} could not start: ${msg.error.message}`) };
        return undefined;
      },
    });
    const start: EmulatorParentMessage = {
      type: 'start',
      kind: opts.kind,
      dir: opts.dir,
      port,
      credentials: { accessKeyId: opts.credentials.accessKeyId, secretAccessKey: opts.credentials.secretAccessKey },
      ...(opts.credentialsFile ? { credentialsFile: opts.credentialsFile } : {}),
      lockWaitMs: opts.lockWaitMs ?? 10_000,
      ...(opts.priority !== undefined ? { priority: opts.priority } : {}),
    };
    proc.send(start, (err) => {
      if (err) proc.kill('SIGKILL');
    });
    live = child;
    return { child, port: await ready };
  };

  const watch = (child: SupervisedChild, port: number): void => {
    serving = child;
    void child.exited.then(({ code, signal }) => {
      if (serving === child) serving = undefined;
      if (live !== child) return;
      live = undefined;
      if (closing) return;
      // One that keeps dying right after it starts waits longer each time.
      const delay = backoff.next(Date.now() - child.startedAt);
      logger.error(`${name} exited unexpectedly; starting it again on the same port`, { exitCode: code, signal, port, restartInMs: delay });
      scheduleRestart(port, delay);
    });
  };

  const scheduleRestart = (port: number, delay: number): void => {
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (closing) return;
      spawn(port).then(
        ({ child }) => {
          if (closing) return;
          restarts++;
          logger.info(`${name} started again`, { port, pid: child.process.pid });
          watch(child, port);
        },
        (err: Error) => {
          live = undefined;
          if (closing) return;
          const retryIn = backoff.next(0);
          logger.error(`${name} could not be started again; trying again`, { error: err.message, port, restartInMs: retryIn });
          scheduleRestart(port, retryIn);
        },
      );
    }, delay);
  };

  const stop = async (child: SupervisedChild): Promise<void> => {
    const proc = child.process;
    if (!isRunning(child)) return;
    try {
      if (proc.connected) proc.send({ type: 'close' } satisfies EmulatorParentMessage);
      else proc.kill('SIGTERM');
    } catch {
      proc.kill('SIGKILL');
    }
    await awaitExit(child, closeTimeoutMs, () => logger.warn(`${name} did not close within ${closeTimeoutMs} ms; killing it`, { pid: proc.pid }));
  };

  let first: { child: SupervisedChild; port: number };
  try {
    first = await spawn(opts.port ?? 0);
  } catch (err) {
    closing = true;
    if (live) {
      live.process.kill('SIGKILL');
      await live.exited;
    }
    throw err;
  }
  const port = first.port;
  watch(first.child, port);

  let closed: Promise<void> | undefined;
  return {
    kind: opts.kind,
    endpoint: `http://127.0.0.1:${port}`,
    port,
    pid: () => serving?.process.pid,
    restarts: () => restarts,
    close: () =>
      (closed ??= (async () => {
        closing = true;
        if (restartTimer) clearTimeout(restartTimer);
        restartTimer = undefined;
        const child = live;
        live = undefined;
        if (child) await stop(child);
      })()),
  };
}
