/**
 * Athena's SQL locally: every saved query of `lib/named-queries.ts`, unchanged, gives the answer its
 * description promises on a fixture archive (with duplicates and days outside each window), through
 * `query --named`; and the Trino functions behave as in Athena.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateArchive, runArchiveQuery, TRINO_MACROS } from '../../cli/archive-query.js';
import { archiveLine, partitionPrefix, type ArchiveRecord } from '../../lambda/core/archive-layout.js';
import { sampleEvent } from '../../lambda/fanout/kit/testing.js';
import { NAMED_QUERIES } from '../../lib/named-queries.js';
import { runCli } from '../cli/run-cli.js';
import { archiveRecordOf } from '../support/archive-records.js';

const DAY_MS = 86_400_000;
/** Midday UTC `daysAgo` days before today, plus `hours`. */
const at = (daysAgo: number, hour = 12) => {
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  return new Date(today - daysAgo * DAY_MS + hour * 3_600_000);
};
const dt = (daysAgo: number) => at(daysAgo).toISOString().slice(0, 10);

/** An archived copy of a sample (with a marker so each `copy` is its own event), received at `when`. */
function archived(sample: string, when: Date, copy: string, edit?: (e: Record<string, unknown>) => void): ArchiveRecord {
  const event = sampleEvent(sample) as Record<string, unknown>;
  edit?.(event);
  return archiveRecordOf(JSON.stringify({ ...event, copy }), when);
}

const byUser = (userId: string) => (e: Record<string, unknown>) => {
  ((e.data as { messages: Array<{ userId: string }> }).messages[0] as { userId: string }).userId = userId;
};

// The fixture archive: flags by two users, other events, one line repeated (after a crash), days outside windows.
const f1 = archived('message.didFlag', at(0, 1), 'f1', byUser('spam.1'));
const f2 = archived('message.didFlag', at(1, 2), 'f2', byUser('spam.1'));
const f3 = archived('message.didFlag', at(3, 3), 'f3', byUser('spam.2'));
const p1 = archived('v3.post.didFlag', at(5, 4), 'p1'); // actor spam.account.42
const old = archived('message.didFlag', at(45, 5), 'old', byUser('spam.2')); // outside every window
const c1 = archived('message.didCreate', at(0, 6), 'c1'); // actor mika.tan
const c2 = archived('message.didCreate', at(8, 7), 'c2'); // actor mika.tan, outside 7 days
const r1 = archived('message.didAddReaction', at(1, 8), 'r1'); // actor ben.w
const dup = { ...c1, receivedAt: at(0, 9).toISOString() }; // c1's line again, later (older archives kept a line per delivery)

/** Objects as Firehose would write them: one per partition of arrival time. */
const RECORDS: ArchiveRecord[] = [f1, f2, f3, p1, old, c1, c2, r1, dup];

