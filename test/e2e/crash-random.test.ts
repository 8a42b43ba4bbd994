/**
 * Crash at random points: local mode (with seeded faults on, so spills, drains and retries are
 * under way too) takes a steady load and is killed with SIGKILL once it has acknowledged a number
 * of events drawn from the seed, several rounds in a row on the same folder; then it starts once
 * more. Every event acknowledged in any round must reach the archive and the store. The seed is
 * fixed (`test/faults/seed.ts`; FAULT_SEED picks another) and every failure message carries it; it
 * fixes the faults and each round's kill point (the Nth acknowledgement), but what is in flight at
 * that moment still varies, so a failure may not repeat: its folder is kept.
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
import { mulberry32 } from '../../local/faults/injector.js';
import { replayHint, testFaultSeed } from '../faults/seed.js';
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

/**
 * Posts distinct events, 8 at a time, until `stop()`; records the ids answered 200, and calls
 * `onAck` with how many this load has had acknowledged after each one.
 */
function load(url: string, acked: Set<string>, next: { n: number }, onAck: (count: number) => void) {
  let stopped = false;
  let count = 0;
  const template = sampleBody('message.didCreate').trimEnd().slice(0, -1);
  const workers = Array.from({ length: 8 }, async () => {
    while (!stopped) {
      const body = `${template},"crashRandom":${next.n++}}`;
      try {
        const res = await postSignedWebhook(url, body, SECRET);
        await res.arrayBuffer();
        if (res.status === 200) {
          acked.add(eventIdOf(body));
          onAck(++count);
        }
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

/** Resolves once `running` has acknowledged `n` events of `load`; rejects, naming `what`, if it exits first or takes over 30 s. */
function afterAcks(running: Running, n: number, what: string, start: (onAck: (count: number) => void) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: local mode acknowledged fewer than ${n} events in 30 s`)), 30_000);
    void running.exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${what}: local mode exited (${code}) before its ${n}th acknowledgement:\n${running.output()}`));
    });
    start((count) => {
      if (count === n) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
}

describe('local mode killed at random points', () => {
  it(`loses no acknowledged event over ${ROUNDS} SIGKILLs under load and faults`, { timeout: 120_000 }, async ({ onTestFailed }) => {
    onTestFailed(() => {
      keepDir = true;
    });
    const seed = testFaultSeed();
    const replay = replayHint(seed, 'test/e2e/crash-random.test.ts');
    const random = mulberry32(seed);
    // Each round's kill point: after its Nth acknowledged event, N drawn from the seed.
    const killAfterAcks = Array.from({ length: ROUNDS }, () => 1 + Math.floor(random() * 300));
    dir = await mkdtemp(join(tmpdir(), 'e2e-crash-random-'));
    const root = dir;
    const acked = new Set<string>();
    const next = { n: 0 };

    for (const [round, n] of killAfterAcks.entries()) {
      const running = await start(root, (seed + round) >>> 0);
      let stop: (() => Promise<void>) | undefined;
      try {
        await afterAcks(running, n, `${replay}, round ${round + 1}`, (onAck) => {
          stop = load(running.url, acked, next, onAck);
        });
        running.child.kill('SIGKILL');
        await running.exited;
      } finally {
        await stop?.();
      }
    }
    // Every round's acknowledgements up to its kill were recorded (a few more may have come in before the kill landed).
    const planned = killAfterAcks.reduce((a, b) => a + b, 0);
    expect(acked.size, `${replay}: kills after ${killAfterAcks.join(', ')} acknowledged events`).toBeGreaterThanOrEqual(planned);

    const last = await start(root, (seed + ROUNDS) >>> 0);
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
