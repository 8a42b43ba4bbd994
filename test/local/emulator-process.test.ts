import { fork, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { Readable } from 'node:stream';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { CreateTableCommand, DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LogFields, Logger } from '../../lambda/core/telemetry.js';
import { generateEmulatorCredentials } from '../../local/emulator-credentials.js';
import { startEmulatorProcess, type EmulatorProcess, type EmulatorProcessOptions } from '../../local/emulator-process.js';

const REGION = 'us-east-1';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const credentials = generateEmulatorCredentials();

let dir: string;
const started: EmulatorProcess[] = [];
const clients: Array<{ destroy(): void }> = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'emulator-process-'));
});
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  for (const p of started.splice(0)) await p.close();
  expect(emulatorChildren()).toEqual([]);
  await rm(dir, { recursive: true, force: true });
});

/** This process's children that run an emulator. */
function emulatorChildren(): string[] {
  let out: string;
  try {
    out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return out.split('\n').filter((l) => l.includes('emulator-process.mjs'));
}

interface Logged {
  level: string;
  message: string;
  fields?: LogFields;
}

function recordingLogger(): { logger: Logger; lines: Logged[] } {
  const lines: Logged[] = [];
  const at = (level: string) => (message: string, fields?: LogFields) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

async function start(opts: Partial<EmulatorProcessOptions> & { kind: 'dynamodb' | 's3' }): Promise<EmulatorProcess> {
  const p = await startEmulatorProcess({ dir: join(dir, opts.kind), credentials, restartDelayMs: 20, logger: recordingLogger().logger, ...opts });
  started.push(p);
  return p;
}

function ddb(endpoint: string, creds = credentials): DynamoDBClient {
  const c = new DynamoDBClient({ endpoint, region: REGION, credentials: creds, maxAttempts: 1 });
  clients.push(c);
  return c;
}

function s3(endpoint: string, creds = credentials): S3Client {
  const c = new S3Client({ endpoint, region: REGION, credentials: creds, forcePathStyle: true, maxAttempts: 1 });
  clients.push(c);
  return c;
}

/** Polls `check` until it returns true, failing after `timeoutMs` with `what`. */
async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const TABLE = 'events';
async function createTable(client: DynamoDBClient): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
    }),
  );
}

function post(port: number, headers: Record<string, string>): Promise<{ status: number; body: string; allowOrigin: string | undefined }> {
  return new Promise((resolve, reject) => {
    const r = httpRequest({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, allowOrigin: res.headers['access-control-allow-origin'] as string | undefined }));
    });
    r.on('error', reject);
    r.end('{}');
  });
}

