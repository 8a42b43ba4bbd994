import { createServer, request as httpRequest, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import dynalite from 'dynalite';
import { afterEach, describe, expect, it } from 'vitest';
import { guardEmulator, type EmulatorGuardOptions, type EmulatorRefusal } from '../../local/emulator-guard.js';

const CREDENTIALS = { accessKeyId: 'LOCALTESTKEY0000ABCD', secretAccessKey: 'test-secret-abcdefghijklmnopqrstuvwxyz0123' };
const WRONG_SECRET = { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: 'another-secret-abcdefghijklmnopqrstuvwxy' };
const WRONG_KEY = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const REGION = 'us-east-1';

interface Guarded {
  readonly endpoint: string;
  readonly port: number;
  /** How many requests reached the emulator behind the guard. */
  readonly passed: () => number;
  readonly refusals: EmulatorRefusal[];
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

async function guarded(service: 'dynamodb' | 's3', inner: RequestListener, extra: Partial<EmulatorGuardOptions> = {}): Promise<Guarded> {
  let passed = 0;
  const refusals: EmulatorRefusal[] = [];
  const server = createServer();
  const counting: RequestListener = (req, res) => {
    passed++;
    inner(req, res);
  };
  server.on(
    'request',
    guardEmulator(counting, {
      service,
      credentials: CREDENTIALS,
      port: () => (server.address() as AddressInfo).port,
      onRefuse: (r) => refusals.push(r),
      ...extra,
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  const port = (server.address() as AddressInfo).port;
  return { endpoint: `http://127.0.0.1:${port}`, port, passed: () => passed, refusals };
}

function dynaliteListener(): RequestListener {
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  return server.listeners('request')[0] as RequestListener;
}

function ddb(endpoint: string, credentials = CREDENTIALS): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: REGION, credentials, maxAttempts: 1 });
}

function s3(endpoint: string, credentials = CREDENTIALS): S3Client {
  return new S3Client({ endpoint, region: REGION, credentials, forcePathStyle: true, maxAttempts: 1 });
}

/** Adds a header to every request a client sends (after the SDK has built it, before signing). */
function withHeader<C extends DynamoDBClient | S3Client>(client: C, name: string, value: string): C {
  (client.middlewareStack as unknown as DynamoDBClient['middlewareStack']).add(
    (next) => async (args) => {
      (args.request as { headers: Record<string, string> }).headers[name] = value;
      return next(args);
    },
    { step: 'build', name: `add-${name}` },
  );
  return client;
}

async function rejection(p: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected the call to fail');
  return err;
}

/**
 * A stand-in S3 behind the guard: keeps objects in memory and records what reached it, so the tests
 * can check the guard passes requests (key, query, body) on exactly as sent.
 */
function fakeS3(): { listener: RequestListener; seen: Array<{ method: string; url: string; sha: string | undefined; body: Buffer }> } {
  const objects = new Map<string, { body: Buffer; meta: Record<string, string> }>();
  const seen: Array<{ method: string; url: string; sha: string | undefined; body: Buffer }> = [];
  const listener: RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding']?.includes('aws-chunked') ? decodeAwsChunked(raw) : raw;
      const url = new URL(req.url!, 'http://x');
      seen.push({ method: req.method!, url: req.url!, sha: req.headers['x-amz-content-sha256'] as string | undefined, body });
      const [, bucket, ...rest] = url.pathname.split('/');
      const key = rest.map(decodeURIComponent).join('/');
      const id = `${bucket}/${key}`;
      if (req.method === 'PUT') {
        const meta = Object.fromEntries(
          Object.entries(req.headers)
            .filter(([k]) => k.startsWith('x-amz-meta-'))
            .map(([k, v]) => [k, String(v)]),
        );
        objects.set(id, { body, meta });
        res.setHeader('ETag', `"${createHash('md5').update(body).digest('hex')}"`);
        res.end();
      } else if (req.method === 'GET' && key === '') {
        const prefix = url.searchParams.get('prefix') ?? '';
        const token = url.searchParams.get('continuation-token');
        const all = [...objects.keys()].filter((k) => k.startsWith(`${bucket}/${prefix}`)).sort();
        const start = token ? Number(token.slice(token.lastIndexOf('#') + 1)) : 0;
        const page = all.slice(start, start + Number(url.searchParams.get('max-keys') ?? 1000));
        const more = start + page.length < all.length;
        const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');
        res.setHeader('Content-Type', 'application/xml');
        res.end(
          `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>${bucket}</Name><Prefix>${esc(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><IsTruncated>${more}</IsTruncated>` +
            page
              .map((k) => `<Contents><Key>${esc(k.slice(bucket!.length + 1))}</Key><Size>${objects.get(k)!.body.length}</Size></Contents>`)
              .join('') +
            // A token with the characters that query encoding gets wrong most often.
            (more ? `<NextContinuationToken>${esc(`tok +/=%~&#${start + page.length}`)}</NextContinuationToken>` : '') +
            '</ListBucketResult>',
        );
      } else if (req.method === 'GET') {
        const o = objects.get(id);
        if (!o) {
          res.statusCode = 404;
          res.setHeader('Content-Type', 'application/xml');
          res.end('<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>');
          return;
        }
        for (const [k, v] of Object.entries(o.meta)) res.setHeader(k, v);
        res.setHeader('Content-Length', o.body.length);
        res.end(o.body);
      } else if (req.method === 'DELETE') {
        objects.delete(id);
        res.statusCode = 204;
        res.end();
      } else {
        res.statusCode = 405;
        res.end();
      }
    });
  };
  return { listener, seen };
}

