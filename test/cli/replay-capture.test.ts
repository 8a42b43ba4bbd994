/**
 * `send --replay-capture`: deliveries captured by local mode (`startLocalPipeline({ captureDir })`,
 * what `dev --capture` runs) are posted again with the CLI, as captured or redacted and re-signed,
 * and local mode's own capture of the replay shows what was sent.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { sign, signAs } from '../../lambda/core/signature.js';
import { CAPTURE_FORMAT, type CaptureFile } from '../../local/capture.js';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import { planReplay } from '../../cli/replay-capture.js';
import { sampleBody } from '../support/samples.js';
import { runCli } from './run-cli.js';

const SECRET = 'replay-capture-secret';
let tmp: string;
let captures: string;
let pipeline: LocalPipeline;
let seen = new Set<string>();

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'replay-capture-'));
  captures = join(tmp, 'captures');
  pipeline = await startLocalPipeline({
    dir: join(tmp, 'state'),
    port: 0,
    secret: SECRET,
    sources: ['partner'],
    handlers: [],
    captureDir: captures,
    queue: { batchingWindowMs: 20, visibilityTimeoutMs: 200 },
    stream: { bufferIntervalMs: 100 },
  });
});

afterAll(async () => {
  await pipeline?.close();
  rmSync(tmp, { recursive: true, force: true });
});

// No test may pick up a secret, a local folder or a port from the machine it runs on.
const cleanEnv = () => ({ SOCIALPLUS_WEBHOOK_SECRET: undefined, SOCIALPLUS_LOCAL_DIR: join(tmp, 'no-local'), PORT: undefined });

/** A distinct body: the sample with one top-level field added. */
function variant(name: string, label: string): string {
  return `${sampleBody(name).trimEnd().replace(/}$/, '')},"replay":"${label}"}`;
}

