/**
 * What the inspector knows of the events local mode handled: one row per event (its header, flags
 * and each handler's last run, as the event item keeps them), each handler attempt seen since
 * local mode started (with the error's stack, which the store never keeps), and the problems the
 * fan-out logged about an event (why a record failed before any handler ran). Filled from the
 * store at start and from the fan-out's notes as batches finish; bounded, oldest rows out first.
 * Pure: no I/O, so its rules are tested without local mode.
 */
import type { EventHeader } from '../../lambda/core/event-header.js';
import type { HandlerRunRecord } from '../../lambda/core/ports.js';

/** An event's header and what the store says of it, without the payload. */
export interface EventSummary extends EventHeader {
  readonly actorId: string | null;
  readonly targetType: string | null;
  readonly targetId: string | null;
  /** The stored event's flags (`invalid-json`, `payload-in-s3`, …). */
  readonly flags: readonly string[];
  /** Key of the kept inbox object with the exact body, when there is one. */
  readonly payloadRef: string | null;
}

/** How an event reached the fan-out, when not in the queue message itself. */
export type Delivery = 'claim-check' | 'spill';

/** One run of one handler for one event, as the fan-out saw it. */
export interface HandlerAttempt {
  readonly handler: string;
  /** ISO-8601 UTC time the run started. */
  readonly startedAt: string;
  readonly durationMs: number;
  readonly outcome: 'succeeded' | 'failed';
  readonly error?: { readonly name: string; readonly message: string; readonly stack?: string };
}

/** What the fan-out tells the inspector as it works (in the fan-out process, sent with each batch's answer). */
export type InspectorNote =
  | {
      readonly kind: 'stored';
      readonly event: EventSummary;
      readonly created: boolean;
      readonly handlerRuns?: Readonly<Record<string, HandlerRunRecord>>;
    }
  | { readonly kind: 'runs'; readonly eventId: string; readonly runs: Readonly<Record<string, HandlerRunRecord>> }
  | ({ readonly kind: 'attempt'; readonly eventId: string } & HandlerAttempt)
  | { readonly kind: 'delivery'; readonly eventId: string; readonly via: Delivery };

/** A problem the fan-out logged about an event or a queue message (at WARN or ERROR). */
export interface Problem {
  readonly at: string;
  readonly level: 'warn' | 'error';
  readonly message: string;
  readonly error?: string;
}

/** One event as the inspector lists it. */
export interface InspectorRow extends EventSummary {
  /** Each handler's last run, by name. */
  readonly handlers: Readonly<Record<string, HandlerRunRecord>>;
  readonly via?: Delivery;
}

/** The flags the list shows, derived from the row: the stored flags plus how the event arrived. */
export function displayFlags(row: InspectorRow): string[] {
  const out = new Set<string>();
  if (row.deprecated) out.add('deprecated');
  if (row.flags.includes('invalid-json') || row.flags.includes('body-base64')) out.add('not-json');
  if (row.via === 'claim-check' || row.payloadRef?.startsWith('inbox/large/')) out.add('claim-check');
  if (row.via === 'spill') out.add('spill');
  for (const f of row.flags) if (f !== 'invalid-json') out.add(f);
  return [...out].sort();
}

/** Whether any handler's last run failed, all succeeded, or none ran. */
export function outcomeOf(row: InspectorRow): 'failed' | 'succeeded' | 'none' {
  const runs = Object.values(row.handlers);
  if (runs.length === 0) return 'none';
  return runs.some((r) => r.outcome === 'failed') ? 'failed' : 'succeeded';
}

/** Drops a map's first-inserted entries until it holds at most `max`; returns the keys dropped. */
export function dropOldest<K, V>(map: Map<K, V>, max: number): K[] {
  const dropped: K[] = [];
  while (map.size > max) {
    const first = map.keys().next().value as K;
    map.delete(first);
    dropped.push(first);
  }
  return dropped;
}

export interface LedgerOptions {
  /** Most events kept; the oldest received go first. @default 10000 */
  readonly maxRows?: number;
  /** Most attempts kept per event. @default 50 */
  readonly maxAttemptsPerEvent?: number;
  /** Most problems kept (by event or message id). @default 2000 */
  readonly maxProblems?: number;
}

