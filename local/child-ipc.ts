/**
 * What local mode's child processes (the fan-out's, the emulators') share on the child side of the
 * IPC channel: a logger whose lines go to the parent's logger, and a lower CPU priority. The parent
 * side is `supervised-child.ts`.
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