function decodeAwsChunked(raw: Buffer): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    const size = parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (size === 0) break;
    out.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(out);
}

class Sha256 {
  private h: Hash | Hmac;
  constructor(private readonly key?: string | ArrayBuffer | ArrayBufferView) {
    this.h = this.fresh();
  }
  update(d: string | ArrayBuffer | ArrayBufferView) {
    this.h.update(typeof d === 'string' ? d : Buffer.from(d as Uint8Array));
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset() {
    this.h = this.fresh();
  }
  private fresh() {
    return this.key === undefined
      ? createHash('sha256')
      : createHmac('sha256', typeof this.key === 'string' ? this.key : Buffer.from(this.key as Uint8Array));
  }
}

/** Sends one hand-signed request (SigV4 with the given credentials), for shapes the SDK never sends. */
async function signedRaw(
  port: number,
  opts: {
    service: 'dynamodb' | 's3';
    method?: string;
    path?: string;
    query?: Record<string, string>;
    headers?: Record<string, string>;
    body?: string;
    /** What is sent, when not the body signed. */
    sendBody?: string;
    credentials?: { accessKeyId: string; secretAccessKey: string };
    presign?: boolean;
  },
): Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }> {
  const signer = new SignatureV4({
    credentials: opts.credentials ?? CREDENTIALS,
    region: REGION,
    service: opts.service,
    sha256: Sha256,
    uriEscapePath: opts.service !== 's3',
    applyChecksum: false,
  });
  const req = {
    method: opts.method ?? 'POST',
    protocol: 'http:',
    hostname: '127.0.0.1',
    port,
    path: opts.path ?? '/',
    query: opts.query ?? {},
    headers: { host: `127.0.0.1:${port}`, ...opts.headers },
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  };
  const signed = opts.presign ? await signer.presign(req) : await signer.sign(req);
  const qs = Object.entries(signed.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
    .join('&');
  return raw(port, {
    method: req.method,
    path: `${req.path}${qs ? `?${qs}` : ''}`,
    headers: signed.headers,
    ...(opts.body !== undefined ? { body: opts.sendBody ?? opts.body } : {}),
  });
}

function raw(
  port: number,
  opts: { method: string; path: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; body: string; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    const r = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: opts.method,
        path: opts.path,
        headers: opts.headers,
        setHost: !Object.keys(opts.headers).some((h) => h.toLowerCase() === 'host'),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8'), headers: res.headers }));
      },
    );
    r.on('error', reject);
    r.end(opts.body);
  });
}

