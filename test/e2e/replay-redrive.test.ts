/**
 * `socialplus-webhooks redrive` and `replay` on local mode, through the CLI: while local mode runs
 * (they reach its queue through the admin routes) and while it is stopped (they open its journal).
 * Also the claim check end to end with a 1.5 MB body: received, archived as a pointer, replayed.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineHandler, type HandlerContext } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { JournalQueue } from '../../local/journal-queue.js';
import { localPaths } from '../../local/paths.js';
import type { LocalPipeline } from '../../local/pipeline.js';
import { runCli } from '../cli/run-cli.js';
import { postSignedWebhook, startTempPipeline, stopTempPipeline } from '../support/local-pipeline.js';
import { sampleBody } from '../support/samples.js';

/** Bytes gzip cannot shrink, the same on every run (SHAKE256 of a fixed label, as long as asked). */
const fixedNoise = (bytes: number): Buffer => createHash('shake256', { outputLength: bytes }).update('replay-redrive').digest();

const SECRET = 'replay-redrive-secret';
let dir: string;
let pipeline: LocalPipeline;
/** Successful runs of each handler, by event id. */
const runs = new Map<string, string[]>();
/** Event ids whose `picky` handler fails while it is set. */
const refuse = new Set<string>();
const ids: Record<string, string> = {};

function ran(handler: string) {
  return (_e: unknown, ctx: HandlerContext) => {
    runs.set(ctx.eventId, [...(runs.get(ctx.eventId) ?? []), handler]);
  };
}

function variant(name: string, label: string): string {
  return `${sampleBody(name).trimEnd().slice(0, -1)},"replayTest":"${label}"}`;
}

async function post(text: string): Promise<void> {
  const res = await postSignedWebhook(pipeline.url, text, SECRET);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
}

/**
 * The UTC days the events arrived on, as the pipeline recorded them (the archive's `dt`): the
 * replay ranges are built from these, never from the date when the test runs, which may have moved
 * on since the events were received (a run across 00:00 UTC).
 */
const arrivalDays = new Set<string>();
async function noteArrival(eventId: string): Promise<void> {
  const receivedAt = (await pipeline.store.get(eventId))?.receivedAt;
  expect(receivedAt, `stored receivedAt of ${eventId}`).toMatch(/^\d{4}-\d{2}-\d{2}T/);
  arrivalDays.add(new Date(receivedAt as string).toISOString().slice(0, 10));
}
const firstDay = () => [...arrivalDays].sort()[0] as string;
const lastDay = () => [...arrivalDays].sort().at(-1) as string;
/** `--from <first day> --to <last day>`: every event received so far. */
const received = () => ['--from', firstDay(), '--to', lastDay()];
const cli = (...args: string[]) => runCli([...args, '--dir', dir]);

beforeAll(async () => {
  ({ dir, pipeline } = await startTempPipeline('replay-redrive-', {
    secret: SECRET,
    queue: { batchingWindowMs: 10, visibilityTimeoutMs: 10, maxReceiveCount: 2 },
    stream: { bufferIntervalMs: 50 },
    handlers: [
      defineHandler({ name: 'everything', events: ['*'], handle: ran('everything') }),
      defineHandler({
        name: 'picky',
        events: ['message.*'],
        handle: (e, ctx) => {
          if (refuse.has(ctx.eventId)) throw new Error('refused for now');
          ran('picky')(e, ctx);
        },
      }),
    ],
  }));
  for (const [label, sample] of [
    ['flag', 'message.didFlag'],
    ['create', 'message.didCreate'],
    ['post', 'v3.post.didCreate'],
  ] as const) {
    const text = variant(sample, label);
    ids[label] = eventIdOf(text);
    await post(text);
  }
  const poison = variant('message.didCreate', 'poison');
  ids.poison = eventIdOf(poison);
  refuse.add(ids.poison);
  await post(poison);
  await pipeline.settle();
  for (const id of Object.values(ids)) await noteArrival(id);
});

afterAll(() => stopTempPipeline(pipeline, dir));

