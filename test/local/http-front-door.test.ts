import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { HEADERS_TIMEOUT_MS, MAX_CONNECTIONS, REQUEST_TIMEOUT_MS, startFrontDoor, type FrontDoor, PortUnavailableError } from '../../local/http-front-door.js';
import { startLocalPipeline } from '../../local/pipeline.js';
import { sign } from '../../lambda/core/signature.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const doors: FrontDoor[] = [];
afterEach(async () => {
  await Promise.allSettled(doors.splice(0).map((d) => d.close()));
});

/** A front door whose receiver records the proxy events and answers 200 `{}`. */
async function recordingDoor(opts: { maxBodyBytes?: number } = {}) {
  const events: APIGatewayProxyEvent[] = [];
  const door = await startFrontDoor({ port: 0, ...opts });
  doors.push(door);
  door.serve(async (event) => {
    events.push(event);
    return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
  });
  return { door, events };
}

/** A raw HTTP request, so headers (case, repeats) and bodies are exactly what the test says. */
function rawRequest(url: string, opts: { method?: string; path: string; headers?: Array<[string, string]>; body?: Buffer }): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const u = new URL(opts.path, url);
    const headers: Array<[string, string]> = [['Host', u.host], ...(opts.headers ?? [])];
    if (!headers.some(([k]) => k.toLowerCase() === 'transfer-encoding')) headers.push(['Content-Length', String(opts.body?.length ?? 0)]);
    // A flat [name, value, …] array keeps names' case and repeats exactly as given.
    const req = request({ host: u.hostname, port: u.port, path: `${u.pathname}${u.search}`, method: opts.method ?? 'POST', headers: headers.flat() as unknown as Record<string, string> }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('local front door (API Gateway stand-in)', () => {
  it('turns POST /webhook into a REST proxy event with the exact body, headers and request context', async () => {
    const { door, events } = await recordingDoor();
    const body = Buffer.from('{"event":"message.didCreate","text":"héllo 👋"}', 'utf8');
    const res = await rawRequest(door.url, {
      path: '/webhook?x=1',
      headers: [['X-Amity-Signature', 'c2ln'], ['Content-Type', 'application/json'], ['X-Repeat', 'a'], ['X-Repeat', 'b']],
      body,
    });
    expect(res).toMatchObject({ status: 200, body: '{}' });
    expect(res.headers['content-type']).toBe('application/json');
    const [e] = events;
    expect(e?.isBase64Encoded).toBe(false);
    expect(Buffer.from(e?.body as string, 'utf8').equals(body)).toBe(true);
    expect(e?.headers['X-Amity-Signature']).toBe('c2ln');
    expect(e?.headers['X-Repeat']).toBe('b');
    expect(e?.multiValueHeaders['X-Repeat']).toEqual(['a', 'b']);
    expect(e?.pathParameters).toBeNull();
    expect(e?.resource).toBe('/webhook');
    expect(e?.queryStringParameters).toEqual({ x: '1' });
    expect(e?.requestContext.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(e?.requestContext.requestTimeEpoch).toBeGreaterThan(0);
  });

  it('passes a body that is not UTF-8 base64-encoded, and the source path parameter', async () => {
    const { door, events } = await recordingDoor();
    const body = Buffer.from([0xff, 0xfe, 0x00, 0x41]);
    await rawRequest(door.url, { path: '/webhook/partner-b', body });
    const [e] = events;
    expect(e?.isBase64Encoded).toBe(true);
    expect(Buffer.from(e?.body as string, 'base64').equals(body)).toBe(true);
    expect(e?.pathParameters).toEqual({ source: 'partner-b' });
    expect(e?.resource).toBe('/webhook/{source}');
  });

  it('passes an empty body as null', async () => {
    const { door, events } = await recordingDoor();
    await rawRequest(door.url, { path: '/webhook' });
    expect(events[0]?.body).toBeNull();
  });

  it.each([
    ['GET', '/webhook', 405, /method GET not allowed on \/webhook: use POST/],
    ['POST', '/healthz', 405, /use GET/],
    ['POST', '/hooks', 404, /no route for POST \/hooks/],
    ['GET', '/', 404, /use POST \/webhook/],
    ['POST', '/webhook/a/b', 404, /no route/],
  ])('%s %s answers %i with a JSON message', async (method, path, status, message) => {
    const { door, events } = await recordingDoor();
    const res = await rawRequest(door.url, { method, path });
    expect(res.status).toBe(status);
    expect(res.headers['content-type']).toBe('application/json');
    expect(JSON.parse(res.body).message).toMatch(message);
    expect(events).toEqual([]);
  });

  it('answers 413 to a body over the limit, declared or streamed, without calling the receiver', async () => {
    const { door, events } = await recordingDoor({ maxBodyBytes: 1000 });
    const declared = await rawRequest(door.url, { path: '/webhook', body: Buffer.alloc(1001, 0x61) });
    expect(declared.status).toBe(413);
    expect(JSON.parse(declared.body).message).toMatch(/larger than 1000 bytes/);
    const streamed = await rawRequest(door.url, { path: '/webhook', headers: [['Transfer-Encoding', 'chunked']], body: Buffer.alloc(5000, 0x61) });
    expect(streamed.status).toBe(413);
    const fits = await rawRequest(door.url, { path: '/webhook', body: Buffer.alloc(1000, 0x61) });
    expect(fits.status).toBe(200);
    expect(events).toHaveLength(1);
  });

  it('answers 413 by default for a body declared larger than API Gateway\'s 10 MB', async () => {
    const { door } = await recordingDoor();
    const res = await new Promise<number>((resolve, reject) => {
      const u = new URL('/webhook', door.url);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-length': String(10 * 1024 * 1024 + 1) } }, (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(res).toBe(413);
  });

  it('reports readiness on /healthz: 503 while starting, 200 {"status":"ok"} once serving', async () => {
    const door = await startFrontDoor({ port: 0 });
    doors.push(door);
    const starting = await rawRequest(door.url, { method: 'GET', path: '/healthz' });
    expect(starting.status).toBe(503);
    expect(JSON.parse(starting.body)).toEqual({ status: 'starting' });
    const early = await rawRequest(door.url, { path: '/webhook', body: Buffer.from('{}') });
    expect(early.status).toBe(503);
    expect(JSON.parse(early.body)).toEqual({ message: 'temporarily unavailable' });

    door.serve(async () => ({ statusCode: 200, body: '{}' }));
    const ready = await rawRequest(door.url, { method: 'GET', path: '/healthz' });
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toEqual({ status: 'ok' });
  });

  it('answers 500 with a JSON message when the receiver throws', async () => {
    const door = await startFrontDoor({ port: 0 });
    doors.push(door);
    door.serve(async () => {
      throw new Error('bug');
    });
    const res = await rawRequest(door.url, { path: '/webhook', body: Buffer.from('{}') });
    expect(res.status).toBe(500);
    expect(JSON.parse(res.body).message).toMatch(/internal error/);
  });

  it('serves localhost too, whichever loopback address it resolves to', async () => {
    const { door } = await recordingDoor();
    const res = await fetch(`http://localhost:${door.port}/healthz`);
    expect(res.status).toBe(200);
  });

  it('caps open connections: one past the cap is closed at once, the others still answer', async () => {
    expect(MAX_CONNECTIONS).toBe(256);
    expect([HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS]).toEqual([10_000, 30_000]);
    const events: APIGatewayProxyEvent[] = [];
    const door = await startFrontDoor({ port: 0, maxConnections: 2 });
    doors.push(door);
    door.serve(async (event) => {
      events.push(event);
      return { statusCode: 200, headers: {}, body: '{}' };
    });
    const open = (): Promise<Socket> => new Promise((resolve, reject) => {
      const s = connect(door.port, '127.0.0.1', () => resolve(s));
      s.on('error', reject);
    });
    const held = [await open(), await open()];
    const third = await open();
    const closed = await new Promise<boolean>((resolve) => {
      third.on('close', () => resolve(true));
      third.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    });
    expect(closed).toBe(true);
    held.forEach((s) => s.destroy());
    // The cap counts open connections only: once they close, requests are served again.
    await new Promise((r) => setImmediate(r));
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) status = (await rawRequest(door.url, { method: 'GET', path: '/healthz' }).catch(() => ({ status: 0 }))).status;
    expect(status).toBe(200);
  });

  it('fails fast with a clear message when the port is taken', async () => {
    const { door } = await recordingDoor();
    const err = await startFrontDoor({ port: door.port }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortUnavailableError);
    expect((err as Error).message).toMatch(new RegExp(`port ${door.port} on 127.0.0.1 is already in use`));
  });
});

describe('duplicate signature headers through the front door', () => {
  it('refuses two x-amity-signature lines, whatever their case, even when one is valid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'front-door-dup-'));
    const p = await startLocalPipeline({ dir, port: 0, secret: 'the-secret', handlers: [] });
    try {
      const body = Buffer.from('{"event":"message.didCreate","data":{}}');
      const good = sign(body, 'the-secret');
      for (const lines of [[['x-amity-signature', good], ['x-amity-signature', 'bogus']], [['X-Amity-Signature', 'bogus'], ['x-amity-signature', good]]] as Array<Array<[string, string]>>) {
        const res = await rawRequest(p.url, { path: '/webhook', headers: lines, body });
        expect(res).toMatchObject({ status: 401, body: '{"message":"more than one x-amity-signature header"}' });
      }
      expect((await rawRequest(p.url, { path: '/webhook', headers: [['x-amity-signature', good]], body })).status).toBe(200);
    } finally {
      await p.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