/** Posts with header lines exactly as given (case, repeats), as a delivery through a tunnel would arrive. */
function deliver(path: string, headers: Array<[string, string]>, body: string): Promise<number> {
  const u = new URL(path, pipeline.url);
  const lines = [['Host', 'abc123.tunnel.example'], ...headers, ['Content-Length', String(Buffer.byteLength(body))]];
  return new Promise((resolve, reject) => {
    const req = request(
      { host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: lines.flat() as unknown as Record<string, string>, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The capture files written since the last call (after `settle`, which waits for them). */
async function newCaptures(): Promise<string[]> {
  await pipeline.settle();
  const now = readdirSync(captures).sort();
  const fresh = now.filter((f) => !seen.has(f)).map((f) => join(captures, f));
  seen = new Set(now);
  return fresh;
}

async function onlyNewCapture(): Promise<string> {
  const fresh = await newCaptures();
  expect(fresh).toHaveLength(1);
  return fresh[0] as string;
}

const readCapture = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as CaptureFile;

/** Header lines a replay sends as captured: all but the hop-by-hop ones. */
const endToEnd = (c: CaptureFile) => c.headers.filter(([k]) => !['host', 'content-length', 'connection'].includes(k.toLowerCase()));

/** Writes `capture` with its body redacted by hand; `keepBytes` leaves the captured `bodyBase64` in. */
function redact(file: string, from: string, to: string, keepBytes: boolean): { file: string; body: string } {
  const capture = readCapture(file) as CaptureFile & { bodyText: string };
  expect(capture.bodyText).toContain(from);
  const body = capture.bodyText.replace(from, to);
  const { bodyBase64: _original, ...rest } = capture;
  const out = join(tmp, `redacted-${eventIdOf(body)}.json`);
  writeFileSync(out, JSON.stringify({ ...rest, bodyText: body, ...(keepBytes ? { bodyBase64: capture.bodyBase64 } : {}) }, null, 2));
  return { file: out, body };
}

describe('send --replay-capture against local mode', () => {
  it('replays a captured delivery byte for byte: same event id, same header lines, stored once (the replay is a duplicate)', async () => {
    const body = variant('message.didCreate', 'as-captured');
    const eventId = eventIdOf(body);
    const status = await deliver(
      '/webhook/partner',
      [
        ['X-Amity-Signature', sign(body, SECRET)],
        ['Content-Type', 'application/json; charset=utf-8'],
        ['X-Trace', 'a'],
        ['x-trace', 'b'],
      ],
      body,
    );
    expect(status).toBe(200);
    const captured = await onlyNewCapture();
    expect(captured).toMatch(new RegExp(`-${eventId}\\.json$`));
    const duplicatesBefore = pipeline.metrics().Duplicate ?? 0;

    // No --url: local mode's URL from PORT, as `send` finds it; the source comes from the captured path.
    const run = await runCli(['send', '--replay-capture', captured], { ...cleanEnv(), PORT: String(pipeline.port) });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`POST http://localhost:${pipeline.port}/webhook/partner`);
    expect(run.stdout).toContain(`event ${eventId}`);
    expect(run.stdout).toMatch(/^200 \{\}/m);
    const replayed = readCapture(await onlyNewCapture());
    const original = readCapture(captured);
    expect(replayed.bodyBase64).toBe(original.bodyBase64);
    expect(endToEnd(replayed)).toEqual(endToEnd(original));
    expect(endToEnd(original)).toContainEqual(['X-Trace', 'a']);
    expect((pipeline.metrics().Duplicate ?? 0) - duplicatesBefore).toBe(1);
    expect(await pipeline.store.get(eventId)).toMatchObject({ eventId, source: 'partner' });
  });

  it('refuses a redacted capture as captured, and has it accepted with --resign', async () => {
    const body = variant('message.didFlag', 'redact-me').replace('"replay":"redact-me"', '"replay":"redact-me","reporter":"Alice Example"');
    expect(
      await deliver(
        '/webhook',
        [
          ['X-Amity-Signature', sign(body, SECRET)],
          ['Content-Type', 'application/json'],
        ],
        body,
      ),
    ).toBe(200);
    const captured = await onlyNewCapture();

    const edited = redact(captured, 'Alice Example', '[redacted]', true);
    const refused = await runCli(['send', '--replay-capture', edited.file, '--url', `${pipeline.url}/webhook`], cleanEnv());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('bodyText differs from its bodyBase64: sending bodyText');
    expect(refused.stderr).toContain('add --resign');
    expect(refused.stderr).toMatch(/the receiver answered 401 .*invalid signature.*replay with --resign/);
    await newCaptures();

    const clean = redact(captured, 'Alice Example', '[redacted]', false);
    const run = await runCli(['send', '--replay-capture', clean.file, '--url', `${pipeline.url}/webhook`, '--resign'], {
      ...cleanEnv(),
      SOCIALPLUS_WEBHOOK_SECRET: SECRET,
    });

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('re-signed X-Amity-Signature (base64) with the secret from SOCIALPLUS_WEBHOOK_SECRET');
    expect(run.stdout).toContain(`event ${eventIdOf(clean.body)}`);
    const resent = readCapture(await onlyNewCapture());
    expect(resent.bodyText).toBe(clean.body);
    expect(resent.headers).toContainEqual(['X-Amity-Signature', sign(clean.body, SECRET)]);
    expect(await pipeline.store.get(eventIdOf(clean.body))).toMatchObject({ payload: clean.body });
  });

  it('replays a capture signed in hex as captured, and re-signs it in hex', async () => {
    const body = variant('v3.post.didCreate', 'hex').replace('"replay":"hex"', '"replay":"hex","author":"Bob Example"');
    expect(
      await deliver(
        '/webhook/partner',
        [
          ['x-amity-signature', signAs(body, SECRET, 'hex')],
          ['content-type', 'application/json'],
        ],
        body,
      ),
    ).toBe(200);
    const captured = await onlyNewCapture();

    const asCaptured = await runCli(['send', '--replay-capture', captured, '--url', `${pipeline.url}/webhook`, '--json'], cleanEnv());
    expect(asCaptured.code).toBe(0);
    expect(JSON.parse(asCaptured.stdout)).toMatchObject({
      url: `${pipeline.url}/webhook/partner`,
      eventId: eventIdOf(body),
      status: 200,
      capturedStatus: 200,
      resigned: [],
    });
    expect(readCapture(await onlyNewCapture()).headers).toContainEqual(['x-amity-signature', signAs(body, SECRET, 'hex')]);

    const clean = redact(captured, 'Bob Example', '[redacted]', false);
    const run = await runCli(
      ['send', '--replay-capture', clean.file, '--url', `${pipeline.url}/webhook`, '--resign', '--secret', SECRET],
      cleanEnv(),
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('re-signed x-amity-signature (hex) with the secret from --secret');
    const signature = readCapture(await onlyNewCapture()).headers.find(([k]) => k === 'x-amity-signature')?.[1];
    expect(signature).toMatch(/^[0-9a-f]{64}$/);
    expect(signature).toBe(signAs(clean.body, SECRET, 'hex'));
    await pipeline.settle();
    expect(await pipeline.store.get(eventIdOf(clean.body))).toMatchObject({ source: 'partner' });
  });
});

describe('send --replay-capture: errors the user can fix', () => {
  const validCapture = (): CaptureFile => ({
    format: CAPTURE_FORMAT,
    receivedAt: '2025-06-01T12:34:56.789Z',
    method: 'POST',
    path: '/webhook',
    headers: [['Content-Type', 'application/json']],
    bodyText: '{}',
    bodyBase64: Buffer.from('{}').toString('base64'),
    answer: { status: 401 },
  });
  const write = (name: string, content: string) => {
    const file = join(tmp, name);
    writeFileSync(file, content);
    return file;
  };

  it.each([
    ['a missing file', () => ['send', '--replay-capture', join(tmp, 'nowhere.json')], /cannot read the capture file .*nowhere\.json: no such file/],
    [
      'a folder',
      () => (mkdirSync(join(tmp, 'a-folder'), { recursive: true }), ['send', '--replay-capture', join(tmp, 'a-folder')]),
      /cannot read the capture file .*a-folder: it is a folder/,
    ],
    [
      'a file that is not a capture',
      () => ['send', '--replay-capture', write('sample.json', sampleBody('message.didCreate'))],
      /sample\.json: not a capture file: it has no "format"/,
    ],
    [
      'a capture of an unknown format version',
      () => ['send', '--replay-capture', write('v2.json', JSON.stringify({ ...validCapture(), format: 'socialplus-webhooks-capture/2' }))],
      /v2\.json: capture format 'socialplus-webhooks-capture\/2' is not supported/,
    ],
    [
      '--resign of a capture without a signature header',
      () => ['send', '--replay-capture', write('unsigned.json', JSON.stringify(validCapture())), '--resign', '--secret', SECRET],
      /no x-amity-signature or x-eko-signature header to re-sign/,
    ],
    [
      '--resign without --replay-capture',
      () => ['send', 'message.didCreate', '--resign'],
      /--resign re-signs a replayed capture: use it with --replay-capture <file>/,
    ],
    [
      'a sample and --replay-capture at once',
      () => ['send', 'message.didCreate', '--replay-capture', write('both.json', JSON.stringify(validCapture()))],
      /give either 'message\.didCreate' to sign or --replay-capture <file>, not both/,
    ],
    [
      '--source with --replay-capture',
      () => ['send', '--replay-capture', write('source.json', JSON.stringify(validCapture())), '--source', 'partner'],
      /--source does not apply to --replay-capture/,
    ],
    ['nothing to send', () => ['send'], /nothing to send: give a sample name .* or --replay-capture <file>/],
  ])('fails on %s, naming the problem, without sending', async (_label, args, message) => {
    const before = readdirSync(captures).length;
    const run = await runCli([...args(), '--url', `${pipeline.url}/webhook`], cleanEnv());
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    await pipeline.settle();
    expect(readdirSync(captures)).toHaveLength(before);
  });
});

describe('planReplay', () => {
  const capture: CaptureFile = {
    format: CAPTURE_FORMAT,
    receivedAt: '2025-06-01T12:34:56.789Z',
    method: 'POST',
    path: '/webhook/eu-app?trace=1',
    headers: [
      ['Host', 'abc.tunnel.example'],
      ['X-Amity-Signature', 'c2ln'],
      ['Connection', 'keep-alive'],
      ['Transfer-Encoding', 'chunked'],
      ['X-Forwarded-For', '203.0.113.9'],
      ['Content-Length', '999'],
      ['X-Repeat', 'a'],
      ['X-Repeat', 'b'],
    ],
    bodyText: '{"event":"x"}',
    answer: { status: 200 },
  };

  it('keeps the captured source and query under --url, sets host and content-length where they were, and drops hop-by-hop headers', () => {
    const plan = planReplay(capture, { baseUrl: 'https://abc123.execute-api.eu-central-1.amazonaws.com/prod/webhook/' });
    expect(plan.url).toBe('https://abc123.execute-api.eu-central-1.amazonaws.com/prod/webhook/eu-app?trace=1');
    expect(plan.headers).toEqual([
      ['Host', 'abc123.execute-api.eu-central-1.amazonaws.com'],
      ['X-Amity-Signature', 'c2ln'],
      ['X-Forwarded-For', '203.0.113.9'],
      ['Content-Length', '13'],
      ['X-Repeat', 'a'],
      ['X-Repeat', 'b'],
    ]);
    expect(plan.dropped).toEqual(['connection', 'transfer-encoding']);
    expect(plan.eventId).toBe(eventIdOf('{"event":"x"}'));
  });

  it('refuses a capture whose path is not a webhook route', () => {
    expect(() => planReplay({ ...capture, path: '/admin/redrive' }, { baseUrl: 'http://localhost:3000/webhook' })).toThrow(
      /'\/admin\/redrive' is not a webhook route/,
    );
  });
});
