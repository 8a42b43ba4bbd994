/**
 * Local mode as an attacker would try it (issue 13), against a real `startLocalPipeline` with its
 * emulators in their own processes: a web page reaching for the emulators, the well-known S3RVER
 * credentials, an unsigned multipart POST (the request that used to throw inside s3rver and take
 * the whole process down), an emulator killed mid-run, and what another local user could read.
 * The planted spill and planted claim check are in spill-drain.test.ts and inbox-mac.test.ts.
 */
import { statSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { SIGNATURE_HEADER, sign } from '../../lambda/core/signature.js';
import { LOCAL_CREDENTIALS, localDynamoDbClient, localS3Client } from '../../local/emulators.js';
import { startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import { sampleBody } from '../support/samples.js';
import { makeTempDir, removeTempDir } from '../support/temp-dir.js';

const SECRET = 'local-attacks-secret';
let dir: string;
let state: string;
let pipeline: LocalPipeline;

beforeAll(async () => {
  dir = await makeTempDir('local-attacks-');
  state = join(dir, '.local');
  await writeFile(join(dir, 'cdk.json'), JSON.stringify({ app: 'true', context: {} }));
  // Many receives: while the emulators restart (longer on a loaded machine) the record fails and comes
  // back every 200 ms, and must not reach the DLQ before they are back.
  pipeline = await startLocalPipeline({
    dir: state,
    port: 0,
    secret: SECRET,
    env: {},
    projectDir: dir,
    queue: { batchingWindowMs: 20, visibilityTimeoutMs: 200, maxReceiveCount: 1000 },
    stream: { bufferIntervalMs: 100 },
  });
}, 60_000);

afterAll(async () => {
  await pipeline?.close();
  await removeTempDir(dir);
});

/** Adds headers to every request of an SDK client (what a page's fetch would carry). */
function withHeaders<C extends { middlewareStack: { add: (...args: never[]) => void } }>(client: C, headers: Record<string, string>): C {
  (client.middlewareStack.add as (mw: unknown, opts: unknown) => void)(
    (next: (args: { request: { headers: Record<string, string> } }) => unknown) => (args: { request: { headers: Record<string, string> } }) => {
      Object.assign(args.request.headers, headers);
      return next(args);
    },
    { step: 'build', name: 'addHeaders' },
  );
  return client;
}

async function healthy(): Promise<boolean> {
  const res = await fetch(`${pipeline.url}/healthz`);
  await res.arrayBuffer();
  return res.status === 200;
}

/** Sends raw bytes to a port and resolves with the answer's status line (or '' when the connection closes unanswered). */
function raw(endpoint: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    let got = '';
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
    });
    socket.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    socket.on('error', reject);
  });
}

