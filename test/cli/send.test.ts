import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { parseEvent } from '../../lambda/core/envelope.js';
import { LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER, verifySignature } from '../../lambda/core/signature.js';
import { runCli } from './run-cli.js';

const SECRET = 'whsec-cli-test';
const SAMPLES = fileURLToPath(new URL('../../fixtures/samples/', import.meta.url));
const fixture = (name: string) => readFileSync(join(SAMPLES, `${name}.json`));

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** A stand-in receiver: answers like DESIGN §2 for the signature cases, records every request. */
class TestReceiver {
  readonly received: Received[] = [];
  private server: Server | undefined;
  url = '';
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        this.received.push({ path: req.url ?? '', headers: req.headers, body });
        const reply = (status: number, json: unknown) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(json));
        };
        const amity = req.headers[SIGNATURE_HEADER];
        const legacy = req.headers[LEGACY_SIGNATURE_HEADER];
        if (amity === undefined && legacy !== undefined) {
          reply(verifySignature(body, String(legacy), [SECRET]).ok ? 200 : 401, {});
          return;
        }
        if (amity === undefined) return reply(401, { message: 'missing x-amity-signature' });
        if (!verifySignature(body, String(amity), [SECRET]).ok) return reply(401, { message: 'invalid signature' });
        reply(200, {});
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
    this.url = `http://127.0.0.1:${this.port}/webhook`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe('send', () => {
  const receiver = new TestReceiver();
  let tmp: string;
  // No test may pick up a secret or local folder from the machine it runs on.
  const cleanEnv = () => ({ SOCIALPLUS_WEBHOOK_SECRET: undefined, SOCIALPLUS_LOCAL_DIR: join(tmp, 'no-local'), PORT: undefined });

  beforeAll(async () => {
    await receiver.start();
  });
  afterAll(async () => {
    await receiver.stop();
  });
  beforeEach(() => {
    receiver.received.length = 0;
    tmp = mkdtempSync(join(tmpdir(), 'send-test-'));
  });
  afterEach(() => {
    rmSync(tmp, { recursive: true, force: true });
  });

  it('posts the sample byte for byte, signed in x-amity-signature, and prints the answer', async () => {
    const run = await runCli(['send', 'message.didCreate', '--url', receiver.url, '--secret', SECRET], cleanEnv());

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(receiver.received).toHaveLength(1);
    const [req] = receiver.received;
    expect(req?.path).toBe('/webhook');
    expect(req?.body.equals(fixture('message.didCreate'))).toBe(true);
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers[LEGACY_SIGNATURE_HEADER]).toBeUndefined();
    expect(verifySignature(req?.body ?? Buffer.alloc(0), String(req?.headers[SIGNATURE_HEADER]), [SECRET]).ok).toBe(true);
    expect(run.stdout).toContain('200 {}');
    expect(run.stdout).toContain(eventIdOf(fixture('message.didCreate')));
  });

  it('accepts a normalised name when one sample fits it', async () => {
    const run = await runCli(['send', 'post.didCreate', '--url', receiver.url, '--secret', SECRET], cleanEnv());

    expect(run.code).toBe(0);
    expect(receiver.received[0]?.body.equals(fixture('v3.post.didCreate'))).toBe(true);
  });

  it('sends a JSON file of the user\'s own exactly as stored', async () => {
    const file = join(tmp, 'mine.json');
    const bytes = '{"event":"message.didFlag","data":{"messages":[{"messageId":"x","text":"héllo 👋"}]}}';
    writeFileSync(file, bytes);

    const run = await runCli(['send', file, '--url', receiver.url, '--secret', SECRET], cleanEnv());

    expect(run.code).toBe(0);
    expect(receiver.received[0]?.body.toString('utf8')).toBe(bytes);
  });

  it('--count N sends N distinct events, the first byte-identical to the fixture, and prints a JSON summary', async () => {
    const n = 20;
    const run = await runCli(['send', 'v3.post.didCreate', '--url', receiver.url, '--secret', SECRET, '--count', String(n), '--concurrency', '4', '--json'], cleanEnv());

    expect(run.code).toBe(0);
    const bodies = receiver.received.map((r) => r.body);
    expect(bodies).toHaveLength(n);
    for (const r of receiver.received) expect(verifySignature(r.body, String(r.headers[SIGNATURE_HEADER]), [SECRET]).ok).toBe(true);
    const ids = bodies.map((b) => eventIdOf(b));
    expect(new Set(ids).size).toBe(n);

    const original = fixture('v3.post.didCreate');
    expect(bodies.filter((b) => b.equals(original))).toHaveLength(1);
    // Every copy is still the same kind of event, with its own occurred_at.
    const parsed = bodies.map((b) => parseEvent(b.toString('utf8')));
    expect(new Set(parsed.map((p) => p.eventName))).toEqual(new Set(['v3.post.didCreate']));
    expect(new Set(parsed.map((p) => p.entities.occurredAt)).size).toBe(n);

    const summary = JSON.parse(run.stdout) as { count: number; ok: number; failed: number; byStatus: Record<string, number>; eventIds: string[]; latencyMs: { p50: number; p99: number } };
    expect(summary).toMatchObject({ count: n, ok: n, failed: 0, byStatus: { 200: n } });
    expect(summary.eventIds[0]).toBe(eventIdOf(original));
    expect(new Set(summary.eventIds)).toEqual(new Set(ids));
    expect(summary.latencyMs.p99).toBeGreaterThanOrEqual(summary.latencyMs.p50);
  });

  it('--count prints a readable summary without --json', async () => {
    const run = await runCli(['send', 'follow.didCreate', '--url', receiver.url, '--secret', SECRET, '--count', '3'], cleanEnv());

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/sent 3 × follow\.didCreate/);
    expect(run.stdout).toMatch(/2xx: +3/);
    expect(run.stdout).toMatch(/p50 .* ms, p99 .* ms/);
  });

  it('--legacy signs into x-eko-signature only', async () => {
    const run = await runCli(['send', 'message.didCreate', '--url', receiver.url, '--secret', SECRET, '--legacy'], cleanEnv());

    expect(run.code).toBe(0);
    const [req] = receiver.received;
    expect(req?.headers[SIGNATURE_HEADER]).toBeUndefined();
    expect(verifySignature(req?.body ?? Buffer.alloc(0), String(req?.headers[LEGACY_SIGNATURE_HEADER]), [SECRET]).ok).toBe(true);
  });

  it('--signature-form signs in another form: hex is accepted by default, json-base64 refused and named', async () => {
    const hex = await runCli(['send', 'message.didCreate', '--url', receiver.url, '--secret', SECRET, '--signature-form', 'hex'], cleanEnv());
    expect(hex.code).toBe(0);
    const header = String(receiver.received[0]?.headers[SIGNATURE_HEADER]);
    expect(header).toMatch(/^[0-9a-f]{64}$/);
    expect(verifySignature(receiver.received[0]?.body ?? Buffer.alloc(0), header, [SECRET])).toMatchObject({ ok: true, form: 'hex' });

    const json = await runCli(['send', 'message.didCreate', '--url', receiver.url, '--secret', SECRET, '--signature-form', 'json-base64'], cleanEnv());
    expect(json.code).toBe(1);
    const body = receiver.received[1]?.body ?? Buffer.alloc(0);
    expect(verifySignature(body, String(receiver.received[1]?.headers[SIGNATURE_HEADER]), [SECRET])).toMatchObject({ ok: false, reason: 'form-not-accepted', diagnosis: { matchedForm: 'json-base64' } });

    const bad = await runCli(['send', 'message.didCreate', '--url', receiver.url, '--secret', SECRET, '--signature-form', 'sha1'], cleanEnv());
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("'sha1' is not a signature form: use one of base64, hex, json-base64, json-hex.");
  });

  it('defaults to http://localhost:$PORT/webhook, with /<source> for --source', async () => {
    const env = { ...cleanEnv(), PORT: String(receiver.port), SOCIALPLUS_WEBHOOK_SECRET: SECRET };

    expect((await runCli(['send', 'message.didCreate'], env)).code).toBe(0);
    expect((await runCli(['send', 'message.didCreate', '--source', 'eu-app'], env)).code).toBe(0);

    expect(receiver.received.map((r) => r.path)).toEqual(['/webhook', '/webhook/eu-app']);
  });

  it('falls back to the dev secret local mode wrote', async () => {
    const localDir = join(tmp, 'local');
    mkdirSync(localDir);
    writeFileSync(join(localDir, 'secret'), `${SECRET}\n`);

    const run = await runCli(['send', 'message.didCreate', '--url', receiver.url], { ...cleanEnv(), SOCIALPLUS_LOCAL_DIR: localDir });

    expect(run.code).toBe(0);
  });

  it('fails on an unknown sample name, listing the samples, without sending', async () => {
    const run = await runCli(['send', 'message.didExplode', '--url', receiver.url, '--secret', SECRET], cleanEnv());

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("unknown sample 'message.didExplode'");
    expect(run.stderr).toContain('message.didCreate');
    expect(run.stderr).toContain('v3.post.didCreate');
    expect(receiver.received).toHaveLength(0);
  });

  it('fails with a hint when there is no secret at all', async () => {
    const run = await runCli(['send', 'message.didCreate', '--url', receiver.url], cleanEnv());

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no webhook secret');
    expect(run.stderr).toContain('--secret');
    expect(run.stderr).toContain('npm start');
    expect(receiver.received).toHaveLength(0);
  });

  it('exits 1 naming the secret\'s origin when the receiver rejects the signature', async () => {
    const run = await runCli(['send', 'message.didCreate', '--url', receiver.url], { ...cleanEnv(), SOCIALPLUS_WEBHOOK_SECRET: 'not-the-secret' });

    expect(run.code).toBe(1);
    expect(run.stdout).toContain('401');
    expect(run.stderr).toContain('invalid signature');
    expect(run.stderr).toContain('SOCIALPLUS_WEBHOOK_SECRET');
  });

  it('exits 1 with "is local mode running?" when the connection is refused', async () => {
    const closed = new TestReceiver();
    await closed.start();
    await closed.stop();

    const run = await runCli(['send', 'message.didCreate', '--url', closed.url, '--secret', SECRET, '--count', '2', '--json'], cleanEnv());

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('connection refused');
    expect(run.stderr).toContain('is local mode running? start it with npm start');
    expect(JSON.parse(run.stdout)).toMatchObject({ count: 2, ok: 0, failed: 2, errors: { ECONNREFUSED: 2 } });
  });

  it.each([
    [['--count', '0'], '--count must be a whole number'],
    [['--concurrency', 'many'], '--concurrency must be a whole number'],
    [['--url', 'not a url'], '--url is not a valid URL'],
    [['--source', 'Bad/Name'], "--source 'Bad/Name' is not a valid source name"],
  ])('rejects bad options %j', async (extra, message) => {
    const run = await runCli(['send', 'message.didCreate', '--url', receiver.url, '--secret', SECRET, ...extra], cleanEnv());

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(message);
    expect(receiver.received).toHaveLength(0);
  });
});