describe('startEmulatorProcess (dynamodb)', () => {
  it("serves dynalite in a child process to the installation's credentials only", async () => {
    const p = await start({ kind: 'dynamodb' });
    expect(p.endpoint).toBe(`http://127.0.0.1:${p.port}`);
    expect(p.pid()).not.toBe(process.pid);
    const client = ddb(p.endpoint);
    await createTable(client);
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'a' }, n: { N: '1' } } }));
    expect((await client.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'a' } } }))).Item?.n?.N).toBe('1');

    const wrong = await ddb(p.endpoint, { accessKeyId: credentials.accessKeyId, secretAccessKey: 'x'.repeat(40) })
      .send(new ListTablesCommand({}))
      .catch((e: Error) => e);
    expect((wrong as Error).name).toBe('InvalidSignatureException');
    const other = await ddb(p.endpoint, { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })
      .send(new ListTablesCommand({}))
      .catch((e: Error) => e);
    expect((other as Error).name).toBe('UnrecognizedClientException');
    expect((other as Error).message).toContain('use the credentials in .local/emulator-credentials.json');

    const fromPage = await post(p.port, {
      origin: 'https://evil.example',
      'content-type': 'application/x-amz-json-1.0',
      'x-amz-target': 'DynamoDB_20120810.ListTables',
    });
    expect(fromPage.status).toBe(400);
    expect(fromPage.allowOrigin).toBeUndefined();
    expect(JSON.parse(fromPage.body)).toMatchObject({ __type: 'com.amazon.coral.service#AccessDeniedException' });
    // An SDK request with an Origin header added is refused just the same.
    const withOrigin = ddb(p.endpoint);
    withOrigin.middlewareStack.add(
      (next) => async (args) => {
        (args.request as { headers: Record<string, string> }).headers.origin = 'http://localhost:5173';
        return next(args);
      },
      { step: 'build', name: 'addOrigin' },
    );
    expect(((await withOrigin.send(new ListTablesCommand({})).catch((e: Error) => e)) as Error).message).toMatch(/answer no web pages/);
  });

  it('starts a child that was killed again on the same port, with its data, and the parent carries on', async () => {
    const { logger, lines } = recordingLogger();
    const p = await start({ kind: 'dynamodb', logger });
    const client = ddb(p.endpoint);
    await createTable(client);
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'kept' }, v: { S: 'before the crash' } } }));
    const firstPid = p.pid()!;

    process.kill(firstPid, 'SIGKILL');
    await until('the emulator is back', () => p.restarts() === 1 && p.pid() !== undefined);
    expect(p.pid()).not.toBe(firstPid);
    expect(alive(firstPid)).toBe(false);
    expect(lines).toContainEqual({
      level: 'error',
      message: 'DynamoDB emulator (dynalite) exited unexpectedly; starting it again on the same port',
      fields: expect.objectContaining({ exitCode: null, signal: 'SIGKILL', port: p.port }) as LogFields,
    });

    const after = ddb(p.endpoint);
    const got = await after.send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'kept' } } }));
    expect(got.Item?.v?.S).toBe('before the crash');
    await after.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'after' } } }));

    // Again: a second crash is recovered too.
    const secondPid = p.pid()!;
    process.kill(secondPid, 'SIGKILL');
    await until('the emulator is back again', () => p.restarts() === 2 && p.pid() !== undefined);
    expect((await ddb(p.endpoint).send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'after' } } }))).Item).toBeDefined();
    // No secret in anything logged.
    expect(JSON.stringify(lines)).not.toContain(credentials.secretAccessKey);
  });

  it('close() ends the child and lets a new one open the same database and port', async () => {
    const p = await start({ kind: 'dynamodb' });
    const client = ddb(p.endpoint);
    await createTable(client);
    await client.send(new PutItemCommand({ TableName: TABLE, Item: { pk: { S: 'x' } } }));
    const pid = p.pid()!;
    await p.close();
    expect(alive(pid)).toBe(false);
    expect(p.pid()).toBeUndefined();
    await p.close(); // twice is fine

    const again = await start({ kind: 'dynamodb', port: p.port });
    expect(again.port).toBe(p.port);
    expect((await ddb(again.endpoint).send(new GetItemCommand({ TableName: TABLE, Key: { pk: { S: 'x' } } }))).Item).toBeDefined();
  });

  it('close() during a restart leaves no child running', async () => {
    const p = await start({ kind: 'dynamodb', restartDelayMs: 0 });
    const pid = p.pid()!;
    process.kill(pid, 'SIGKILL');
    await until('the crash is seen', () => p.pid() === undefined);
    await p.close();
    expect(p.pid()).toBeUndefined();
    expect(emulatorChildren()).toEqual([]);
  });

  it('ignores Ctrl-C (SIGINT to the process group): the parent decides when it ends', async () => {
    const p = await start({ kind: 'dynamodb' });
    const pid = p.pid()!;
    process.kill(pid, 'SIGINT');
    // Still the same process, still serving.
    await ddb(p.endpoint).send(new ListTablesCommand({}));
    expect(p.pid()).toBe(pid);
    expect(p.restarts()).toBe(0);
  });

  it('reports why a child could not start', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, '');
    const err = await start({ kind: 'dynamodb', dir: join(file, 'dynamodb') }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /^the DynamoDB emulator \(dynalite\) could not start: ENOTDIR: not a directory, mkdir '.*a-file\/dynamodb'$/,
    );
  });

  it('fails with a clear message when the database stays locked', async () => {
    const holder = await start({ kind: 'dynamodb' });
    const err = await start({ kind: 'dynamodb', lockWaitMs: 300 }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(
      /^the DynamoDB emulator \(dynalite\) could not start: dynalite's database .*dynamodb is locked by another process \(LevelDB allows one\)/,
    );
    // The holder is untouched.
    await ddb(holder.endpoint).send(new ListTablesCommand({}));
  });

  it('fails with a clear message when the port stays taken', async () => {
    const holder = await start({ kind: 'dynamodb' });
    const err = await start({ kind: 's3', dir: join(dir, 'other'), port: holder.port, lockWaitMs: 300 }).catch((e: Error) => e);
    expect((err as Error).message).toBe(
      `the S3 emulator could not start: port ${holder.port} on 127.0.0.1 is in use: is another local mode running, or an earlier emulator process still exiting? Waited 300 ms`,
    );
  });

  it("opens the database after a SIGKILLed local mode's emulator lets go of it", async () => {
    // A separate "local mode" process that starts the emulator, reports its port, then is SIGKILLed.
    const script = join(dir, 'old-local-mode.mjs');
    await writeFile(
      script,
      [
        `const { startEmulatorProcess } = await import(${JSON.stringify(new URL('../../local/emulator-process.ts', import.meta.url).href)});`,
        `const p = await startEmulatorProcess({ kind: 'dynamodb', dir: ${JSON.stringify(join(dir, 'dynamodb'))}, credentials: ${JSON.stringify(credentials)}, logger: { debug() {}, info() {}, warn() {}, error() {} } });`,
        'process.send({ port: p.port, pid: p.pid() });',
      ].join('\n'),
    );
    const old: ChildProcess = fork(script, [], { cwd: REPO, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    const info = await new Promise<{ port: number; pid: number }>((resolve, reject) => {
      old.once('message', (m) => resolve(m as { port: number; pid: number }));
      old.once('exit', (code) => reject(new Error(`the old local mode exited (${code})`)));
    });
    old.kill('SIGKILL');

    // Started at once: the old emulator may still hold the lock and port, and is waited for.
    const p = await start({ kind: 'dynamodb', port: info.port });
    expect(p.port).toBe(info.port);
    await until('the orphaned emulator has exited', () => !alive(info.pid));
    await ddb(p.endpoint).send(new ListTablesCommand({}));
  });
});

describe('startEmulatorProcess (s3)', () => {
  it('serves the S3 emulator behind the guard and comes back after a crash with its objects', async () => {
    const p = await start({ kind: 's3' });
    const client = s3(p.endpoint);
    await client.send(new CreateBucketCommand({ Bucket: 'archive' }));
    await client.send(new PutObjectCommand({ Bucket: 'archive', Key: 'a b/ü+%.txt', Body: 'kept' }));

    const wrong = await s3(p.endpoint, { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' })
      .send(new PutObjectCommand({ Bucket: 'archive', Key: 'x', Body: 'y' }))
      .catch((e: Error) => e);
    expect((wrong as Error).name).toBe('InvalidAccessKeyId');

    // A body large enough for the SDK to ask for 100-continue, and a streamed one (aws-chunked).
    const big = Buffer.alloc(3 * 1024 * 1024, 'x');
    await client.send(new PutObjectCommand({ Bucket: 'archive', Key: 'big', Body: big }));
    await client.send(
      new PutObjectCommand({
        Bucket: 'archive',
        Key: 'streamed',
        Body: Readable.from([big.subarray(0, 1000), big.subarray(1000)]),
        ContentLength: big.length,
      }),
    );
    for (const key of ['big', 'streamed']) {
      const o = await client.send(new GetObjectCommand({ Bucket: 'archive', Key: key }));
      expect(Buffer.from(await o.Body!.transformToByteArray()).equals(big)).toBe(true);
    }

    process.kill(p.pid()!, 'SIGKILL');
    await until('the S3 emulator is back', () => p.restarts() === 1 && p.pid() !== undefined);
    const got = await s3(p.endpoint).send(new GetObjectCommand({ Bucket: 'archive', Key: 'a b/ü+%.txt' }));
    expect(await got.Body!.transformToString()).toBe('kept');
    const listed = await s3(p.endpoint).send(new ListObjectsV2Command({ Bucket: 'archive', Prefix: 'a b/' }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual(['a b/ü+%.txt']);
    expect((await s3(p.endpoint).send(new ListObjectsV2Command({ Bucket: 'archive' }))).KeyCount).toBe(3);
  });
});
