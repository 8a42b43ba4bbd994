/**
 * `dev --capture`: the front door's webhook hook and the capture writer (`local/capture.ts`), over
 * real HTTP with a stand-in receiver; the capture format's reader.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventIdOf } from '../../lambda/core/event-id.js';
import type { LogFields, Logger } from '../../lambda/core/telemetry.js';
import {
  CAPTURE_FORMAT,
  captureBody,
  CaptureDirError,
  CaptureFormatError,
  captureOf,
  CaptureWriter,
  parseCapture,
  serializeCapture,
  type CaptureFile,
} from '../../local/capture.js';
import { startFrontDoor, type FrontDoor, type WebhookExchange } from '../../local/http-front-door.js';
import { rawRequest as sendRaw, type RawRequestOptions, type RawResponse } from '../support/raw-request.js';

const ADMIN_TOKEN = 'capture-test-admin-token';

let tmp: string;
const doors: FrontDoor[] = [];

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'capture-test-'));
});
afterEach(async () => {
  await Promise.allSettled(doors.splice(0).map((d) => d.close()));
  rmSync(tmp, { recursive: true, force: true });
});

/** A logger that keeps every line. */
function recordingLogger() {
  const lines: Array<{ level: string; message: string; fields?: LogFields }> = [];
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { debug: at('DEBUG'), info: at('INFO'), warn: at('WARN'), error: at('ERROR') };
  return { logger, lines };
}

/** A front door capturing into `dir`, whose receiver answers `answer` (or throws when it is an Error). */
async function capturingDoor(
  dir: string,
  answer: APIGatewayProxyResult | Error = { statusCode: 200, headers: { 'content-type': 'application/json' }, body: '{}' },
  logger?: Logger,
) {
  const writer = await CaptureWriter.open({ dir, ...(logger ? { logger } : {}) });
  const door = await startFrontDoor({ port: 0, onWebhook: (x) => writer.record(x), ...(logger ? { logger } : {}) });
  doors.push(door);
  door.serve(async () => {
    if (answer instanceof Error) throw answer;
    return answer;
  });
  door.serveAdmin(ADMIN_TOKEN, async () => ({ statusCode: 200, body: { ok: true } }));
  return { door, writer };
}

/** A raw request on a connection of its own (none is left open for the door to wait on). */
const rawRequest = (url: string, opts: RawRequestOptions): Promise<RawResponse> => sendRaw(url, { ...opts, agent: false });

const files = (dir: string) => readdirSync(dir).sort();
const readCapture = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as CaptureFile;
const mode = (path: string) => statSync(path).mode & 0o777;

