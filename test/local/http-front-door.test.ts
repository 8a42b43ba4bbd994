import { Agent, request } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HEADERS_TIMEOUT_MS,
  MAX_CONNECTIONS,
  REQUEST_TIMEOUT_MS,
  startFrontDoor,
  type FrontDoor,
  PortUnavailableError,
  type WebhookExchange,
} from '../../local/http-front-door.js';
import { startLocalPipeline } from '../../local/pipeline.js';
import { sign } from '../../lambda/core/signature.js';
import { precheckWebhook } from '../../lambda/core/precheck.js';
import { RecordingLogger, RecordingMetrics } from '../support/fakes.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { rawRequest } from '../support/raw-request.js';

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

describe('local front door (API Gateway stand-in)', () => {
  it('turns POST /webhook into a REST proxy event with the exact body, headers and request context', async () => {
    const { door, events } = await recordingDoor();
    const body = Buffer.from('{"event":"message.didCreate","text":"héllo 👋"}', 'utf8');
    const res = await rawRequest(door.url, {
      path: '/webhook?x=1',
      headers: [
        ['X-Amity-Signature', 'c2ln'],
        ['Content-Type', 'application/json'],
        ['X-Repeat', 'a'],
        ['X-Repeat', 'b'],
      ],
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

  it("answers 413 by default for a body declared larger than API Gateway's 10 MB", async () => {
    const { door } = await recordingDoor();
    const res = await new Promise<number>((resolve, reject) => {
      const u = new URL('/webhook', door.url);
      const req = request(
        { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-length': String(10 * 1024 * 1024 + 1) } },
        (r) => {
          r.resume();
          resolve(r.statusCode ?? 0);
        },
      );
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
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
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
    for (let i = 0; i < 50 && status !== 200; i++)
      status = (await rawRequest(door.url, { method: 'GET', path: '/healthz' }).catch(() => ({ status: 0 }))).status;
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
      for (const lines of [
        [
          ['x-amity-signature', good],
          ['x-amity-signature', 'bogus'],
        ],
        [
          ['X-Amity-Signature', 'bogus'],
          ['x-amity-signature', good],
        ],
      ] as Array<Array<[string, string]>>) {
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

describe("answers from the head, before reading the body (the receiver's precheck)", () => {
  const KNOWN = ['default', 'partner'];
  const SECRET = 'the-secret';

  /** A front door with the receiver's real precheck in front of a recording stand-in receiver. */
  async function precheckedDoor() {
    const events: APIGatewayProxyEvent[] = [];
    const exchanges: WebhookExchange[] = [];
    const logger = new RecordingLogger();
    const metrics = new RecordingMetrics();
    const door = await startFrontDoor({ port: 0, onWebhook: (x) => exchanges.push(x) });
    doors.push(door);
    door.serve(
      async (event) => {
        events.push(event);
        return { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' };
      },
      (head) => precheckWebhook(head, { logger, metrics, knownSources: KNOWN }),
    );
    return { door, events, exchanges, logger, metrics };
  }

  /**
   * Writes `head` (a request without its body) on a raw connection and reads until the server
   * closes it: an answer arriving at all proves the server did not wait for the body.
   */
  function headOnly(port: number, head: string): Promise<{ status: number; headers: Record<string, string>; body: string; raw: string }> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write(head));
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.on('error', reject);
      socket.on('end', () => resolve(parseResponse(Buffer.concat(chunks).toString('utf8'))));
    });
  }

  function parseResponse(raw: string) {
    const [top = '', body = ''] = raw.split('\r\n\r\n');
    const [statusLine = '', ...lines] = top.split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const at = line.indexOf(':');
      headers[line.slice(0, at).toLowerCase()] = line.slice(at + 1).trim();
    }
    return { status: Number(statusLine.split(' ')[1]), headers, body, raw };
  }

  const requestHead = (path: string, lines: string[], declared = 5_000_000) =>
    `POST ${path} HTTP/1.1\r\nHost: x\r\n${lines.map((l) => `${l}\r\n`).join('')}Content-Length: ${declared}\r\n\r\n`;

  it.each([
    ['no signature', '/webhook', ['Content-Type: application/json'], 401, { message: 'missing x-amity-signature' }, 'SignatureMissing'],
    [
      'two signature lines',
      '/webhook',
      ['x-amity-signature: a', 'X-Amity-Signature: b'],
      401,
      { message: 'more than one x-amity-signature header' },
      'SignatureInvalid',
    ],
    ['a blank signature', '/webhook/partner', ['x-amity-signature:  '], 401, { message: 'missing x-amity-signature' }, 'SignatureMissing'],
    ['only the legacy x-eko-signature', '/webhook', ['X-Eko-Signature: c2ln'], 200, {}, 'LegacyDropped'],
    [
      'a source that is no source name',
      '/webhook/Bad%20Name',
      ['x-amity-signature: c2ln'],
      404,
      { message: "unknown webhook source 'Bad Name'" },
      'UnknownSource',
    ],
    ['a source not configured', '/webhook/nope', ['x-amity-signature: c2ln'], 404, { message: "unknown webhook source 'nope'" }, 'UnknownSource'],
  ] as const)(
    "%s: the receiver's answer before any of a declared 5 MB body is sent, the connection closed, the receiver not called",
    async (_label, path, lines, status, answer, metric) => {
      const { door, events, exchanges, metrics } = await precheckedDoor();
      const res = await headOnly(door.port, requestHead(path, [...lines]));
      expect(res.status).toBe(status);
      expect(JSON.parse(res.body)).toEqual(answer);
      expect(res.headers['content-type']).toBe('application/json');
      expect(res.headers.connection).toBe('close');
      expect(events).toEqual([]);
      expect(metrics.calls.map((c) => c.name)).toEqual(['Received', metric]);
      expect(exchanges).toHaveLength(1);
      expect(exchanges[0]).toMatchObject({ method: 'POST', target: path, status, bodyNotRead: true });
      expect(exchanges[0]?.body).toHaveLength(0);
    },
  );

  it('closes the connection unread for a chunked body too (its length is unknown)', async () => {
    const { door, events } = await precheckedDoor();
    const res = await headOnly(door.port, 'POST /webhook HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    expect(res.status).toBe(401);
    expect(res.headers.connection).toBe('close');
    expect(events).toEqual([]);
  });

  it('logs the refusal as the receiver does, with the declared size, never an invalid source', async () => {
    const { door, logger } = await precheckedDoor();
    await rawRequest(door.url, { path: '/webhook/partner', body: Buffer.alloc(1234, 0x61) });
    await headOnly(door.port, requestHead('/webhook/%1B%5D52%3Bc%3BZXZpbA%3D%3D%07', ['x-amity-signature: c2ln']));
    expect(logger.entries.map((e) => [e.message, e.fields])).toEqual([
      [
        'rejected: no x-amity-signature header',
        { source: 'partner', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/), bodyBytes: 1234, reason: 'missing' },
      ],
      ['rejected: invalid webhook source name in path', { source: '(not a source name)', requestId: expect.any(String), bodyBytes: 5_000_000 }],
    ]);
    expect(logger.lines().join('\n')).not.toContain('ZXZpbA');
  });

  it('does not invite the body of a client that waits for 100 Continue when refusing; invites it when the request goes on', async () => {
    const { door, events } = await precheckedDoor();
    const refused = await headOnly(door.port, requestHead('/webhook', ['Expect: 100-continue'], 100));
    expect(refused.raw.startsWith('HTTP/1.1 401 ')).toBe(true);
    expect(refused.headers.connection).toBe('close');

    const body = '{"event":"message.didCreate"}';
    const accepted = await new Promise<string>((resolve, reject) => {
      const socket = connect(door.port, '127.0.0.1', () =>
        socket.write(
          requestHead('/webhook/partner', ['Expect: 100-continue', `x-amity-signature: ${sign(body, SECRET)}`, 'Connection: close'], body.length),
        ),
      );
      let raw = '';
      socket.on('data', (c: Buffer) => {
        const before = raw;
        raw += c.toString('utf8');
        if (!before.includes('100 Continue') && raw.includes('HTTP/1.1 100 Continue\r\n\r\n')) socket.write(body);
      });
      socket.on('error', reject);
      socket.on('end', () => resolve(raw));
    });
    expect(accepted.startsWith('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 ')).toBe(true);
    expect(events.map((e) => e.body)).toEqual([body]);
  });

  it('passes a request whose head is fine to the receiver as before, the body read', async () => {
    const { door, events, exchanges, metrics } = await precheckedDoor();
    const body = Buffer.from('{"event":"message.didCreate"}');
    const res = await rawRequest(door.url, { path: '/webhook/partner', headers: [['X-Amity-Signature', 'not-verified-here']], body });
    expect(res.status).toBe(200);
    expect(events).toHaveLength(1);
    expect(events[0]?.pathParameters).toEqual({ source: 'partner' });
    expect(Buffer.from(events[0]?.body as string).equals(body)).toBe(true);
    expect(metrics.calls).toEqual([]);
    expect(exchanges[0]?.bodyNotRead).toBeUndefined();
    expect(exchanges[0]?.body.equals(body)).toBe(true);
  });

  it('keeps the connection alive after refusing a small body: it is read and dropped, the next request on the same socket is served', async () => {
    const { door, events } = await precheckedDoor();
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const post = (headers: Record<string, string>, body: string) =>
        new Promise<{ status: number; reused: boolean; connection: string | undefined }>((resolve, reject) => {
          const u = new URL('/webhook', door.url);
          const req = request(
            {
              host: u.hostname,
              port: u.port,
              path: u.pathname,
              method: 'POST',
              headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
              agent,
            },
            (res) => {
              res.resume();
              res.on('end', () => resolve({ status: res.statusCode ?? 0, reused: req.reusedSocket, connection: res.headers.connection }));
            },
          );
          req.on('error', reject);
          req.end(body);
        });
      const refused = await post({}, 'x'.repeat(10_000));
      expect(refused).toEqual({ status: 401, reused: false, connection: 'keep-alive' });
      const next = await post({ 'x-amity-signature': 'c2ln' }, '{"event":"x"}');
      expect(next).toEqual({ status: 200, reused: true, connection: 'keep-alive' });
      expect(events.map((e) => e.body)).toEqual(['{"event":"x"}']);
    } finally {
      agent.destroy();
    }
  });
});

describe('admin routes and logs', () => {
  const TOKEN = 'front-door-test-admin-token';

  it('refuses an admin request that carries an Origin header (a web page), token or not, without calling the admin handler', async () => {
    const door = await startFrontDoor({ port: 0 });
    doors.push(door);
    const calls: string[] = [];
    door.serveAdmin(TOKEN, async (req) => {
      calls.push(req.path);
      return { statusCode: 200, body: { ok: true } };
    });
    const auth: [string, string] = ['Authorization', `Bearer ${TOKEN}`];
    const fromPage = await rawRequest(door.url, { method: 'GET', path: '/admin/queue', headers: [auth, ['Origin', 'http://localhost:5173']] });
    expect(fromPage.status).toBe(403);
    expect(JSON.parse(fromPage.body).message).toMatch(/^admin routes answer no web pages/);
    const nullOrigin = await rawRequest(door.url, { path: '/admin/redrive', headers: [auth, ['Origin', 'null']], body: Buffer.from('{}') });
    expect(nullOrigin.status).toBe(403);
    expect(calls).toEqual([]);
    const cli = await rawRequest(door.url, { method: 'GET', path: '/admin/queue', headers: [auth] });
    expect(cli.status).toBe(200);
    expect(calls).toEqual(['/queue']);
  });

  it('does not refuse a webhook for an Origin header: the signature decides', async () => {
    const { door, events } = await recordingDoor();
    const res = await rawRequest(door.url, {
      path: '/webhook',
      headers: [
        ['Origin', 'https://example.com'],
        ['x-amity-signature', 'c2ln'],
      ],
      body: Buffer.from('{}'),
    });
    expect(res.status).toBe(200);
    expect(events).toHaveLength(1);
  });

  it("logs a failed request by its route, never its path (the caller's text)", async () => {
    const logger = new RecordingLogger();
    const door = await startFrontDoor({ port: 0, logger });
    doors.push(door);
    door.serve(async () => {
      throw new Error('bug');
    });
    const res = await rawRequest(door.url, { path: '/webhook/%1B%5D52%3Bc%3BZXZpbA%3D%3D%07?q=%1B', body: Buffer.from('{}') });
    expect(res.status).toBe(500);
    expect(logger.entries).toEqual([
      { level: 'error', message: 'local front door: request failed', fields: { error: 'bug', method: 'POST', route: '/webhook/{source}' } },
    ]);
  });
});