describe('guardEmulator in front of dynalite', () => {
  const table = 'guarded';
  const createTable = (client: DynamoDBClient) =>
    client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );

  it("passes requests signed with the installation's credentials, body intact", async () => {
    const g = await guarded('dynamodb', dynaliteListener());
    const client = ddb(g.endpoint);
    await createTable(client);
    const text = 'ünïcödé ✓ "quoted" \\ back+slash %20 ~';
    await client.send(new PutItemCommand({ TableName: table, Item: { pk: { S: 'a' }, sk: { S: '1' }, text: { S: text } } }));
    await client.send(
      new BatchWriteItemCommand({
        RequestItems: {
          [table]: Array.from({ length: 20 }, (_, i) => ({
            PutRequest: { Item: { pk: { S: 'b' }, sk: { S: String(i).padStart(2, '0') }, blob: { B: Buffer.alloc(1000, i) } } },
          })),
        },
      }),
    );
    const got = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'a' }, sk: { S: '1' } } }));
    expect(got.Item?.text?.S).toBe(text);
    const q = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :p AND sk >= :s',
        ExpressionAttributeValues: { ':p': { S: 'b' }, ':s': { S: '10' } },
      }),
    );
    expect(q.Items?.map((i) => i.sk?.S)).toEqual(Array.from({ length: 10 }, (_, i) => String(10 + i)));
    expect(q.Items?.[0]?.blob?.B).toEqual(new Uint8Array(Buffer.alloc(1000, 10)));
    expect((await client.send(new ListTablesCommand({}))).TableNames).toEqual([table]);
    expect(g.refusals).toEqual([]);
    expect(g.passed()).toBe(6);
    client.destroy();
  });

  it.each([
    [
      'a wrong secret',
      WRONG_SECRET,
      'InvalidSignatureException',
      /signature does not match: sign with the secret access key in \.local\/emulator-credentials\.json/,
    ],
    [
      'another access key id (the old S3RVER one)',
      WRONG_KEY,
      'UnrecognizedClientException',
      /access key id is not this installation's: use the credentials in \.local\/emulator-credentials\.json/,
    ],
  ])('refuses %s without reaching dynalite', async (_, credentials, name, message) => {
    const g = await guarded('dynamodb', dynaliteListener());
    const client = ddb(g.endpoint, credentials);
    const err = await rejection(client.send(new ListTablesCommand({})));
    expect(err.name).toBe(name);
    expect(err.message).toMatch(message);
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(err.message).not.toContain(CREDENTIALS.secretAccessKey);
    expect(g.passed()).toBe(0);
    client.destroy();
  });

  it('never puts the secret or the expected signature in a refusal', async () => {
    const g = await guarded('dynamodb', dynaliteListener());
    const res = await signedRaw(g.port, {
      service: 'dynamodb',
      credentials: WRONG_SECRET,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    // The signature the right secret gives for this very request.
    const right = await signedRaw(g.port, {
      service: 'dynamodb',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(right.status).toBe(200);
    expect(res.status).toBe(400);
    const text = JSON.stringify({ body: res.body, headers: res.headers, refusals: g.refusals });
    expect(text).not.toContain(CREDENTIALS.secretAccessKey);
    expect(text).not.toMatch(/[0-9a-f]{64}/);
  });

  it('refuses a request from a web page (Origin header) even when it is signed correctly', async () => {
    const g = await guarded('dynamodb', dynaliteListener());
    const client = withHeader(ddb(g.endpoint), 'origin', 'https://evil.example');
    const err = await rejection(client.send(new ListTablesCommand({})));
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toMatch(/local mode's emulators answer no web pages/);
    expect(g.passed()).toBe(0);
    client.destroy();
  });

  it('answers a CORS preflight with no Access-Control-Allow-Origin', async () => {
    const g = await guarded('dynamodb', dynaliteListener());
    const res = await raw(g.port, {
      method: 'OPTIONS',
      path: '/',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(400);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(JSON.parse(res.body)).toEqual({
      __type: 'com.amazon.coral.service#AccessDeniedException',
      message: expect.stringMatching(/answer no web pages/),
    });
    // Without Origin too (a preflight is never what an SDK sends).
    const bare = await raw(g.port, { method: 'OPTIONS', path: '/', headers: {} });
    expect(JSON.parse(bare.body).message).toMatch(/CORS preflight \(OPTIONS\) requests are refused/);
    expect(g.passed()).toBe(0);
  });

  it('refuses what a browser sends without Origin (a no-cors GET carries Sec-Fetch-*)', async () => {
    const g = await guarded('dynamodb', dynaliteListener());
    const res = await raw(g.port, { method: 'GET', path: '/', headers: { 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' } });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).message).toBe(
      "local mode's emulators answer no web pages: a request with Sec-Fetch-* headers (sent by browsers) is refused",
    );
    expect(g.passed()).toBe(0);
  });

  it('refuses a simple cross-origin POST a page can send without preflight', async () => {
    const g = await guarded('dynamodb', dynaliteListener());
    const res = await raw(g.port, {
      method: 'POST',
      path: '/',
      headers: { origin: 'null', 'content-type': 'text/plain', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(res.status).toBe(400);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(g.passed()).toBe(0);
  });

  it('refuses another Host (DNS rebinding), even signed for that host', async () => {
    const g = await guarded('dynamodb', dynaliteListener());
    const client = withHeader(ddb(g.endpoint), 'host', `rebind.example:${g.port}`);
    const err = await rejection(client.send(new ListTablesCommand({})));
    expect(err.name).toBe('AccessDeniedException');
    expect(err.message).toBe(
      `the Host header must be 127.0.0.1:${g.port}, localhost:${g.port} or [::1]:${g.port}, not 'rebind.example:${g.port}': local mode's emulators refuse other host names, which a DNS-rebinding web page would send`,
    );
    // The right name with another port is refused too.
    const other = await signedRaw(g.port, {
      service: 'dynamodb',
      headers: { host: `127.0.0.1:${g.port + 1}`, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(JSON.parse(other.body).message).toMatch(/Host header must be/);
    // localhost:<port> is fine.
    const local = await signedRaw(g.port, {
      service: 'dynamodb',
      headers: { host: `localhost:${g.port}`, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(local.status).toBe(200);
    expect(g.passed()).toBe(1);
    client.destroy();
  });

  it('refuses an unsigned request and a presigned one, each with its own message', async () => {
    const g = await guarded('dynamodb', dynaliteListener());
    const unsigned = await raw(g.port, {
      method: 'POST',
      path: '/',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(unsigned.status).toBe(400);
    expect(JSON.parse(unsigned.body)).toEqual({
      __type: 'com.amazon.coral.service#MissingAuthenticationTokenException',
      message:
        "the request is not signed: local mode's emulators accept only SigV4-signed requests (Authorization: AWS4-HMAC-SHA256 ...); use the credentials in .local/emulator-credentials.json",
    });
    const presigned = await signedRaw(g.port, {
      service: 'dynamodb',
      presign: true,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{}',
    });
    expect(JSON.parse(presigned.body).message).toMatch(/^presigned URLs \(query-string authentication\) are not accepted/);
    // dynalite's health check (GET /) is not open either.
    expect((await raw(g.port, { method: 'GET', path: '/', headers: {} })).status).toBe(400);
    expect(g.passed()).toBe(0);
  });

  it('refuses a request dated more than 15 minutes off its clock', async () => {
    let offset = 16 * 60 * 1000;
    const g = await guarded('dynamodb', dynaliteListener(), { now: () => Date.now() + offset });
    const client = ddb(g.endpoint);
    const err = await rejection(client.send(new ListTablesCommand({})));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toMatch(/X-Amz-Date \d{8}T\d{6}Z is more than 15 minutes behind the emulator's clock/);
    offset = -16 * 60 * 1000;
    expect((await rejection(client.send(new ListTablesCommand({})))).message).toMatch(/more than 15 minutes ahead of the emulator's clock/);
    expect(g.passed()).toBe(0);
    offset = 14 * 60 * 1000;
    await client.send(new ListTablesCommand({}));
    expect(g.passed()).toBe(1);
    client.destroy();
  });

  it('refuses a body whose bytes were changed after signing', async () => {
    const g = await guarded('dynamodb', dynaliteListener());
    const client = ddb(g.endpoint);
    client.middlewareStack.add(
      (next) => async (args) => {
        const request = args.request as { body: Uint8Array | string };
        request.body = Buffer.from(
          (typeof request.body === 'string' ? request.body : new TextDecoder().decode(request.body)).replace(
            '"ExclusiveStartTableName":"a"',
            '"ExclusiveStartTableName":"b"',
          ),
        );
        return next(args);
      },
      { step: 'finalizeRequest', name: 'tamper', priority: 'low' },
    );
    const err = await rejection(client.send(new ListTablesCommand({ ExclusiveStartTableName: 'a' })));
    expect(err.name).toBe('InvalidSignatureException');
    expect(err.message).toBe('the x-amz-content-sha256 header does not match the request body');
    // Without x-amz-content-sha256 the body's hash is part of the signature.
    const res = await signedRaw(g.port, {
      service: 'dynamodb',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: '{"Limit":1}',
      sendBody: '{"Limit":2}',
    });
    expect(JSON.parse(res.body)).toEqual({
      __type: 'com.amazon.coral.service#InvalidSignatureException',
      message: 'the request signature does not match: sign with the secret access key in .local/emulator-credentials.json',
    });
    expect(g.passed()).toBe(0);
    client.destroy();
  });

  it('answers 413 to a body over the limit without reading it all', async () => {
    const g = await guarded('dynamodb', dynaliteListener(), { maxBodyBytes: 1024 });
    const res = await signedRaw(g.port, {
      service: 'dynamodb',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables' },
      body: JSON.stringify({ pad: 'x'.repeat(2048) }),
    });
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body).message).toBe('the request body is larger than 1024 bytes');
    expect(g.passed()).toBe(0);
  });

  it('refuses a credential scoped to another service, and a session token', async () => {
    const g = await guarded('dynamodb', dynaliteListener());
    const s3Scoped = await signedRaw(g.port, {
      service: 's3',
      headers: {
        'content-type': 'application/x-amz-json-1.0',
        'x-amz-target': 'DynamoDB_20120810.ListTables',
        'x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
      },
      body: '{}',
    });
    expect(JSON.parse(s3Scoped.body).message).toBe("the credential is scoped to service 's3', but this emulator is 'dynamodb'");
    const token = await signedRaw(g.port, {
      service: 'dynamodb',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'DynamoDB_20120810.ListTables', 'x-amz-security-token': 'abc' },
      body: '{}',
    });
    expect(JSON.parse(token.body).__type).toBe('com.amazon.coral.service#UnrecognizedClientException');
    expect(g.passed()).toBe(0);
  });
});

describe('guardEmulator in front of S3', () => {
  const bucket = 'guarded-bucket';
  const keys = [
    'with space.txt',
    'ünïcödé/ключ.json',
    'a+b.txt',
    '100%.txt',
    'tilde~x',
    'eq=sign&amp',
    'nested/dir/file',
    "star*(paren)'s!",
    'semi;colon,comma',
  ];

  it('passes PutObject, GetObject, ListObjectsV2 and DeleteObject for keys with special characters', async () => {
    const fake = fakeS3();
    const g = await guarded('s3', fake.listener);
    const client = s3(g.endpoint);
    for (const [i, key] of keys.entries()) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: `body ${i} ✓`, Metadata: { note: `n ${i}`, 'with-dash': 'x' } }));
    }
    for (const [i, key] of keys.entries()) {
      const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      expect(await got.Body!.transformToString()).toBe(`body ${i} ✓`);
      expect(got.Metadata).toEqual({ note: `n ${i}`, 'with-dash': 'x' });
    }
    const listed: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 2, ...(token ? { ContinuationToken: token } : {}) }));
      listed.push(...(page.Contents ?? []).map((c) => c.Key!));
      token = page.NextContinuationToken;
      pages++;
    } while (token);
    expect(listed).toEqual([...keys].sort());
    expect(pages).toBe(5);
    const prefixed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'ünïcödé/ключ' }));
    expect(prefixed.Contents?.map((c) => c.Key)).toEqual(['ünïcödé/ключ.json']);
    for (const prefix of ['a+', '100%', 'with space', 'eq=sign&', 'star*(']) {
      const p = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
      expect(p.Contents?.length).toBe(1);
    }
    for (const key of keys) await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    expect((await rejection(client.send(new GetObjectCommand({ Bucket: bucket, Key: keys[0] })))).name).toBe('NoSuchKey');
    expect(g.refusals).toEqual([]);
    client.destroy();
  });

  it('passes a streamed upload body through unread', async () => {
    const fake = fakeS3();
    const g = await guarded('s3', fake.listener);
    const client = s3(g.endpoint);
    const bytes = Buffer.alloc(300_000, 7);
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'stream.bin',
        Body: Readable.from([bytes.subarray(0, 100_000), bytes.subarray(100_000)]),
        ContentLength: bytes.length,
      }),
    );
    const put = fake.seen.find((s) => s.method === 'PUT')!;
    // The SDK sends a stream as aws-chunked with a trailing checksum, its payload unsigned.
    expect(put.sha).toBe('STREAMING-UNSIGNED-PAYLOAD-TRAILER');
    expect(put.body.equals(bytes)).toBe(true);
    client.destroy();
  });

  it.each([
    ['a wrong secret', WRONG_SECRET, 'SignatureDoesNotMatch', /signature does not match/],
    [
      'the well-known S3RVER key',
      WRONG_KEY,
      'InvalidAccessKeyId',
      /access key id is not this installation's: use the credentials in \.local\/emulator-credentials\.json/,
    ],
  ])('refuses %s with 403 before the emulator sees the request', async (_, credentials, name, message) => {
    const fake = fakeS3();
    const g = await guarded('s3', fake.listener);
    const client = s3(g.endpoint, credentials);
    const err = await rejection(client.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' })));
    expect(err.name).toBe(name);
    expect(err.message).toMatch(message);
    expect(err.$metadata?.httpStatusCode).toBe(403);
    expect(g.passed()).toBe(0);
    expect(fake.seen).toEqual([]);
    client.destroy();
  });

  it('refuses the cross-origin multipart POST a web page can send without preflight', async () => {
    const fake = fakeS3();
    const g = await guarded('s3', fake.listener);
    const boundary = '----form';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nplanted.txt\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\nowned\r\n--${boundary}--\r\n`;
    const res = await raw(g.port, {
      method: 'POST',
      path: `/${bucket}`,
      headers: { origin: 'https://evil.example', 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    expect(res.status).toBe(403);
    expect(res.headers['access-control-allow-origin']).toBeUndefined();
    expect(res.body).toContain('<Code>AccessDenied</Code>');
    expect(res.body).toContain('local mode&apos;s emulators answer no web pages');
    // The same POST without Origin (a non-browser) is refused as unsigned.
    const bare = await raw(g.port, {
      method: 'POST',
      path: `/${bucket}`,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
      body,
    });
    expect(bare.status).toBe(403);
    expect(bare.body).toContain('the request is not signed');
    expect(fake.seen).toEqual([]);
  });

  it('refuses Origin, another Host, a presigned URL, a skewed date and chunk-signed uploads', async () => {
    const fake = fakeS3();
    let offset = 0;
    const g = await guarded('s3', fake.listener, { now: () => Date.now() + offset });
    const origin = withHeader(s3(g.endpoint), 'origin', 'http://localhost:8080');
    expect((await rejection(origin.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })))).message).toMatch(/answer no web pages/);
    const host = withHeader(s3(g.endpoint), 'host', `attacker.example:${g.port}`);
    const hostErr = await rejection(host.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
    expect(hostErr.name).toBe('AccessDenied');
    expect(hostErr.message).toMatch(/Host header must be 127\.0\.0\.1:\d+, localhost:\d+ or \[::1\]:\d+, not 'attacker\.example:\d+'/);
    const presigned = await signedRaw(g.port, {
      service: 's3',
      method: 'GET',
      path: `/${bucket}/k`,
      presign: true,
      headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    });
    expect(presigned.status).toBe(403);
    expect(presigned.body).toContain('presigned URLs (query-string authentication) are not accepted');
    const chunked = await signedRaw(g.port, {
      service: 's3',
      method: 'PUT',
      path: `/${bucket}/k`,
      headers: {
        'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
        'content-encoding': 'aws-chunked',
        'x-amz-decoded-content-length': '1',
      },
      body: '1;chunk-signature=00\r\nx\r\n0;chunk-signature=00\r\n\r\n',
    });
    expect(chunked.status).toBe(403);
    expect(chunked.body).toContain('chunk-signed uploads (x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD) are not supported');
    const unsignedSha = await signedRaw(g.port, { service: 's3', method: 'GET', path: `/${bucket}/k` });
    expect(unsignedSha.body).toContain('&apos;x-amz-content-sha256&apos; must be one of the request&apos;s SignedHeaders');
    offset = 20 * 60 * 1000;
    const client = s3(g.endpoint);
    const skewed = await rejection(client.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' })));
    expect(skewed.name).toBe('RequestTimeTooSkewed');
    expect(skewed.$metadata?.httpStatusCode).toBe(403);
    expect(fake.seen).toEqual([]);
    expect(g.passed()).toBe(0);
    expect(g.refusals.map((r) => r.code)).toEqual([
      'AccessDenied',
      'AccessDenied',
      'AccessDenied',
      'SignatureDoesNotMatch',
      'SignatureDoesNotMatch',
      'RequestTimeTooSkewed',
    ]);
    for (const c of [origin, host, client]) c.destroy();
  });

  it('refuses a query parameter added after signing', async () => {
    const fake = fakeS3();
    const g = await guarded('s3', fake.listener);
    const client = s3(g.endpoint);
    client.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { query: Record<string, string> }).query.prefix = 'other';
        return next(args);
      },
      { step: 'finalizeRequest', name: 'tamper', priority: 'low' },
    );
    expect((await rejection(client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'mine' })))).name).toBe('SignatureDoesNotMatch');
    expect(fake.seen).toEqual([]);
    client.destroy();
  });
});
