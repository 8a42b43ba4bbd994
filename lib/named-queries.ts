/**
 * The saved Athena queries for the questions users ask of the archive, as plain data so the same
 * SQL can run locally (DuckDB over the local archive, view `events`). Portable on purpose: standard
 * SQL that Trino (Athena engine v3) and DuckDB both accept, a partition predicate on `dt` in every
 * query (so Athena reads only the days asked for), `?` for values the user supplies, and each
 * event counted once (`DISTINCT event_id`, or its first line): the archive holds one line per event,
 * but a crash of the fan-out can repeat one, and Athena's `events` table has every line (the local
 * view `events` has each event once already, so both give the same answers).
 */
import { ARCHIVE_COLUMNS } from '../lambda/core/archive-layout.js';

/** A value a query asks for, bound to its `?` placeholders in order. */
export interface NamedQueryParameter {
  readonly name: string;
  readonly description: string;
  /** A value to try, as the user would type it (Athena's console wants strings quoted). */
  readonly example: string;
}

/** One saved query. */
export interface NamedQuery {
  /** Stable id: the construct id of the saved query, so never change it. */
  readonly id: string;
  /** Name shown in Athena's Saved queries. */
  readonly name: string;
  readonly description: string;
  readonly sql: string;
  /** The `?` placeholders, in the order they appear. */
  readonly parameters: readonly NamedQueryParameter[];
}

/** `dt` of N days ago (UTC), as the partition's `YYYY-MM-DD` string, in SQL both engines accept. */
const daysAgo = (days: number): string => `CAST(CAST(current_date - INTERVAL '${days}' DAY AS date) AS varchar)`;

const DT_FROM: NamedQueryParameter = { name: 'from_dt', description: 'first day, YYYY-MM-DD (UTC)', example: "'2025-06-01'" };
const DT_TO: NamedQueryParameter = { name: 'to_dt', description: 'last day, YYYY-MM-DD (UTC), inclusive', example: "'2025-06-07'" };

/** The saved queries, in the order Athena lists them. */
export const NAMED_QUERIES: readonly NamedQuery[] = [
  {
    id: 'EventsPerTypePerDay',
    name: 'Events per type per day (last 7 days)',
    description: 'How many distinct events of each type arrived per day (UTC) over the last 7 days.',
    sql: [
      'SELECT dt, event_type, count(DISTINCT event_id) AS events',
      'FROM events',
      `WHERE dt >= ${daysAgo(7)}`,
      'GROUP BY dt, event_type',
      'ORDER BY dt DESC, events DESC',
    ].join('\n'),
    parameters: [],
  },
  {
    id: 'UserActivity',
    name: "One user's activity (last 30 days)",
    description: 'Every event a user acted in (the archive actor_id: sender, creator, reactor, follower...), newest first, over the last 30 days.',
    sql: [
      'SELECT event_id, min(received_at) AS received_at, event_type, target_type, target_id',
      'FROM events',
      `WHERE dt >= ${daysAgo(30)}`,
      '  AND actor_id = ?',
      'GROUP BY event_id, event_type, target_type, target_id',
      'ORDER BY received_at DESC',
      'LIMIT 1000',
    ].join('\n'),
    parameters: [{ name: 'actor_id', description: 'the Social Plus user id', example: "'user-123'" }],
  },
  {
    id: 'MostFlaggedUsers',
    name: 'Most-flagged users (last 30 days)',
    description:
      'Users whose content was flagged most over the last 30 days: *.didFlag events grouped by actor_id, which for message, ' +
      'post and comment flags is the author of the flagged item.',
    sql: [
      'SELECT actor_id AS user_id,',
      '       count(DISTINCT event_id) AS flags,',
      '       count(DISTINCT target_id) AS flagged_items,',
      '       min(dt) AS first_day,',
      '       max(dt) AS last_day',
      'FROM events',
      `WHERE dt >= ${daysAgo(30)}`,
      "  AND event_type LIKE '%.didFlag'",
      '  AND actor_id IS NOT NULL',
      'GROUP BY actor_id',
      'ORDER BY flags DESC, user_id',
      'LIMIT 50',
    ].join('\n'),
    parameters: [],
  },
  {
    id: 'HourlyVolume',
    name: 'Hourly volume (last 2 days)',
    description: 'Events per UTC hour over the last 2 days, each counted once, in the hour of its first archive line.',
    sql: [
      'SELECT dt, hour, count(*) AS events',
      'FROM (',
      '  SELECT dt, hour, row_number() OVER (PARTITION BY event_id ORDER BY received_at, dt, hour) AS line_of_event',
      '  FROM events',
      `  WHERE dt >= ${daysAgo(2)}`,
      ') AS numbered',
      'WHERE line_of_event = 1',
      'GROUP BY dt, hour',
      'ORDER BY dt DESC, hour DESC',
    ].join('\n'),
    parameters: [],
  },
  {
    id: 'DeduplicatedRange',
    name: 'De-duplicated events in a date range',
    description: 'Each event once (its first archived copy), for the days from_dt to to_dt inclusive; the view to build reports on.',
    sql: [
      `SELECT ${[...ARCHIVE_COLUMNS, 'dt', 'hour'].join(', ')}`,
      'FROM (',
      '  SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY received_at, dt, hour) AS copy',
      '  FROM events',
      '  WHERE dt BETWEEN ? AND ?',
      ') AS numbered',
      'WHERE copy = 1',
      'ORDER BY received_at, event_id',
    ].join('\n'),
    parameters: [DT_FROM, DT_TO],
  },
];
