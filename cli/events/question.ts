/**
 * What `events` was asked, read from its options: a user's or a target's activity, a type's
 * events on one UTC day, or one event; and the SQL for the day's question, which the archive
 * answers (DuckDB locally, Athena with `--aws`).
 */
import { normaliseEventType } from '../../lambda/core/envelope.js';
import { isEventId } from '../../lambda/core/event-id.js';
import { CliError } from '../errors.js';

/** Target types the fan-out records (`lambda/core/entities.ts`). */
export const TARGET_TYPES = ['message', 'channel', 'post', 'comment', 'community', 'user', 'stream', 'poll', 'file', 'tag'] as const;

/** Events listed when `--limit` is not given. */
export const DEFAULT_LIMIT = 50;
/** The most `--limit` allows. */
export const MAX_LIMIT = 1000;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The question asked. */
export type EventsQuestion =
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'target'; readonly targetType: string; readonly targetId: string }
  | { readonly kind: 'type'; readonly eventType: string; readonly day: string }
  | { readonly kind: 'id'; readonly eventId: string };

/** The questions that list events. */
export type ListQuestion = Exclude<EventsQuestion, { kind: 'id' }>;

/** The options that ask the question. */
export interface QuestionOptions {
  readonly user?: string;
  readonly target?: string;
  readonly type?: string;
  readonly day?: string;
  readonly id?: string;
}

/** Reads the question from the options, naming what is missing or malformed. */
export function parseQuestion(opts: QuestionOptions): EventsQuestion {
  const given = [
    opts.user !== undefined ? '--user' : '',
    opts.target !== undefined ? '--target' : '',
    opts.type !== undefined || opts.day !== undefined ? '--type/--day' : '',
    opts.id !== undefined ? '--id' : '',
  ].filter(Boolean);
  if (given.length === 0) throw new CliError('say which events: --user ID, --target TYPE:ID, --type NAME --day YYYY-MM-DD, or --id EVENT_ID');
  if (given.length > 1) throw new CliError(`give one of --user, --target, --type with --day, --id (got ${given.join(' and ')})`);
  if (opts.id !== undefined) {
    if (!isEventId(opts.id.trim()))
      throw new CliError(
        `--id must be an event id, 32 hexadecimal characters (the event_id column of events and query, and of the logs), got '${opts.id}'`,
      );
    return { kind: 'id', eventId: opts.id.trim() };
  }
  if (opts.user !== undefined) {
    if (opts.user.trim() === '') throw new CliError('--user is empty: give a Social Plus user id');
    return { kind: 'user', userId: opts.user };
  }
  if (opts.target !== undefined) {
    const colon = opts.target.indexOf(':');
    const targetType = colon < 0 ? '' : opts.target.slice(0, colon);
    const targetId = colon < 0 ? '' : opts.target.slice(colon + 1);
    if (colon < 0 || targetId === '') throw new CliError(`--target must be TYPE:ID (e.g. channel:general), got '${opts.target}'`);
    if (!(TARGET_TYPES as readonly string[]).includes(targetType)) {
      throw new CliError(`--target type '${targetType}' is not one of ${TARGET_TYPES.join(', ')}`);
    }
    return { kind: 'target', targetType, targetId };
  }
  if (opts.type === undefined || opts.type.trim() === '') throw new CliError('--day needs --type NAME (an event type, e.g. message.didFlag)');
  if (opts.day === undefined)
    throw new CliError('--type needs --day YYYY-MM-DD (the UTC day): no index lists a type across all days, the archive is read one day at a time');
  if (
    !DAY.test(opts.day) ||
    Number.isNaN(Date.parse(`${opts.day}T00:00:00Z`)) ||
    new Date(`${opts.day}T00:00:00Z`).toISOString().slice(0, 10) !== opts.day
  ) {
    throw new CliError(`--day must be a date YYYY-MM-DD, got '${opts.day}'`);
  }
  return { kind: 'type', eventType: normaliseEventType(opts.type.trim()), day: opts.day };
}

/** `--limit`: a whole number from 1 to {@link MAX_LIMIT}, {@link DEFAULT_LIMIT} when not given. */
export function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_LIMIT) throw new CliError(`--limit must be a whole number from 1 to ${MAX_LIMIT}, got '${raw}'`);
  return n;
}

/**
 * The SQL for `--type --day`, the same for DuckDB and Athena: each event once (its first copy),
 * newest first. Three `?`: the day, then the name twice (routing or raw). The limit is a validated
 * whole number written into the text: neither engine binds `LIMIT ?` reliably.
 */
export function typeOnDaySql(limit: number): string {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive whole number, got ${limit}`);
  return [
    'SELECT min(received_at) AS received_at, event_type, event_id, actor_id, target_type, target_id, source',
    'FROM events',
    'WHERE dt = ? AND (event_type = ? OR event_name = ?)',
    'GROUP BY event_id, event_type, actor_id, target_type, target_id, source',
    'ORDER BY received_at DESC, event_id',
    `LIMIT ${limit}`,
  ].join('\n');
}

/** The day question's three parameters, in the order of {@link typeOnDaySql}'s `?`. */
export function typeOnDayParams(question: Extract<EventsQuestion, { kind: 'type' }>): [string, string, string] {
  return [question.day, question.eventType, question.eventType];
}
