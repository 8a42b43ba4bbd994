/**
 * One child process of local mode (the fan-out's, an emulator's) as its parent sees it: forked from
 * a `.mjs` entry, its ready handshake, its stop, and the backoff between restarts. What each child is
 * sent, and when it is started again, stays with its supervisor (`fanout-process.ts`,
 * `emulator-process.ts`): the fan-out's callers wait for a restart, an emulator restarts on its port.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How a child ended. */
export interface ChildExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SupervisedChild {
  readonly process: ChildProcess;
  readonly startedAt: number;
  /** The child's last stderr lines (empty unless its stderr is read). */
  readonly tail: readonly string[];
  /** Resolves once the child has exited and its stderr (when read) has ended. */
  readonly exited: Promise<ChildExit>;
}

export interface ForkChildOptions {
  /** Where the child's stdout goes. */
  readonly stdout: 'inherit' | 'ignore';
  /** Given each line of the child's stderr (the last lines are kept in `tail`); unset: stderr is inherited. */
  readonly onStderrLine?: (line: string) => void;
  /** The IPC serialization (`advanced` carries what structured clone does). @default 'json' */
  readonly serialization?: 'json' | 'advanced';
}

/** How many stderr lines a child keeps for the message of a failed start. */
const STDERR_TAIL_LINES = 20;

/** Forks `entry` with an IPC channel. */
export function forkChild(entry: string, opts: ForkChildOptions): SupervisedChild {
  // No inherited execArgv (a test runner's, debugger's or profiler's flags); the entry registers its own loader.
  const proc = fork(entry, [], {
    execArgv: [],
    ...(opts.serialization ? { serialization: opts.serialization } : {}),
    stdio: ['ignore', opts.stdout, opts.onStderrLine ? 'pipe' : 'inherit', 'ipc'],
  });
  const tail: string[] = [];
  const stderrDone = new Promise<void>((resolve) => {
    if (!opts.onStderrLine || !proc.stderr) return resolve();
    const onLine = opts.onStderrLine;
    const lines = createInterface({ input: proc.stderr, crlfDelay: Infinity });
    lines.on('line', (line) => {
      tail.push(line);
      if (tail.length > STDERR_TAIL_LINES) tail.shift();
      onLine(line);
    });
    lines.on('close', resolve);
  });
  const exited = new Promise<ChildExit>((resolve) => {
    proc.once('exit', (code, signal) => void stderrDone.then(() => resolve({ code, signal })));
  });
  // A failed fork or a send to a child that just died: the start's handshake or the exit reports it.
  proc.on('error', () => undefined);
  return { process: proc, tail, startedAt: Date.now(), exited };
}

/** What a message from a starting child means: it is ready (with what its message brings), it failed, or neither. */
export type StartSignal<R> = { readonly ready: R } | { readonly failed: Error } | undefined;

export interface ChildReadyOptions<R> {
  /** What the child is, in messages (`the <name> did not start within …`). */
  readonly name: string;
  readonly timeoutMs: number;
  /** Reads each message of the child until one says it is ready or failed. */
  readonly read: (msg: unknown) => StartSignal<R>;
}

/**
 * Resolves with what the child's ready message brings; rejects when it says it failed, could not
 * be forked, exited first (its last stderr lines in the message), or is not ready within
 * `timeoutMs` (it is then killed).
 */
export function childReady<R>(child: SupervisedChild, opts: ChildReadyOptions<R>): Promise<R> {
  const proc = child.process;
  return new Promise<R>((resolve, reject) => {
    let settled = false;
    const settle = (then: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      proc.off('message', onMessage);
      then();
    };
    const timer = setTimeout(() => {
      settle(() => reject(new Error(`the ${opts.name} did not start within ${opts.timeoutMs} ms`)));
      proc.kill('SIGKILL');
    }, opts.timeoutMs);
    timer.unref();
    const onMessage = (raw: unknown): void => {
      const signal = opts.read(raw);
      if (signal && 'ready' in signal) settle(() => resolve(signal.ready));
      else if (signal) settle(() => reject(signal.failed));
    };
    proc.on('message', onMessage);
    proc.once('error', (err) => settle(() => reject(new Error(`the ${opts.name} could not be started: ${err.message}`))));
    void child.exited.then(({ code, signal }) =>
      settle(() => {
        const output = child.tail.length ? `; its last output:\n${child.tail.join('\n')}` : '';
        reject(new Error(`the ${opts.name} exited (${signal ?? `code ${code}`}) before it was ready${output}`));
      }),
    );
  });
}

/** Whether the child has not exited yet. */
export function isRunning(child: SupervisedChild): boolean {
  return child.process.exitCode === null && child.process.signalCode === null;
}

/**
 * Waits for a child that was asked to end to exit; one still running after `timeoutMs` is killed
 * (`onTimeout` is told first).
 */
export async function awaitExit(child: SupervisedChild, timeoutMs: number, onTimeout?: () => void): Promise<void> {
  const timer = setTimeout(() => {
    onTimeout?.();
    child.process.kill('SIGKILL');
  }, timeoutMs);
  await child.exited;
  clearTimeout(timer);
}

/** A child that dies is started again after this, doubling while it keeps dying, up to {@link MAX_RESTART_DELAY_MS}. */
const FIRST_RESTART_DELAY_MS = 200;
const MAX_RESTART_DELAY_MS = 5000;
/** A child that ran this long counts as stable: its next restart waits the first delay again. */
const STABLE_CHILD_MS = 30_000;

/** The wait before each restart of a child: the first delay, doubling while it keeps dying soon after starting. */
export class RestartBackoff {
  private delay: number;

  constructor(private readonly firstMs = FIRST_RESTART_DELAY_MS) {
    this.delay = firstMs;
  }

  /** The wait before starting again a child that ran `ranMs` (0: one that never got ready). */
  next(ranMs: number): number {
    this.delay = ranMs > STABLE_CHILD_MS ? this.firstMs : Math.min(this.delay * 2, MAX_RESTART_DELAY_MS);
    return this.delay;
  }
}
