/**
 * The inspector's filters, read from a query string (the list page's form, and the live stream's
 * URL, so the rows pushed live are filtered by the same rules as the page), and the per-minute
 * counts of its chart. Pure.
 */
import { displayFlags, outcomeOf, type InspectorRow } from './ledger.js';

export const OUTCOMES = ['any', 'failed', 'succeeded', 'none'] as const;
export type OutcomeFilter = (typeof OUTCOMES)[number];

/** The `since` choices: minutes back from now. */
export const SINCE_CHOICES: ReadonlyArray<{ readonly value: string; readonly label: string; readonly minutes: number }> = [
  { value: '5m', label: 'last 5 minutes', minutes: 5 },
  { value: '15m', label: 'last 15 minutes', minutes: 15 },
  { value: '1h', label: 'last hour', minutes: 60 },
  { value: '24h', label: 'last 24 hours', minutes: 24 * 60 },
];

/** The flags one can filter on: those {@link displayFlags} derives, and the store's own. */
export const FILTER_FLAGS = [
  'deprecated',
  'not-json',
  'claim-check',
  'spill',
  'payload-in-s3',
  'body-base64',
  'undecodable',
  'unknown-event-type',
  'unknown-envelope',
  'verification',
] as const;

export interface Filter {
  /** Type patterns: `*` stands for any run of characters (`message.*`, `*.didFlag`); matched against the routing and the raw name. */
  readonly type?: string;
  readonly user?: string;
  /** A target id, or `type:id`. */
  readonly target?: string;
  readonly from?: Date;
  readonly to?: Date;
  readonly since?: string;
  readonly flag?: string;
  readonly outcome: OutcomeFilter;
  /** An event id, or the start of one (at least 4 characters). */
  readonly id?: string;
  /** Most rows listed. */
  readonly limit: number;
}

export const DEFAULT_LIMIT = 200;
export const MAX_LIMIT = 2000;

/** A filter, with what was wrong in the query (each problem names the field; a bad field is left out, the rest applies). */
export interface ParsedFilter {
  readonly filter: Filter;
  readonly problems: readonly string[];
}

const TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?)?(?:Z|[+-]\d{2}:?\d{2})?$/;

/** Whether the day of a `YYYY-MM-DD…` text is in its month: `Date` reads 2026-02-30 as March 2 rather than refusing it. */
function dayExists(v: string): boolean {
  const [y, m, d] = v.slice(0, 10).split('-').map(Number) as [number, number, number];
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
  return days !== undefined && d >= 1 && d <= days;
}