describe('redrive (local mode running)', () => {
  it('moves the DLQ back; a record that fails again returns there, one that now succeeds is done', async () => {
    expect(pipeline.queue.listDeadLetters().map((d) => d.message.attributes.eventId)).toEqual([ids.poison]);

    let run = await cli('redrive');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `moved 1 message from the local dead-letter queue back to the queue of local mode \\(process ${process.pid}\\); the fan-out is retrying them`,
      ),
    );
    await pipeline.settle();
    expect(pipeline.queue.listDeadLetters()).toHaveLength(1);

    refuse.delete(ids.poison as string);
    run = await cli('redrive');
    expect(run.stdout).toMatch(/moved 1 message/);
    await pipeline.settle();
    expect(pipeline.queue.listDeadLetters()).toEqual([]);
    // The retry ran only the handler that had failed.
    expect(runs.get(ids.poison as string)).toEqual(['everything', 'picky']);
    // Four receives and two redrives of the poison event, and the archive took each event once.
    expect(pipeline.metrics().Archived).toBe(4);
    expect((await pipeline.store.get(ids.poison as string))?.handlers).toEqual({ everything: true, picky: true });

    run = await cli('redrive');
    expect(run.stdout).toBe('the local dead-letter queue is empty; nothing to move\n');
  });
});

describe('replay (local mode running)', () => {
  it('lists what it would queue with --dry-run, and queues nothing', async () => {
    const before = pipeline.metrics().RecordsReceived ?? 0;
    const run = await cli('replay', ...received(), '--event', 'message.*', '--dry-run');
    expect(run.code, run.stderr).toBe(0);
    const listed = run.stdout.split('\n').filter((l) => /^\d{4}-/.test(l));
    expect(listed.map((l) => l.split(/\s+/)[1]).sort()).toEqual([ids.flag, ids.create, ids.poison].sort());
    expect(listed.find((l) => l.includes(ids.flag as string))).toMatch(/ message\.didFlag {2}default$/);
    expect(run.stdout).toMatch(/would replay 3 events received .* from the local archive in .*; skipped 1 not matching --event\)/);
    await pipeline.settle();
    expect(pipeline.metrics().RecordsReceived ?? 0).toBe(before);
  });

  it('queues each archived event once; the fan-out stores none twice and skips handlers already done', async () => {
    const before = { ...pipeline.metrics() };
    const runsBefore = [...runs.values()].flat().length;
    const run = await cli('replay', ...received());
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`replayed 4 events received .* to the queue of local mode \\(process ${process.pid}\\)`));
    expect(run.stdout).toMatch(
      /handlers that already succeeded for an event are skipped by the fan-out; add --force <handler,…> to run those named again/,
    );
    await pipeline.settle();
    const after = pipeline.metrics();
    expect((after.Duplicate ?? 0) - (before.Duplicate ?? 0)).toBe(4);
    // The events came from the archive: it gets no second line.
    expect((after.Archived ?? 0) - (before.Archived ?? 0)).toBe(0);
    expect((after.Stored ?? 0) - (before.Stored ?? 0)).toBe(0);
    expect([...runs.values()].flat().length).toBe(runsBefore);
  });

  it('runs again only the handlers --force names, and archives nothing again', async () => {
    const flag = ids.flag as string;
    const before = runs.get(flag) ?? [];
    const archivedBefore = pipeline.metrics().Archived ?? 0;
    const run = await cli('replay', ...received(), '--event', 'message.didFlag', '--force', 'picky');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/replayed 1 event /);
    expect(run.stdout).toMatch(/--force: each message carries replayForce=picky/);
    await pipeline.settle();
    expect(runs.get(flag)).toEqual([...before, 'picky']);
    expect(pipeline.metrics().Archived ?? 0).toBe(archivedBefore);
  });

  it('refuses a plain --force, saying how to name the handlers, and queues nothing', async () => {
    const before = pipeline.metrics().RecordsReceived ?? 0;
    const run = await cli('replay', ...received(), '--force');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--force without handler names: name the handlers to run again: --force <handler>\[,<handler>…\]/);
    await pipeline.settle();
    expect(pipeline.metrics().RecordsReceived ?? 0).toBe(before);
  });

  it('refuses a bad range or pattern, naming it', async () => {
    let run = await cli('replay', '--from', 'last week', '--to', lastDay());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--from 'last week' is not a day or a time/);
    run = await cli('replay', ...received(), '--event', 'message*');
    expect(run.stderr).toMatch(/--event: invalid event pattern 'message\*'/);
    run = await cli('replay', ...received(), '--event', 'mesage.*');
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/--event: 'mesage\.\*' matches no event family of the catalog; did you mean 'message\.\*'\?/);
    run = await cli('replay', '--to', lastDay());
    expect(run.stderr).toMatch(/required option '--from <time>' not specified/);
  });

  it('says so when the range has no archive objects', async () => {
    const run = await cli('replay', '--from', '2001-01-01', '--to', '2001-01-02');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /no archive objects for 2001-01-01T00:00:00.000Z to 2001-01-03T00:00:00.000Z in the local archive in .*; nothing to replay/,
    );
  });
});

