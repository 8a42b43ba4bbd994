import type { LogFields, Logger } from '../core/telemetry.js';

/** The levels `LOG_LEVEL` accepts. */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
const ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

/** A log level name in any case; anything else is `fallback` (local mode's lenient reading of `LOG_LEVEL`). */
export function parseLogLevel(raw: string | undefined, fallback: LogLevel = 'INFO'): LogLevel {
  const v = raw?.toUpperCase();
  return v === 'DEBUG' || v === 'INFO' || v === 'WARN' || v === 'ERROR' ? v : fallback;
}

/**
 * A small structured JSON logger (one line per entry, on stdout/stderr as Lambda expects), with
 * no dependency. The Lambda entry points use Powertools Logger instead (`./telemetry.ts`); this one
 * stays for tools that want JSON lines without Powertools (the import benchmark's reference
 * handler in `bench/cold-start.ts`).
 */
export function createJsonLogger(opts: { level?: LogLevel; service: string; write?: (line: string, level: LogLevel) => void }): Logger {
  const min = ORDER[opts.level ?? 'INFO'];
  const write = opts.write ?? ((line, level) => (level === 'ERROR' || level === 'WARN' ? process.stderr : process.stdout).write(`${line}\n`));
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const fixed = { level, timestamp: new Date().toISOString(), service: opts.service, message };
    // Fixed keys first for readability, and again last so a field named `level` or `message`
    // cannot disguise the entry.
    write(JSON.stringify(Object.assign({ ...fixed }, fields, fixed)), level);
  };
  return { debug: log('DEBUG'), info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}
