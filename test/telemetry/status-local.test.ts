/**
 * `socialplus-webhooks status` on local mode's files: queue state written by the real journal
 * queue, the archive in s3rver's on-disk layout, the delivery stream's buffer, `dev.pid`; read
 * without changing anything.
 */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { archiveLine, partitionPrefix, type ArchiveRecord } from '../../lambda/core/archive-layout.js';
import type { QueueMessage } from '../../lambda/core/ports.js';
import { JournalQueue } from '../../local/journal-queue.js';
import { LOCAL_BUCKET_NAME, localPaths } from '../../local/paths.js';
import { formatAge } from '../../cli/commands/status.js';
import { readLocalStatus, type LocalStatus } from '../../cli/local-status.js';
import { runCli } from '../cli/run-cli.js';

function message(n: number): QueueMessage {
  return {
    body: `{"event":"message.didCreate","n":${n}}`,
    attributes: { eventId: `e${n}`, eventType: 'message.didCreate', receivedAt: new Date().toISOString(), source: 'default', requestId: `req-${n}` },
  };
}

const failEverything = async (event: SQSEvent): Promise<SQSBatchResponse> => ({
  batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })),
});

/** Drives the real queue: 1 in the DLQ, 1 acknowledged, 1 received and failed (waiting to retry), 2 never delivered. */
async function fillQueue(dir: string): Promise<void> {
  const q1 = await JournalQueue.open({ dir, maxReceiveCount: 1, batchingWindowMs: 0 });
  q1.start(async (event) => ({
    batchItemFailures: event.Records.filter((r) => r.body.includes('"n":1')).map((r) => ({ itemIdentifier: r.messageId })),
  }));
  await q1.send(message(1));
  await q1.send(message(2));
  await q1.drain();
  await q1.close();

  const q2 = await JournalQueue.open({ dir, maxReceiveCount: 5, batchingWindowMs: 0, visibilityTimeoutMs: 600_000 });
  let delivered!: () => void;
  const deliveredOnce = new Promise<void>((resolve) => {
    delivered = resolve;
  });
  q2.start(async (event) => {
    const res = await failEverything(event);
    delivered();
    return res;
  });
  await q2.send(message(3));
  await deliveredOnce;
  await q2.close();

  const q3 = await JournalQueue.open({ dir });
  await q3.send(message(4));
  await q3.send(message(5));
  await q3.close();
}

function archiveRecord(eventId: string, at: Date): ArchiveRecord {
  return {
    eventId,
    eventType: 'message.didCreate',
    eventName: 'message.didCreate',
    receivedAt: at.toISOString(),
    source: 'default',
    deprecated: false,
    flags: [],
    payload: `{"id":"${eventId}"}`,
  };
}