describe('a 1.5 MB body (claim check)', () => {
  it('is received, stored and archived as a pointer, and replayed as a claim check', async () => {
    // Incompressible, so the store keeps its S3 copy too rather than the gzip payload.
    const big = `${sampleBody('message.didCreate').trimEnd().slice(0, -1)},"filler":"${fixedNoise(1_125_000).toString('base64')}"}`;
    expect(Buffer.byteLength(big)).toBeGreaterThan(1_500_000);
    const id = eventIdOf(big);
    await post(big);
    await pipeline.settle();
    await noteArrival(id);
    expect(pipeline.metrics().ClaimChecked).toBe(1);
    const item = await pipeline.store.get(id);
    expect(item?.payloadRef).toMatch(new RegExp(`^inbox/large/\\d{4}-\\d{2}-\\d{2}/${id}$`));
    expect(item?.flags).toContain('payload-in-s3');
    expect(runs.get(id)).toEqual(['everything', 'picky']);

    const run = await cli('replay', ...received(), '--event', 'message.didCreate', '--dry-run');
    expect(run.stdout).toMatch(new RegExp(`${id} {2}message\\.didCreate {2}default {2}\\(claim check inbox/large/.*/${id}\\)`));
    expect(run.stdout).toMatch(/1 as claim checks/);

    // For real: the fan-out fetches the body the claim check points at, and finds the event stored.
    const before = { ...pipeline.metrics() };
    const real = await cli('replay', ...received(), '--event', 'message.didCreate');
    expect(real.stdout).toMatch(/replayed 3 events .*1 as claim checks/);
    await pipeline.settle();
    const after = pipeline.metrics();
    expect((after.Duplicate ?? 0) - (before.Duplicate ?? 0)).toBe(3);
    expect(after.BlobFetchFailed ?? 0).toBe(before.BlobFetchFailed ?? 0);
    expect(pipeline.queue.listDeadLetters()).toEqual([]);
  });
});

describe('redrive and replay with local mode stopped', () => {
  it('put the messages in its queue files, with --force marking each; local mode delivers them when it starts', async () => {
    await pipeline.close();
    let run = await cli('replay', ...received(), '--event', 'message.didFlag', '--force', 'everything,picky');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/replayed 1 event .* to the local queue; local mode is not running: they are handled when it starts \(npm start\)/);
    expect(run.stdout).toMatch(/--force: each message carries replayForce=everything,picky/);
    run = await cli('redrive');
    expect(run.stdout).toBe('the local dead-letter queue is empty; nothing to move\n');

    const queue = await JournalQueue.open({ dir: localPaths(dir).queue });
    try {
      const queued = [...queue.allMessages()];
      expect(queued).toHaveLength(1);
      expect(queued[0]?.body).toBe(variant('message.didFlag', 'flag'));
      expect(queued[0]?.attributes).toMatchObject({
        eventId: ids.flag,
        eventType: 'message.didFlag',
        source: 'default',
        replayForce: 'everything,picky',
      });
      expect(queued[0]?.attributes.requestId).toMatch(/^replay-\d{8}T\d{6}Z-/);
    } finally {
      await queue.close();
    }
  });
});
