/**
 * What `replay` sends for an archive line (docs/architecture.md §6): pure rules, so they are tested without I/O.
 *
 * A line becomes the queue message the receiver would have sent for the event: the raw body (base64
 * when the line says `body-base64`) with the original attributes, or a claim check when the line
 * carries the S3 key of a body too large for it (`payload-in-s3`). The request id is the replay's
 * own (`replay-…`), so its messages can be told apart (the fan-out does not archive them again), and
 * `replayForce=<handler,…>` asks the fan-out to run the handlers named again even where they
 * already succeeded (`--force <handler,…>`).
 */
import { ARCHIVE_EVENTS_PREFIX } from '../lambda/core/archive-layout.js';
import { eventIdOf, isEventId } from '../lambda/core/event-id.js';
import { attributeSafe, claimCheckMessage, parseInboxKey, queueMessageBytes } from '../lambda/core/inbox.js';
import { QUEUE_MESSAGE_MARGIN_BYTES, SQS_MAX_MESSAGE_BYTES } from '../lambda/core/limits.js';
import { REPLAY_REQUEST_ID_PREFIX, type QueueMessage, type QueueMessageAttributes } from '../lambda/core/ports.js';
import { assertValidPattern, catalogPatternProblem, matchesPattern } from '../lambda/core/routing.js';
import { parseJsonObject } from '../local/json-object.js';
import { CliError } from './errors.js';
import { errorMessage } from '../lambda/core/errors.js';

/** Message attribute naming the handlers the fan-out runs again even where they already succeeded. */
export const REPLAY_FORCE_ATTRIBUTE = 'replayForce' satisfies keyof QueueMessageAttributes;

/** A handler name as `defineHandler` accepts it. */
const HANDLER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** How to name the handlers `--force` runs again, for the messages that refuse it. */
export const FORCE_USAGE =
  'name the handlers to run again: --force <handler>[,<handler>…] (or repeat --force), e.g. --force auto-moderation. ' +
  'Only those run again for events they already handled (each at least once per forced replay; a handler with side effects, ' +
  "such as a ban, acts again); every other handler runs only where it has not succeeded yet. The names are the handlers' `name`: " +
  'local mode lists them when it starts, and `events --id <eventId>` shows which ran for an event';

/**
 * Reads `--force`: handler names, comma-separated or repeated. Plain `--force` (every handler) is
 * refused: re-running every handler repeats every side effect, so the handlers are named.
 */
export function parseForce(value: boolean | string | readonly string[] | undefined): string[] {
  if (value === undefined || value === false) return [];
  if (value === true) throw new CliError(`--force without handler names: ${FORCE_USAGE}`);
  const names = (typeof value === 'string' ? [value] : value)
    .flatMap((v) => v.split(','))
    .map((n) => n.trim())
    .filter((n) => n !== '');
  if (names.length === 0) throw new CliError(`--force names no handler: ${FORCE_USAGE}`);
  for (const n of names) {
    if (!HANDLER_NAME.test(n)) throw new CliError(`--force: '${n}' is not a handler name (1-63 lower-case letters, digits and '-'); ${FORCE_USAGE}`);
  }
  return [...new Set(names)];
}