describe('local mode under attack', () => {
  it('its emulators answer requests signed with the installation credentials, and only those', async () => {
    const dynamodb = localDynamoDbClient(pipeline.endpoints.dynamodb, { credentials: pipeline.credentials });
    const s3 = localS3Client(pipeline.endpoints.s3, { credentials: pipeline.credentials });
    expect((await dynamodb.send(new ListTablesCommand({}))).TableNames).toContain(pipeline.tableName);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: pipeline.bucket }))).$metadata.httpStatusCode).toBe(200);
    expect(pipeline.credentials.accessKeyId).not.toBe(LOCAL_CREDENTIALS.accessKeyId);

    const wellKnownDynamo = localDynamoDbClient(pipeline.endpoints.dynamodb, { credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    const wellKnownS3 = localS3Client(pipeline.endpoints.s3, { credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    await expect(wellKnownDynamo.send(new ListTablesCommand({}))).rejects.toThrow(/credentials in/);
    await expect(wellKnownS3.send(new PutObjectCommand({ Bucket: pipeline.bucket, Key: 'inbox/spill/planted', Body: 'x' }))).rejects.toThrow(
      /credentials in/,
    );
    for (const c of [dynamodb, s3, wellKnownDynamo, wellKnownS3]) c.destroy();
  });

  it('refuses a web page: a request with an Origin header is refused by each emulator even when signed, and no CORS header is ever sent', async () => {
    const page = { origin: 'https://evil.example' };
    const dynamodb = withHeaders(localDynamoDbClient(pipeline.endpoints.dynamodb, { credentials: pipeline.credentials, maxAttempts: 1 }), page);
    const s3 = withHeaders(localS3Client(pipeline.endpoints.s3, { credentials: pipeline.credentials, maxAttempts: 1 }), page);
    await expect(dynamodb.send(new ListTablesCommand({}))).rejects.toThrow(/answer no web pages/);
    await expect(s3.send(new ListObjectsV2Command({ Bucket: pipeline.bucket }))).rejects.toThrow(/answer no web pages/);
    dynamodb.destroy();
    s3.destroy();
    for (const endpoint of [pipeline.endpoints.dynamodb, pipeline.endpoints.s3]) {
      const res = await fetch(endpoint, { method: 'POST', headers: { origin: 'https://evil.example', 'content-type': 'text/plain' }, body: '{}' });
      await res.arrayBuffer();
      expect(res.status, endpoint).toBeGreaterThanOrEqual(400);
      expect(res.headers.get('access-control-allow-origin'), endpoint).toBeNull();
    }
  });

  it('refuses the malformed multipart POST that used to crash the process, and keeps answering', async () => {
    const boundary = 'x';
    const body = `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\ninbox/spill/a\r\n--${boundary}\r\n\u0000:\r\n\r\n--${boundary}--`;
    const { host } = new URL(pipeline.endpoints.s3);
    const status = await raw(
      pipeline.endpoints.s3,
      `POST /${pipeline.bucket} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(status).toMatch(/^HTTP\/1\.1 403 /);
    expect(await healthy()).toBe(true);
    const s3 = localS3Client(pipeline.endpoints.s3, { credentials: pipeline.credentials });
    expect((await s3.send(new ListObjectsV2Command({ Bucket: pipeline.bucket }))).$metadata.httpStatusCode).toBe(200);
    s3.destroy();
  });

  it('keeps acknowledging when an emulator dies, starts it again, and loses nothing', async () => {
    const s3Pid = pipeline.processes().find((p) => p.role === 's3')?.pid as number;
    const dynamoPid = pipeline.processes().find((p) => p.role === 'dynamodb')?.pid as number;
    process.kill(s3Pid, 'SIGKILL');
    process.kill(dynamoPid, 'SIGKILL');
    const body = `${sampleBody('message.didCreate').trimEnd().replace(/}$/, '')},"attack":"emulators-killed"}`;
    const res = await fetch(`${pipeline.url}/webhook`, { method: 'POST', body, headers: { [SIGNATURE_HEADER]: sign(body, SECRET) } });
    await res.arrayBuffer();
    expect(res.status).toBe(200);
    expect(await healthy()).toBe(true);
    // Both back (new processes, on the same ports), then the fan-out catches up.
    const dynamodb = localDynamoDbClient(pipeline.endpoints.dynamodb, { credentials: pipeline.credentials, maxAttempts: 1 });
    const s3 = localS3Client(pipeline.endpoints.s3, { credentials: pipeline.credentials, maxAttempts: 1 });
    await vi.waitFor(
      async () => {
        await dynamodb.send(new ListTablesCommand({}));
        await s3.send(new ListObjectsV2Command({ Bucket: pipeline.bucket }));
      },
      { timeout: 30_000, interval: 100 },
    );
    dynamodb.destroy();
    s3.destroy();
    await pipeline.settle();
    expect((await pipeline.store.get(eventIdOf(Buffer.from(body))))?.payload).toBe(body);
    const now = pipeline.processes();
    expect(now.find((p) => p.role === 's3')?.pid).not.toBe(s3Pid);
    expect(now.find((p) => p.role === 'dynamodb')?.pid).not.toBe(dynamoPid);
  }, 60_000);

  it('keeps what another local user could read owner-only', async () => {
    expect(statSync(state).mode & 0o777).toBe(0o700);
    for (const file of [pipeline.paths.emulatorCredentialsFile, pipeline.paths.inboxKeyFile, pipeline.paths.devInfoFile]) {
      expect(statSync(file).mode & 0o777, file).toBe(0o600);
    }
    // Everything below: the queue's journal, the stream's buffer, dynalite's LevelDB files, every
    // object the S3 emulator wrote (the archive after the settle above), and the folders on the way.
    const files = await readdir(state, { recursive: true, withFileTypes: true });
    for (const part of [pipeline.paths.queue, pipeline.paths.dynamodb, pipeline.paths.s3]) {
      expect(
        files.some((f) => join(f.parentPath, f.name).startsWith(`${part}/`)),
        part,
      ).toBe(true);
    }
    for (const f of files) {
      const path = join(f.parentPath, f.name);
      expect(statSync(path).mode & 0o777, path).toBe(f.isDirectory() ? 0o700 : 0o600);
    }
  });
});