/** An archive object where s3rver keeps it: the content file and, written last, its metadata sidecar. */
function writeArchiveObject(root: string, at: Date, name: string, records: ArchiveRecord[]): void {
  const dir = join(localPaths(root).s3, LOCAL_BUCKET_NAME, partitionPrefix(at));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}._S3rver_object`), gzipSync(records.map(archiveLine).join('')));
  writeFileSync(join(dir, `${name}._S3rver_metadata.json`), '{}');
}

/** Every file under `dir` with its size and modification time, to show nothing changed. */
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

describe('status (local mode)', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'status-local-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it("reads the queue, the DLQ, today's archive and the buffer, and says whether dev runs, changing no file", async () => {
    const paths = localPaths(root);
    await fillQueue(paths.queue);
    const now = new Date();
    const yesterday = new Date(now.getTime() - 86_400_000);
    // Today: 3 lines, 2 distinct events (the archive is at-least-once); yesterday's do not count.
    writeArchiveObject(root, now, 'a.gz', [archiveRecord('t1', now), archiveRecord('t2', now)]);
    writeArchiveObject(root, now, 'b.gz', [archiveRecord('t2', now)]);
    writeArchiveObject(root, yesterday, 'c.gz', [archiveRecord('y1', yesterday)]);
    mkdirSync(paths.stream, { recursive: true });
    writeFileSync(
      join(paths.stream, `segment-000000000007-${randomUUID()}.ndjson`),
      `${JSON.stringify({ t: Date.now(), lines: ['{"event_id":"b1"}\n', '{"event_id":"b2"}\n'] })}\n`,
    );
    writeFileSync(join(root, 'dev.pid'), `${process.pid}\n`);
    const before = snapshot(root);

    const later = new Date(now.getTime() + 90_000);
    const status = await readLocalStatus(root, later);
    expect(status).toEqual<LocalStatus>({
      mode: 'local',
      dir: paths.root,
      dev: { running: true, pid: process.pid },
      queue: {
        depth: 3,
        waiting: 2,
        received: 1,
        inFlight: null,
        waitingToRetry: null,
        oldestAgeSeconds: expect.any(Number) as unknown as number,
        countedFrom: 'files',
      },
      deadLetterQueue: { depth: 1, oldestAgeSeconds: expect.any(Number) as unknown as number },
      today: {
        date: later.toISOString().slice(0, 10),
        storedEvents: later.toISOString().slice(0, 10) === now.toISOString().slice(0, 10) ? 2 : 0,
        countedFrom: 'archive',
        bufferedArchiveLines: 2,
      },
      quarantinedObjects: 0,
      // dev.pid names a live process, but there is no dev.json to reach it through: nothing counted.
      signatures: null,
    });
    expect(status.queue.oldestAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(status.deadLetterQueue.oldestAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(snapshot(root)).toEqual(before);
  });

  it('through the CLI: --json prints the same object; the text names each figure', async () => {
    await fillQueue(localPaths(root).queue);
    const json = await runCli(['status', '--dir', root, '--json']);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as LocalStatus;
    expect(parsed).toMatchObject({
      mode: 'local',
      dev: { running: false, pid: null },
      queue: { depth: 3, waiting: 2, received: 1 },
      deadLetterQueue: { depth: 1 },
      today: { storedEvents: 0, countedFrom: 'archive' },
    });

    const text = await runCli(['status', '--dir', root]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('dev not running');
    expect(text.stdout).toMatch(/queue\s+3 messages: 2 waiting, 1 received \(delivered again when dev starts\); oldest \d+ s/);
    expect(text.stdout).toMatch(/dead-letter\s+1 message; oldest accepted \d+ s ago — move them back with 'socialplus-webhooks redrive'/);
    expect(text.stdout).toMatch(/today\s+0 events stored on \d{4}-\d{2}-\d{2} \(UTC\), counted in the archive/);
    expect(text.stdout).toContain('the store, dynalite, answers only while dev runs');
    expect(text.stdout).not.toContain('quarantine');
  });

  it('counts the objects a start moved aside because a crash cut their write short, and says where they are', async () => {
    const quarantine = localPaths(root).s3Quarantine;
    mkdirSync(join(quarantine, 'socialplus-webhooks-archive', 'inbox', 'spill', '2026-11-27'), { recursive: true });
    for (const id of ['a', 'b']) {
      const base = join(quarantine, 'socialplus-webhooks-archive', 'inbox', 'spill', '2026-11-27', id);
      writeFileSync(`${base}._S3rver_object`, 'torn');
      writeFileSync(`${base}._S3rver_object.md5`, 'x');
      writeFileSync(`${base}._S3rver_metadata.json`, '');
    }
    expect((await readLocalStatus(root)).quarantinedObjects).toBe(2);
    const text = await runCli(['status', '--dir', root]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain(`quarantine   2 objects a crash cut short, moved aside at a start: ${quarantine}`);
  });

  it('while dev runs, its admin routes split the received messages into in flight and waiting to retry, and count the signature forms', async () => {
    const paths = localPaths(root);
    await fillQueue(paths.queue);
    const token = 'admin-token-0123456789abcdef';
    const seen: Array<{ method?: string; url?: string; auth?: string }> = [];
    const server = createServer((req, res) => {
      seen.push({ method: req.method, url: req.url, auth: req.headers.authorization });
      const authorized = req.headers.authorization === `Bearer ${token}` && req.method === 'GET';
      const answers: Record<string, unknown> = {
        '/admin/queue': { visible: 4, inFlight: 2, delayed: 1, deadLetters: 3 },
        '/admin/signatures': { base64: 12, hex: 0, 'json-base64': 3, 'json-hex': 0, refused: 1 },
      };
      const answer = authorized ? answers[req.url ?? ''] : undefined;
      res.writeHead(answer ? 200 : 401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer ?? { message: 'no' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      writeFileSync(paths.pidFile, `${process.pid}\n`);
      writeFileSync(paths.devInfoFile, JSON.stringify({ pid: process.pid, url, token, startedAt: new Date().toISOString() }));
      const status = await readLocalStatus(root);
      expect(status.queue).toMatchObject({ depth: 7, waiting: 4, received: 3, inFlight: 2, waitingToRetry: 1, countedFrom: 'dev' });
      expect(status.queue.oldestAgeSeconds).toEqual(expect.any(Number));
      expect(status.deadLetterQueue.depth).toBe(3);
      expect(status.signatures).toEqual({ base64: 12, hex: 0, 'json-base64': 3, 'json-hex': 0, refused: 1 });
      expect(seen).toEqual([
        { method: 'GET', url: '/admin/queue', auth: `Bearer ${token}` },
        { method: 'GET', url: '/admin/signatures', auth: `Bearer ${token}` },
      ]);

      const text = await runCli(['status', '--dir', root]);
      expect(text.stdout).toMatch(/queue\s+7 messages: 4 waiting, 2 in flight, 1 waiting to retry; oldest \d+ s/);
      expect(text.stdout).toContain('signatures   12 base64, 3 json-base64; 1 refused for their signature (401), since dev started');
      expect(text.stdout).toContain(`dev running (process ${process.pid})`);

      // A dev.json naming another process (stale) is not trusted: the files answer.
      writeFileSync(paths.devInfoFile, JSON.stringify({ pid: process.pid + 1, url, token }));
      expect((await readLocalStatus(root)).queue).toMatchObject({ depth: 3, countedFrom: 'files', inFlight: null });
      // A wrong token: the files answer.
      writeFileSync(paths.devInfoFile, JSON.stringify({ pid: process.pid, url, token: 'wrong-token-0123456789' }));
      expect((await readLocalStatus(root)).queue).toMatchObject({ depth: 3, countedFrom: 'files' });
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('an empty folder: zero everywhere, nothing created', async () => {
    const status = await readLocalStatus(root);
    expect(status).toMatchObject({
      dev: { running: false },
      queue: { depth: 0, waiting: 0, received: 0, oldestAgeSeconds: null, countedFrom: 'files' },
      deadLetterQueue: { depth: 0, oldestAgeSeconds: null },
      today: { storedEvents: 0, bufferedArchiveLines: 0 },
    });
    expect(readdirSync(root)).toEqual([]);
  });

  it('a dev.pid left by a process that is gone means dev is not running', async () => {
    const gone = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(root, 'dev.pid'), `${gone}\n`);
    expect((await readLocalStatus(root)).dev).toEqual({ running: false, pid: null });
  });

  it('a torn last journal line (dev killed mid-write) is ignored', async () => {
    const paths = localPaths(root);
    await fillQueue(paths.queue);
    writeFileSync(join(paths.queue, 'journal.ndjson'), `${readFileSync(join(paths.queue, 'journal.ndjson'), 'utf8')}{"op":"send","id":"torn`);
    expect((await readLocalStatus(root)).queue.depth).toBe(3);
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
