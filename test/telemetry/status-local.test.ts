/**
 * `socialplus-webhooks status` on local mode's files, all written by local mode itself: a real
 * pipeline takes signed events and leaves a dead letter, archived objects (one of its lines put
 * twice through its delivery stream, as a crash can repeat one) and a torn inbox object; a second
 * local mode, a child process, is started on the same folder (its start moves that object aside),
 * holds one failed message waiting out its visibility timeout, one in flight, two never delivered
 * and archive lines still in its stream's buffer, answers on its admin routes, and is killed with
 * SIGKILL, leaving `dev.pid` and `dev.json` behind. Status is read while it runs and after, without
 * changing a file. "Today" is the day the archive's objects were written in, never the test's clock.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it, vi } from 'vitest';
import { parsePartition } from '../../lambda/core/archive-layout.js';
import { defineHandler } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey } from '../../lambda/core/inbox.js';
import { SIGNATURE_HEADER, signAs } from '../../lambda/core/signature.js';
import { isAlive, readDevInfo, writeDevInfo, type DevInfo } from '../../local/dev-lock.js';
import { localPaths, S3RVER_METADATA_SUFFIX, S3RVER_OBJECT_SUFFIX, s3rverObjectFile } from '../../local/paths.js';
import { formatAge } from '../../cli/output.js';
import { JOURNAL_FILE } from '../../local/journal-queue.js';
import { readLocalStatus, type LocalStatus } from '../../cli/local-status.js';
import { runCli } from '../cli/run-cli.js';
import { postSignedWebhook, startTempPipeline } from '../support/local-pipeline.js';
import { sampleBody } from '../support/samples.js';
import { makeTempDir, removeTempDir } from '../support/temp-dir.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SECRET = 'status-local-test-secret';
const TEMPLATE = sampleBody('message.didCreate').trimEnd().replace(/}$/, '');

/** A distinct signed event body, labelled so the handlers below know what to do with it. */
const body = (label: string) => `${TEMPLATE},"statusTest":"${label}"}`;
const idOf = (label: string) => eventIdOf(Buffer.from(body(label)));

/** Posts `label`'s body signed in `form` (or with a wrong secret) and returns the status; records when the post started and ended. */
async function post(
  url: string,
  label: string,
  opts: { form?: 'base64' | 'hex'; secret?: string } = {},
): Promise<{ status: number; from: number; to: number }> {
  const from = Date.now();
  const text = body(label);
  const res =
    opts.form === 'hex'
      ? await fetch(`${url}/webhook`, {
          method: 'POST',
          body: text,
          headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signAs(text, SECRET, 'hex') },
        })
      : await postSignedWebhook(url, text, opts.secret ?? SECRET);
  await res.arrayBuffer();
  return { status: res.status, from, to: Date.now() };
}

/** Every file under `dir` with its size, modification time and bytes, to show nothing changed. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[p] = `${statSync(p).size}:${statSync(p).mtimeMs}:${readFileSync(p).toString('base64')}`;
    }
  };
  walk(dir);
  return out;
}

/** Seconds from the instants `[from, to]` to `at`, as `status` counts them (whole seconds, never below 0). */
function agesBetween(at: Date, from: number, to: number): [number, number] {
  const age = (t: number) => Math.max(0, Math.floor((at.getTime() - t) / 1000));
  return [age(to), age(from)];
}

/**
 * The second local mode: a child process running the real pipeline on `dir`, whose one handler
 * fails the events in `fail` and never returns from those in `hold`; one batch at a time (so a
 * held batch keeps the next ones waiting), a failed message hidden for 10 minutes, the stream's
 * buffer written only after 10 minutes.
 */
