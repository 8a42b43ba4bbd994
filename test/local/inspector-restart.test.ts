/**
 * The inspector after local mode restarts: the events of earlier runs come back into its list from
 * the store (read on first use, before the first page renders), with the handler runs the store
 * kept; the old link's token no longer opens it.
 */
import { afterEach, expect, it } from 'vitest';
import { defineHandler } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import { postSignedWebhook } from '../support/local-pipeline.js';
import { sampleBody } from '../support/samples.js';
import { makeTempDir, removeTempDir } from '../support/temp-dir.js';

const SECRET = 'inspector-restart-secret';
let dir: string | undefined;
let pipeline: LocalPipeline | undefined;

afterEach(async () => {
  await pipeline?.close();
  pipeline = undefined;
  await removeTempDir(dir);
});

const start = (folder: string) =>
  startLocalPipeline({
    dir: folder,
    port: 0,
    secret: SECRET,
    handlers: [defineHandler({ name: 'inspector-restart-recorder', events: ['*'], handle: () => undefined })],
    queue: { batchingWindowMs: 20, visibilityTimeoutMs: 200 },
    stream: { bufferIntervalMs: 100 },
  });

/** Opens the inspector's link and returns the session cookie it sets. */
async function session(p: LocalPipeline): Promise<string> {
  const res = await fetch(p.inspectorUrl, { redirect: 'manual' });
  expect(res.status).toBe(303);
  return (res.headers.get('set-cookie') ?? '').split(';')[0] as string;
}

it("lists the earlier runs' events from the store, with their handler runs, and refuses the old link", async () => {
  dir = await makeTempDir('inspector-restart-');
  pipeline = await start(dir);
  const body = sampleBody('message.didCreate');
  const res = await postSignedWebhook(pipeline.url, body, SECRET);
  expect(res.status).toBe(200);
  await pipeline.settle();
  const oldLink = pipeline.inspectorUrl;
  await pipeline.close();

  pipeline = await start(dir);
  const cookie = await session(pipeline);
  const id = eventIdOf(body);
  // The first page waits for the store's read (a few milliseconds here), so it lists the event at once.
  const page = await (await fetch(`${pipeline.url}/`, { headers: { cookie } })).text();
  expect(page).toContain(`data-event-id="${id}"`);
  expect(page).toContain('inspector-restart-recorder: succeeded');

  // The old link's token was the last run's: it opens nothing now.
  const stale = await fetch(`${pipeline.url}/?token=${new URL(oldLink).searchParams.get('token')}`, { redirect: 'manual' });
  expect(stale.status).toBe(401);
});