/** Reads a filter from query parameters (`since` is kept as given: {@link matches} anchors it at its `now`). */
export function parseFilter(params: URLSearchParams): ParsedFilter {
  const problems: string[] = [];
  /** A field's trimmed value; undefined when blank, or (named among the problems) longer than `max`. */
  const text = (name: string, max = 256): string | undefined => {
    const v = params.get(name)?.trim();
    if (!v) return undefined;
    if (v.length > max) {
      problems.push(`${name}: longer than ${max} characters`);
      return undefined;
    }
    return v;
  };
  /** A field's value when it passes `ok`; else undefined, and `why` among the problems. */
  const valid = (name: string, max: number, ok: (v: string) => boolean, why: (v: string) => string): string | undefined => {
    const v = text(name, max);
    if (v === undefined || ok(v)) return v;
    problems.push(`${name}: ${why(v)}`);
    return undefined;
  };
  const time = (name: 'from' | 'to'): Date | undefined => {
    const v = valid(
      name,
      40,
      (t) => TIME.test(t) && dayExists(t) && !Number.isNaN(utcDate(t).getTime()),
      (t) => `'${t}' is not a time; use UTC as 2026-12-02T10:00 (or add an offset, +01:00)`,
    );
    return v === undefined ? undefined : utcDate(v);
  };
  const oneOf = (choices: readonly string[]) => (v: string) => choices.includes(v);
  const type = valid(
    'type',
    256,
    (v) => !/\s/.test(v),
    (v) => `'${v}' has a space; use a name or a pattern such as message.* or *.didFlag`,
  );
  const sinceChoices = SINCE_CHOICES.map((c) => c.value);
  const since = valid('since', 8, oneOf(sinceChoices), (v) => `'${v}' is not one of ${sinceChoices.join(', ')}`);
  const flag = valid('flag', 40, oneOf(FILTER_FLAGS), (v) => `'${v}' is not one of ${FILTER_FLAGS.join(', ')}`);
  const outcome = (valid('outcome', 16, oneOf(OUTCOMES), (v) => `'${v}' is not one of ${OUTCOMES.join(', ')}`) ?? 'any') as OutcomeFilter;
  const id = valid(
    'id',
    80,
    (v) => /^[A-Za-z0-9_-]{4,}$/.test(v),
    (v) => `'${v}' is not an event id or the start of one (4 or more letters, digits, - or _)`,
  );
  const limit = valid(
    'limit',
    6,
    (v) => Number.isInteger(Number(v)) && Number(v) >= 1 && Number(v) <= MAX_LIMIT,
    (v) => `'${v}' is not a whole number from 1 to ${MAX_LIMIT}`,
  );
  const from = time('from');
  const to = time('to');
  const ordered = !(from && to && from.getTime() >= to.getTime());
  if (!ordered) problems.push('from: must be before to');
  const user = text('user');
  const target = text('target');
  return {
    filter: {
      ...(type !== undefined ? { type } : {}),
      ...(user !== undefined ? { user } : {}),
      ...(target !== undefined ? { target } : {}),
      ...(from && ordered ? { from } : {}),
      ...(to && ordered ? { to } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(flag !== undefined ? { flag } : {}),
      outcome,
      ...(id !== undefined ? { id } : {}),
      limit: limit === undefined ? DEFAULT_LIMIT : Number(limit),
    },
    problems,
  };
}

/** A `from`/`to` text as a time: UTC unless it names an offset, midnight for a bare day. */
function utcDate(v: string): Date {
  const zoned = /(?:Z|[+-]\d{2}:?\d{2})$/.test(v) ? v : `${v.length === 10 ? `${v}T00:00` : v}Z`;
  return new Date(zoned.replace(' ', 'T'));
}

/** The filter as query parameters (defaults left out), for links and the live stream's URL. */
export function filterParams(f: Filter): URLSearchParams {
  const p = new URLSearchParams();
  if (f.type) p.set('type', f.type);
  if (f.user) p.set('user', f.user);
  if (f.target) p.set('target', f.target);
  if (f.from) p.set('from', f.from.toISOString());
  if (f.to) p.set('to', f.to.toISOString());
  if (f.since) p.set('since', f.since);
  if (f.flag) p.set('flag', f.flag);
  if (f.outcome !== 'any') p.set('outcome', f.outcome);
  if (f.id) p.set('id', f.id);
  if (f.limit !== DEFAULT_LIMIT) p.set('limit', String(f.limit));
  return p;
}

/** Whether a filter narrows anything. */
export function isFiltered(f: Filter): boolean {
  return [...filterParams({ ...f, limit: DEFAULT_LIMIT }).keys()].length > 0;
}

/** `*` matches any run of characters (dots included); everything else itself. */
export function globMatches(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`);
  return re.test(value);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Whether the row passes the filter at `now`. */
export function matches(f: Filter, row: InspectorRow, now: Date): boolean {
  if (f.type && !globMatches(f.type, row.eventType) && !(row.eventName !== null && globMatches(f.type, row.eventName))) return false;
  if (f.user && row.actorId !== f.user) return false;
  if (f.target) {
    const colon = f.target.indexOf(':');
    const [type, id] = colon > 0 ? [f.target.slice(0, colon), f.target.slice(colon + 1)] : [undefined, f.target];
    if (row.targetId !== id || (type !== undefined && row.targetType !== type)) return false;
  }
  const at = Date.parse(row.receivedAt);
  if (f.from && !(at >= f.from.getTime())) return false;
  if (f.to && !(at < f.to.getTime())) return false;
  if (f.since) {
    const minutes = SINCE_CHOICES.find((c) => c.value === f.since)?.minutes ?? Infinity;
    if (!(at >= now.getTime() - minutes * 60_000)) return false;
  }
  if (f.flag && !displayFlags(row).includes(f.flag)) return false;
  if (f.outcome !== 'any' && outcomeOf(row) !== f.outcome) return false;
  if (f.id && !row.eventId.startsWith(f.id)) return false;
  return true;
}

/** The rows passing the filter, newest first, at most `limit`, and how many passed in all. */
export function select(rows: readonly InspectorRow[], f: Filter, now: Date): { readonly rows: InspectorRow[]; readonly total: number } {
  const passed = rows.filter((r) => matches(f, r, now));
  return { rows: passed.slice(0, f.limit), total: passed.length };
}

/** Events per minute by type over the last `minutes` minutes before `now`: the chart's data. */
export interface PerMinute {
  /** Start of each minute, oldest first. */
  readonly minutes: readonly Date[];
  /** The types shown, busiest first; the rest are summed under `other`. */
  readonly series: ReadonlyArray<{ readonly type: string; readonly counts: readonly number[]; readonly total: number }>;
  readonly max: number;
}

/** Counts per minute and type; the `maxSeries - 1` busiest types get their own series, the rest are `other`. */
export function perMinute(rows: readonly InspectorRow[], now: Date, minutes = 60, maxSeries = 6): PerMinute {
  const end = Math.floor(now.getTime() / 60_000) * 60_000 + 60_000;
  const start = end - minutes * 60_000;
  const byType = new Map<string, number[]>();
  for (const r of rows) {
    const at = Date.parse(r.receivedAt);
    if (!(at >= start && at < end)) continue;
    const slot = Math.floor((at - start) / 60_000);
    const counts = byType.get(r.eventType) ?? new Array<number>(minutes).fill(0);
    counts[slot] = (counts[slot] as number) + 1;
    byType.set(r.eventType, counts);
  }
  const all = [...byType.entries()]
    .map(([type, counts]) => ({ type, counts, total: counts.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total || a.type.localeCompare(b.type));
  const series = all.length <= maxSeries ? all : all.slice(0, maxSeries - 1);
  const rest = all.slice(series.length);
  if (rest.length > 0) {
    const counts = new Array<number>(minutes).fill(0);
    for (const s of rest) s.counts.forEach((c, i) => (counts[i] = (counts[i] as number) + c));
    series.push({ type: `other (${rest.length} types)`, counts, total: counts.reduce((a, b) => a + b, 0) });
  }
  const sums = new Array<number>(minutes).fill(0).map((_, i) => series.reduce((a, s) => a + (s.counts[i] as number), 0));
  return {
    minutes: Array.from({ length: minutes }, (_, i) => new Date(start + i * 60_000)),
    series,
    max: Math.max(0, ...sums),
  };
}