describe('dev --capture: the capture files', () => {
  it('writes one 0600 file per webhook request into a 0700 folder it creates, with the method, path, every header line and the exact body', async () => {
    const dir = join(tmp, 'captures', 'nested');
    const { door, writer } = await capturingDoor(dir, {
      statusCode: 401,
      headers: { 'content-type': 'application/json' },
      body: '{"message":"invalid signature"}',
    });
    const body = Buffer.from('{"event":"message.didCreate","data":{"text":"héllo 👋"}}', 'utf8');
    const headers: Array<[string, string]> = [
      ['X-Amity-Signature', 'c2lnbmF0dXJl'],
      ['Content-Type', 'application/json'],
      ['X-Repeat', 'a'],
      ['x-repeat', 'b'],
    ];

    const res = await rawRequest(door.url, { path: '/webhook/partner?trace=1', headers, body });
    await writer.flush();

    expect(res.status).toBe(401);
    expect(mode(dir)).toBe(0o700);
    const names = files(dir);
    expect(names).toHaveLength(1);
    const name = names[0] as string;
    expect(name).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d-\\d\\d-\\d\\d\\.\\d{3}Z-${eventIdOf(body)}\\.json$`));
    expect(mode(join(dir, name))).toBe(0o600);
    const capture = readCapture(join(dir, name));
    expect(capture).toMatchObject({ format: CAPTURE_FORMAT, method: 'POST', path: '/webhook/partner?trace=1', answer: { status: 401 } });
    // Node's client adds `Connection: close` (no keep-alive agent): every line as it arrived.
    expect(capture.headers).toEqual([['Host', new URL(door.url).host], ...headers, ['Content-Length', String(body.length)], ['Connection', 'close']]);
    expect(capture.bodyText).toBe(body.toString('utf8'));
    expect(Buffer.from(capture.bodyBase64 as string, 'base64').equals(body)).toBe(true);
    expect(new Date(capture.receivedAt).toISOString()).toBe(capture.receivedAt);
    expect(name.startsWith(capture.receivedAt.replace(/:/g, '-'))).toBe(true);
  });

  it('keeps a body that is not UTF-8 byte for byte, in bodyBase64 only', async () => {
    const dir = join(tmp, 'captures');
    const { door, writer } = await capturingDoor(dir);
    const body = Buffer.concat([Buffer.from('{"event":"message.didCreate","x":"'), Buffer.from([0xff, 0xfe, 0x00, 0xc3]), Buffer.from('"}')]);

    await rawRequest(door.url, { path: '/webhook', headers: [['x-amity-signature', 'c2ln']], body });
    await writer.flush();

    const [name] = files(dir);
    expect(name).toContain(eventIdOf(body));
    const capture = parseCapture(readFileSync(join(dir, name as string), 'utf8'));
    expect(capture.bodyText).toBeUndefined();
    expect(Buffer.from(capture.bodyBase64 as string, 'base64').equals(body)).toBe(true);
    expect(captureBody(capture)).toEqual({ bytes: body, from: 'bodyBase64', edited: false });
  });

  it('captures nothing for the admin routes, /healthz, other routes or other methods', async () => {
    const dir = join(tmp, 'captures');
    const { door, writer } = await capturingDoor(dir);

    const admin = await rawRequest(door.url, {
      path: '/admin/redrive',
      headers: [['Authorization', `Bearer ${ADMIN_TOKEN}`]],
      body: Buffer.from('{}'),
    });
    const health = await rawRequest(door.url, { method: 'GET', path: '/healthz' });
    const other = await rawRequest(door.url, { path: '/elsewhere', body: Buffer.from('{}') });
    const get = await rawRequest(door.url, { method: 'GET', path: '/webhook' });
    await writer.flush();

    expect([admin.status, health.status, other.status, get.status]).toEqual([200, 200, 404, 405]);
    expect(files(dir)).toEqual([]);
  });

  it('captures a request answered from its head as such: its headers and answer, no body (none was read), and it cannot be replayed', async () => {
    const dir = join(tmp, 'captures');
    const writer = await CaptureWriter.open({ dir });
    const door = await startFrontDoor({ port: 0, onWebhook: (x) => writer.record(x) });
    doors.push(door);
    door.serve(
      async () => ({ statusCode: 200, body: '{}' }),
      (head) => (head.headers['x-amity-signature'] ? undefined : { statusCode: 401, body: '{"message":"missing x-amity-signature"}' }),
    );

    const res = await rawRequest(door.url, {
      path: '/webhook',
      headers: [['Content-Type', 'application/json']],
      body: Buffer.from('{"event":"message.didCreate","data":{}}'),
    });
    await writer.flush();

    expect(res.status).toBe(401);
    const [name] = files(dir);
    const text = readFileSync(join(dir, name as string), 'utf8');
    const capture = JSON.parse(text) as Record<string, unknown>;
    expect(capture).toMatchObject({ method: 'POST', path: '/webhook', bodyNotRead: true, answer: { status: 401 } });
    expect(capture).not.toHaveProperty('bodyText');
    expect(capture).not.toHaveProperty('bodyBase64');
    expect(capture.headers).toContainEqual(['Content-Type', 'application/json']);
    expect(() => parseCapture(text)).toThrow(CaptureFormatError);
    expect(() => parseCapture(text)).toThrow(
      "this capture holds no body: local mode answered 401 from the request's headers and never read its body, so there is nothing to replay",
    );
  });

  it('captures a request the receiver failed on, with the 500 answered', async () => {
    const dir = join(tmp, 'captures');
    const { door, writer } = await capturingDoor(dir, new Error('boom'));

    const res = await rawRequest(door.url, { path: '/webhook', body: Buffer.from('{"event":"x"}') });
    await writer.flush();

    expect(res.status).toBe(500);
    const [name] = files(dir);
    expect(readCapture(join(dir, name as string)).answer).toEqual({ status: 500 });
  });

  it('numbers a second capture of the same body received in the same millisecond rather than overwriting it', async () => {
    const dir = join(tmp, 'captures');
    const writer = await CaptureWriter.open({ dir });
    const exchange: WebhookExchange = {
      receivedAt: new Date('2025-06-01T12:34:56.789Z'),
      method: 'POST',
      target: '/webhook',
      rawHeaders: ['Host', 'x'],
      body: Buffer.from('{}'),
      status: 200,
    };

    writer.record(exchange);
    writer.record(exchange);
    await writer.flush();

    const id = eventIdOf('{}');
    expect(files(dir)).toEqual([`2025-06-01T12-34-56.789Z-${id}-2.json`, `2025-06-01T12-34-56.789Z-${id}.json`]);
  });

  it('answers every request when a capture cannot be written, and logs the failure once without the body or the signature', async () => {
    const dir = join(tmp, 'captures');
    const { logger, lines } = recordingLogger();
    const { door, writer } = await capturingDoor(dir, undefined, logger);
    rmSync(dir, { recursive: true });
    const body = Buffer.from('{"event":"message.didCreate","data":{"text":"personal data"}}');

    const first = await rawRequest(door.url, { path: '/webhook', headers: [['x-amity-signature', 'c2VjcmV0LXNpZ25hdHVyZQ==']], body });
    const second = await rawRequest(door.url, { path: '/webhook', headers: [['x-amity-signature', 'c2VjcmV0LXNpZ25hdHVyZQ==']], body });
    await writer.flush();

    expect([first.status, second.status]).toEqual([200, 200]);
    const errors = lines.filter((l) => l.level === 'ERROR');
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/capture/);
    const logged = JSON.stringify(lines);
    expect(logged).not.toContain('personal data');
    expect(logged).not.toContain('c2VjcmV0LXNpZ25hdHVyZQ==');
  });

  it('fails to open on a path that is a file, and warns about an existing folder open to others', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, '');
    await expect(CaptureWriter.open({ dir: file })).rejects.toThrow(CaptureDirError);
    await expect(CaptureWriter.open({ dir: file })).rejects.toThrow(/is not a folder/);

    const open = join(tmp, 'open');
    mkdirSync(open);
    chmodSync(open, 0o755);
    const { logger, lines } = recordingLogger();
    await CaptureWriter.open({ dir: open, logger });
    expect(lines.filter((l) => l.level === 'WARN').map((l) => l.fields?.fix)).toEqual([`chmod 700 ${open}`]);
    // An existing folder is the user's: its mode is left as it is.
    expect(mode(open)).toBe(0o755);
  });
});

describe('capture format', () => {
  const exchange: WebhookExchange = {
    receivedAt: new Date('2025-06-01T12:34:56.789Z'),
    method: 'POST',
    target: '/webhook',
    rawHeaders: ['Host', 'h', 'X-Quote', 'say "headers": [] $& $\''],
    body: Buffer.from('{"headers": [],"event":"x"}'),
    status: 200,
  };
  const valid = () => JSON.parse(serializeCapture(captureOf(exchange))) as Record<string, unknown>;

  it('reads back what it writes, one header pair per line', () => {
    const text = serializeCapture(captureOf(exchange));
    expect(parseCapture(text)).toEqual(captureOf(exchange));
    expect(text).toContain('\n    ["X-Quote","say \\"headers\\": [] $& $\'"]\n');
    expect(Object.keys(valid())).toEqual(['format', 'receivedAt', 'method', 'path', 'headers', 'bodyText', 'bodyBase64', 'answer']);
  });

  it('writes a request answered from its head with "bodyNotRead": true in place of the body; a body added by hand makes it replayable', () => {
    const unread = captureOf({ ...exchange, body: Buffer.alloc(0), status: 401, bodyNotRead: true });
    expect(Object.keys(JSON.parse(serializeCapture(unread)))).toEqual(['format', 'receivedAt', 'method', 'path', 'headers', 'bodyNotRead', 'answer']);
    const edited = parseCapture(JSON.stringify({ ...unread, bodyText: '{"event":"x"}' }));
    expect(edited.bodyNotRead).toBe(true);
    expect(captureBody(edited)).toEqual({ bytes: Buffer.from('{"event":"x"}'), from: 'bodyText', edited: false });
  });

  it('prefers an edited bodyText to bodyBase64, and says it was edited', () => {
    const capture = { ...captureOf(exchange), bodyText: '{"event":"x","text":"[redacted]"}' };
    expect(captureBody(capture)).toEqual({ bytes: Buffer.from(capture.bodyText), from: 'bodyText', edited: true });
    const { bodyBase64: _dropped, ...withoutBytes } = capture;
    expect(captureBody(withoutBytes)).toEqual({ bytes: Buffer.from(capture.bodyText), from: 'bodyText', edited: false });
  });

  it.each([
    ['not JSON', 'nope', /not a capture file: not JSON/],
    ['a JSON array', '[]', /not a capture file: not a JSON object/],
    ['another JSON document', '{"event":"message.didCreate"}', /not a capture file: it has no "format": "socialplus-webhooks-capture\/1"/],
    [
      'an unknown format version',
      JSON.stringify({ ...valid(), format: 'socialplus-webhooks-capture/2' }),
      /capture format 'socialplus-webhooks-capture\/2' is not supported: this version reads socialplus-webhooks-capture\/1 only/,
    ],
    ['headers that are not pairs', JSON.stringify({ ...valid(), headers: { Host: 'h' } }), /"headers" must be a list of \[name, value\] pairs/],
    ['no body', JSON.stringify({ ...valid(), bodyText: undefined, bodyBase64: undefined }), /neither "bodyText" nor "bodyBase64"/],
    ['a bodyBase64 that is not base64', JSON.stringify({ ...valid(), bodyBase64: 'not base64!' }), /"bodyBase64" must be base64/],
    ['no answer status', JSON.stringify({ ...valid(), answer: {} }), /"answer" must be an object with an integer "status"/],
    ['a bodyNotRead that is not true', JSON.stringify({ ...valid(), bodyNotRead: 'yes' }), /"bodyNotRead" must be true when present/],
  ])('refuses %s, naming what is wrong', (_label, text, message) => {
    expect(() => parseCapture(text)).toThrow(CaptureFormatError);
    expect(() => parseCapture(text)).toThrow(message);
  });
});