export class Ledger {
  private readonly rows = new Map<string, InspectorRow>();
  private readonly attempts = new Map<string, HandlerAttempt[]>();
  private readonly problems = new Map<string, Problem[]>();
  /** Deliveries noted before the event was stored (a claim check is decoded before it is stored). */
  private readonly deliveries = new Map<string, Delivery>();
  private readonly maxRows: number;
  private readonly maxAttempts: number;
  private readonly maxProblems: number;

  constructor(opts: LedgerOptions = {}) {
    this.maxRows = opts.maxRows ?? 10_000;
    this.maxAttempts = opts.maxAttemptsPerEvent ?? 50;
    this.maxProblems = opts.maxProblems ?? 2000;
  }

  /** Applies a note; returns the event id whose row changed, if any. */
  apply(note: InspectorNote): string | undefined {
    switch (note.kind) {
      case 'stored': {
        const had = this.rows.get(note.event.eventId);
        const via = had?.via ?? this.deliveries.get(note.event.eventId);
        this.deliveries.delete(note.event.eventId);
        this.put({ ...note.event, handlers: { ...(note.handlerRuns ?? {}), ...(had?.handlers ?? {}) }, ...(via ? { via } : {}) });
        return note.event.eventId;
      }
      case 'runs': {
        const row = this.rows.get(note.eventId);
        if (!row) return undefined;
        this.rows.set(note.eventId, { ...row, handlers: { ...row.handlers, ...note.runs } });
        return note.eventId;
      }
      case 'attempt': {
        const { kind: _kind, eventId, ...attempt } = note;
        const list = this.attempts.get(eventId) ?? [];
        list.push(attempt);
        if (list.length > this.maxAttempts) list.splice(0, list.length - this.maxAttempts);
        this.attempts.set(eventId, list);
        // Attempts of an event without a row (gone from the rows, or never stored) are not dropped with a row: bound them too.
        dropOldest(this.attempts, this.maxRows);
        return undefined;
      }
      case 'delivery': {
        const row = this.rows.get(note.eventId);
        if (row) {
          this.rows.set(note.eventId, { ...row, via: note.via });
          return note.eventId;
        }
        this.deliveries.set(note.eventId, note.via);
        dropOldest(this.deliveries, this.maxRows);
        return undefined;
      }
    }
  }

  /**
   * Adds rows read from the store at start; a row the fan-out already noted wins. The store's rows
   * are older than those noted since start (which may come first: the read runs as the fan-out
   * works), so they go in before them, oldest first, and are the first out when there are too many.
   */
  seed(rows: readonly InspectorRow[]): void {
    const older = rows.filter((r) => !this.rows.has(r.eventId)).sort((a, b) => a.receivedAt.localeCompare(b.receivedAt));
    const noted = [...this.rows.values()];
    this.rows.clear();
    for (const r of older) this.rows.set(r.eventId, r);
    for (const r of noted) this.rows.set(r.eventId, r);
    this.trim();
  }

  /** Records a problem the fan-out logged about `key` (an event id or a queue message id). */
  problem(key: string, problem: Problem): void {
    const list = this.problems.get(key) ?? [];
    list.push(problem);
    if (list.length > 10) list.shift();
    this.problems.delete(key);
    this.problems.set(key, list);
    dropOldest(this.problems, this.maxProblems);
  }

  row(eventId: string): InspectorRow | undefined {
    return this.rows.get(eventId);
  }

  attemptsOf(eventId: string): readonly HandlerAttempt[] {
    return this.attempts.get(eventId) ?? [];
  }

  problemsOf(key: string): readonly Problem[] {
    return this.problems.get(key) ?? [];
  }

  /** Every row, newest received first. */
  all(): InspectorRow[] {
    return [...this.rows.values()].sort((a, b) => b.receivedAt.localeCompare(a.receivedAt) || a.eventId.localeCompare(b.eventId));
  }

  /** Every row, in no particular order (cheaper than {@link all} where order does not matter). */
  values(): InspectorRow[] {
    return [...this.rows.values()];
  }

  get size(): number {
    return this.rows.size;
  }

  private put(row: InspectorRow): void {
    this.rows.delete(row.eventId);
    this.rows.set(row.eventId, row);
    this.trim();
  }

  private trim(): void {
    // Out goes the first in: events arrive about in the order received, and the seed goes in before them, sorted.
    for (const gone of dropOldest(this.rows, this.maxRows)) this.attempts.delete(gone);
  }
}
