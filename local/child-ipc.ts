/**
 * What local mode's child processes (the fan-out's, the emulators') and their supervisors share: on the child
 * side of the IPC channel, a logger whose lines go to the parent's logger and a lower CPU priority;
 * on the parent side, one restart backoff.
 */
import { setPriority } from 'node:os';
import type { LogFields, Logger } from '../lambda/core/telemetry.js';

/** A log line as a child sends it to its parent. */
export interface ChildLogMessage {
  readonly type: 'log';
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly message: string;
  readonly fields?: LogFields;
}

/** A logger that hands each line to `send` (the child's IPC send), for the parent to log. */
export function ipcLogger(send: (msg: ChildLogMessage) => void): Logger {
  return Object.fromEntries(
    (['debug', 'info', 'warn', 'error'] as const).map((level) => [
      level,
      (message: string, fields?: LogFields) => send({ type: 'log', level, message, ...(fields ? { fields } : {}) }),
    ]),
  ) as unknown as Logger;
}

/** Sets this process's nice value; where that is not allowed, it runs at the parent's priority. */
export function lowerPriority(nice: number): void {
  try {
    setPriority(nice);
  } catch {
    // Not allowed here (or not on this platform).
  }
}

/** A child that dies is started again after this, doubling while it keeps dying, up to {@link MAX_RESTART_DELAY_MS}. */
export const FIRST_RESTART_DELAY_MS = 200;
export const MAX_RESTART_DELAY_MS = 5000;
/** A child that ran this long counts as stable: its next restart waits the first delay again. */
export const STABLE_CHILD_MS = 30_000;

/** The wait before starting again a child that ran `ranMs` and waited `previousMs` last time (parent side). */
export function nextRestartDelay(previousMs: number, ranMs: number, firstMs = FIRST_RESTART_DELAY_MS): number {
  return ranMs > STABLE_CHILD_MS ? firstMs : Math.min(previousMs * 2, MAX_RESTART_DELAY_MS);
}
