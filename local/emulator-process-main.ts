/**
 * The entry of a local-mode emulator process (started by `emulator-process.ts`): serves dynalite or
 * the S3 emulator behind `guardEmulator` on 127.0.0.1, configured by the parent over IPC (never argv:
 * other local users see a command line; the credentials are in the message). Its log lines go to
 * the parent's logger. It exits as soon as the parent is gone, after closing dynalite's database
 * if that is quick, so a SIGKILLed local mode leaves no process holding the port or the LevelDB lock.
 *
 * Errors an emulator throws are not caught here: the process dies, and the parent starts it again.
 */
import { mkdir } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import dynalite from 'dynalite';
import type { Logger } from '../lambda/core/telemetry.js';
import { guardEmulator, type EmulatorRefusal } from './emulator-guard.js';
import { listen } from './listen.js';
import type { EmulatorChildMessage, EmulatorParentMessage } from './emulator-process.js';
import { createS3Emulator } from './s3-emulator.js';
import { ipcLogger, lowerPriority } from './child-ipc.js';
import { errorMessage } from '../lambda/core/errors.js';

type StartMessage = Extract<EmulatorParentMessage, { type: 'start' }>;

/** How long a parent-less process spends closing its emulator before it exits anyway. */
const ORPHAN_CLOSE_MS = 2000;
/** After `close`, connections still open this long are cut. */
const DRAIN_MS = 2000;
/** At most one refusal is logged per this interval (a web page may send many), with a count of the rest. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

const send = (msg: EmulatorChildMessage, then?: () => void): void => {
  if (!process.connected || !process.send) {
    then?.();
    return;
  }
  try {
    process.send(msg, undefined, {}, () => then?.());
  } catch {
    then?.();
  }
};

const logger: Logger = ipcLogger(send);

interface Running {
  close(): Promise<void>;
}

let running: Running | undefined;
let stopping = false;
let shutdown: Promise<void> | undefined;

/** Closes the emulator (bounded by `limitMs`) and exits. */
function stop(limitMs: number): Promise<void> {
  stopping = true;
  shutdown ??= (async () => {
    const timer = setTimeout(() => process.exit(0), limitMs);
    try {
      await running?.close();
    } catch (err) {
      logger.error('emulator: closing failed', { error: errorMessage(err) });
    }
    clearTimeout(timer);
    process.exit(0);
  })();
  return shutdown;
}

// Ctrl-C in a terminal signals the whole process group: the parent decides when this process ends
// (it closes it over IPC, and its end disconnects it), so a local mode shutting down does not see
// its emulators die first.
process.on('SIGINT', () => undefined);
process.on('SIGTERM', () => void stop(ORPHAN_CLOSE_MS));

process.on('disconnect', () => {
  // The parent is gone (closed, or killed): let go of the port and the database now.
  void stop(ORPHAN_CLOSE_MS);
});

process.on('message', (raw) => {
  const msg = raw as EmulatorParentMessage;
  if (msg.type === 'start') {
    start(msg).catch((err: Error & { code?: string }) => {
      if (stopping) return;
      send({ type: 'failed', error: { message: err.message, ...(err.code ? { code: err.code } : {}) } }, () => process.exit(1));
    });
  } else if (msg.type === 'close') {
    void stop(60_000);
  }
});

