/**
 * Crash safety of local mode: `socialplus-webhooks dev` runs as a child process, acknowledges N
 * signed events, is killed with SIGKILL at once (the fan-out and the delivery stream mid-work), and
 * is started again on the same folder. Every acknowledged event must reach the archive and the store.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { localDynamoDbClient } from '../../local/emulators.js';
import { sampleBody } from '../support/samples.js';
import { archivedIds, installationCredentials, spawnLocalMode, storedIds, type RunningLocalMode } from './support/local-state.js';
import { postSignedWebhook } from '../support/local-pipeline.js';

const BIN = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'socialplus-webhooks.mjs');
const SECRET = 'crash-test-secret';
const EVENTS = 200;

type Dev = RunningLocalMode;

const children: ChildProcess[] = [];
let dir: string | undefined;

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

/** Starts `dev` on a free port and resolves once it prints its URL. */
function startDev(root: string): Promise<Dev> {
  return spawnLocalMode([BIN, 'dev'], {
    cwd: root,
    env: { ...process.env, PORT: '0', SOCIALPLUS_LOCAL_DIR: root, SOCIALPLUS_WEBHOOK_SECRET: SECRET, LOG_LEVEL: 'WARN' },
    track: children,
    label: 'dev',
    intervalMs: 50,
  });
}

/** Posts all bodies, 16 at a time; resolves with each answer's status. */
async function postAll(url: string, bodies: readonly string[]): Promise<number[]> {
  const statuses: number[] = new Array(bodies.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < bodies.length) {
        const i = next++;
        const body = bodies[i] as string;
        const res = await postSignedWebhook(url, body, SECRET);
        await res.arrayBuffer();
        statuses[i] = res.status;
      }
    }),
  );
  return statuses;
}

describe('local mode survives SIGKILL', () => {
  it('delivers every acknowledged event to the archive and the store after a restart', { timeout: 90_000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'e2e-crash-'));
    const root = dir;
    const template = sampleBody('message.didCreate').trimEnd().replace(/}$/, '');
    const bodies = Array.from({ length: EVENTS }, (_, i) => `${template},"crashTest":${i}}`);
    const ids = bodies.map((b) => eventIdOf(Buffer.from(b)));

    const first = await startDev(root);
    const statuses = await postAll(first.url, bodies);
    expect(
      statuses.every((s) => s === 200),
      `statuses: ${[...new Set(statuses)].join(',')}`,
    ).toBe(true);
    first.child.kill('SIGKILL');
    await first.exited;
    const archivedBeforeRestart = archivedIds(root).size;

    const second = await startDev(root);
    const client = localDynamoDbClient(second.dynamodb, { maxAttempts: 5, credentials: installationCredentials(root) });
    try {
      await vi.waitFor(
        () => {
          const archived = archivedIds(root);
          const missing = ids.filter((id) => !archived.has(id));
          if (missing.length > 0) throw new Error(`${missing.length} acknowledged events not archived yet`);
        },
        { timeout: 45_000, interval: 200 },
      );
      await vi.waitFor(
        async () => {
          const stored = await storedIds(client, ids);
          const missing = ids.filter((id) => !stored.has(id));
          if (missing.length > 0) throw new Error(`${missing.length} acknowledged events not stored yet`);
        },
        { timeout: 30_000, interval: 200 },
      );
    } finally {
      client.destroy();
    }
    // The kill lands before the stream's first write (3 s buffer): everything came back from the
    // journals, none of it from S3.
    expect(archivedBeforeRestart).toBeLessThan(EVENTS);

    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.output()).toMatch(/^stopped$/m);
  });
});
