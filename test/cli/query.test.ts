import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archiveLine, partitionPrefix, type ArchiveRecord } from '../../lambda/core/archive-layout.js';
import { ensureBucket, localS3Client, startS3rver } from '../../local/emulators.js';
import { LOCAL_BUCKET_NAME, localPaths } from '../../local/paths.js';
import { archiveRecordOf } from '../support/archive-records.js';
import { sampleBody } from '../support/samples.js';
import { runCli } from './run-cli.js';

/** An archive record as the fan-out would write it for a sample received at `receivedAt`. */
const record = (sample: string, receivedAt: Date): ArchiveRecord => archiveRecordOf(sampleBody(sample), receivedAt);

const DAY1 = new Date(Date.UTC(2025, 6, 2, 9, 54, 3));
const DAY2 = new Date(Date.UTC(2025, 6, 3, 23, 1, 0));

// Two objects in one partition and one in another, as the delivery stream would flush them; the
// message.didCreate event twice (a line a crash of the fan-out repeated, a day later).
const OBJECTS: Array<{ at: Date; name: string; records: ArchiveRecord[] }> = [
  { at: DAY1, name: 'stream-2025-07-02-09-54-03-a.gz', records: [record('message.didCreate', DAY1), record('message.didFlag', DAY1)] },
  { at: DAY1, name: 'stream-2025-07-02-09-55-00-b.gz', records: [record('v3.post.didCreate', DAY1)] },
  {
    at: DAY2,
    name: 'stream-2025-07-03-23-01-00-c.gz',
    records: [record('message.didCreate', DAY2), record('push-notification.message.created', DAY2)],
  },
];

type Row = Record<string, unknown>;

