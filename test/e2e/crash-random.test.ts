/**
 * Crash at random points: local mode (with seeded faults on, so spills, drains and retries are
 * under way too) takes a steady load and is killed with SIGKILL at a random moment, several rounds
 * in a row on the same folder; then it starts once more. Every event acknowledged in any round
 * must reach the archive and the store. The seed (FAULT_SEED) fixes the kill times and the faults;
 * the moment each kill lands still varies, so a failure may not repeat: its folder is kept.
 *
 * This probe found that a kill while s3rver writes an object's metadata file left a file that made
 * s3rver fail every listing of `inbox/spill/`, so no later spill was drained (`local/s3rver-repair.ts`).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { localDynamoDbClient } from '../../local/emulators.js';
import { mulberry32, seedFromEnv } from '../../local/faults/injector.js';
import { sampleBody } from '../support/samples.js';
import { archivedIds, installationCredentials, spawnLocalMode, storedIds, type RunningLocalMode } from './support/local-state.js';
import { postSignedWebhook } from '../support/local-pipeline.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHILD = join(ROOT, 'test', 'e2e', 'support', 'faulty-local-mode.ts');
const SECRET = 'crash-random-secret';
const ROUNDS = 4;

type Running = RunningLocalMode;

const children: ChildProcess[] = [];
let dir: string | undefined;
/** A failed run's folder is kept for a post-mortem (queue journal, stream segments, s3rver's files). */
let keepDir = false;

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (dir && keepDir) process.stderr.write(`crash-random: kept the failed run's local mode folder ${dir}\n`);
  else if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
  keepDir = false;
});

function start(root: string, seed: number): Promise<Running> {
  return spawnLocalMode(['--import', 'tsx', CHILD], {
    cwd: ROOT,
    env: { ...process.env, LOCAL_DIR: root, WEBHOOK_SECRET: SECRET, FAULT_SEED: String(seed) },
    track: children,
    label: 'local mode',
  });
}

/** Posts distinct events, 8 at a time, until `stop()`; records the ids answered 200. */
function load(url: string, acked: Set<string>, next: { n: number }) {
  let stopped = false;
  const template = sampleBody('message.didCreate').trimEnd().slice(0, -1);
  const workers = Array.from({ length: 8 }, async () => {
    while (!stopped) {
      const body = `${template},"crashRandom":${next.n++}}`;
      try {
        const res = await postSignedWebhook(url, body, SECRET);
        await res.arrayBuffer();
        if (res.status === 200) acked.add(eventIdOf(body));
      } catch {
        // Killed mid-request: not acknowledged.
      }
    }
  });
  return async () => {
    stopped = true;
    await Promise.all(workers);
  };
}

describe('local mode killed at random points', () => {
  it(`loses no acknowledged event over ${ROUNDS} SIGKILLs under load and faults`, { timeout: 120_000 }, async ({ onTestFailed }) => {
    onTestFailed(() => {
      keepDir = true;
    });
    const seed = seedFromEnv();
    const replay = `FAULT_SEED=${seed}`;
    const random = mulberry32(seed);
    dir = await mkdtemp(join(tmpdir(), 'e2e-crash-random-'));
    const root = dir;
    const acked = new Set<string>();
    const next = { n: 0 };
    const killedAfterMs: number[] = [];

    for (let round = 0; round < ROUNDS; round++) {
      const running = await start(root, seed + round);
      const stop = load(running.url, acked, next);
      const waitMs = 150 + Math.floor(random() * 1200);
      killedAfterMs.push(waitMs);
      await new Promise((r) => setTimeout(r, waitMs));
      running.child.kill('SIGKILL');
      await running.exited;
      await stop();
    }
    expect(acked.size, `${replay}: some events must have been acknowledged (kills after ${killedAfterMs.join(', ')} ms)`).toBeGreaterThan(0);

    const last = await start(root, seed + ROUNDS);
    const client = localDynamoDbClient(last.dynamodb, { maxAttempts: 5, credentials: installationCredentials(root) });
    const ids = [...acked];
    try {
      await vi.waitFor(
        () => {
          const archived = archivedIds(root);
          const missing = ids.filter((id) => !archived.has(id));
          if (missing.length > 0)
            throw new Error(
              `${replay}: ${missing.length} of ${ids.length} acknowledged events not archived yet, e.g. ${missing.slice(0, 3).join(', ')}`,
            );
        },
        { timeout: 60_000, interval: 250 },
      );
      await vi.waitFor(
        async () => {
          const stored = await storedIds(client, ids);
          const missing = ids.filter((id) => !stored.has(id));
          if (missing.length > 0)
            throw new Error(
              `${replay}: ${missing.length} of ${ids.length} acknowledged events not stored yet, e.g. ${missing.slice(0, 3).join(', ')}`,
            );
        },
        { timeout: 30_000, interval: 250 },
      );
    } finally {
      client.destroy();
    }

    last.child.kill('SIGTERM');
    expect(await last.exited, last.output()).toBe(0);
    expect(last.output()).toMatch(/^stopped$/m);
  });
});
