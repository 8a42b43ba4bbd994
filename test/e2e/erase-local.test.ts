/**
 * `socialplus-webhooks erase` on local mode, end to end: events of two users go through a real local
 * mode (alice as actor, as target, named in a payload, in a large payload whose body is copied to
 * the inbox, flagged by auto-moderation, dead-lettered; bob the same), local mode stops, alice is erased, and then: `query`, `events --user` and `state
 * --user` find nothing of her, bob's events, state and dead letter are untouched, no file of the
 * archive, the queue or the stream holds her id, a receipt is written without it, and a second run
 * is a no-op.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userIdHash } from '../../lambda/core/privacy/receipt.js';
import { LOCAL_BUCKET_NAME, S3RVER_OBJECT_SUFFIX, s3rverObjectFile } from '../../local/paths.js';
import type { LocalPipeline } from '../../local/pipeline.js';
import { runCli } from '../cli/run-cli.js';
import { startTempPipeline, stopTempPipeline } from '../support/local-pipeline.js';

const SECRET = 'erase-e2e-secret';
const ALICE = 'alice.erase.7';
const BOB = 'bob.keep.8';
const DLQ_TEXT = 'send me to the dead-letter queue';

let dir: string;
let pipeline: LocalPipeline | undefined;

async function send(event: string, ...args: string[]): Promise<void> {
  const r = await runCli(['send', event, '--url', `${pipeline!.url}/webhook`, '--secret', SECRET, ...args]);
  expect(r.code, r.stderr).toBe(0);
}

async function until(what: string, done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await done()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Every file under `root` (recursively), gunzipped when it is gzip. */
function filesUnder(root: string): Array<{ path: string; text: string }> {
  if (!existsSync(root)) return [];
  const out: Array<{ path: string; text: string }> = [];
  for (const name of readdirSync(root, { recursive: true }) as string[]) {
    const path = join(root, name);
    if (!statSync(path).isFile()) continue;
    const bytes = readFileSync(path);
    out.push({ path, text: (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8') });
  }
  return out;
}

const json = async (args: string[]) => {
  const r = await runCli([...args, '--dir', dir, '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Record<string, unknown>;
};
const query = async (sql: string) => {
  const r = await runCli(['query', sql, '--json'], { SOCIALPLUS_LOCAL_DIR: dir });
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
};
const mentions = (id: string) =>
  `select event_id from events where actor_id = '${id}' or target_id = '${id}' or strpos(payload, '${id}') > 0 order by event_id`;

beforeAll(async () => {
  const started = await startTempPipeline('erase-e2e-', {
    secret: SECRET,
    fanout: 'inline',
    env: { HANDLERS_CONFIG: JSON.stringify({ socialPlus: { dryRun: true }, autoModeration: { enabled: true } }) },
    // Every handler refuses the marked events, so they end in the dead-letter queue.
    wrap: {
      handler: (h) => ({
        ...h,
        handle: async (e, ctx) => {
          if (JSON.stringify(e).includes(DLQ_TEXT)) throw new Error('refused: marked for the dead-letter queue');
          return h.handle(e, ctx);
        },
      }),
    },
    queue: { batchingWindowMs: 10, visibilityTimeoutMs: 10, maxReceiveCount: 2 },
    stream: { bufferIntervalMs: 50 },
  });
  dir = started.dir;
  pipeline = started.pipeline;
  for (const user of [ALICE, BOB]) {
    await send('message.didCreate', '--user', user); // actor
    await send('user.didFlag', '--user', user); // the user of a user.* event: its target
    await send('channel.didBan', '--user', 'mod.someone', '--set', `data.userIds[0]=${user}`, '--seed', user.length.toString()); // named in the payload only
    await send('message.didFlag', '--user', user); // auto-moderation keeps a flag for the author
    await send('message.didFlag', '--user', user, '--set', `data.messages[0].data.text=${DLQ_TEXT}`); // dead-lettered
    // Named in a large payload only: local mode keeps a copy of its body in the archive's inbox.
    await send(
      'channel.didBan',
      '--user',
      'mod.someone',
      '--set',
      `data.userIds[0]=${user}`,
      '--set',
      `data.users[0].displayName=${'n'.repeat(310_000)}`,
    );
  }
  await until('two dead letters', () => pipeline!.queue.stats().deadLetters === 2);
  await until('an empty queue', () => {
    const s = pipeline!.queue.stats();
    return s.visible + s.inFlight + s.delayed === 0;
  });
  await pipeline.stream?.flush();
  await pipeline.close();
  pipeline = undefined;
}, 120_000);

afterAll(() => stopTempPipeline(pipeline, dir));

describe('erase --user on local mode', () => {
  let before: { bobEvents: unknown; bobState: unknown; aliceEvents: Array<Record<string, unknown>> };
  let outcome: Record<string, unknown>;

  beforeAll(async () => {
    before = {
      aliceEvents: await query(mentions(ALICE)),
      bobEvents: await query(
        `select event_id, payload from events where event_id in (${(await query(mentions(BOB))).map((r) => `'${String(r.event_id)}'`).join(',')}) order by event_id`,
      ),
      bobState: await json(['state', '--user', BOB]),
    };
    outcome = await json(['erase', '--user', ALICE]);
  }, 120_000);

  it('finds the user as actor, as target and in a payload before, and removes every copy', () => {
    // The dead-lettered event was stored and archived before its handlers refused it.
    expect(before.aliceEvents).toHaveLength(6);
    expect(outcome.counts).toEqual({ archive: 6, 'dead-letter-queue': 1, 'event-store': 6, 'handler-state': expect.any(Number), inbox: 1 });
    expect((outcome.counts as Record<string, number>)['handler-state']).toBeGreaterThan(0);
    expect(outcome.userIdHash).toBe(userIdHash(ALICE));
    expect(outcome.receiptKey).toMatch(/^erasures\/\d{4}-\d{2}-\d{2}\/\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{16}\.json$/);
  });

  it('leaves no trace of her in query, events --user or state --user', async () => {
    expect(await query(mentions(ALICE))).toEqual([]);
    expect(await json(['events', '--user', ALICE])).toEqual([]);
    const state = (await json(['state', '--user', ALICE])) as { flags?: unknown[]; bans?: unknown[] };
    expect(state.flags ?? []).toEqual([]);
    expect(state.bans ?? []).toEqual([]);
  });

  it("leaves the other user's events, state and dead letter as they were", async () => {
    const ids = (await query(mentions(BOB))).map((r) => `'${String(r.event_id)}'`).join(',');
    expect(await query(`select event_id, payload from events where event_id in (${ids}) order by event_id`)).toEqual(before.bobEvents);
    expect(await json(['state', '--user', BOB])).toEqual(before.bobState);
    const dlq = readFileSync(join(dir, 'queue', 'dlq.ndjson'), 'utf8');
    expect(dlq).toContain(BOB);
    expect(dlq).not.toContain(ALICE);
  });

  it('leaves her id in no file of the archive, the queue or the stream, and a receipt that names her by hash only', () => {
    for (const sub of ['s3', 'queue', 'stream']) {
      for (const f of filesUnder(join(dir, sub))) expect(f.text.includes(ALICE), f.path).toBe(false);
    }
    const receiptFile = s3rverObjectFile(join(dir, 's3'), LOCAL_BUCKET_NAME, String(outcome.receiptKey));
    const receipt = filesUnder(join(dir, 's3')).find((f) => f.path === receiptFile);
    expect(receipt).toBeDefined();
    const parsed = JSON.parse(receipt!.text) as Record<string, unknown>;
    expect(parsed).toMatchObject({ userIdHash: userIdHash(ALICE), counts: outcome.counts, dryRun: false });
    expect((parsed.objectsRewritten as string[]).length + (parsed.objectsDeleted as string[]).length).toBeGreaterThan(0);
  });

  it('is a no-op the second time: nothing found, no new receipt', async () => {
    const receipts = () => filesUnder(join(dir, 's3')).filter((f) => f.path.includes('erasures') && f.path.endsWith(S3RVER_OBJECT_SUFFIX));
    const count = receipts().length;
    const again = await json(['erase', '--user', ALICE]);
    expect(again).toMatchObject({ counts: {}, dryRun: false });
    expect(again.receiptKey).toBeUndefined();
    expect(receipts()).toHaveLength(count);
    const dry = await json(['erase', '--user', BOB, '--dry-run']);
    expect(dry.counts).toMatchObject({ archive: 6, 'event-store': 6, 'dead-letter-queue': 1, inbox: 1 });
    expect(await query(mentions(BOB))).toHaveLength(6);
  });
});