async function startChildLocalMode(
  dir: string,
  scriptDir: string,
  ids: { fail: string[]; hold: string[] },
): Promise<{ child: ChildProcess; url: string; pid: number; emulators: number[] }> {
  const script = join(scriptDir, 'local-mode.mjs');
  const url = (p: string) => JSON.stringify(pathToFileURL(join(REPO, p)).href);
  writeFileSync(
    script,
    [
      `const { startLocalPipeline } = await import(${url('local/pipeline.ts')});`,
      `const { defineHandler } = await import(${url('lambda/core/define-handler.ts')});`,
      `const ids = ${JSON.stringify(ids)};`,
      'const never = new Promise(() => {});',
      'const pipeline = await startLocalPipeline({',
      `  dir: ${JSON.stringify(dir)}, port: 0, secret: ${JSON.stringify(SECRET)},`,
      "  handlers: [defineHandler({ name: 'status-probe', events: ['*'], async handle(_e, ctx) {",
      "    if (ids.fail.includes(ctx.eventId)) throw new Error('status-probe fails this event');",
      '    if (ids.hold.includes(ctx.eventId)) await never;',
      '  } })],',
      '  queue: { batchSize: 10, maxConcurrency: 1, batchingWindowMs: 200, maxReceiveCount: 5, visibilityTimeoutMs: 600000 },',
      '  stream: { bufferIntervalMs: 600000 },',
      '});',
      'process.send({ url: pipeline.url, pid: process.pid, emulators: pipeline.processes().map((p) => p.pid) });',
    ].join('\n'),
  );
  const child = fork(script, [], { cwd: REPO, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  const ready = await new Promise<{ url: string; pid: number; emulators: number[] }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { url: string; pid: number; emulators: number[] }));
    child.once('exit', (code) => reject(new Error(`the child local mode exited (${code}) before it was ready`)));
  });
  return { child, ...ready };
}

const children: ChildProcess[] = [];

