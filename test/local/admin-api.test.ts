/**
 * The admin routes of a running local mode, and how the CLI's tools reach the queue through them
 * (or through the journal when local mode is stopped).
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { QueueMessage } from '../../lambda/core/ports.js';
import { signAs } from '../../lambda/core/signature.js';
import { createAdminHandler, MAX_ENQUEUE_MESSAGES } from '../../local/admin-api.js';
import { readDevInfo } from '../../local/dev-lock.js';
import { startFrontDoor, type FrontDoor } from '../../local/http-front-door.js';
import { JournalQueue } from '../../local/journal-queue.js';
import { localPaths } from '../../local/paths.js';
import { startLocalPipeline } from '../../local/pipeline.js';
import { NoLocalStateError, openLocalQueue } from '../../local/queue-access.js';

const TOKEN = 'a-test-admin-token-0123456789';
let dir: string;
const cleanup: Array<() => Promise<void>> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'admin-api-'));
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

const message = (n: number): QueueMessage => ({
  body: `{"event":"message.didCreate","n":${n}}`,
  attributes: {
    eventId: `id-${n}`,
    eventType: 'message.didCreate',
    receivedAt: '2025-07-02T10:00:00.000Z',
    source: 'default',
    requestId: 'replay-test',
  },
});

async function door(withAdmin: boolean): Promise<{ door: FrontDoor; queue: JournalQueue }> {
  const queue = await JournalQueue.open({ dir: join(dir, 'queue') });
  cleanup.push(() => queue.close());
  const d = await startFrontDoor({ port: 0 });
  cleanup.push(() => d.close());
  if (withAdmin) d.serveAdmin(TOKEN, createAdminHandler({ queue }));
  return { door: d, queue };
}

async function call(d: FrontDoor, method: string, path: string, opts: { token?: string; body?: unknown } = {}) {
  const res = await fetch(`${d.url}${path}`, {
    method,
    headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), 'content-type': 'application/json' },
    ...(opts.body !== undefined ? { body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('admin routes', () => {
  it('are not there unless enabled', async () => {
    const { door: d } = await door(false);
    expect(await call(d, 'GET', '/admin/queue', { token: TOKEN })).toEqual({
      status: 404,
      body: { message: 'no route for GET /admin/queue: admin routes are not enabled' },
    });
  });

  it.each([
    ['no token', undefined],
    ['a wrong token', 'not-the-token-at-all-0000000'],
    ['a token of another length', 'short'],
  ])('refuse a request with %s', async (_label, token) => {
    const { door: d, queue } = await door(true);
    const res = await call(d, 'POST', '/admin/redrive', token ? { token } : {});
    expect(res.status).toBe(401);
    expect(res.body.message).toMatch(/missing or wrong admin token: the socialplus-webhooks CLI reads it from dev.json/);
    expect(queue.stats().deadLetters).toBe(0);
  });

  it('queue messages, report the queue and redrive the DLQ', async () => {
    const { door: d, queue } = await door(true);
    expect(await call(d, 'POST', '/admin/enqueue', { token: TOKEN, body: { messages: [message(1), message(2)] } })).toEqual({
      status: 200,
      body: { sent: 2 },
    });
    expect(await call(d, 'GET', '/admin/queue', { token: TOKEN })).toEqual({
      status: 200,
      body: { visible: 2, inFlight: 0, delayed: 0, deadLetters: 0 },
    });
    expect(await call(d, 'POST', '/admin/redrive', { token: TOKEN })).toEqual({ status: 200, body: { moved: 0 } });
    expect(queue.listDeadLetters()).toEqual([]);
  });

  it.each([
    ['not JSON', 'nope', /the body must be JSON/],
    ['no messages array', { msgs: [] }, /the body must have a "messages" array/],
    ['an empty body', { messages: [{ body: '', attributes: {} }] }, /message 0: "body" must be a non-empty string/],
    [
      'a non-string attribute',
      { messages: [message(1), { body: 'x', attributes: { eventId: 5 } }] },
      /message 1: attribute "eventId" must be a string, got number/,
    ],
    [
      'too many messages',
      { messages: Array.from({ length: MAX_ENQUEUE_MESSAGES + 1 }, (_, i) => message(i)) },
      /at most 500 messages per request, got 501/,
    ],
  ])('answer 400 to an enqueue with %s, queuing nothing', async (_label, body, problem) => {
    const { door: d, queue } = await door(true);
    const res = await call(d, 'POST', '/admin/enqueue', { token: TOKEN, body });
    expect(res.status).toBe(400);
    expect(res.body.message).toMatch(problem);
    expect(queue.stats().visible).toBe(0);
  });

  it('need a token of at least 16 characters', async () => {
    const { door: d, queue } = await door(false);
    expect(() => d.serveAdmin('short', createAdminHandler({ queue }))).toThrow(/the admin token must be at least 16 characters/);
  });

  it('answer 404 naming the routes there are', async () => {
    const { door: d } = await door(true);
    const res = await call(d, 'DELETE', '/admin/queue', { token: TOKEN });
    expect(res.status).toBe(404);
    expect(res.body.message).toBe(
      'no admin route DELETE /queue: use GET /admin/queue, GET /admin/signatures, POST /admin/redrive or POST /admin/enqueue',
    );
  });
});

describe('GET /admin/signatures', () => {
  it('counts the deliveries a running local mode accepted per signature form, and those it refused', async () => {
    const p = await startLocalPipeline({ dir, port: 0, secret: 's', handlers: [], queue: { batchingWindowMs: 10 } });
    cleanup.push(() => p.close());
    const post = (body: string, signature: string) =>
      fetch(`${p.url}/webhook`, { method: 'POST', headers: { 'x-amity-signature': signature }, body });
    for (const [n, form] of [
      [1, 'base64'],
      [2, 'base64'],
      [3, 'hex'],
    ] as const) {
      const body = `{"event":"message.didCreate","n":${n}}`;
      expect((await post(body, signAs(body, 's', form))).status).toBe(200);
    }
    expect((await post('{"event":"x"}', signAs('{"event":"x"}', 'not-s', 'base64'))).status).toBe(401);
    const info = await readDevInfo(localPaths(dir).devInfoFile);
    const res = await fetch(`${p.url}/admin/signatures`, { headers: { authorization: `Bearer ${info?.token}` } });
    expect(await res.json()).toEqual({ base64: 2, hex: 1, 'json-base64': 0, 'json-hex': 0, refused: 1 });
  });
});

describe('openLocalQueue', () => {
  it('goes through the running local mode, whose dev.json only its owner can read', async () => {
    const p = await startLocalPipeline({ dir, port: 0, secret: 's', handlers: [], queue: { batchingWindowMs: 10 } });
    cleanup.push(() => p.close());
    const file = localPaths(dir).devInfoFile;
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readDevInfo(file)).toMatchObject({ pid: process.pid, url: p.url });

    const access = await openLocalQueue(dir);
    cleanup.push(() => access.close());
    expect(access.via).toBe('dev');
    const progress: number[] = [];
    // Bodies that are not events: the fan-out stores them flagged, which is all this needs.
    await access.send([message(1), message(2), message(3)], (n) => progress.push(n));
    expect(progress).toEqual([3]);
    await p.settle();
    expect(await access.stats()).toEqual({ visible: 0, inFlight: 0, delayed: 0, deadLetters: 0 });
    expect(await access.redrive()).toBe(0);
    await p.close();
    expect(await readDevInfo(file)).toBeUndefined();
  });

  it('opens the journal itself when local mode is stopped, and local mode then delivers what it queued', async () => {
    // A DLQ entry to redrive: what an earlier run left.
    const seed = await JournalQueue.open({ dir: localPaths(dir).queue, maxReceiveCount: 1, batchingWindowMs: 0 });
    seed.start(async (e) => ({ batchItemFailures: e.Records.map((r) => ({ itemIdentifier: r.messageId })) }));
    await seed.send(message(9));
    await seed.drain();
    await seed.close();

    const access = await openLocalQueue(dir);
    expect(access.via).toBe('files');
    await access.send([message(1), message(2)]);
    expect(await access.redrive()).toBe(1);
    expect(await access.stats()).toMatchObject({ visible: 3, deadLetters: 0 });
    await access.close();

    const reopened = await JournalQueue.open({ dir: localPaths(dir).queue });
    cleanup.push(() => reopened.close());
    expect(reopened.stats().visible).toBe(3);
  });

  it('ignores a dev.json that is not what local mode writes, or whose process is gone', async () => {
    const file = localPaths(dir).devInfoFile;
    await writeFile(file, 'not json');
    expect(await readDevInfo(file)).toBeUndefined();
    // A process id that cannot be running: the journal is opened directly.
    await writeFile(file, JSON.stringify({ pid: 2 ** 22 + 12345, url: 'http://127.0.0.1:9', token: TOKEN }));
    const access = await openLocalQueue(dir);
    cleanup.push(() => access.close());
    expect(access.via).toBe('files');
  });

  it('names the folder when there is no local mode state in it', async () => {
    await expect(openLocalQueue(join(dir, 'nothing-here'))).rejects.toBeInstanceOf(NoLocalStateError);
    await expect(openLocalQueue(join(dir, 'nothing-here'))).rejects.toThrow(
      /no local mode state in .*nothing-here: run local mode there first \(npm start\)/,
    );
  });
});
