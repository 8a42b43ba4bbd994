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
    write(`${time} ${level.padEnd(5)} ${escapeControls(message)}${formatFields(fields)}`, level);
  };
  return { debug: log('DEBUG'), info: log('INFO'), warn: log('WARN'), error: log('ERROR') };
}

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return '';
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    out += ` ${escapeControls(k)}=${formatValue(v)}`;
  }
  return out;
}

/**
 * Characters a terminal may act on rather than show: C0 and C1 controls (ESC starts the sequences
 * that set the clipboard or the title), DEL, the line and paragraph separators, and the bidi
 * controls that reorder what is shown. Request paths and payload fields reach the log.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const HAS_CONTROL = new RegExp(CONTROLS.source);

/** `text` with every character of {@link CONTROLS} written as `\uXXXX`. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) && !HAS_CONTROL.test(v) ? v : escapeControls(JSON.stringify(v));
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  try {
    return escapeControls(JSON.stringify(v) ?? String(v));
  } catch {
    return escapeControls(String(v));
  }
}