describe('status (local mode) over the state local mode wrote', () => {
  let tmp: string;
  let root: string;
  /** The day the archive's objects are in (`dt=`), from their keys: the pipeline's clock. */
  let day: string;
  /** An instant of that day after every event was sent: what status is read at. */
  let at: Date;
  let dev: { child: ChildProcess; url: string; pid: number; emulators: number[] };
  let devInfo: DevInfo;
  const sent: Record<string, { from: number; to: number }> = {};

  beforeAll(async () => {
    tmp = await makeTempDir('status-local-script-');
    // Phase 1, in this process: 'ok-1' and 'ok-2' handled, 'poison' failed once and dead-lettered.
    const first = await startTempPipeline('status-local-', {
      secret: SECRET,
      handlers: [
        defineHandler({
          name: 'status-probe',
          events: ['*'],
          handle: (_e, ctx) => {
            if (ctx.eventId === idOf('poison')) throw new Error('status-probe fails this event');
          },
        }),
      ],
      queue: { batchingWindowMs: 10, maxReceiveCount: 1, visibilityTimeoutMs: 50 },
      stream: { bufferIntervalMs: 600_000 },
    });
    root = first.dir;
    const { pipeline } = first;
    try {
      for (const label of ['ok-1', 'ok-2', 'poison']) {
        const r = await post(pipeline.url, label);
        expect(r.status, label).toBe(200);
        sent[label] = r;
      }
      await pipeline.settle();
      expect(pipeline.queueStats()).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, deadLetters: 1 });
      const stream = pipeline.stream!;
      expect(stream.written).toHaveLength(1);
      const firstKey = stream.written[0]!.key;
      day = parsePartition(firstKey)!.dt;
      // The archive is at least once: a crash after the stream took a line can make it take it
      // again. Put one of its lines a second time, through the pipeline's own stream.
      const object = await pipeline.s3.send(new GetObjectCommand({ Bucket: pipeline.bucket, Key: firstKey }));
      const lines = gunzipSync(Buffer.from(await object.Body!.transformToByteArray()))
        .toString('utf8')
        .split(/(?<=\n)/);
      expect(lines).toHaveLength(3);
      await stream.putLines([lines[0]!]);
      await stream.flush();
      expect(stream.written).toHaveLength(2);
      // A claim-checked body the receiver's put never finished (an older emulator, killed during the
      // metadata write, left it cut off): the next start moves it aside.
      const big = body('torn');
      const tornKey = claimCheckKey(new Date(), eventIdOf(Buffer.from(big)));
      await pipeline.s3.send(new PutObjectCommand({ Bucket: pipeline.bucket, Key: tornKey, Body: big.slice(0, 10) }));
      await pipeline.close();
      const objectFile = s3rverObjectFile(localPaths(root).s3, pipeline.bucket, tornKey);
      const metadata = `${objectFile.slice(0, -S3RVER_OBJECT_SUFFIX.length)}${S3RVER_METADATA_SUFFIX}`;
      writeFileSync(metadata, readFileSync(metadata, 'utf8').slice(0, 12));
    } finally {
      await pipeline.close();
    }

    // Phase 2, a child process: 'ok-3' and 'ok-4' (hex-signed) handled, 'retry' failed and hidden,
    // 'hold' in flight, 'wait-1' and 'wait-2' never delivered; one delivery refused for its signature.
    dev = await startChildLocalMode(root, tmp, { fail: [idOf('retry')], hold: [idOf('hold')] });
    // Sent together, so that they go out in one batch and the stream takes their lines in one put.
    const firstBatch = await Promise.all([post(dev.url, 'ok-3'), post(dev.url, 'ok-4', { form: 'hex' }), post(dev.url, 'retry')]);
    expect(firstBatch.map((r) => r.status)).toEqual([200, 200, 200]);
    sent.retry = firstBatch[2]!;
    expect((await post(dev.url, 'forged', { secret: 'not-the-secret' })).status).toBe(401);
    await vi.waitFor(async () => expect((await readLocalStatus(root)).queue).toMatchObject({ waiting: 0, inFlight: 0, waitingToRetry: 1 }), {
      timeout: 15_000,
      interval: 20,
    });
    expect((await post(dev.url, 'hold')).status).toBe(200);
    await vi.waitFor(async () => expect((await readLocalStatus(root)).queue).toMatchObject({ inFlight: 1 }), { timeout: 15_000, interval: 20 });
    for (const label of ['wait-1', 'wait-2']) expect((await post(dev.url, label)).status).toBe(200);
    // Every event that reached the fan-out (the held one too) has its archive line in the buffer.
    await vi.waitFor(async () => expect((await readLocalStatus(root)).today.bufferedArchiveLines).toBe(4), { timeout: 15_000, interval: 20 });
    devInfo = (await readDevInfo(localPaths(root).devInfoFile))!;
    expect(devInfo.pid).toBe(dev.pid);
    // Status is read at the last instant of the archive's day: later than every send, on that day.
    at = new Date(`${day}T23:59:59.999Z`);
  }, 90_000);

  afterAll(async () => {
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await removeTempDir(root);
    await removeTempDir(tmp);
  });

  it('while dev runs, its admin routes split the received messages into in flight and waiting to retry, and count the signature forms', async () => {
    const status = await readLocalStatus(root, at);
    expect(status.dev).toEqual({ running: true, pid: dev.pid });
    expect(status.queue).toMatchObject({ depth: 4, waiting: 2, received: 2, inFlight: 1, waitingToRetry: 1, countedFrom: 'dev' });
    const [youngest, oldest] = agesBetween(at, sent.retry!.from, sent.retry!.to);
    expect(status.queue.oldestAgeSeconds).toBeGreaterThanOrEqual(youngest);
    expect(status.queue.oldestAgeSeconds).toBeLessThanOrEqual(oldest);
    expect(status.deadLetterQueue.depth).toBe(1);
    expect(status.signatures).toEqual({ base64: 5, hex: 1, 'json-base64': 0, 'json-hex': 0, refused: 1 });
    expect(status.today).toEqual({ date: day, storedEvents: 3, countedFrom: 'archive', bufferedArchiveLines: 4 });

    const text = await runCli(['status', '--dir', root]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/queue\s+4 messages: 2 waiting, 1 in flight, 1 waiting to retry; oldest \d+ s/);
    expect(text.stdout).toContain('signatures   5 base64, 1 hex; 1 refused for their signature (401), since dev started');
    expect(text.stdout).toContain(`dev running (process ${dev.pid})`);

    const info = localPaths(root).devInfoFile;
    try {
      // A dev.json naming another process than dev.pid (stale) is not trusted: the files answer.
      await writeDevInfo(info, { ...devInfo, pid: process.pid });
      expect((await readLocalStatus(root, at)).queue).toMatchObject({ depth: 4, countedFrom: 'files', inFlight: null });
      // A wrong token: the running dev refuses it, and the files answer.
      await writeDevInfo(info, { ...devInfo, token: 'wrong-token-0123456789abcdef' });
      expect((await readLocalStatus(root, at)).queue).toMatchObject({ depth: 4, countedFrom: 'files' });
    } finally {
      await writeDevInfo(info, devInfo);
    }
  });

  it("after a SIGKILL: reads the queue, the DLQ, the archive's day and the buffer, says dev is not running, changing no file", async () => {
    dev.child.kill('SIGKILL');
    await new Promise((resolve) => (dev.child.exitCode !== null || dev.child.signalCode !== null ? resolve(null) : dev.child.once('exit', resolve)));
    // Its emulators notice and exit; until then they may still touch their files.
    await vi.waitFor(() => expect(dev.emulators.filter((pid) => isAlive(pid))).toEqual([]), { timeout: 15_000, interval: 50 });
    const paths = localPaths(root);
    // What the killed process left: its lock and its dev.json, naming it.
    expect(readFileSync(paths.pidFile, 'utf8').trim()).toBe(String(dev.pid));
    expect(await readDevInfo(paths.devInfoFile)).toEqual(devInfo);
    const before = snapshot(root);

    const status = await readLocalStatus(root, at);
    expect(status).toEqual<LocalStatus>({
      mode: 'local',
      dir: paths.root,
      dev: { running: false, pid: null },
      queue: {
        // 'retry' and 'hold' were delivered and not done; 'wait-1' and 'wait-2' never delivered.
        depth: 4,
        waiting: 2,
        received: 2,
        inFlight: null,
        waitingToRetry: null,
        oldestAgeSeconds: expect.any(Number) as unknown as number,
        countedFrom: 'files',
      },
      deadLetterQueue: { depth: 1, oldestAgeSeconds: expect.any(Number) as unknown as number },
      today: {
        date: day,
        // 'ok-1', 'ok-2' and 'poison' (archived before its handler failed), one of them twice.
        storedEvents: 3,
        countedFrom: 'archive',
        // 'ok-3', 'ok-4', 'retry' and 'hold', in the killed stream's segments.
        bufferedArchiveLines: 4,
      },
      quarantinedObjects: 1,
      signatures: null,
    });
    const [queueYoungest, queueOldest] = agesBetween(at, sent.retry!.from, sent.retry!.to);
    expect(status.queue.oldestAgeSeconds).toBeGreaterThanOrEqual(queueYoungest);
    expect(status.queue.oldestAgeSeconds).toBeLessThanOrEqual(queueOldest);
    const [deadYoungest, deadOldest] = agesBetween(at, sent.poison!.from, sent.poison!.to);
    expect(status.deadLetterQueue.oldestAgeSeconds).toBeGreaterThanOrEqual(deadYoungest);
    expect(status.deadLetterQueue.oldestAgeSeconds).toBeLessThanOrEqual(deadOldest);
    // Read as of a later day, the archive's day holds nothing of it.
    const nextDay = new Date(at.getTime() + 1);
    expect((await readLocalStatus(root, nextDay)).today).toMatchObject({
      date: nextDay.toISOString().slice(0, 10),
      storedEvents: 0,
      bufferedArchiveLines: 4,
    });
    expect(snapshot(root)).toEqual(before);
  });

  it('through the CLI: --json prints the same object; the text names each figure, the quarantine included', async () => {
    const json = await runCli(['status', '--dir', root, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as LocalStatus;
    // The CLI reads at its own clock: the archive's day counts only if that is still the day.
    const stored = parsed.today.date === day ? 3 : 0;
    expect(parsed).toMatchObject({
      mode: 'local',
      dev: { running: false, pid: null },
      queue: { depth: 4, waiting: 2, received: 2, countedFrom: 'files' },
      deadLetterQueue: { depth: 1 },
      today: { storedEvents: stored, countedFrom: 'archive', bufferedArchiveLines: 4 },
      quarantinedObjects: 1,
    });

    const text = await runCli(['status', '--dir', root]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('dev not running');
    expect(text.stdout).toMatch(/queue\s+4 messages: 2 waiting, 2 received \(delivered again when dev starts\); oldest \d+ s/);
    expect(text.stdout).toMatch(/dead-letter\s+1 message; oldest accepted \d+ s ago — move them back with 'socialplus-webhooks redrive'/);
    const today = /today\s+(\d+) events? stored on (\d{4}-\d{2}-\d{2}) \(UTC\), counted in the archive; 4 lines still in the archive buffer/.exec(
      text.stdout,
    );
    expect(today, text.stdout).not.toBeNull();
    expect(Number(today![1])).toBe(today![2] === day ? 3 : 0);
    expect(text.stdout).toContain('the store, dynalite, answers only while dev runs');
    expect(text.stdout).toContain(`quarantine   1 object a crash cut short, moved aside at a start: ${localPaths(root).s3Quarantine}`);
    expect(text.stdout).not.toContain('signatures');
  });

  it('a torn last journal line (dev killed mid-write) is ignored', async () => {
    const journal = join(localPaths(root).queue, JOURNAL_FILE);
    const lastLine = readFileSync(journal, 'utf8').trimEnd().split('\n').pop()!;
    appendFileSync(journal, lastLine.slice(0, Math.floor(lastLine.length / 2)));
    expect((await readLocalStatus(root, at)).queue.depth).toBe(4);
  });
});

describe('status (local mode)', () => {
  let root: string;
  beforeEach(async () => {
    root = await makeTempDir('status-local-');
  });
  afterEach(async () => {
    await removeTempDir(root);
  });

  it('an empty folder: zero everywhere, nothing created', async () => {
    const status = await readLocalStatus(root);
    expect(status).toMatchObject({
      dev: { running: false },
      queue: { depth: 0, waiting: 0, received: 0, oldestAgeSeconds: null, countedFrom: 'files' },
      deadLetterQueue: { depth: 0, oldestAgeSeconds: null },
      today: { storedEvents: 0, bufferedArchiveLines: 0 },
      quarantinedObjects: 0,
    });
    expect(readdirSync(root)).toEqual([]);
    expect(existsSync(localPaths(root).devInfoFile)).toBe(false);
  });

  it.each([
    [['status', '--stack', 'X'], '--stack needs --aws'],
    [['status', '--queue-url', 'https://q', '--region', 'eu-west-1'], '--region, --queue-url need --aws'],
  ])('%j fails: %s', async (args, message) => {
    const run = await runCli([...args, '--dir', root]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(message);
  });

  it('a folder that does not exist fails naming it and how to start local mode', async () => {
    const missing = join(root, 'nope');
    const run = await runCli(['status', '--dir', missing]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no local mode state in ${missing}: start it with 'npm start'`);
  });

  it.each([
    [null, '-'],
    [0, '0 s'],
    [59, '59 s'],
    [60, '1 min'],
    [3599, '59 min'],
    [3600, '1 h'],
    [3900, '1 h 5 min'],
    [86_400 * 2 + 3600 * 4, '2 d 4 h'],
  ])('formatAge(%j) → %s', (seconds, text) => {
    expect(formatAge(seconds)).toBe(text);
  });
});
