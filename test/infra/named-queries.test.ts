/**
 * The saved Athena queries are plain, portable SQL: each reads only the days it needs (a `dt`
 * predicate), binds its `?` parameters in order, and gives the right answer when run with DuckDB over
 * a table shaped like the archive (the same SQL local mode will run).
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_COLUMNS } from '../../lambda/core/archive-layout.js';
import { NAMED_QUERIES, type NamedQuery } from '../../lib/named-queries.js';

const query = (id: string): NamedQuery => {
  const found = NAMED_QUERIES.find((q) => q.id === id);
  if (!found) throw new Error(`no named query ${id}`);
  return found;
};

describe('named queries as data', () => {
  it('covers the questions users ask, with unique ids and names', () => {
    expect(NAMED_QUERIES.map((q) => q.id)).toEqual(['EventsPerTypePerDay', 'UserActivity', 'MostFlaggedUsers', 'HourlyVolume', 'DeduplicatedRange']);
    expect(new Set(NAMED_QUERIES.map((q) => q.name)).size).toBe(NAMED_QUERIES.length);
  });

  it.each(NAMED_QUERIES.map((q) => [q.id, q] as const))("%s filters on dt, declares its parameters and fits Athena's limits", (_id, q) => {
    expect(q.sql).toMatch(/WHERE dt (>=|BETWEEN)/);
    expect(q.sql.split('?').length - 1).toBe(q.parameters.length);
    expect(q.name.length).toBeLessThanOrEqual(128);
    expect(q.description.length).toBeLessThanOrEqual(700);
    expect(q.sql).not.toMatch(/\bselect \*\s+from events\b/i);
  });
});

describe('named queries run with DuckDB', () => {
  let instance: DuckDBInstance;
  let db: DuckDBConnection;
  // "Today" is pinned: the queries' `current_date` is replaced by this date before they run, so the
  // windows are checked against fixed days and the test passes across 00:00 UTC.
  const TODAY = Date.UTC(2026, 2, 10);
  const day = (offset: number) => new Date(TODAY - offset * 86_400_000).toISOString().slice(0, 10);
  const pinned = (sql: string) => sql.replaceAll('current_date', `DATE '${day(0)}'`);

  beforeAll(async () => {
    instance = await DuckDBInstance.create(':memory:');
    db = await instance.connect();
    await db.run(`CREATE TABLE events (
      event_id VARCHAR, event_type VARCHAR, event_name VARCHAR, received_at VARCHAR, occurred_at VARCHAR, source VARCHAR,
      actor_id VARCHAR, target_type VARCHAR, target_id VARCHAR, deprecated BOOLEAN, flags VARCHAR[], payload VARCHAR,
      dt VARCHAR, hour VARCHAR)`);
    const rows: [string, string, string, string, string, string, string, string][] = [
      // event_id, event_type, received_at (day offset + hour), actor, target type, target id, dt offset, hour
      ['e1', 'message.didFlag', '0', 'u1', 'message', 'm1', '0', '01'],
      ['e1', 'message.didFlag', '0', 'u1', 'message', 'm1', '0', '01'], // a line repeated after a crash
      ['e2', 'post.didFlag', '0', 'u1', 'post', 'p1', '0', '02'],
      ['e3', 'message.didFlag', '0', 'u2', 'message', 'm2', '0', '02'],
      ['e4', 'post.didCreate', '1', 'u2', 'post', 'p2', '1', '23'],
      ['e5', 'post.didCreate', '40', 'u1', 'post', 'p3', '40', '10'], // outside every window but the range query's
    ];
    for (const [id, type, offset, actor, targetType, targetId, dtOffset, hour] of rows) {
      await db.run("INSERT INTO events VALUES (?, ?, ?, ?, NULL, 'default', ?, ?, ?, false, [], '{}', ?, ?)", [
        id,
        type,
        type,
        `${day(Number(offset))}T${hour}:00:00.000Z`,
        actor,
        targetType,
        targetId,
        day(Number(dtOffset)),
        hour,
      ]);
    }
  });

  afterAll(() => {
    db.closeSync();
    instance.closeSync();
  });

  const run = async (id: string, params: string[] = []) => {
    const sql = query(id).sql;
    return (await db.runAndReadAll(pinned(sql), params)).getRowObjectsJson();
  };

  it('counts distinct events per type per day', async () => {
    expect(await run('EventsPerTypePerDay')).toEqual([
      { dt: day(0), event_type: 'message.didFlag', events: '2' },
      { dt: day(0), event_type: 'post.didFlag', events: '1' },
      { dt: day(1), event_type: 'post.didCreate', events: '1' },
    ]);
  });

  it("lists one user's events once each, newest first", async () => {
    const rows = await run('UserActivity', ['u1']);
    expect(rows.map((r) => r.event_id)).toEqual(['e2', 'e1']);
  });

  it('ranks users by flags on their content', async () => {
    expect(await run('MostFlaggedUsers')).toEqual([
      { user_id: 'u1', flags: '2', flagged_items: '2', first_day: day(0), last_day: day(0) },
      { user_id: 'u2', flags: '1', flagged_items: '1', first_day: day(0), last_day: day(0) },
    ]);
  });

  it('counts events per hour, each once (a repeated line counts for nothing)', async () => {
    expect(await run('HourlyVolume')).toEqual([
      { dt: day(0), hour: '02', events: '2' },
      { dt: day(0), hour: '01', events: '1' },
      { dt: day(1), hour: '23', events: '1' },
    ]);
  });

  it('returns each event of a date range once, with every archive column and the partitions', async () => {
    const rows = await run('DeduplicatedRange', [day(60), day(0)]);
    expect(rows.map((r) => r.event_id)).toEqual(['e5', 'e4', 'e1', 'e2', 'e3']);
    expect(Object.keys(rows[0] ?? {})).toEqual([...ARCHIVE_COLUMNS, 'dt', 'hour']);
    expect((await run('DeduplicatedRange', [day(1), day(1)])).map((r) => r.event_id)).toEqual(['e4']);
  });
});
