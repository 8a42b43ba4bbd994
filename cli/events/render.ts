/** How `events` prints its answer: a table of events, or one event's fields and handler runs; JSON with `--json`. */
import { renderTable } from '../output.js';
import type { EventDetail, EventRow, HandlerRunRow } from './event-store.js';

/** A handler's run in a table cell: `name outcome`, with the attempts when more than one. */
const runSummary = (h: HandlerRunRow) => `${h.handler} ${h.outcome}${h.attempts !== null && h.attempts > 1 ? ` ×${h.attempts}` : ''}`;

/** `TYPE:ID`, or null when the event names no target. */
const targetOf = (e: EventRow) => (e.target_type && e.target_id ? `${e.target_type}:${e.target_id}` : null);

/** The listed events on stdout. */
export function printRows(rows: readonly EventRow[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  const columns = ['received_at', 'event_type', 'event_id', 'actor_id', 'target', 'source', 'handlers'];
  const table = rows.map((r) => ({
    received_at: r.received_at,
    event_type: r.event_type,
    event_id: r.event_id,
    actor_id: r.actor_id,
    target: targetOf(r),
    source: r.source,
    handlers: r.handlers === null ? null : r.handlers.map(runSummary).join(', '),
  }));
  process.stdout.write(renderTable(columns, table, { maxCellWidth: 80 }));
}

/** One event on stdout: its fields, then a table of its handlers' runs. */
export function printEvent(e: EventDetail, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(e)}\n`);
    return;
  }
  const fields: Array<[string, unknown]> = [
    ['event_id', e.event_id],
    ['event_type', e.event_type],
    ['event_name', e.event_name],
    ['received_at', e.received_at],
    ['occurred_at', e.occurred_at],
    ['source', e.source],
    ['actor_id', e.actor_id],
    ['target', targetOf(e)],
    ['deprecated', e.deprecated],
    ['flags', e.flags.length > 0 ? e.flags.join(', ') : 'none'],
    ['payload', e.payload_ref !== null ? `in S3: ${e.payload_ref}` : `in the item, ${e.payload_gzip_bytes ?? 0} bytes gzipped`],
    ['expires_at', e.expires_at],
  ];
  const width = Math.max(...fields.map(([k]) => k.length));
  const lines = fields.map(([k, v]) => `${k.padEnd(width)}  ${v === null ? '-' : String(v)}`);
  process.stdout.write(`${lines.join('\n')}\n\n`);
  if (e.handlers.length === 0) {
    process.stdout.write('handlers: none has run for it (none subscribes to its type, or it is still queued)\n');
    return;
  }
  // An item written before runs were recorded knows only that a handler succeeded: '-' for the rest.
  const rows = e.handlers.map((h) => ({
    ...h,
    attempts: h.attempts ?? '-',
    last_at: h.last_at ?? '-',
    duration_ms: h.duration_ms ?? '-',
    error: h.error ?? '',
  }));
  process.stdout.write(
    `handlers:\n${renderTable(['handler', 'outcome', 'attempts', 'last_at', 'duration_ms', 'error'], rows, { maxCellWidth: 120, rightAligned: new Set(['attempts', 'duration_ms']) })}`,
  );
}