let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'named-queries-'));
  const byPartition = new Map<string, ArchiveRecord[]>();
  for (const r of RECORDS) {
    const prefix = partitionPrefix(new Date(r.receivedAt));
    byPartition.set(prefix, [...(byPartition.get(prefix) ?? []), r]);
  }
  for (const [prefix, records] of byPartition) {
    mkdirSync(join(dir, prefix), { recursive: true });
    writeFileSync(join(dir, prefix, 'part-0001.gz'), gzipSync(records.map(archiveLine).join('')));
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function named(id: string, ...params: string[]): Promise<Array<Record<string, unknown>>> {
  const run = await runCli(['query', '--named', id, ...params.flatMap((p) => ['--param', p]), '--dir', dir, '--json']);
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as Array<Record<string, unknown>>;
}

describe('the saved Athena queries, run unchanged with query --named', () => {
  it('covers every saved query', () => {
    expect(NAMED_QUERIES.map((q) => q.id)).toEqual(['EventsPerTypePerDay', 'UserActivity', 'MostFlaggedUsers', 'HourlyVolume', 'DeduplicatedRange']);
  });

  it('EventsPerTypePerDay: distinct events per type per UTC day, last 7 days, newest day first', async () => {
    const rows = await named('EventsPerTypePerDay');
    expect(rows.map((r) => r.dt)).toEqual([...rows.map((r) => r.dt as string)].sort().reverse());
    // Within a day the order is by count only: ties come in any order.
    const byDayThenType = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      `${b.dt}`.localeCompare(`${a.dt}`) || `${a.event_type}`.localeCompare(`${b.event_type}`);
    expect([...rows].sort(byDayThenType)).toEqual([
      { dt: dt(0), event_type: 'message.didCreate', events: 1 },
      { dt: dt(0), event_type: 'message.didFlag', events: 1 },
      { dt: dt(1), event_type: 'message.didAddReaction', events: 1 },
      { dt: dt(1), event_type: 'message.didFlag', events: 1 },
      { dt: dt(3), event_type: 'message.didFlag', events: 1 },
      { dt: dt(5), event_type: 'post.didFlag', events: 1 },
    ]);
  });

  it("UserActivity: one user's events once each, newest first, last 30 days", async () => {
    const rows = await named('UserActivity', 'actor_id=mika.tan');
    expect(rows.map((r) => r.event_id)).toEqual([c1.eventId, c2.eventId]);
    // The first archived copy's arrival time, not the duplicate's.
    expect(rows[0]).toMatchObject({ received_at: c1.receivedAt, event_type: 'message.didCreate', target_type: 'message', target_id: c1.targetId });
    expect(await named('UserActivity', "actor_id='spam.2'")).toEqual([expect.objectContaining({ event_id: f3.eventId })]);
  });

  it('MostFlaggedUsers: authors of flagged items by distinct flags, last 30 days', async () => {
    expect(await named('MostFlaggedUsers')).toEqual([
      { user_id: 'spam.1', flags: 2, flagged_items: 1, first_day: dt(1), last_day: dt(0) },
      { user_id: 'spam.2', flags: 1, flagged_items: 1, first_day: dt(3), last_day: dt(3) },
      { user_id: 'spam.account.42', flags: 1, flagged_items: 1, first_day: dt(5), last_day: dt(5) },
    ]);
  });

  it('HourlyVolume: events per UTC hour, each once in the hour of its first line, last 2 days', async () => {
    const hh = (d: Date) => d.toISOString().slice(11, 13);
    expect(await named('HourlyVolume')).toEqual([
      { dt: dt(0), hour: hh(at(0, 6)), events: 1 },
      { dt: dt(0), hour: hh(at(0, 1)), events: 1 },
      { dt: dt(1), hour: hh(at(1, 8)), events: 1 },
      { dt: dt(1), hour: hh(at(1, 2)), events: 1 },
    ]);
  });

  it('DeduplicatedRange: each event once (its first copy) for the days asked, in arrival order', async () => {
    const rows = await named('DeduplicatedRange', `from_dt=${dt(1)}`, `to_dt='${dt(0)}'`);
    expect(rows.map((r) => r.event_id)).toEqual([f2.eventId, r1.eventId, f1.eventId, c1.eventId]);
    expect(rows.find((r) => r.event_id === c1.eventId)).toMatchObject({
      received_at: c1.receivedAt,
      payload: c1.payload,
      deprecated: false,
      flags: [],
    });
  });

  it('lists the saved queries with how to run them', async () => {
    const run = await runCli(['query', '--named']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('$ socialplus-webhooks query --named DeduplicatedRange --param from_dt=2025-06-01 --param to_dt=2025-06-07');
    const listed = JSON.parse((await runCli(['query', '--named', '--json'])).stdout) as Array<{ id: string }>;
    expect(listed.map((q) => q.id)).toEqual(NAMED_QUERIES.map((q) => q.id));
  });

  it.each([
    [['--named', 'NoSuchQuery'], "no saved query 'NoSuchQuery'; the saved queries are: EventsPerTypePerDay, UserActivity"],
    [['--named', 'UserActivity'], "saved query UserActivity needs --param actor_id=… (the Social Plus user id, e.g. 'user-123')"],
    [['--named', 'UserActivity', '--param', 'user=x'], "saved query UserActivity has no parameter 'user'; its parameters: actor_id"],
    [['--named', 'HourlyVolume', '--param', 'x=1'], 'saved query HourlyVolume takes no parameters, got --param x=1'],
    [['--named', 'UserActivity', '--param', 'actor_id'], "--param must be name=value, got 'actor_id'"],
    [['select 1', '--named', 'HourlyVolume'], 'give either SQL or --named <id>, not both'],
    [['select 1', '--param', 'a=b'], '--param is only for --named queries'],
    [[], 'give the SQL to run'],
  ])('query %j fails naming the problem', async (args, message) => {
    const run = await runCli(['query', ...args, '--dir', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
  });
});

describe("Athena's semantics in local queries", () => {
  const one = async (sql: string) => (await runArchiveQuery(sql, locateArchive(dir).objects)).rows[0];

  it('the session is UTC, so current_date is the UTC day, like dt', async () => {
    expect(await one("select current_setting('TimeZone') as tz, CAST(current_date AS varchar) as today")).toEqual({ tz: 'UTC', today: dt(0) });
  });

  it.each([
    ["date_add('day', 3, TIMESTAMP '2025-07-02 10:00:00')", '2025-07-05T10:00:00.000Z'],
    ["date_add('hour', -2, from_iso8601_timestamp('2025-07-02T01:00:00Z'))", '2025-07-01T23:00:00.000Z'],
    ["date_add('month', 1, TIMESTAMP '2025-07-31 00:00:00')", '2025-08-31T00:00:00.000Z'],
    ["date_add(DATE '2025-07-02', INTERVAL 1 DAY)", '2025-07-03T00:00:00.000Z'],
    ["date_format(TIMESTAMP '2025-07-02 09:05:07.250', '%Y-%m-%d %H:%i:%s')", '2025-07-02 09:05:07'],
    ["date_format(TIMESTAMP '2025-07-02 09:05:07', '%W %M %e, %T (%c/%d)')", 'Wednesday July 2, 09:05:07 (7/02)'],
    ["from_iso8601_timestamp('2025-07-02T09:54:03.221Z')", '2025-07-02T09:54:03.221Z'],
    ["from_iso8601_timestamp('2025-07-02T11:54:03.221+02:00')", '2025-07-02T09:54:03.221Z'],
    ["CAST(from_iso8601_date('2025-07-02') AS varchar)", '2025-07-02'],
    ["to_iso8601(TIMESTAMP '2025-07-02 09:54:03.221')", '2025-07-02T09:54:03.221Z'],
    ['from_unixtime(0)', '1970-01-01T00:00:00.000Z'],
    ["to_unixtime(TIMESTAMP '1970-01-02 00:00:00')", 86_400],
    ["day_of_week(DATE '2025-07-06')", 7],
    ['json_extract_scalar(\'{"data":{"messages":[{"userId":"u1","n":2}]}}\', \'$.data.messages[0].userId\')', 'u1'],
    ['json_extract_scalar(\'{"data":{"messages":[{"n":2}]}}\', \'$.data.messages[0].n\')', '2'],
    ['json_extract_scalar(\'{"data":{"messages":[{"n":2}]}}\', \'$.data.messages[0]\')', null],
    ["json_extract_scalar('{\"data\":{}}', '$.data.missing')", null],
    ['json_format(json_parse(\'{"a": 1}\'))', '{"a":1}'],
    ["regexp_like('message.didFlag', 'did(Flag|Unflag)$')", true],
  ])('%s → %j', async (expression, expected) => {
    expect(await one(`select ${expression} as v`)).toEqual({ v: expected });
  });

  it('approx_distinct counts distinct values (exactly)', async () => {
    expect(await one('select approx_distinct(event_id) as v, count(*) as copies from archive_lines')).toEqual({
      v: RECORDS.length - 1,
      copies: RECORDS.length,
    });
  });

  it('events has each event once; archive_lines every line', async () => {
    expect(await one('select count(*) as n from events')).toEqual({ n: RECORDS.length - 1 });
    expect(await one(`select received_at from events where event_id = '${c1.eventId}'`)).toEqual({ received_at: c1.receivedAt });
  });

  it('an Athena query over the payload runs as written', async () => {
    const { rows } = await runArchiveQuery(
      [
        "SELECT json_extract_scalar(payload, '$.data.messages[0].channelId') AS channel, count(DISTINCT event_id) AS events",
        'FROM events',
        "WHERE dt >= date_format(date_add('day', -7, current_date), '%Y-%m-%d')",
        "  AND event_type LIKE 'message.%'",
        'GROUP BY 1 ORDER BY 2 DESC, 1',
      ].join('\n'),
      locateArchive(dir).objects,
    );
    expect(rows).toEqual([
      { channel: 'general', events: 3 },
      { channel: 'support-lobby', events: 2 },
    ]);
  });

  it('documents each macro with the Trino call it stands for', () => {
    for (const m of TRINO_MACROS) expect(m.definition.startsWith(m.trino.slice(0, m.trino.indexOf('(')))).toBe(true);
  });
});
