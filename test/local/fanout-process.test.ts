/**
 * Local mode's fan-out in its own process (`local/fanout-process.ts`): events go through it into the
 * store and the archive, its outcomes reach the pipeline's counts, a fan-out process that dies is
 * started again while the front door keeps acknowledging, and none is left behind on close.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../lambda/common/env.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import { sampleBody } from '../support/samples.js';
import { postSignedWebhook } from '../support/local-pipeline.js';

const SECRET = 'fanout-process-secret';
let dir: string;
let pipeline: LocalPipeline;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fanout-process-'));
  // A project folder with a cdk.json that switches no example handler on.
  await writeFile(join(dir, 'cdk.json'), JSON.stringify({ app: 'true', context: {} }));
  pipeline = await startLocalPipeline({
    dir: join(dir, 'state'),
    port: 0,
    secret: SECRET,
    env: {},
    projectDir: dir,
    queue: { batchingWindowMs: 20, visibilityTimeoutMs: 200 },
    stream: { bufferIntervalMs: 100 },
  });
}, 60_000);

afterAll(async () => {
  await pipeline?.close();
  await rm(dir, { recursive: true, force: true });
});

function variant(label: string): string {
  return `${sampleBody('message.didCreate').trimEnd().replace(/}$/, '')},"fanoutProcess":"${label}"}`;
}

async function post(body: string): Promise<number> {
  const res = await postSignedWebhook(pipeline.url, body, SECRET);
  await res.arrayBuffer();
  return res.status;
}

/** Polls `check` until it holds, for at most `ms` (no timing is asserted: only that it happens). */
async function eventually(check: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('the fan-out process', () => {
  it('runs apart from this process and stores, archives and counts what the front door accepted', async () => {
    expect(pipeline.fanout.mode).toBe('process');
    const pid = pipeline.fanout.pid();
    expect(pid).toBeTypeOf('number');
    expect(pid).not.toBe(process.pid);
    expect(pipeline.stream).toBeUndefined();

    const bodies = ['a', 'b', 'c'].map(variant);
    for (const body of bodies) expect(await post(body)).toBe(200);
    await pipeline.settle();
    for (const body of bodies) expect((await pipeline.store.get(eventIdOf(Buffer.from(body))))?.payload).toBe(body);
    // Counted by the receiver here and by the fan-out over there.
    expect(pipeline.metrics()).toMatchObject({ Accepted: 3, Stored: 3 });
  });

  it('is started again after it dies; the front door acknowledges meanwhile and nothing accepted is lost', async () => {
    const before = pipeline.fanout.pid() as number;
    const restarts = pipeline.fanout.restarts();
    process.kill(before, 'SIGKILL');
    const bodies = Array.from({ length: 5 }, (_, i) => variant(`after-kill-${i}`));
    for (const body of bodies) expect(await post(body)).toBe(200);
    const health = await fetch(`${pipeline.url}/healthz`);
    expect(health.status).toBe(200);
    await eventually(() => pipeline.fanout.restarts() > restarts && pipeline.fanout.pid() !== undefined);
    expect(pipeline.fanout.pid()).not.toBe(before);
    await pipeline.settle();
    for (const body of bodies) expect(await pipeline.store.get(eventIdOf(Buffer.from(body)))).toBeDefined();
  });

  it('leaves no process behind when local mode closes', async () => {
    const other = await startLocalPipeline({ dir: join(dir, 'other'), port: 0, secret: SECRET, env: {}, projectDir: dir });
    const pid = other.fanout.pid() as number;
    expect(() => process.kill(pid, 0)).not.toThrow();
    await other.close();
    expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
  });

  it('reports a configuration the fan-out cannot start with as a ConfigurationError, and starts nothing', async () => {
    const failing = startLocalPipeline({
      dir: join(dir, 'bad'),
      port: 0,
      secret: SECRET,
      env: { HANDLERS_CONFIG: '{"autoModeration": "yes"' },
      projectDir: dir,
    });
    await expect(failing).rejects.toBeInstanceOf(ConfigurationError);
    // The folder's lock was released: another start in it works.
    const again = await startLocalPipeline({ dir: join(dir, 'bad'), port: 0, secret: SECRET, env: {}, projectDir: dir });
    await again.close();
  });

  it("refuses fanout: 'process' with handler objects, which cannot cross to another process", async () => {
    await expect(startLocalPipeline({ dir: join(dir, 'objects'), port: 0, secret: SECRET, fanout: 'process', handlers: [] })).rejects.toThrow(
      /fanout: 'process' cannot run handlers/,
    );
  });
});
