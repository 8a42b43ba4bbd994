/**
 * The Athena side of `erase --aws` (docs/runbook.md, "Erasing a user"): one query over the archive's
 * Glue table in the stack's workgroup names the events (or the objects, by `"$path"`) whose lines
 * may hold a user. It is a coarse filter, never the decision: every line or item it names is read
 * and checked with `userAppearances` (lambda/core/privacy/user-match.ts) before anything is erased.
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import { BODY_BASE64_FLAG, PAYLOAD_IN_S3_FLAG } from '../../lambda/core/privacy/user-match.js';
import { runAthenaQuery, sqlLiteral } from '../athena-query.js';

/**
 * The Glue table the stack creates over `events/` (`EVENTS_TABLE_NAME` in
 * lib/constructs/archive-catalog.ts, which loads the CDK, so the CLI names it here; the test holds
 * the two equal).
 */
export const ARCHIVE_TABLE = 'events';

/** Where the query runs, and how long it is waited for (a fake sleep in tests). */
export interface AthenaWhere {
  readonly athena: Pick<AthenaClient, 'send'>;
  readonly workGroup: string;
  readonly database: string;
  readonly sleep: (ms: number) => Promise<void>;
  /** @default 15 minutes (a whole-archive scan) */
  readonly timeoutMs?: number;
}

/** The days (`YYYY-MM-DD`, UTC, inclusive) the query reads; either end open. */
export interface DayRange {
  readonly from?: string;
  readonly to?: string;
}

/**
 * The query naming what may hold `userId` (`select`: `DISTINCT event_id`, `DISTINCT "$path"`), and
 * its parameters as Athena takes them (quoted literals). A line may hold the user when the record's
 * user columns are the id, the body's text has it (as sent, or as JSON writes it inside a string),
 * or the line does not show its body: kept in S3 (the `payload` is its key) or carried as base64.
 */
export function candidateQuery(select: string, userId: string, range: DayRange): { sql: string; params: string[] } {
  const where = ['(actor_id = ? OR target_id = ? OR strpos(payload, ?) > 0 OR strpos(payload, ?) > 0 OR contains(flags, ?) OR contains(flags, ?))'];
  const values = [userId, userId, userId, JSON.stringify(userId).slice(1, -1), PAYLOAD_IN_S3_FLAG, BODY_BASE64_FLAG];
  if (range.from !== undefined) {
    where.push('dt >= ?');
    values.push(range.from);
  }
  if (range.to !== undefined) {
    where.push('dt <= ?');
    values.push(range.to);
  }
  return { sql: `SELECT DISTINCT ${select} FROM ${ARCHIVE_TABLE} WHERE ${where.join(' AND ')}`, params: values.map(sqlLiteral) };
}

/** Runs `sql` with `params`, waits for it, and returns the first column of every row (header row left out). */
export async function athenaColumn(where: AthenaWhere, sql: string, params: readonly string[]): Promise<string[]> {
  const rows = await runAthenaQuery({ ...where, sql, params, timeoutMs: where.timeoutMs ?? 15 * 60_000, maxPauseMs: 5000 });
  return rows.slice(1).flatMap((row) => (row[0] === null || row[0] === undefined ? [] : [row[0]]));
}
