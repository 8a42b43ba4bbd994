/**
 * The local S3 emulator against the real AWS SDK: what the project's code calls, the errors the SDK
 * must name, s3rver's file layout (read directly by the CLI's tools), and refusals of malformed
 * input that must never bring the process down (what s3rver's multipart parser did).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureBucket, localS3Client, startS3rver, type RunningEmulator } from '../../local/emulators.js';
import { createS3Emulator, parseDeleteXml } from '../../local/s3-emulator.js';

const BUCKET = 'emulator-bucket';
let dir: string;
let emulator: RunningEmulator;
let s3: S3Client;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3-emulator-'));
  emulator = await startS3rver({ dir });
  s3 = localS3Client(emulator.endpoint, { maxAttempts: 1 });
  await ensureBucket(s3, BUCKET);
});

afterEach(async () => {
  s3.destroy();
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});

const md5 = (b: string | Buffer) => createHash('md5').update(b).digest('hex');
const put = (Key: string, Body: string | Buffer = Key, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
  s3.send(new PutObjectCommand({ Bucket: BUCKET, Key, Body, ...extra }));
const getText = async (Key: string) => (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body?.transformToString();
const errorName = (p: Promise<unknown>) =>
  p.then(
    () => 'no error',
    (err: Error) => err.name,
  );

async function listAll(params: { Prefix?: string; MaxKeys?: number; Delimiter?: string; StartAfter?: string } = {}) {
  const keys: string[] = [];
  const prefixes: string[] = [];
  let pages = 0;
  let token: string | undefined;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, ...params, ...(token ? { ContinuationToken: token } : {}) }));
    pages++;
    keys.push(...(out.Contents ?? []).map((o) => o.Key as string));
    prefixes.push(...(out.CommonPrefixes ?? []).map((p) => p.Prefix as string));
    expect(out.KeyCount).toBe((out.Contents ?? []).length + (out.CommonPrefixes ?? []).length);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
    if (out.IsTruncated) expect(token).toBeTruthy();
  } while (token);
  return { keys, prefixes, pages };
}

interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP request as bytes on the wire, with no SDK in between. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string | number> = {},
  body?: string | Buffer,
  endpoint = emulator.endpoint,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    // Options rather than a URL, which would resolve `..` segments before they are sent.
    const { hostname, port } = new URL(endpoint);
    const length = body !== undefined && headers['transfer-encoding'] === undefined ? { 'content-length': Buffer.byteLength(body) } : {};
    const req = request({ hostname, port, path, method, headers: { ...length, ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const errorCode = (r: RawResponse) => /<Code>([^<]*)<\/Code>/.exec(r.body)?.[1];

describe('S3 emulator: objects', () => {
  it('round-trips Buffer, string and stream bodies with their metadata, content type, ETag and length', async () => {
    const bodies: Array<[string, string | Buffer | Readable, string]> = [
      ['buffer', Buffer.from([0, 1, 2, 255]), Buffer.from([0, 1, 2, 255]).toString('latin1')],
      ['string', 'héllo string', 'héllo string'],
      ['stream', Readable.from([Buffer.from('abc'), Buffer.from('def')]), 'abcdef'],
    ];
    for (const [name, body, expected] of bodies) {
      const bytes = Buffer.from(expected, name === 'buffer' ? 'latin1' : 'utf8');
      const out = await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: `rt/${name}`,
          Body: body,
          ContentType: 'application/x-ndjson',
          Metadata: { 'event-id': `id-${name}`, mac: 'v1.ABC+/=' },
          ...(name === 'stream' ? { ContentLength: 6 } : {}),
        }),
      );
      expect(out.ETag).toBe(`"${md5(bytes)}"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `rt/${name}` }));
      expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(bytes);
      expect(got).toMatchObject({
        ContentType: 'application/x-ndjson',
        ContentLength: bytes.length,
        ETag: `"${md5(bytes)}"`,
        Metadata: { 'event-id': `id-${name}`, mac: 'v1.ABC+/=' },
      });
      expect(got.LastModified).toBeInstanceOf(Date);
      const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: `rt/${name}` }));
      expect(head).toMatchObject({ ContentLength: bytes.length, ETag: `"${md5(bytes)}"`, Metadata: { 'event-id': `id-${name}` } });
    }
  });

  it('overwrites an object, and defaults the content type as S3 does', async () => {
    await put('over', 'first');
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'over', Body: Buffer.from('second, longer') }));
    expect(await getText('over')).toBe('second, longer');
    await raw('PUT', `/${BUCKET}/untyped`, {}, 'x');
    expect((await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'untyped' }))).ContentType).toBe('binary/octet-stream');
  });

  it('keeps keys with spaces, unicode, +, %, & and a trailing slash exactly', async () => {
    const keys = ['a b/c d.txt', 'ünï/cödé ✓.json', 'plus+sign', '100%/raw%20text', 'x&y<z>', 'folder/', 'emoji/😀'];
    for (const key of keys) await put(key, `body of ${key}`);
    for (const key of keys) expect(await getText(key)).toBe(`body of ${key}`);
    expect((await listAll()).keys.sort()).toEqual([...keys].sort());
  });

  it('answers ranges of bytes', async () => {
    await put('ranged', '0123456789');
    const range = async (Range: string) => (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'ranged', Range }))).Body?.transformToString();
    expect(await range('bytes=2-4')).toBe('234');
    expect(await range('bytes=7-')).toBe('789');
    expect(await range('bytes=-3')).toBe('789');
    expect(await range('bytes=5-100')).toBe('56789');
    expect(await errorName(range('bytes=10-'))).toBe('InvalidRange');
    const malformed = await raw('GET', `/${BUCKET}/ranged`, { range: 'bytes=x-y' });
    expect([malformed.status, errorCode(malformed)]).toEqual([400, 'InvalidArgument']);
  });

  it('names the errors the SDK maps: NoSuchKey, NoSuchBucket, NotFound, BucketAlreadyOwnedByYou', async () => {
    const missing = s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'missing' }));
    await expect(missing).rejects.toBeInstanceOf(NoSuchKey);
    const body = (await raw('GET', `/${BUCKET}/missing%26key`)).body;
    expect(body).toContain('<Code>NoSuchKey</Code>');
    expect(body).toContain('<Key>missing&amp;key</Key>');
    expect(await errorName(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket', Key: 'k' })))).toBe('NoSuchBucket');
    expect(await errorName(s3.send(new PutObjectCommand({ Bucket: 'no-such-bucket', Key: 'k', Body: 'x' })))).toBe('NoSuchBucket');
    expect(await errorName(s3.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' })))).toBe('NoSuchBucket');
    expect(await errorName(s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: 'missing' })))).toBe('NotFound');
    expect(await errorName(s3.send(new CreateBucketCommand({ Bucket: BUCKET })))).toBe('BucketAlreadyOwnedByYou');
    await expect(s3.send(new HeadBucketCommand({ Bucket: BUCKET }))).resolves.toBeTruthy();
    expect(await errorName(s3.send(new HeadBucketCommand({ Bucket: 'no-such-bucket' })))).toBe('NotFound');
    await s3.send(new CreateBucketCommand({ Bucket: 'second-bucket' }));
    expect(((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name).sort()).toEqual([BUCKET, 'second-bucket']);
  });

  it('deletes objects one by one and in batches, and removes the folders left empty', async () => {
    for (const key of ['d/one', 'd/two', 'd/deep/three', 'keep', 'amp&key']) await put(key);
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'd/one' }));
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: 'never-existed' }));
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: BUCKET,
        Delete: { Objects: [{ Key: 'd/two' }, { Key: 'd/deep/three' }, { Key: 'amp&key' }, { Key: 'not-there' }] },
      }),
    );
    expect((out.Deleted ?? []).map((d) => d.Key).sort()).toEqual(['amp&key', 'd/deep/three', 'd/two', 'not-there']);
    expect(out.Errors ?? []).toEqual([]);
    expect((await listAll()).keys).toEqual(['keep']);
    expect(readdirSync(join(dir, BUCKET))).toEqual(['keep._S3rver_metadata.json', 'keep._S3rver_object', 'keep._S3rver_object.md5']);
    const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: BUCKET, Delete: { Quiet: true, Objects: [{ Key: 'keep' }] } }));
    expect(quiet.Deleted ?? []).toEqual([]);
    expect((await listAll()).keys).toEqual([]);
  });
});

describe('S3 emulator: listings', () => {
  it('pages through many objects in key order with Prefix, MaxKeys and ContinuationToken', async () => {
    const keys = Array.from({ length: 23 }, (_, i) => `p/${String(i).padStart(2, '0')}`);
    for (const key of [...keys].reverse()) await put(key);
    await put('other/x');
    await put('p-sibling');
    const paged = await listAll({ Prefix: 'p/', MaxKeys: 5 });
    expect(paged.keys).toEqual(keys);
    expect(paged.pages).toBe(5);
    expect((await listAll({ Prefix: 'p/', StartAfter: 'p/19' })).keys).toEqual(['p/20', 'p/21', 'p/22']);
    expect((await listAll({ Prefix: 'nothing/' })).keys).toEqual([]);
    // S3's order is the keys' UTF-8 bytes: '-' (0x2d) sorts before '/' (0x2f), so p-sibling first.
    expect((await listAll({ Prefix: 'p' })).keys).toEqual(['p-sibling', ...keys]);
    const one = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'p/00' }));
    expect(one.Contents?.[0]).toMatchObject({ Key: 'p/00', Size: 4, ETag: `"${md5('p/00')}"` });
  });

  it('rolls keys up into CommonPrefixes with a Delimiter, across pages', async () => {
    for (const key of ['a/1', 'a/2', 'b/1', 'c', 'd/x/1', 'e']) await put(key);
    expect(await listAll({ Delimiter: '/' })).toMatchObject({ keys: ['c', 'e'], prefixes: ['a/', 'b/', 'd/'] });
    const paged = await listAll({ Delimiter: '/', MaxKeys: 1 });
    expect(paged).toEqual({ keys: ['c', 'e'], prefixes: ['a/', 'b/', 'd/'], pages: 5 });
    expect(await listAll({ Prefix: 'd/', Delimiter: '/' })).toMatchObject({ keys: [], prefixes: ['d/x/'] });
  });

  it('URL-encodes the names it lists when asked (encoding-type=url, as the AWS CLI asks), and refuses another encoding', async () => {
    await put('dir one/a b+cü');
    const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dir one/', Delimiter: '/', EncodingType: 'url' }));
    expect(out.EncodingType).toBe('url');
    expect(out.Prefix).toBe('dir+one%2F');
    expect((out.Contents ?? []).map((o) => o.Key)).toEqual(['dir+one%2Fa+b%2Bc%C3%BC']);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'dir one/' }))).Contents?.map((o) => o.Key)).toEqual(['dir one/a b+cü']);
    expect(await errorName(s3.send(new ListObjectsV2Command({ Bucket: BUCKET, EncodingType: 'base64' as 'url' })))).toBe('InvalidArgument');
  });

  it('refuses a forged continuation token and a bad max-keys', async () => {
    for (const q of ['continuation-token=%00%00', 'max-keys=-1', 'max-keys=ten']) {
      const r = await raw('GET', `/${BUCKET}?list-type=2&${q}`);
      expect([r.status, errorCode(r)]).toEqual([400, 'InvalidArgument']);
    }
  });
});

describe('S3 emulator: integrity and size', () => {
  it('refuses a body that does not match x-amz-content-sha256, Content-MD5 or its CRC32', async () => {
    const tampering = localS3Client(emulator.endpoint, { maxAttempts: 1 });
    // After signing and checksumming: the bytes on the wire change, their length does not.
    tampering.middlewareStack.add(
      (next) => async (args) => {
        const req = args.request as { body?: unknown };
        if (typeof req.body === 'string' || req.body instanceof Uint8Array) req.body = Buffer.from('HELLO');
        return next(args);
      },
      { step: 'deserialize', name: 'tamper' },
    );
    try {
      expect(await errorName(tampering.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'tampered', Body: 'hello' })))).toBe(
        'XAmzContentSHA256Mismatch',
      );
    } finally {
      tampering.destroy();
    }
    const md5Mismatch = await raw('PUT', `/${BUCKET}/bad-md5`, { 'content-md5': createHash('md5').update('other').digest('base64') }, 'hello');
    expect([md5Mismatch.status, errorCode(md5Mismatch)]).toEqual([400, 'BadDigest']);
    const crcMismatch = await raw('PUT', `/${BUCKET}/bad-crc`, { 'x-amz-checksum-crc32': 'AAAAAA==' }, 'hello');
    expect([crcMismatch.status, errorCode(crcMismatch)]).toEqual([400, 'BadDigest']);
    const good = await raw(
      'PUT',
      `/${BUCKET}/good-digests`,
      {
        'content-md5': createHash('md5').update('hello').digest('base64'),
        'x-amz-content-sha256': createHash('sha256').update('hello').digest('hex'),
        'x-amz-checksum-sha256': createHash('sha256').update('hello').digest('base64'),
      },
      'hello',
    );
    expect(good.status).toBe(200);
    expect((await listAll()).keys).toEqual(['good-digests']);
    expect(readdirSync(join(dir, '.s3-emulator-tmp'))).toEqual([]);
  });

  it('decodes aws-chunked bodies with trailers and refuses malformed ones', async () => {
    const chunked = {
      'content-encoding': 'aws-chunked',
      'x-amz-content-sha256': 'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
      'x-amz-decoded-content-length': '6',
      'x-amz-trailer': 'x-amz-checksum-crc32',
    };
    const ok = await raw('PUT', `/${BUCKET}/chunked`, chunked, '3\r\nabc\r\n3\r\ndef\r\n0\r\nx-amz-checksum-crc32:S4457w==\r\n\r\n');
    expect(ok.status).toBe(200);
    expect(await getText('chunked')).toBe('abcdef');
    for (const body of [
      '3\r\nabcd\r\n0\r\n\r\n',
      'zz\r\nabc\r\n',
      '3\r\nabc\r\n3\r\ndef\r\n',
      '3\r\nabc\r\n3\r\ndef\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n',
      '6\nabcdef\r\n0\r\n\r\n',
    ]) {
      const r = await raw('PUT', `/${BUCKET}/bad-chunked`, chunked, body);
      expect(r.status).toBe(400);
      expect(errorCode(r)).toMatch(/^(IncompleteBody|BadDigest)$/);
    }
    expect((await listAll()).keys).toEqual(['chunked']);
  });

  it('refuses an object over the size limit, stored nowhere', async () => {
    const smallDir = join(dir, 'small');
    const small = createS3Emulator({ directory: smallDir, maxObjectBytes: 1024 });
    const server = createServer((req, res) => small.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await raw('PUT', '/small-bucket', {}, '', endpoint)).status).toBe(200);
      const declared = await raw('PUT', '/small-bucket/big', {}, Buffer.alloc(2048), endpoint);
      expect([declared.status, errorCode(declared)]).toEqual([400, 'EntityTooLarge']);
      // Without a length up front (HTTP chunked transfer), the count stops it.
      const streamed = await raw('PUT', '/small-bucket/big', { 'transfer-encoding': 'chunked' }, Buffer.alloc(1500), endpoint);
      expect([streamed.status, errorCode(streamed)]).toEqual([400, 'EntityTooLarge']);
      expect((await raw('PUT', '/small-bucket/fits', {}, Buffer.alloc(1024), endpoint)).status).toBe(200);
      expect(readdirSync(join(smallDir, 'small-bucket')).filter((f) => f.endsWith('_object'))).toEqual(['fits._S3rver_object']);
      expect(readdirSync(join(smallDir, '.s3-emulator-tmp'))).toEqual([]);
    } finally {
      server.closeAllConnections();
      server.close();
      await small.close();
    }
  });
});

describe('S3 emulator: malformed input', () => {
  it('refuses path traversal and keys the file layout cannot hold, writing nothing outside its folder', async () => {
    for (const path of [
      `/${BUCKET}/a/../../escaped`,
      `/${BUCKET}/%2e%2e/escaped`,
      `/${BUCKET}/..%2F..%2Fescaped`,
      `/${BUCKET}//lead`,
      `/${BUCKET}/a//b`,
      `/${BUCKET}/nul%00byte`,
      `/${BUCKET}/x._S3rver_object/y`,
      `/${BUCKET}/bad%ZZescape`,
    ]) {
      const r = await raw('PUT', path, {}, 'x');
      expect([path, r.status]).toEqual([path, 400]);
      expect(errorCode(r)).toMatch(/^(InvalidArgument|InvalidURI)$/);
    }
    for (const path of ['/../escaped', '/%2e%2e/escaped', '/UPPER/key', '/x/key']) {
      const r = await raw('PUT', path, {}, 'x');
      expect([path, r.status, errorCode(r)]).toEqual([path, 400, 'InvalidBucketName']);
    }
    expect(await errorName(put('../escaped-too'))).toMatch(/InvalidArgument|NoSuchBucket|InvalidBucketName/);
    expect(existsSync(join(dir, '..', 'escaped'))).toBe(false);
    expect(existsSync(join(dir, 'escaped'))).toBe(false);
    expect(existsSync(join(dir, 'escaped._S3rver_object'))).toBe(false);
    expect(existsSync(join(dir, BUCKET, 'escaped._S3rver_object'))).toBe(false);
    expect((await listAll()).keys).toEqual([]);
  });

  it('answers garbage with S3 errors and keeps serving (a malformed multipart POST crashed s3rver)', async () => {
    await put('alive', 'still here');
    const boundary = '----x';
    const multipart = [
      `--${boundary}\r\nContent-Disposition: form-data; name="key"\r\n\r\nfoo\r\n`,
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a"\r\nContent-Type: application/octet-stream\r\n\r\n\u0000\u0001garbage`,
      `--${boundary}\r\nContent-Disposition: form-data; name=`, // cut inside a part header
    ].join('');
    const answers = await Promise.all([
      raw('POST', `/${BUCKET}`, { 'content-type': `multipart/form-data; boundary=${boundary}` }, multipart),
      raw('POST', `/${BUCKET}`, { 'content-type': 'multipart/form-data; boundary=' }, '--\r\n\r\n'),
      raw('POST', `/${BUCKET}?delete`, { 'content-type': 'application/xml' }, '<Delete><Object><Key>a</Key></Object>'),
      raw('POST', `/${BUCKET}?delete`, {}, '<!DOCTYPE x [<!ENTITY e "boom">]><Delete><Object><Key>&e;</Key></Object></Delete>'),
      raw('POST', `/${BUCKET}?delete`, {}, Buffer.from([0xff, 0xfe, 0x3c])),
      raw('PUT', `/${BUCKET}/k?acl`, {}, '<AccessControlPolicy/>'),
      raw('PUT', `/${BUCKET}/copy`, { 'x-amz-copy-source': `/${BUCKET}/alive` }),
      raw('GET', `/${BUCKET}`),
      raw('DELETE', `/${BUCKET}`),
      raw('PUT', `/${BUCKET}/x`, { 'x-amz-content-sha256': 'not-a-digest' }, 'x'),
      raw('PUT', `/${BUCKET}/x`, { 'content-md5': '!!' }, 'x'),
      raw('PUT', `/${BUCKET}/x`, { 'x-amz-meta-big': 'v'.repeat(3000) }, 'x'),
      raw('GET', `/${BUCKET}/alive`, { range: 'bytes=0-1,3-4' }),
      raw('GET', `/${BUCKET}/alive`, { range: 'bytes=5-2' }),
    ]);
    expect(answers.map((r) => [r.status, errorCode(r)])).toEqual([
      [501, 'NotImplemented'],
      [501, 'NotImplemented'],
      [400, 'MalformedXML'],
      [400, 'MalformedXML'],
      [400, 'MalformedXML'],
      [501, 'NotImplemented'],
      [501, 'NotImplemented'],
      [501, 'NotImplemented'],
      [501, 'NotImplemented'],
      [400, 'InvalidArgument'],
      [400, 'InvalidDigest'],
      [400, 'MetadataTooLarge'],
      [501, 'NotImplemented'],
      [400, 'InvalidArgument'],
    ]);
    for (const r of answers) expect(r.headers['content-type']).toBe('application/xml');
    expect(answers[0]!.body).toMatch(
      /^<\?xml version="1.0" encoding="UTF-8"\?>\n<Error><Code>NotImplemented<\/Code><Message>The local S3 emulator does not implement POST bucket\.<\/Message><\/Error>$/,
    );
    // Bytes that are not HTTP at all: Node's parser answers, the server lives on.
    await new Promise<void>((resolve) => {
      const socket = connect(emulator.port, '127.0.0.1', () => socket.end('\u0000\u0001 NOT HTTP\r\n\r\n'));
      socket.on('data', () => undefined);
      socket.on('close', () => resolve());
      socket.on('error', () => resolve());
    });
    expect(await getText('alive')).toBe('still here');
    expect((await listAll()).keys).toEqual(['alive']);
  });

  it('answers any request, however malformed, with a status and keeps serving (property)', async () => {
    await put('alive', 'still here');
    // The proof that nothing was damaged lives in a bucket no generated path can name: its name is
    // longer than any generated segment that has no '%' in it. (A generated PUT may legitimately
    // overwrite 'alive' in BUCKET.)
    const SENTINEL_BUCKET = 'emulator-sentinel-bucket';
    await ensureBucket(s3, SENTINEL_BUCKET);
    await s3.send(new PutObjectCommand({ Bucket: SENTINEL_BUCKET, Key: 'alive', Body: 'still here' }));
    const segment = fc.oneof(
      fc.constantFrom('', '.', '..', '%2e%2e', '%00', '%ZZ', '%2F', BUCKET, 'alive', '._S3rver_object', '?delete', '?list-type=2&max-keys=1', '?acl'),
      fc.string({ maxLength: 12 }).map(encodeURIComponent),
    );
    const headerName = fc.constantFrom(
      'content-encoding',
      'x-amz-content-sha256',
      'x-amz-decoded-content-length',
      'content-md5',
      'x-amz-checksum-crc32',
      'x-amz-trailer',
      'range',
      'content-type',
      'x-amz-meta-x',
      'x-amz-copy-source',
      'if-match',
    );
    const headerValue = fc.oneof(
      fc.constantFrom(
        'aws-chunked',
        'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
        'UNSIGNED-PAYLOAD',
        '5',
        '-1',
        'bytes=1-0',
        'bytes=0-',
        'multipart/form-data; boundary=x',
        'AAAAAA==',
        'x-amz-checksum-crc32',
      ),
      fc.string({ maxLength: 20 }).map((v) => v.replace(/[^\x20-\x7e]/g, '')),
    );
    const body = fc.oneof(
      fc.constantFrom(
        '',
        '3\r\nabc\r\n0\r\n\r\n',
        '<Delete><Object><Key>alive2</Key></Object></Delete>',
        '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n',
      ),
      fc.string({ maxLength: 80 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'PUT', 'POST', 'DELETE', 'HEAD'),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.dictionary(headerName, headerValue, { maxKeys: 4 }),
        body,
        async (method, segments, headers, text) => {
          const r = await raw(method, `/${segments.join('/')}`, headers, method === 'GET' || method === 'HEAD' ? undefined : text);
          expect(r.status).toBeGreaterThanOrEqual(200);
          expect(r.status).toBeLessThan(600);
          if (r.status >= 400 && method !== 'HEAD') expect(errorCode(r), r.body).toMatch(/^[A-Za-z0-9]+$/);
          if (r.status === 500) throw new Error(`internal error for ${method} /${segments.join('/')}: ${r.body}`);
        },
      ),
      { numRuns: 300 },
    );
    const sentinel = await s3.send(new GetObjectCommand({ Bucket: SENTINEL_BUCKET, Key: 'alive' }));
    expect(await sentinel.Body?.transformToString()).toBe('still here');
    // Whatever was created is a bucket folder or the emulator's own; no object file landed outside a bucket.
    for (const entry of readdirSync(dir, { withFileTypes: true })) expect([entry.name, entry.isDirectory()]).toEqual([entry.name, true]);
    expect(readdirSync(join(dir, '.s3-emulator-tmp'))).toEqual([]);
  });

  it('parses only the DeleteObjects XML it expects', () => {
    const ok = parseDeleteXml(
      Buffer.from(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet><Object><Key>a&amp;b&#x41;&#66;</Key></Object>\n<Object><Key>c d</Key></Object></Delete>',
      ),
    );
    expect(ok).toEqual({ keys: ['a&bAB', 'c d'], quiet: true });
    for (const bad of [
      '',
      '<Delete></Delete>',
      '<Delete><Object></Object></Delete>',
      '<Delete><Object><Key>a</Key><Key>b</Key></Object></Delete>',
      '<Delete><Object><Key>a</Key></Object></Delete><Delete/>',
      '<Delete><Object><Key>a</Key></Object></Delete>trailing',
      '<Delete><Object><Key>a &bogus; b</Key></Object></Delete>',
      '<Delete><Object><Key>&#0;</Key></Object></Delete>',
      '<Delete><Object><Key><![CDATA[x]]></Key></Object></Delete>',
      '<Delete><!-- c --><Object><Key>a</Key></Object></Delete>',
      '<Delete><Object><Key>a</Object></Key></Delete>',
      '<Delete><Other/><Object><Key>a</Key></Object></Delete>',
      '<Delete>text<Object><Key>a</Key></Object></Delete>',
      '<Delete><Quiet>maybe</Quiet><Object><Key>a</Key></Object></Delete>',
      `<Delete>${'<Object><Key>k</Key></Object>'.repeat(1001)}</Delete>`,
    ]) {
      expect(() => parseDeleteXml(Buffer.from(bad)), bad.slice(0, 60)).toThrow(/not well-formed/);
    }
  });
});

describe('S3 emulator: s3rver file layout', () => {
  it('writes objects where s3rver did, owner-only, with the same md5 and metadata files', async () => {
    await put('events/dt=2026-01-01/a b.gz', 'gzip bytes', { ContentType: 'application/x-ndjson', Metadata: { 'event-id': 'E1' } });
    await put('folder/', 'folder marker');
    const base = join(dir, BUCKET, 'events', 'dt=2026-01-01', 'a b.gz');
    expect(readFileSync(`${base}._S3rver_object`, 'utf8')).toBe('gzip bytes');
    expect(readFileSync(`${base}._S3rver_object.md5`, 'utf8')).toBe(md5('gzip bytes'));
    expect(JSON.parse(readFileSync(`${base}._S3rver_metadata.json`, 'utf8'))).toEqual({
      'content-type': 'application/x-ndjson',
      'x-amz-meta-event-id': 'E1',
    });
    expect(readFileSync(join(dir, BUCKET, 'folder', '._S3rver_object'), 'utf8')).toBe('folder marker');
    for (const file of [`${base}._S3rver_object`, `${base}._S3rver_object.md5`, `${base}._S3rver_metadata.json`])
      expect(statSync(file).mode & 0o777).toBe(0o600);
    for (const folder of [dir, join(dir, BUCKET), join(dir, BUCKET, 'events'), join(dir, BUCKET, 'events', 'dt=2026-01-01')])
      expect(statSync(folder).mode & 0o777).toBe(0o700);
  });

  it('serves and lists an object that s3rver wrote, with or without its md5 file', async () => {
    const folder = join(dir, BUCKET, 'inbox', 'spill');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'old._S3rver_object'), 'written by s3rver');
    writeFileSync(
      join(folder, 'old._S3rver_metadata.json'),
      JSON.stringify({ 'content-type': 'application/octet-stream', 'x-amz-meta-event-id': 'OLD', 'x-amz-meta-mac': 'm' }, null, 2),
    );
    writeFileSync(join(folder, 'bare._S3rver_object'), 'no sidecars at all');
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'inbox/spill/old' }));
    expect(await got.Body?.transformToString()).toBe('written by s3rver');
    expect(got).toMatchObject({
      ContentType: 'application/octet-stream',
      ETag: `"${md5('written by s3rver')}"`,
      Metadata: { 'event-id': 'OLD', mac: 'm' },
    });
    const bare = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'inbox/spill/bare' }));
    expect(bare.Metadata).toEqual({});
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'inbox/' }));
    expect((listed.Contents ?? []).map((o) => [o.Key, o.ETag])).toEqual([
      ['inbox/spill/bare', `"${md5('no sidecars at all')}"`],
      ['inbox/spill/old', `"${md5('written by s3rver')}"`],
    ]);
  });

  it('lists an object whose metadata file a crash cut short, and refuses to serve it without its metadata', async () => {
    await put('inbox/spill/torn', 'body', { Metadata: { 'event-id': 'T' } });
    await put('inbox/spill/whole', 'body');
    writeFileSync(join(dir, BUCKET, 'inbox', 'spill', 'torn._S3rver_metadata.json'), '{\n  "content-type": "app');
    expect((await listAll({ Prefix: 'inbox/spill/' })).keys).toEqual(['inbox/spill/torn', 'inbox/spill/whole']);
    expect(await errorName(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'inbox/spill/torn' })))).toBe('InternalError');
    expect(await getText('inbox/spill/whole')).toBe('body');
  });

  it('empties its temporary folder at start and never shows it as a bucket', async () => {
    await emulator.close();
    writeFileSync(join(dir, '.s3-emulator-tmp', 'left-by-a-crash'), 'half an object');
    emulator = await startS3rver({ dir });
    s3.destroy();
    s3 = localS3Client(emulator.endpoint, { maxAttempts: 1 });
    expect(readdirSync(join(dir, '.s3-emulator-tmp'))).toEqual([]);
    expect(((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name)).toEqual([BUCKET]);
  });

  it('waits at close for a write in progress, which then completes', async () => {
    let sendRest!: () => void;
    const rest = new Promise<void>((resolve) => (sendRest = resolve));
    const body = Readable.from(
      (async function* () {
        yield Buffer.from('first half, ');
        await rest;
        yield Buffer.from('second half');
      })(),
    );
    // `raw` cannot stream; this one is sent by hand.
    const answer = new Promise<number>((resolve, reject) => {
      const req = request(`${emulator.endpoint}/${BUCKET}/slow-stream`, { method: 'PUT', headers: { 'content-length': 23 } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      body.pipe(req);
    });
    while (readdirSync(join(dir, '.s3-emulator-tmp')).length === 0) await new Promise((r) => setImmediate(r));
    let closed = false;
    const closing = emulator.close().then(() => (closed = true));
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    sendRest();
    expect(await answer).toBe(200);
    await closing;
    expect(readFileSync(join(dir, BUCKET, 'slow-stream._S3rver_object'), 'utf8')).toBe('first half, second half');
  });
});