/** A time range, `from` inclusive and `to` exclusive. */
export interface TimeRange {
  readonly from: Date;
  readonly to: Date;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * Reads `--from` and `--to`: a day (`2025-07-02`, UTC; as `--to` it includes the whole day) or an
 * instant (`2025-07-02T10:30`, `2025-07-02T10:30:00Z`, `…+02:00`; UTC when no zone is given).
 */
export function parseTimeRange(fromRaw: string, toRaw: string): TimeRange {
  const from = parseTime('--from', fromRaw, 'start');
  const to = parseTime('--to', toRaw, 'end');
  if (from.getTime() >= to.getTime()) {
    throw new CliError(`--from (${from.toISOString()}) must be before --to (${to.toISOString()}); a day given as --to includes that whole day`);
  }
  return { from, to };
}

function parseTime(flag: string, raw: string, end: 'start' | 'end'): Date {
  const value = raw.trim();
  if (DAY.test(value)) {
    const day = new Date(`${value}T00:00:00.000Z`);
    if (Number.isNaN(day.getTime()) || day.toISOString().slice(0, 10) !== value) throw new CliError(`${flag} '${raw}' is not a real day`);
    return end === 'start' ? day : new Date(day.getTime() + 86_400_000);
  }
  const m = INSTANT.exec(value);
  if (m) {
    const at = new Date(m[1] ? value : `${value}Z`);
    if (!Number.isNaN(at.getTime())) return at;
  }
  throw new CliError(`${flag} '${raw}' is not a day or a time: use YYYY-MM-DD (UTC) or an ISO time such as 2025-07-02T10:30:00Z`);
}

/**
 * Checks `--event` patterns the way handler subscriptions are checked: well formed, and naming
 * something of the event catalog (an exact name, a family wildcard, `*` or `unknown`), so a typo is
 * refused with "did you mean" instead of silently matching nothing. An event id is taken as is.
 */
export function checkPatterns(patterns: readonly string[]): void {
  for (const p of patterns) {
    // An event id (32 hex characters) selects that one event.
    if (isEventId(p)) continue;
    try {
      assertValidPattern(p);
    } catch (err) {
      throw new CliError(`--event: ${errorMessage(err)}`);
    }
    const problem = catalogPatternProblem(p);
    if (problem !== undefined) throw new CliError(`--event: ${problem}`);
  }
}

/**
 * The archive partitions (`YYYY-MM-DD/HH`, UTC) that can hold events received in the range: each
 * hour of it, and the hour after, since a line is filed by when the archive wrote it, a little
 * after the event was received.
 */
export function partitionsFor(range: TimeRange): Set<string> {
  const out = new Set<string>();
  const first = Math.floor(range.from.getTime() / 3_600_000);
  const last = Math.floor((range.to.getTime() - 1) / 3_600_000) + 1;
  for (let h = first; h <= last; h++) {
    const iso = new Date(h * 3_600_000).toISOString();
    out.add(`${iso.slice(0, 10)}/${iso.slice(11, 13)}`);
  }
  return out;
}

/** The days of {@link partitionsFor}, as `events/dt=…/` prefixes to list. */
export function dayPrefixes(partitions: ReadonlySet<string>): string[] {
  return [...new Set([...partitions].map((p) => p.slice(0, 10)))].sort().map((d) => `${ARCHIVE_EVENTS_PREFIX}dt=${d}/`);
}

/** The partition (`YYYY-MM-DD/HH`) of an archive object's key or path; undefined when it has none. */
export function partitionOf(keyOrPath: string): string | undefined {
  const m = /(?:^|\/)dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\//.exec(keyOrPath.replace(/\\/g, '/'));
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** An archive line's fields that replay reads. */
interface ArchiveLine {
  readonly event_id: string;
  readonly event_type: string;
  readonly event_name: string | null;
  readonly received_at: string;
  readonly source: string;
  readonly deprecated: boolean;
  readonly flags: readonly string[];
  readonly payload: string;
}

/** Why a line is not replayed. */
export type SkipReason = 'out-of-range' | 'duplicate' | 'filtered' | 'undecodable' | 'corrupt' | 'too-large';

/** What to do with one line. */
export type LineDecision =
  | { readonly kind: 'skip'; readonly reason: SkipReason; readonly eventId?: string }
  | { readonly kind: 'inline'; readonly event: ReplayEvent; readonly message: QueueMessage }
  | { readonly kind: 'claim-check'; readonly event: ReplayEvent; readonly key: string; readonly attributes: QueueMessageAttributes };

/** The event a line stands for, for listings and progress. */
export interface ReplayEvent {
  readonly eventId: string;
  readonly eventType: string;
  readonly receivedAt: string;
  readonly source: string;
}

export interface ReplayRules {
  readonly range: TimeRange;
  /** `--event` patterns (or event ids); empty: every event. */
  readonly patterns: readonly string[];
  /** The replay's request id, `replay-…`, on every message. */
  readonly requestId: string;
  /** Handlers the fan-out is to run again even where they already succeeded (`--force`); empty: none. */
  readonly force: readonly string[];
  /** Event ids already replayed in this run (filled as lines are accepted). */
  readonly seen: Set<string>;
}

/** A new replay run's request id: `replay-<UTC time>-<random>`. */
export function replayRequestId(now: Date = new Date(), random: string = Math.random().toString(16).slice(2, 10)): string {
  return `${REPLAY_REQUEST_ID_PREFIX}${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}-${random}`;
}

/** Decides what to do with one archive line (its text, without the newline). */
export function decideLine(text: string, rules: ReplayRules): LineDecision {
  const line = parseLine(text);
  if (!line) return { kind: 'skip', reason: 'corrupt' };
  const received = Date.parse(line.received_at);
  if (!(received >= rules.range.from.getTime() && received < rules.range.to.getTime()))
    return { kind: 'skip', reason: 'out-of-range', eventId: line.event_id };
  if (rules.seen.has(line.event_id)) return { kind: 'skip', reason: 'duplicate', eventId: line.event_id };
  if (
    rules.patterns.length > 0 &&
    !rules.patterns.some((p) =>
      isEventId(p) ? p === line.event_id : matchesPattern(p, { eventType: line.event_type, eventName: line.event_name, deprecated: line.deprecated }),
    )
  ) {
    return { kind: 'skip', reason: 'filtered', eventId: line.event_id };
  }
  // Kept only as what it was (a record that could not be read): replaying it would make nothing new.
  if (line.flags.includes('undecodable')) return { kind: 'skip', reason: 'undecodable', eventId: line.event_id };

  const event: ReplayEvent = { eventId: line.event_id, eventType: line.event_type, receivedAt: line.received_at, source: line.source };
  const base64 = line.flags.includes('body-base64');
  const attributes: QueueMessageAttributes = {
    eventId: line.event_id,
    eventType: attributeSafe(line.event_type),
    receivedAt: line.received_at,
    source: line.source,
    requestId: rules.requestId,
    ...(base64 ? { bodyEncoding: 'base64' as const } : {}),
    ...(rules.force.length > 0 ? { [REPLAY_FORCE_ATTRIBUTE]: rules.force.join(',') } : {}),
  };

  if (line.flags.includes('payload-in-s3')) {
    const ref = parseInboxKey(line.payload);
    if (ref?.kind !== 'large' || ref.eventId !== line.event_id) return { kind: 'skip', reason: 'corrupt', eventId: line.event_id };
    rules.seen.add(line.event_id);
    return { kind: 'claim-check', event, key: line.payload, attributes };
  }
  const bytes = base64 ? Buffer.from(line.payload, 'base64') : Buffer.from(line.payload, 'utf8');
  // The archive is written from the verified bytes, so a payload that does not hash to its id is damaged.
  if (eventIdOf(bytes) !== line.event_id) return { kind: 'skip', reason: 'corrupt', eventId: line.event_id };
  if (queueMessageBytes(Buffer.byteLength(line.payload, 'utf8'), attributes) > SQS_MAX_MESSAGE_BYTES - QUEUE_MESSAGE_MARGIN_BYTES) {
    return { kind: 'skip', reason: 'too-large', eventId: line.event_id };
  }
  rules.seen.add(line.event_id);
  return { kind: 'inline', event, message: { body: line.payload, attributes } };
}

/** The claim-check message for a line that carries the S3 key of its body (`replayForce` kept). */
export function claimCheckFor(decision: Extract<LineDecision, { kind: 'claim-check' }>, bodyBytes: number): QueueMessage {
  return claimCheckMessage(decision.key, bodyBytes, decision.attributes);
}

function parseLine(text: string): ArchiveLine | undefined {
  const o: Partial<Record<keyof ArchiveLine, unknown>> | undefined = parseJsonObject(text);
  if (!o) return undefined;
  if (!isEventId(o.event_id) || typeof o.received_at !== 'string' || typeof o.payload !== 'string' || typeof o.event_type !== 'string')
    return undefined;
  const flags = Array.isArray(o.flags) ? o.flags.filter((f): f is string => typeof f === 'string') : [];
  return {
    event_id: o.event_id,
    event_type: o.event_type,
    event_name: typeof o.event_name === 'string' ? o.event_name : null,
    received_at: o.received_at,
    source: typeof o.source === 'string' && o.source !== '' ? o.source : 'default',
    deprecated: o.deprecated === true,
    flags,
    payload: o.payload,
  };
}
