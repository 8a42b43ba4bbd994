/**
 * `socialplus-webhooks erase --also-future` on local mode, end to end: with local mode stopped, alice
 * is erased and put on the suppression list (a dry run first says it would); local mode starts again
 * on the same folder; an event of alice's and one of bob's arrive: alice's is acknowledged and
 * dropped (not stored, not archived, no handler), bob's goes through as usual.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineHandler, type HandlerContext } from '../../lambda/core/define-handler.js';
import { userIdHash } from '../../lambda/core/privacy/receipt.js';
import { SUPPRESSION_LIST_KEY } from '../../lambda/core/privacy/suppression.js';
import { LOCAL_BUCKET_NAME, s3rverObjectFile } from '../../local/paths.js';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import type { LocalPipelineOptions } from '../../local/pipeline-types.js';
import { runCli } from '../cli/run-cli.js';
import { startTempPipeline, stopTempPipeline } from '../support/local-pipeline.js';

const SECRET = 'erase-future-e2e-secret';
const ALICE = 'alice.future.5';
const BOB = 'bob.future.6';

let dir: string;
let pipeline: LocalPipeline | undefined;
const handled: HandlerContext[] = [];

const options = (): Omit<LocalPipelineOptions, 'dir' | 'port'> => ({
  secret: SECRET,
  fanout: 'inline',
  handlers: [defineHandler({ name: 'recorder', events: ['*'], handle: (_e, ctx) => void handled.push(ctx) })],
  queue: { batchingWindowMs: 10, visibilityTimeoutMs: 200 },
  stream: { bufferIntervalMs: 50 },
});

/** Sends a message of `user` (its sender) and returns its event id. */
async function send(user: string, seed: string): Promise<string> {
  const r = await runCli([
    'send',
    'message.didCreate',
    '--url',
    `${pipeline!.url}/webhook`,
    '--secret',
    SECRET,
    '--user',
    user,
    '--seed',
    seed,
    '--json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  const [eventId] = (JSON.parse(r.stdout) as { eventIds: string[] }).eventIds;
  return eventId as string;
}

async function drained(): Promise<void> {
  for (let i = 0; i < 400; i++) {
    const s = pipeline!.queue.stats();
    if (s.visible + s.inFlight + s.delayed === 0) {
      await pipeline!.stream?.flush();
      return;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('timed out waiting for an empty queue');
}

const json = async (args: string[]) => {
  const r = await runCli([...args, '--dir', dir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};
const archived = async (eventId: string) => {
  const r = await runCli(['query', `select event_id from events where event_id = '${eventId}'`, '--json'], { SOCIALPLUS_LOCAL_DIR: dir });
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as unknown[]).length;
};

describe('erase --also-future on local mode', () => {
  const ids: Record<string, string> = {};
  let dry: Record<string, unknown>;
  let erased: Record<string, unknown>;
  let again: Record<string, unknown>;
  let suppressed = 0;

  beforeAll(async () => {
    const started = await startTempPipeline('erase-future-e2e-', options());
    dir = started.dir;
    pipeline = started.pipeline;
    ids.bobBefore = await send(BOB, '1');
    await drained();
    await pipeline.close();
    pipeline = undefined;

    dry = await json(['erase', '--user', ALICE, '--also-future', '--dry-run']);
    erased = await json(['erase', '--user', ALICE, '--also-future']);
    again = await json(['erase', '--user', ALICE, '--also-future']);

    pipeline = await startLocalPipeline({ dir, port: 0, ...options() });
    handled.length = 0;
    ids.alice = await send(ALICE, '2');
    ids.bob = await send(BOB, '2');
    await drained();
    suppressed = pipeline.metrics().Suppressed ?? 0;
    await pipeline.close();
    pipeline = undefined;
  }, 120_000);

  afterAll(() => stopTempPipeline(pipeline, dir));

  it('a dry run says it would add her; the run adds her though it found nothing to remove; a second run finds her listed', () => {
    expect(dry).toMatchObject({ dryRun: true, suppression: 'would-add' });
    expect(erased).toMatchObject({ dryRun: false, counts: {}, suppression: 'added', userIdHash: userIdHash(ALICE) });
    expect(again).toMatchObject({ suppression: 'already-listed' });
  });

  it("drops her later event: acknowledged, not stored, not archived, no handler; bob's goes through", async () => {
    expect(suppressed).toBe(1);
    expect(handled.map((c) => c.eventId)).toEqual([ids.bob]);
    expect(await json(['events', '--user', ALICE])).toEqual([]);
    expect(((await json(['events', '--user', BOB])) as unknown as Array<{ event_id: string }>).map((e) => e.event_id).sort()).toEqual(
      [ids.bob, ids.bobBefore].sort(),
    );
    expect(await archived(ids.alice as string)).toBe(0);
    expect(await archived(ids.bob as string)).toBe(1);
  });

  it('the list names her by hash only', () => {
    const text = readFileSync(s3rverObjectFile(join(dir, 's3'), LOCAL_BUCKET_NAME, SUPPRESSION_LIST_KEY), 'utf8');
    expect(JSON.parse(text)).toMatchObject({ userIdHashes: [userIdHash(ALICE)] });
    expect(text).not.toContain(ALICE);
  });
});
