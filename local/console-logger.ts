/**
 * A compact, human-readable logger for `socialplus-webhooks dev`: one short line per entry
 * (`12:00:01.234 INFO  accepted eventId=… eventType=…`) instead of the Lambda JSON lines.
 */
import type { LogFields, Logger } from '../lambda/core/telemetry.js';
import type { LogLevel } from '../lambda/common/logger.js';

const ORDER: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40 };

export interface ConsoleLoggerOptions {
  /** @default 'INFO' */
  readonly level?: LogLevel;
  /** Where lines go; by default WARN and ERROR to stderr, the rest to stdout. */
  readonly write?: (line: string, level: LogLevel) => void;
  /** Clock, for tests. */
  readonly now?: () => Date;
}

/** Creates the logger. Field values are printed as `key=value`; strings with spaces are quoted. */
export function createConsoleLogger(opts: ConsoleLoggerOptions = {}): Logger {
  const min = ORDER[opts.level ?? 'INFO'];
  const write = opts.write ?? ((line, level) => (level === 'WARN' || level === 'ERROR' ? process.stderr : process.stdout).write(`${line}\n`));
  const now = opts.now ?? (() => new Date());
  const log = (level: LogLevel) => (message: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const time = now().toISOString().slice(11, 23);
    write(`${time} ${level.padEnd(5)} ${message}${formatFields(fields)}`, level);
  };
  return { debug: log('DEBUG'), info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out += ` ${k}=${formatValue(v)}`;
  }
  return out;
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
