import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { parseEvent } from '../../lambda/core/envelope.js';
import { catalogSampleNames } from '../../lambda/core/catalog/sample.js';
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

/** A stand-in receiver: answers like docs/architecture.md §2 for the signature cases, records every request. */
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

  it("sends a JSON file of the user's own exactly as stored", async () => {
    const file = join(tmp, 'mine.json');
    const bytes = '{"event":"message.didFlag","data":{"messages":[{"messageId":"x","text":"héllo 👋"}]}}';
    writeFileSync(file, bytes);

    const run = await runCli(['send', file, '--url', receiver.url, '--secret', SECRET], cleanEnv());

    expect(run.code).toBe(0);
    expect(receiver.received[0]?.body.toString('utf8')).toBe(bytes);
  });

  it('--count N sends N distinct events, the first byte-identical to the fixture, and prints a JSON summary', async () => {
    const n = 20;
    const run = await runCli(
      ['send', 'v3.post.didCreate', '--url', receiver.url, '--secret', SECRET, '--count', String(n), '--concurrency', '4', '--json'],
      cleanEnv(),
    );

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

    const summary = JSON.parse(run.stdout) as {
      count: number;
      ok: number;
      failed: number;
      byStatus: Record<string, number>;
      eventIds: string[];
      latencyMs: { p50: number; p99: number };
    };
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

    const json = await runCli(
      ['send', 'message.didCreate', '--url', receiver.url, '--secret', SECRET, '--signature-form', 'json-base64'],
      cleanEnv(),
    );
    expect(json.code).toBe(1);
    expect(json.stderr).toContain('the receiver does not accept the json-base64 form unless its signatureForms lists it');
    const body = receiver.received[1]?.body ?? Buffer.alloc(0);
    expect(verifySignature(body, String(receiver.received[1]?.headers[SIGNATURE_HEADER]), [SECRET])).toMatchObject({
      ok: false,
      reason: 'form-not-accepted',
      diagnosis: { matchedForm: 'json-base64' },
    });

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

  it('fails on an unknown event name, listing its family, without sending', async () => {
    const run = await runCli(['send', 'message.didExplode', '--url', receiver.url, '--secret', SECRET], cleanEnv());

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("unknown event name 'message.didExplode'; the message events are message.didCreate, ");
    expect(run.stderr).toContain('send --list shows the');
    expect(receiver.received).toHaveLength(0);
  });

  it('answers a misspelt name with "did you mean", without sending', async () => {
    const run = await runCli(['send', 'v3.post.didAprove', '--url', receiver.url, '--secret', SECRET], cleanEnv());

    expect(run.code).toBe(1);
    expect(run.stderr).toContain("unknown event name 'v3.post.didAprove': did you mean v3.post.didApprove?");
    expect(receiver.received).toHaveLength(0);
  });

  it.each([
    'v3.post.didApprove',
    'follow.didAcceptRequest',
    'channel.didRemoveUsers',
    'user.didClearFlag',
    'v3.community.didRoleChange',
    'message.didDelete',
  ])('sends a generated %s, signed, that the receiver parses as that event', async (name) => {
    const run = await runCli(['send', name, '--url', receiver.url, '--secret', SECRET], cleanEnv());

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const body = receiver.received[0]?.body ?? Buffer.alloc(0);
    expect(verifySignature(body, String(receiver.received[0]?.headers[SIGNATURE_HEADER]), [SECRET]).ok).toBe(true);
    const parsed = parseEvent(body.toString('utf8'));
    expect(parsed.eventName).toBe(name);
    expect(parsed.flags).toEqual([]);
    expect(run.stdout).toContain(`${name} (generated, seed 1)`);
  });

  it('--list prints every name by family, shipped or generated, deprecated marked; --json as data', async () => {
    const run = await runCli(['send', '--list'], cleanEnv());

    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^post\n {2}v3\.post\.didCreate +shipped\n/m);
    expect(run.stdout).toMatch(/^ {2}v3\.post\.didApprove +generated$/m);
    expect(run.stdout).toMatch(/^ {2}user\.didBan +shipped \(user\.didBan\.inferred\)$/m);
    expect(run.stdout).toMatch(/^ {2}v3\.video-streaming\.didStart +generated {2}deprecated$/m);
    expect(run.stdout).toMatch(/^ {2}message\.created +generated {2}deprecated$/m);

    const json = await runCli(['send', '--list', '--json'], cleanEnv());
    const names = JSON.parse(json.stdout) as Array<{ name: string; family: string; origin: string; deprecated: boolean }>;
    expect(names.map((n) => n.name)).toEqual(catalogSampleNames().map((n) => n.name));
    expect(names.find((n) => n.name === 'message.didCreate')).toMatchObject({ family: 'message', origin: 'shipped', deprecated: false });

    const post = await runCli(['send', '--list', 'post'], cleanEnv());
    expect(
      post.stdout
        .split('\n')
        .filter((l) => l.startsWith('  '))
        .every((l) => l.includes('v3.post.')),
    ).toBe(true);
    expect((await runCli(['send', '--list', 'nothing-like-this'], cleanEnv())).stderr).toContain("no event name matches 'nothing-like-this'");
  });

  it('--user, --channel and --set edit the payload before it is signed', async () => {
    const run = await runCli(
      [
        'send',
        'message.didFlag',
        '--url',
        receiver.url,
        '--secret',
        SECRET,
        '--user',
        'spam.account.9',
        '--channel',
        'lobby',
        '--set',
        'data.messages[0].flagCount=5',
        '--set',
        'data.messages[0].data.text=buy now',
      ],
      cleanEnv(),
    );

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('message.didFlag (edited)');
    const body = receiver.received[0]?.body ?? Buffer.alloc(0);
    expect(verifySignature(body, String(receiver.received[0]?.headers[SIGNATURE_HEADER]), [SECRET]).ok).toBe(true);
    const sent = JSON.parse(body.toString('utf8')) as {
      data: {
        messages: Array<{ userId: string; channelId: string; path: string; flagCount: number; data: { text: string } }>;
        users: Array<{ userId: string }>;
      };
    };
    const [m] = sent.data.messages;
    expect(m).toMatchObject({ userId: 'spam.account.9', channelId: 'lobby', flagCount: 5, data: { text: 'buy now' } });
    expect(m?.path).toContain('/chat/lobby/');
    expect(sent.data.users[0]?.userId).toBe('spam.account.9');
    expect(body.toString('utf8')).not.toContain('spam.account.42');
  });

  it('refuses a bad --set path or an edit that does not apply, without sending', async () => {
    const base = ['--url', receiver.url, '--secret', SECRET];
    const typo = await runCli(['send', 'message.didFlag', ...base, '--set', 'data.mesages[0].flagCount=5'], cleanEnv());
    expect(typo.code).toBe(1);
    expect(typo.stderr).toContain('--set data.mesages[0].flagCount=5: data.mesages does not exist (did you mean data.messages?)');

    const syntax = await runCli(['send', 'message.didFlag', ...base, '--set', 'data.messages[0'], cleanEnv());
    expect(syntax.code).not.toBe(0);
    expect(syntax.stderr).toContain("--set takes path=value, got 'data.messages[0'");

    const noChannel = await runCli(['send', 'v3.post.didCreate', ...base, '--channel', 'x'], cleanEnv());
    expect(noChannel.code).toBe(1);
    expect(noChannel.stderr).toContain('--channel: v3.post.didCreate is about no chat channel');
    expect(receiver.received).toHaveLength(0);
  });

  it('--seed picks another generated sample, the same one every time', async () => {
    const base = ['send', 'follow.didAcceptRequest', '--url', receiver.url, '--secret', SECRET];
    expect((await runCli([...base, '--seed', '7'], cleanEnv())).code).toBe(0);
    expect((await runCli([...base, '--seed', '7'], cleanEnv())).code).toBe(0);
    expect((await runCli([...base, '--seed', '8'], cleanEnv())).code).toBe(0);
    const [a, b, c] = receiver.received.map((r) => r.body);
    expect(a?.equals(b ?? Buffer.alloc(0))).toBe(true);
    expect(a?.equals(c ?? Buffer.alloc(0))).toBe(false);
    expect((await runCli([...base, '--seed', '-1'], cleanEnv())).stderr).toContain('--seed must be a whole number');
  });

  it('refuses the sample options with --replay-capture, which sends a capture as captured', async () => {
    const run = await runCli(['send', '--replay-capture', join(tmp, 'capture.json'), '--user', 'a', '--url', receiver.url], cleanEnv());

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('--set, --user, --channel and --print do not apply to --replay-capture');
    expect(receiver.received).toHaveLength(0);
  });

  it('--print shows the body and sends nothing, needing no secret', async () => {
    const run = await runCli(['send', 'v3.post.didApprove', '--print', '--user', 'nok.s'], cleanEnv());

    expect(run.code).toBe(0);
    expect(receiver.received).toHaveLength(0);
    expect(parseEvent(run.stdout)).toMatchObject({ eventName: 'v3.post.didApprove', entities: { actorId: 'nok.s' } });
  });

  it('refuses a file that is not JSON unless --raw, which sends it byte for byte', async () => {
    const file = join(tmp, 'broken.json');
    writeFileSync(file, 'event=message.didCreate');

    const refused = await runCli(['send', file, '--url', receiver.url, '--secret', SECRET], cleanEnv());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${file} is not JSON (`);
    expect(refused.stderr).toContain('send it with --raw');
    expect(receiver.received).toHaveLength(0);

    const raw = await runCli(['send', file, '--raw', '--url', receiver.url, '--secret', SECRET], cleanEnv());
    expect(raw.code).toBe(0);
    expect(raw.stderr).toBe('');
    expect(receiver.received[0]?.body.toString('utf8')).toBe('event=message.didCreate');

    expect((await runCli(['send', 'message.didCreate', '--raw', '--url', receiver.url, '--secret', SECRET], cleanEnv())).stderr).toContain(
      "--raw applies to a file of your own; 'message.didCreate' is an event name",
    );
    expect((await runCli(['send', file, '--raw', '--set', 'a=1', '--url', receiver.url, '--secret', SECRET], cleanEnv())).stderr).toContain(
      '--raw sends your file byte for byte: it takes no --set, --user, --channel or --seed',
    );
    expect(receiver.received).toHaveLength(1);
  });

  it('fails with a hint when there is no secret at all', async () => {
    const run = await runCli(['send', 'message.didCreate', '--url', receiver.url], cleanEnv());

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('no webhook secret');
    expect(run.stderr).toContain('--secret');
    expect(run.stderr).toContain('npm start');
    expect(receiver.received).toHaveLength(0);
  });

  it("exits 1 naming the secret's origin when the receiver rejects the signature", async () => {
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
