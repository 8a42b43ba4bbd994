import type { EventEntities } from './entities.js';
import type { EventFlag } from './envelope.js';
import type { EventHeader } from './event-header.js';

/** Top-level prefix of archived events; the Glue table's location. */
export const ARCHIVE_EVENTS_PREFIX = 'events/';
/** Where Firehose writes records it failed to deliver. */
export const ARCHIVE_ERRORS_PREFIX = 'errors/';
/** Claim-checked bodies too large for a queue message (docs/architecture.md §6). */
export const INBOX_LARGE_PREFIX = 'inbox/large/';
/** Bodies spilled when the queue failed (docs/architecture.md §6). */
export const INBOX_SPILL_PREFIX = 'inbox/spill/';

/** Firehose's S3 prefix expression: the same `dt=`/`hour=` layout from its UTC arrival timestamp. */
export const FIREHOSE_EVENTS_PREFIX = `${ARCHIVE_EVENTS_PREFIX}dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/`;
/** Firehose's error prefix expression. */
export const FIREHOSE_ERRORS_PREFIX = `${ARCHIVE_ERRORS_PREFIX}!{firehose:error-output-type}/dt=!{timestamp:yyyy-MM-dd}/`;

/** The archive's columns, in the order each NDJSON line carries them (the Glue table's schema). */
export const ARCHIVE_COLUMNS = [
  'event_id',
  'event_type',
  'event_name',
  'received_at',
  'occurred_at',
  'source',
  'actor_id',
  'target_type',
  'target_id',
  'deprecated',
  'flags',
  'payload',
] as const;

export type ArchiveColumn = (typeof ARCHIVE_COLUMNS)[number];

/** What one archived event carries: its header and entities, its flags and the body. */
export interface ArchiveRecord extends EventHeader, EventEntities {
  readonly flags: readonly EventFlag[];
  /** The raw body exactly as received, for exact replay (or, flagged `payload-in-s3`, the S3 key of it). */
  readonly payload: string;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `events/dt=YYYY-MM-DD/hour=HH/` for a UTC instant. */
export function partitionPrefix(at: Date): string {
  if (Number.isNaN(at.getTime())) throw new RangeError('partitionPrefix: invalid date (no UTC day and hour to partition by)');
  const dt = `${at.getUTCFullYear()}-${pad2(at.getUTCMonth() + 1)}-${pad2(at.getUTCDate())}`;
  return `${ARCHIVE_EVENTS_PREFIX}dt=${dt}/hour=${pad2(at.getUTCHours())}/`;
}

/** Reads `dt` and `hour` back from an object key of the archive; undefined for other keys. */
export function parsePartition(key: string): { dt: string; hour: string } | undefined {
  const m = /^events\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\//.exec(key);
  return m ? { dt: m[1] as string, hour: m[2] as string } : undefined;
}

/** One NDJSON line (with its trailing newline) in the column order of {@link ARCHIVE_COLUMNS}. */
export function archiveLine(r: ArchiveRecord): string {
  const row: Record<ArchiveColumn, unknown> = {
    event_id: r.eventId,
    event_type: r.eventType,
    event_name: r.eventName,
    received_at: r.receivedAt,
    occurred_at: r.occurredAt ?? null,
    source: r.source,
    actor_id: r.actorId ?? null,
    target_type: r.targetType ?? null,
    target_id: r.targetId ?? null,
    deprecated: r.deprecated,
    flags: r.flags,
    payload: r.payload,
  };
  return `${JSON.stringify(row)}\n`;
}