describe('query', () => {
  let tmp: string;
  let localDir: string;
  let emptyDir: string;
  const json = async (sql: string, dir = localDir): Promise<Row[]> => {
    const run = await runCli(['query', sql, '--dir', dir, '--json']);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout) as Row[];
  };

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'query-test-'));
    localDir = join(tmp, 'local');
    emptyDir = join(tmp, 'empty');
    mkdirSync(emptyDir);
    const s3rver = await startS3rver({ dir: localPaths(localDir).s3 });
    try {
      const s3 = localS3Client(s3rver.endpoint);
      await ensureBucket(s3, LOCAL_BUCKET_NAME);
      for (const o of OBJECTS) {
        await s3.send(
          new PutObjectCommand({
            Bucket: LOCAL_BUCKET_NAME,
            Key: `${partitionPrefix(o.at)}${o.name}`,
            Body: gzipSync(o.records.map(archiveLine).join('')),
            ContentType: 'application/x-ndjson',
          }),
        );
      }
      s3.destroy();
    } finally {
      await s3rver.close();
    }
  });

  afterAll(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it("counts events by type across every object, each event once (the README's query), with numbers as numbers", async () => {
    const rows = await json('select event_type, count(*) as n from events group by 1 order by 1');

    expect(rows).toEqual([
      { event_type: 'message.didCreate', n: 1 },
      { event_type: 'message.didFlag', n: 1 },
      { event_type: 'post.didCreate', n: 1 },
      { event_type: 'push-notification.message.created', n: 1 },
    ]);
  });

  it("events keeps an event's first line; archive_lines has every line", async () => {
    const created = record('message.didCreate', DAY1).eventId;
    expect(await json(`select dt, hour from events where event_id = '${created}'`)).toEqual([{ dt: '2025-07-02', hour: '09' }]);
    expect(await json(`select dt from archive_lines where event_id = '${created}' order by dt`)).toEqual([
      { dt: '2025-07-02' },
      { dt: '2025-07-03' },
    ]);
    expect(await json('select count(*) as lines, count(distinct event_id) as events from archive_lines')).toEqual([{ lines: 5, events: 4 }]);
  });

  it('reads dt and hour from the partition folders', async () => {
    const rows = await json('select dt, hour, count(*) as n from archive_lines group by all order by all');

    expect(rows).toEqual([
      { dt: '2025-07-02', hour: '09', n: 3 },
      { dt: '2025-07-03', hour: '23', n: 2 },
    ]);
  });

  it('returns each column with its archive type: strings, boolean deprecated, flags list, raw payload', async () => {
    const expected = record('v3.post.didCreate', DAY1);
    const rows = await json(`select * from events where event_id = '${expected.eventId}'`);

    expect(rows).toEqual([
      {
        event_id: expected.eventId,
        event_type: 'post.didCreate',
        event_name: 'v3.post.didCreate',
        received_at: DAY1.toISOString(),
        occurred_at: expected.occurredAt,
        source: 'default',
        actor_id: expected.actorId,
        target_type: 'post',
        target_id: expected.targetId,
        deprecated: false,
        flags: [],
        payload: expected.payload,
        dt: '2025-07-02',
        hour: '09',
      },
    ]);
  });

  it('converts BIGINT, HUGEINT and timestamps for JSON', async () => {
    const rows = await json(
      "select 9007199254740993::BIGINT as big, 42::HUGEINT as huge, TIMESTAMPTZ '2025-07-02 09:54:03.221+00' as at, received_at::TIMESTAMPTZ as received from events limit 1",
    );

    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ big: '9007199254740993', huge: 42, at: '2025-07-02T09:54:03.221Z' });
    expect(String(rows[0]?.received)).toMatch(/^2025-07-0[23]T\d{2}:\d{2}:\d{2}\.000Z$/);
  });

  it('prints a readable table by default', async () => {
    const run = await runCli(['query', 'select event_type, count(*) as n from events group by 1 order by 1', '--dir', localDir]);

    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^event_type\s+│\s+n$/);
    expect(lines[2]).toMatch(/^message\.didCreate\s+│\s+1$/);
    expect(lines.at(-1)).toBe('(4 rows)');
  });

  it('has an empty events view when there is no archive yet', async () => {
    const run = await runCli(['query', 'select count(*) as n from events', '--dir', emptyDir, '--json']);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([{ n: 0 }]);
    expect(run.stderr).toContain('no archive objects');
    expect(await json('select * from events', emptyDir)).toEqual([]);
    expect(await json('select * from archive_lines', emptyDir)).toEqual([]);
  });

  it('reads a plain events/ copy of the archive and skips s3rver objects still being written', async () => {
    const plain = join(tmp, 'plain');
    const partition = join(plain, 'events', 'dt=2025-07-04', 'hour=00');
    mkdirSync(partition, { recursive: true });
    const at = new Date(Date.UTC(2025, 6, 4, 0, 30));
    writeFileSync(join(partition, 'part-1.gz'), gzipSync(archiveLine(record('follow.didCreate', at))));
    // Content without its metadata sidecar: s3rver has not finished writing it.
    writeFileSync(join(partition, 'torn.gz._S3rver_object'), gzipSync(archiveLine(record('channel.didBan', at))).subarray(0, 20));

    expect(await json('select event_type, dt, hour from events', plain)).toEqual([{ event_type: 'follow.didCreate', dt: '2025-07-04', hour: '00' }]);
  });

  it('uses SOCIALPLUS_LOCAL_DIR when --dir is not given', async () => {
    const run = await runCli(['query', 'select count(*) as n from events', '--json'], { SOCIALPLUS_LOCAL_DIR: localDir });

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([{ n: 4 }]);
  });

  it("exits 1 with DuckDB's message for bad SQL", async () => {
    const syntax = await runCli(['query', 'selec count(*) from events', '--dir', localDir, '--json']);
    const binder = await runCli(['query', 'select no_such_column from events', '--dir', localDir]);

    expect(syntax.code).toBe(1);
    expect(syntax.stdout).toBe('');
    expect(syntax.stderr).toMatch(/query failed: Parser Error: syntax error at or near "selec"/);
    expect(binder.code).toBe(1);
    expect(binder.stderr).toContain('no_such_column');
  });

  it('names a --dir that does not exist', async () => {
    const run = await runCli(['query', 'select 1', '--dir', join(tmp, 'missing')]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`--dir ${join(tmp, 'missing')} is not a folder`);
  });

  it('explains the view in --help', async () => {
    const run = await runCli(['query', '--help']);

    expect(run.code).toBe(0);
    for (const column of ['event_id', 'deprecated', 'BOOLEAN', 'flags', 'VARCHAR[]', 'dt', 'hour', 'Examples:']) expect(run.stdout).toContain(column);
  });
});