async function start(cfg: StartMessage): Promise<void> {
  // What the emulators write holds users' events: owner-only, whatever the caller's umask (dynalite's
  // LevelDB files are created with the process's default mode). No user code runs in this process.
  process.umask(0o077);
  if (cfg.priority !== undefined) lowerPriority(cfg.priority);
  await mkdir(cfg.dir, { recursive: true, mode: 0o700 });
  const deadline = Date.now() + cfg.lockWaitMs;
  let port = cfg.port;
  const guard = (inner: RequestListener): RequestListener =>
    guardEmulator(inner, {
      service: cfg.kind,
      credentials: cfg.credentials,
      port: () => port,
      ...(cfg.credentialsFile ? { credentialsFile: cfg.credentialsFile } : {}),
      onRefuse: refusalLogger(cfg.kind),
    });

  let server: Server;
  let closeEmulator: (server: Server) => Promise<void>;
  if (cfg.kind === 'dynamodb') {
    await waitFor(
      () => probeLevelDb(cfg.dir),
      (err) => causeCode(err) === 'LEVEL_LOCKED',
      deadline,
      () =>
        `dynalite's database ${cfg.dir} is locked by another process (LevelDB allows one): is another local mode using this folder, or an earlier emulator process still exiting? Waited ${cfg.lockWaitMs} ms`,
    );
    if (stopping) return;
    // dynalite's own server, so that closing it closes its database too; its listener goes behind the guard.
    server = dynalite({ path: cfg.dir, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
    const inner = server.listeners('request')[0] as RequestListener;
    server.removeAllListeners('request');
    server.on('request', guard(inner));
    closeEmulator = (s) => closeServer(s);
  } else {
    const emulator = createS3Emulator({ directory: cfg.dir, logger });
    server = createServer(guard((req, res) => emulator.handle(req, res)));
    closeEmulator = async (s) => {
      const closed = closeServer(s);
      await emulator.close();
      await closed;
    };
  }
  await waitFor(
    () => listen(server, cfg.port, '127.0.0.1'),
    (err) => (err as NodeJS.ErrnoException).code === 'EADDRINUSE',
    deadline,
    () =>
      `port ${cfg.port} on 127.0.0.1 is in use: is another local mode running, or an earlier emulator process still exiting? Waited ${cfg.lockWaitMs} ms`,
  );
  port = (server.address() as AddressInfo).port;
  running = { close: () => closeEmulator(server) };
  if (stopping) {
    await running.close();
    return;
  }
  send({ type: 'ready', port });
}

/** Runs `attempt` until it succeeds, retrying errors `retryable` accepts (with backoff) until `deadline`. */
async function waitFor(
  attempt: () => Promise<void>,
  retryable: (err: unknown) => boolean,
  deadline: number,
  timeoutMessage: () => string,
): Promise<void> {
  let wait = 50;
  let logged = false;
  for (;;) {
    try {
      await attempt();
      return;
    } catch (err) {
      if (!retryable(err)) throw err;
      if (stopping) return;
      if (Date.now() + wait > deadline)
        throw Object.assign(new Error(timeoutMessage()), { code: (err as NodeJS.ErrnoException).code ?? causeCode(err) });
      if (!logged) logger.info('emulator: waiting for a port or database lock another process still holds', { error: errorMessage(err) });
      logged = true;
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 500);
    }
  }
}

const requireHere = createRequire(import.meta.url);

/**
 * Opens and closes dynalite's LevelDB, to learn whether another process holds its lock: dynalite
 * opens it in the background and would only fail the first request. `level` is dynalite's own.
 */
async function probeLevelDb(dir: string): Promise<void> {
  const { Level } = createRequire(requireHere.resolve('dynalite'))('level') as {
    Level: new (path: string) => { open(): Promise<void>; close(): Promise<void> };
  };
  const db = new Level(dir);
  await db.open();
  await db.close();
}

function causeCode(err: unknown): string | undefined {
  return (err as { cause?: { code?: string } }).cause?.code ?? (err as { code?: string }).code;
}

/** Stops accepting connections, lets requests in progress finish (up to DRAIN_MS), then closes. */
function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
    timer.unref();
    server.close((err) => {
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    });
    server.closeIdleConnections();
  });
}

function refusalLogger(kind: 'dynamodb' | 's3'): (refusal: EmulatorRefusal) => void {
  let lastLogged = 0;
  let suppressed = 0;
  return (refusal) => {
    const now = Date.now();
    if (now - lastLogged < REFUSAL_LOG_INTERVAL_MS) {
      suppressed++;
      return;
    }
    lastLogged = now;
    logger.warn(`${kind === 'dynamodb' ? 'DynamoDB' : 'S3'} emulator refused a request`, {
      code: refusal.code.replace(/^.*#/, ''),
      reason: refusal.message,
      method: refusal.method,
      ...(suppressed ? { alsoRefusedSinceLastLog: suppressed } : {}),
    });
    suppressed = 0;
  };
}
