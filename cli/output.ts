/** Small formatting helpers shared by the CLI commands. */
import { escapeControls } from '../local/console-logger.js';

/** Nearest-rank percentile (`p` in 0..100) of values already sorted ascending; undefined when empty. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/** `12.3 ms`, or `-` when there is no value. */
export function formatMs(ms: number | undefined): string {
  if (ms === undefined) return '-';
  return ms >= 100 ? `${Math.round(ms)} ms` : `${ms.toFixed(1)} ms`;
}

/** Milliseconds rounded to 0.1, for JSON output. */
export function roundMs(ms: number | undefined): number | null {
  return ms === undefined ? null : Math.round(ms * 10) / 10;
}

/** Shortens `text` to `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/**
 * One line per cell: control characters escaped so a multi-line payload stays on its row, and so
 * that a payload's escape sequences (ESC, C1, bidi overrides) are shown, not acted on by the terminal.
 */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return escapeControls(text.replace(/\r/g, '\\r').replace(/\n/g, '\\n').replace(/\t/g, '\\t'));
}

export interface TableOptions {
  /** Widest a cell may be before it is cut. @default 60 */
  readonly maxCellWidth?: number;
  /** Columns to right-align (numbers). */
  readonly rightAligned?: ReadonlySet<string>;
}

/** A plain-text table with a header rule and a row count, in the spirit of the DuckDB shell. */
export function renderTable(columns: readonly string[], rows: ReadonlyArray<Record<string, unknown>>, opts: TableOptions = {}): string {
  const max = opts.maxCellWidth ?? 60;
  const cells = rows.map((row) => columns.map((c) => truncate(cellText(row[c]), max)));
  const widths = columns.map((c, i) => Math.max(truncate(c, max).length, ...cells.map((r) => (r[i] ?? '').length)));
  const fmt = (values: readonly string[]) =>
    values
      .map((v, i) => (opts.rightAligned?.has(columns[i] ?? '') ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0)))
      .join(' │ ')
      .trimEnd();
  const lines = [fmt(columns.map((c) => truncate(c, max))), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...cells.map(fmt)];
  lines.push(`(${rows.length} ${rows.length === 1 ? 'row' : 'rows'})`);
  return `${lines.join('\n')}\n`;
}

/** `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`. */
export function formatAge(seconds: number | null): string {
  if (seconds === null) return '-';
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h${minutes % 60 > 0 ? ` ${minutes % 60} min` : ''}`;
  const days = Math.floor(hours / 24);
  return `${days} d${hours % 24 > 0 ? ` ${hours % 24} h` : ''}`;
}
