/**
 * Local mode's S3: a small emulator of the part of S3's REST API (path-style) this project uses.
 *
 * It replaces s3rver 3.7.1, which is unmaintained and pulls in busboy 0.3.1 + dicer 0.3.0
 * (GHSA-wm7h-9275-46v2: one malformed multipart POST throws and kills the process) and
 * fast-xml-parser 3.21.1 (prototype pollution), both used too deeply for an override to fix. This
 * one has no multipart support and no XML library: it builds its XML answers by hand (escaped),
 * and the one XML body it reads (DeleteObjects) goes through a tight parser of its own.
 *
 * Implemented: ListBuckets, CreateBucket, HeadBucket, ListObjectsV2 (Prefix, Delimiter, MaxKeys,
 * StartAfter, ContinuationToken), PutObject, GetObject and HeadObject (single byte ranges),
 * DeleteObject and DeleteObjects. Anything else (CopyObject, multipart, conditions…) is answered 501
 * NotImplemented. Signatures are not checked (a guard in front of `handle` does that); payload
 * digests are: a hex `x-amz-content-sha256` (XAmzContentSHA256Mismatch), `Content-MD5` and the
 * CRC32, SHA-1 and SHA-256 flexible checksums, in headers or `aws-chunked` trailers (BadDigest).
 * Every error is an S3 XML error (so the SDK names it), and no input can throw out of `handle`.
 *
 * The files are s3rver 3's, since the CLI's tools and the start-up repair read them directly:
 * object `<key>` of bucket `<bucket>` is `<dir>/<bucket>/<key>._S3rver_object` (a key ending in
 * `/` is `<key>._S3rver_object`, i.e. a file in the folder `<key>`), next to
 * `<key>._S3rver_object.md5` (hex md5) and `<key>._S3rver_metadata.json` (the stored headers and
 * `x-amz-meta-*`); a bucket is a folder. Unlike s3rver, each file is written whole under a temporary
 * name in `<dir>/.s3-emulator-tmp` (same file system; emptied at start, never listed), synced, and
 * renamed into place: metadata, md5, then the object, so an object file that exists is always whole.
 * Keys the layout cannot hold faithfully (empty or `.`/`..` segments, control characters, the
 * `._S3rver_` infix) are refused with 400; Windows' file-name escaping is not implemented.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { silentLogger, type Logger } from '../lambda/core/telemetry.js';
import { syncDir } from './append-log.js';
import { S3RVER_MD5_SUFFIX, S3RVER_METADATA_SUFFIX, S3RVER_OBJECT_SUFFIX } from './paths.js';

export interface S3EmulatorOptions {
  readonly directory: string;
  readonly logger?: Logger;
  /** Largest object accepted (EntityTooLarge beyond); 64 MiB unless set. */
  readonly maxObjectBytes?: number;
}

export interface S3Emulator {
  /** Node http request listener serving S3's REST API (path-style only). */
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** Refuses new requests and waits for those in progress (writes included). */
  close(): Promise<void>;
}

const TMP_DIR = '.s3-emulator-tmp';
const MAX_XML_BYTES = 2 * 1024 * 1024;
const MAX_USER_METADATA_BYTES = 2048;
const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';
/** The request headers s3rver kept with an object (its `ALLOWED_METADATA`), besides `x-amz-meta-*`. */
const STORED_HEADERS = ['cache-control', 'content-disposition', 'content-encoding', 'content-language', 'content-type', 'expires', 'x-amz-storage-class', 'x-amz-website-redirect-location'];
const CHECKSUMS: Record<string, string> = { crc32: 'CRC32', sha1: 'SHA1', sha256: 'SHA256' };

class S3Error extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly detail: Record<string, string> = {}) {
    super(message);
  }
}
const badRequest = (code: string, message: string, detail: Record<string, string> = {}) => new S3Error(400, code, message, detail);
const notImplemented = (op: string) => new S3Error(501, 'NotImplemented', `The local S3 emulator does not implement ${op}.`);
const noSuchKey = (key: string) => new S3Error(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });
const malformedXml = () => badRequest('MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema.');
const badChunk = (why: string) => badRequest('IncompleteBody', `The aws-chunked request body is malformed: ${why}.`);

export function createS3Emulator(opts: S3EmulatorOptions): S3Emulator {
  const root = opts.directory;
  const tmp = join(root, TMP_DIR);
  const logger = opts.logger ?? silentLogger;
  const maxObjectBytes = opts.maxObjectBytes ?? 64 * 1024 * 1024;
  mkdirSync(root, { recursive: true, mode: 0o700 });
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { mode: 0o700 });
  const inFlight = new Set<Promise<void>>();
  const locks = new Map<string, Promise<void>>();
  let closed = false;

  /** Runs `fn` after every earlier write or delete of the same object has finished. */
  async function exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const run = (locks.get(name) ?? Promise.resolve()).then(fn);
    const settled = run.then(() => undefined, () => undefined);
    locks.set(name, settled);
    try {
      return await run;
    } finally {
      if (locks.get(name) === settled) locks.delete(name);
    }
  }

  const bucketDir = (bucket: string) => join(root, bucket);
  /** The path of an object's file with `suffix` (s3rver's naming: the key's last segment + suffix). */
  function objectPath(bucket: string, key: string, suffix: string): string {
    const parts = key.split('/');
    const last = parts.pop() as string;
    return join(root, bucket, ...parts, `${last}${suffix}`);
  }

  async function requireBucket(bucket: string): Promise<void> {
    const st = await stat(bucketDir(bucket)).catch(() => undefined);
    if (!st?.isDirectory()) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  }

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    res.setHeader('x-amz-request-id', randomBytes(8).toString('hex').toUpperCase());
    if (closed) throw new S3Error(503, 'ServiceUnavailable', 'The local S3 emulator is shutting down.');
    const { bucket, key, query } = parseTarget(req.url ?? '');
    const method = req.method ?? '';
    const op = query.get('x-id') ?? `${method} ${key !== undefined ? 'object' : bucket ? 'bucket' : 'service'}`;
    if (!bucket) {
      if (method !== 'GET' || hasParams(query, [])) throw notImplemented(op);
      return listBuckets(res);
    }
    checkBucketName(bucket);
    if (key === undefined) {
      if (method === 'PUT' && !hasParams(query, [])) return createBucket(req, res, bucket);
      if (method === 'HEAD' && !hasParams(query, [])) return requireBucket(bucket).then(() => void res.writeHead(200).end());
      if (method === 'GET' && query.get('list-type') === '2' && !hasParams(query, ['list-type', 'prefix', 'delimiter', 'max-keys', 'continuation-token', 'start-after', 'fetch-owner', 'encoding-type'])) return listObjects(res, bucket, query);
      if (method === 'POST' && query.has('delete') && !hasParams(query, ['delete'])) return deleteObjects(req, res, bucket);
      throw notImplemented(method === 'GET' && !hasParams(query, []) ? 'ListObjects (version 1); use ListObjectsV2' : op);
    }
    checkKey(key);
    if (hasParams(query, []) || req.headers['x-amz-copy-source'] !== undefined) throw notImplemented(op);
    if (method === 'PUT') return putObject(req, res, bucket, key);
    if (method === 'GET' || method === 'HEAD') return getObject(req, res, bucket, key);
    if (method === 'DELETE') {
      await requireBucket(bucket);
      await deleteObject(bucket, key);
      res.writeHead(204).end();
      return;
    }
    throw notImplemented(op);
  }

  async function listBuckets(res: ServerResponse): Promise<void> {
    const entries = await readdir(root, { withFileTypes: true });
    const buckets = await Promise.all(entries.filter((e) => e.isDirectory() && validBucketName(e.name)).map(async (e) => {
      const st = await stat(bucketDir(e.name));
      const created = st.birthtimeMs > 0 ? st.birthtime : st.mtime;
      return `<Bucket><Name>${xml(e.name)}</Name><CreationDate>${created.toISOString()}</CreationDate></Bucket>`;
    }));
    sendXml(res, 200, `<ListAllMyBucketsResult xmlns="${XMLNS}"><Owner><ID>local</ID><DisplayName>local</DisplayName></Owner><Buckets>${buckets.join('')}</Buckets></ListAllMyBucketsResult>`);
  }

  async function createBucket(req: IncomingMessage, res: ServerResponse, bucket: string): Promise<void> {
    await receiveBody(req, 64 * 1024, () => undefined); // A CreateBucketConfiguration, if any: the region is not kept.
    try {
      await mkdir(bucketDir(bucket), { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', { BucketName: bucket });
    }
    res.writeHead(200, { Location: `/${bucket}` }).end();
  }

  async function listObjects(res: ServerResponse, bucket: string, q: URLSearchParams): Promise<void> {
    await requireBucket(bucket);
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeysText = q.get('max-keys') ?? '1000';
    if (!/^\d{1,10}$/.test(maxKeysText)) throw badRequest('InvalidArgument', 'Provided max-keys not an integer or within integer range', { ArgumentName: 'max-keys', ArgumentValue: maxKeysText });
    const maxKeys = Math.min(1000, Number(maxKeysText));
    const token = q.get('continuation-token');
    const startAfter = token !== null ? decodeToken(token) : (q.get('start-after') ?? '');
    // `encoding-type=url` (the AWS CLI asks for it): names in the answer URL-encoded, spaces as '+'.
    const encoding = q.get('encoding-type');
    if (encoding !== null && encoding !== 'url') throw badRequest('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: encoding });
    const name = (text: string) => xml(encoding === 'url' ? encodeURIComponent(text).replace(/%20/g, '+') : text);
    const keys = (await collectKeys(bucketDir(bucket), prefix, startAfter)).sort(compareBytes);
    // Keys and common prefixes share max-keys, as on S3; a common prefix stands for all its keys.
    const items: Array<{ key: string } | { prefix: string }> = [];
    let truncated = false;
    let lastPrefix: string | undefined;
    for (const k of keys) {
      const at = delimiter ? k.indexOf(delimiter, prefix.length) : -1;
      const common = at === -1 ? undefined : k.slice(0, at + delimiter.length);
      if (common !== undefined && (common === lastPrefix || startAfter.startsWith(common))) continue;
      if (items.length >= maxKeys) {
        truncated = maxKeys > 0;
        break;
      }
      if (common !== undefined) items.push({ prefix: (lastPrefix = common) });
      else items.push({ key: k });
    }
    const contents = await Promise.all(items.map(async (item) => {
      if ('prefix' in item) return `<CommonPrefixes><Prefix>${name(item.prefix)}</Prefix></CommonPrefixes>`;
      const file = objectPath(bucket, item.key, S3RVER_OBJECT_SUFFIX);
      const st = await stat(file).catch(() => undefined);
      if (!st?.isFile()) return ''; // Deleted since the walk.
      const etag = await readMd5(file);
      return `<Contents><Key>${name(item.key)}</Key><LastModified>${st.mtime.toISOString()}</LastModified><ETag>${xml(`"${etag}"`)}</ETag><Size>${st.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
    }));
    const last = items.at(-1);
    const next = truncated && last ? Buffer.from('prefix' in last ? last.prefix : last.key).toString('base64url') : undefined;
    sendXml(res, 200, `<ListBucketResult xmlns="${XMLNS}"><Name>${xml(bucket)}</Name><Prefix>${name(prefix)}</Prefix>`
      + (token !== null ? `<ContinuationToken>${xml(token)}</ContinuationToken>` : q.has('start-after') ? `<StartAfter>${name(startAfter)}</StartAfter>` : '')
      + (delimiter ? `<Delimiter>${name(delimiter)}</Delimiter>` : '')
      + (encoding === 'url' ? '<EncodingType>url</EncodingType>' : '')
      + `<KeyCount>${items.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>`
      + (next ? `<NextContinuationToken>${next}</NextContinuationToken>` : '') + contents.join('') + '</ListBucketResult>');
  }

  /** Keys in a bucket's folder after `startAfter` under `prefix`, skipping folders that cannot hold one. */
  async function collectKeys(dir: string, prefix: string, startAfter: string): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (path: string, rel: string): Promise<void> => {
      const entries = await readdir(path, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
        throw err;
      });
      for (const e of entries) {
        if (e.isDirectory()) {
          const sub = `${rel}${e.name}/`;
          if (e.name.includes('._S3rver_') || !(sub.startsWith(prefix) || prefix.startsWith(sub))) continue;
          if (compareBytes(sub, startAfter) < 0 && !startAfter.startsWith(sub)) continue; // All its keys come before.
          await walk(join(path, e.name), sub);
        } else if (e.isFile() && e.name.endsWith(S3RVER_OBJECT_SUFFIX)) {
          const key = rel + e.name.slice(0, -S3RVER_OBJECT_SUFFIX.length);
          if (key.startsWith(prefix) && compareBytes(key, startAfter) > 0) keys.push(key);
        }
      }
    };
    await walk(dir, '');
    return keys;
  }

  async function putObject(req: IncomingMessage, res: ServerResponse, bucket: string, key: string): Promise<void> {
    await requireBucket(bucket);
    const metadata = storedMetadata(req);
    const objectTmp = join(tmp, randomBytes(12).toString('hex'));
    const written: string[] = [objectTmp];
    try {
      const fh = await open(objectTmp, 'wx', 0o600);
      let md5: string;
      try {
        md5 = await receiveBody(req, maxObjectBytes, (chunk) => writeAll(fh, chunk));
        await fh.sync();
      } finally {
        await fh.close();
      }
      const metadataTmp = await writeTemp(JSON.stringify(metadata, null, 2));
      written.push(metadataTmp);
      const md5Tmp = await writeTemp(md5);
      written.push(md5Tmp);
      // Sidecars first, the object last: an object file that exists is whole with its sidecars. (An
      // overwrite shows the new sidecars an instant before the new body.)
      await exclusive(`${bucket}/${key}`, async () => {
        const target = objectPath(bucket, key, S3RVER_OBJECT_SUFFIX);
        for (let attempt = 1; ; attempt++) {
          await mkdir(dirname(target), { recursive: true, mode: 0o700 });
          try {
            await rename(metadataTmp, objectPath(bucket, key, S3RVER_METADATA_SUFFIX));
            await rename(md5Tmp, objectPath(bucket, key, S3RVER_MD5_SUFFIX));
            await rename(objectTmp, target);
            break;
          } catch (err) {
            // A delete of a neighbour may remove the (then empty) folder between mkdir and rename.
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw err;
          }
        }
        await syncDir(dirname(target));
      });
      res.writeHead(200, { ETag: `"${md5}"` }).end();
    } catch (err) {
      await Promise.all(written.map((p) => unlink(p).catch(() => undefined)));
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENAMETOOLONG') throw badRequest('KeyTooLongError', 'A segment of this key is too long for a file name.', { Key: key });
      if (code === 'ENOTDIR' || code === 'EISDIR') throw badRequest('InvalidArgument', 'This key clashes with the folder or file of another key in the local S3 emulator.', { Key: key });
      throw err;
    }
  }

  async function writeTemp(text: string): Promise<string> {
    const path = join(tmp, randomBytes(12).toString('hex'));
    const fh = await open(path, 'wx', 0o600);
    try {
      await writeAll(fh, Buffer.from(text));
      await fh.sync();
    } finally {
      await fh.close();
    }
    return path;
  }

  async function getObject(req: IncomingMessage, res: ServerResponse, bucket: string, key: string): Promise<void> {
    if (Object.keys(req.headers).some((h) => h.startsWith('if-'))) throw notImplemented('conditional requests (If-Match, If-None-Match, …)');
    await requireBucket(bucket);
    const file = objectPath(bucket, key, S3RVER_OBJECT_SUFFIX);
    const fh = await open(file, 'r').catch(() => undefined);
    if (!fh) throw noSuchKey(key);
    let streaming = false;
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw noSuchKey(key);
      const stored = await readMetadata(objectPath(bucket, key, S3RVER_METADATA_SUFFIX), key);
      const headers: Record<string, string | number> = { ...stored, 'content-type': stored['content-type'] ?? 'binary/octet-stream', ETag: `"${await readMd5(file)}"`, 'Last-Modified': st.mtime.toUTCString(), 'Accept-Ranges': 'bytes' };
      const range = parseRange(req.headers.range, st.size);
      headers['Content-Length'] = range ? range.end - range.start + 1 : st.size;
      if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${st.size}`;
      res.writeHead(range ? 206 : 200, headers);
      if (req.method === 'HEAD' || headers['Content-Length'] === 0) {
        res.end();
        return;
      }
      streaming = true;
      const stream = fh.createReadStream({ start: range?.start ?? 0, end: range?.end ?? st.size - 1 });
      stream.on('error', () => res.destroy());
      await new Promise<void>((resolve) => {
        stream.on('close', resolve);
        res.on('close', () => stream.destroy());
        stream.pipe(res);
      });
    } finally {
      if (!streaming) await fh.close();
    }
  }

  async function deleteObject(bucket: string, key: string): Promise<void> {
    await exclusive(`${bucket}/${key}`, async () => {
      for (const suffix of [S3RVER_OBJECT_SUFFIX, S3RVER_MD5_SUFFIX, S3RVER_METADATA_SUFFIX]) {
        await unlink(objectPath(bucket, key, suffix)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
        });
      }
      // Removes the folders left empty, as s3rver did; one that is not empty stops it.
      const parts = key.split('/').slice(0, -1);
      for (; parts.length > 0; parts.pop()) {
        if (!(await rmdir(join(bucketDir(bucket), ...parts)).then(() => true, () => false))) break;
      }
    });
  }

  async function deleteObjects(req: IncomingMessage, res: ServerResponse, bucket: string): Promise<void> {
    await requireBucket(bucket);
    const chunks: Buffer[] = [];
    await receiveBody(req, MAX_XML_BYTES, (chunk) => void chunks.push(chunk));
    const { keys, quiet } = parseDeleteXml(Buffer.concat(chunks));
    const results: string[] = [];
    for (const key of keys) {
      try {
        checkKey(key);
        await deleteObject(bucket, key);
        if (!quiet) results.push(`<Deleted><Key>${xml(key)}</Key></Deleted>`);
      } catch (err) {
        const e = err instanceof S3Error ? err : new S3Error(500, 'InternalError', 'The object could not be deleted.');
        results.push(`<Error><Key>${xml(key)}</Key><Code>${xml(e.code)}</Code><Message>${xml(e.message)}</Message></Error>`);
      }
    }
    sendXml(res, 200, `<DeleteResult xmlns="${XMLNS}">${results.join('')}</DeleteResult>`);
  }

  function fail(req: IncomingMessage, res: ServerResponse, err: unknown): void {
    const e = err instanceof S3Error ? err : new S3Error(500, 'InternalError', 'We encountered an internal error. Please try again.');
    if (!(err instanceof S3Error)) logger.warn('local S3: internal error', { method: req.method, error: (err as Error)?.message ?? String(err) });
    try {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      for (const name of res.getHeaderNames()) if (name !== 'x-amz-request-id') res.removeHeader(name);
      // A body left unread is not drained: the connection closes instead.
      if (!req.complete) res.setHeader('Connection', 'close');
      if (req.method === 'HEAD') res.writeHead(e.status).end();
      else sendXml(res, e.status, `<Error><Code>${xml(e.code)}</Code><Message>${xml(e.message)}</Message>${Object.entries(e.detail).map(([k, v]) => `<${k}>${xml(v)}</${k}>`).join('')}</Error>`);
    } catch {
      res.destroy();
    }
  }

  return {
    handle(req, res) {
      req.on('error', () => undefined);
      res.on('error', () => undefined);
      const run = serve(req, res).catch((err: unknown) => fail(req, res, err));
      inFlight.add(run);
      void run.finally(() => inFlight.delete(run));
    },
    async close() {
      closed = true;
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}

/** Splits a path-style request target into bucket, key (undefined for a bucket) and query. */
function parseTarget(target: string): { bucket: string; key: string | undefined; query: URLSearchParams } {
  if (!target.startsWith('/')) throw badRequest('InvalidURI', 'Only path-style requests are served (the path begins with the bucket).');
  const q = target.indexOf('?');
  const path = q === -1 ? target.slice(1) : target.slice(1, q);
  const slash = path.indexOf('/');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw badRequest('InvalidURI', 'Couldn\'t parse the specified URI.');
    }
  };
  const bucket = decode(slash === -1 ? path : path.slice(0, slash));
  const key = slash === -1 || slash === path.length - 1 ? undefined : decode(path.slice(slash + 1));
  return { bucket, key, query: new URLSearchParams(q === -1 ? '' : target.slice(q + 1)) };
}

/** True when the query has a parameter other than `x-id` and `allowed`. */
function hasParams(query: URLSearchParams, allowed: string[]): boolean {
  return [...query.keys()].some((k) => k !== 'x-id' && !allowed.includes(k));
}

function validBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..');
}

function checkBucketName(name: string): void {
  if (!validBucketName(name)) throw badRequest('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
}

/** Refuses keys the s3rver layout cannot hold as one file inside the bucket's folder. */
function checkKey(key: string): void {
  if (Buffer.byteLength(key) > 1024) throw badRequest('KeyTooLongError', 'Your key is too long', { Key: key.slice(0, 64) });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) throw badRequest('InvalidArgument', 'The local S3 emulator refuses keys with control characters.', { Key: key });
  if (key.includes('._S3rver_')) throw badRequest('InvalidArgument', 'Keys containing "._S3rver_" are reserved for the emulator\'s own files.', { Key: key });
  const parts = key.split('/');
  if (parts.some((p, i) => p === '.' || p === '..' || (p === '' && i < parts.length - 1))) {
    throw badRequest('InvalidArgument', 'The local S3 emulator refuses keys with empty, "." or ".." segments (they cannot be kept as files).', { Key: key });
  }
}

/** The headers kept in the metadata file, as s3rver kept them (`aws-chunked` is transport only). */
function storedMetadata(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  let userBytes = 0;
  for (const name of STORED_HEADERS) {
    let value = req.headers[name];
    if (name === 'content-encoding' && typeof value === 'string') value = value.split(',').map((s) => s.trim()).filter((s) => s && s !== 'aws-chunked').join(', ');
    if (typeof value === 'string' && value !== '') out[name] = value;
  }
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-meta-') || typeof value !== 'string') continue;
    out[name] = value;
    userBytes += name.length - 'x-amz-meta-'.length + Buffer.byteLength(value);
  }
  if (userBytes > MAX_USER_METADATA_BYTES) throw badRequest('MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size (${MAX_USER_METADATA_BYTES} bytes).`);
  return out;
}

async function readMetadata(path: string, key: string): Promise<Record<string, string>> {
  // A missing file: s3rver served such an object without metadata, and so does the emulator.
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? '{}' : Promise.reject(err)));
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // Falls through to the refusal.
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new S3Error(500, 'InternalError', 'The metadata file of this object is unreadable (an s3rver write cut short by a crash?); local mode repairs inbox objects at start-up.', { Key: key });
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if ((STORED_HEADERS.includes(k) || k.startsWith('x-amz-meta-')) && typeof v === 'string') out[k] = v;
  }
  return out;
}

/** The object's md5 from its sidecar, or hashed from the file when the sidecar is missing or bad. */
async function readMd5(objectFile: string): Promise<string> {
  const text = await readFile(`${objectFile}.md5`, 'utf8').catch(() => '');
  if (/^[0-9a-f]{32}$/.test(text)) return text;
  const hash = createHash('md5');
  const fh = await open(objectFile, 'r');
  try {
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/**
 * Reads a request body through `sink` (decoding `aws-chunked`), at most `limit` bytes, and checks
 * every digest the request declares. Returns the body's md5 (hex).
 */
async function receiveBody(req: IncomingMessage, limit: number, sink: (chunk: Buffer) => Promise<void> | void): Promise<string> {
  const h = req.headers;
  const contentSha = header(req, 'x-amz-content-sha256');
  const chunked = contentSha?.startsWith('STREAMING-') || (header(req, 'content-encoding') ?? '').split(',').some((s) => s.trim() === 'aws-chunked');
  const tooLarge = () => badRequest('EntityTooLarge', `Your proposed upload exceeds the maximum allowed size (${limit} bytes in local mode).`, { MaxSizeAllowed: String(limit) });
  const declared = chunked ? header(req, 'x-amz-decoded-content-length') : h['content-length'];
  if (declared !== undefined && !/^\d{1,16}$/.test(declared)) throw badRequest('InvalidArgument', 'The declared content length is not a number.');
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  if (h['content-length'] !== undefined && Number(h['content-length']) > limit * 2 + 1024 * 1024) throw tooLarge();
  if (contentSha !== undefined && !/^([0-9a-f]{64}|UNSIGNED-PAYLOAD|STREAMING-[A-Z0-9-]+)$/.test(contentSha)) throw badRequest('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a lower-case hex SHA-256 digest.');
  const contentMd5 = header(req, 'content-md5');
  if (contentMd5 !== undefined && Buffer.from(contentMd5, 'base64').length !== 16) throw badRequest('InvalidDigest', 'The Content-MD5 you specified was invalid.');

  const md5 = createHash('md5');
  const sha256 = contentSha && /^[0-9a-f]{64}$/.test(contentSha) ? createHash('sha256') : undefined;
  // CRC32 is always computed (it is cheap); SHA-1 and SHA-256 only when the request declares them.
  const declaredTrailers = (header(req, 'x-amz-trailer') ?? '').split(',').map((s) => s.trim().toLowerCase());
  const hashes = new Map<string, Hash>();
  for (const name of ['sha1', 'sha256']) {
    if (header(req, `x-amz-checksum-${name}`) !== undefined || declaredTrailers.includes(`x-amz-checksum-${name}`)) hashes.set(name, createHash(name));
  }
  let crc = 0;
  const decoder = chunked ? new AwsChunkedDecoder() : undefined;
  let size = 0;
  let raw = 0;
  for await (const data of req as AsyncIterable<Buffer>) {
    raw += data.length;
    if (raw > limit * 2 + 1024 * 1024) throw tooLarge();
    sha256?.update(data);
    for (const piece of decoder ? decoder.push(data) : [data]) {
      size += piece.length;
      if (size > limit) throw tooLarge();
      md5.update(piece);
      for (const hash of hashes.values()) hash.update(piece);
      crc = crc32(piece, crc);
      await sink(piece);
    }
  }
  const trailers = decoder?.end() ?? new Map<string, string>();
  if (chunked && declared !== undefined && size !== Number(declared)) throw badRequest('IncompleteBody', 'The decoded body is not as long as x-amz-decoded-content-length says.');
  if (sha256 && contentSha !== sha256.digest('hex')) throw badRequest('XAmzContentSHA256Mismatch', 'The provided \'x-amz-content-sha256\' header does not match what was computed.', { ClientComputedContentSHA256: contentSha as string });
  const md5Bytes = md5.digest();
  if (contentMd5 !== undefined && !md5Bytes.equals(Buffer.from(contentMd5, 'base64'))) throw badRequest('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  const crcBytes = Buffer.alloc(4);
  crcBytes.writeUInt32BE(crc >>> 0);
  for (const [name, label] of Object.entries(CHECKSUMS)) {
    const given = trailers.get(`x-amz-checksum-${name}`) ?? header(req, `x-amz-checksum-${name}`);
    if (given === undefined) continue;
    const computed = name === 'crc32' ? crcBytes.toString('base64') : hashes.get(name)?.digest('base64');
    if (computed === undefined) throw badRequest('InvalidRequest', `The ${label} trailer was not declared in x-amz-trailer.`);
    if (given !== computed) throw badRequest('BadDigest', `The ${label} you specified did not match the calculated checksum.`);
  }
  return md5Bytes.toString('hex');
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Decodes `aws-chunked` (`<hex size>[;chunk-signature=…]\r\n<data>\r\n` … `0…\r\n<trailers>\r\n`).
 * Chunk signatures are not checked (a guard in front of the emulator checks the request's).
 */
class AwsChunkedDecoder {
  private state: 'size' | 'data' | 'crlf' | 'trailer' | 'done' = 'size';
  private line = Buffer.alloc(0);
  private remaining = 0;
  private readonly trailers = new Map<string, string>();

  push(buf: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < buf.length) {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, buf.length - i);
        out.push(buf.subarray(i, i + n));
        i += n;
        this.remaining -= n;
        if (this.remaining === 0) this.state = 'crlf';
        continue;
      }
      if (this.state === 'done') throw badChunk('bytes follow the final chunk');
      const nl = buf.indexOf(0x0a, i);
      const end = nl === -1 ? buf.length : nl + 1;
      this.line = Buffer.concat([this.line, buf.subarray(i, end)]);
      if (this.line.length > 4096) throw badChunk('a chunk header or trailer is longer than 4096 bytes');
      i = end;
      if (nl === -1) break;
      if (this.line.length < 2 || this.line[this.line.length - 2] !== 0x0d) throw badChunk('a line does not end with CRLF');
      const text = this.line.subarray(0, -2).toString('latin1');
      this.line = Buffer.alloc(0);
      this.onLine(text);
    }
    return out;
  }

  private onLine(text: string): void {
    if (this.state === 'crlf') {
      if (text !== '') throw badChunk('a chunk is longer than its declared size');
      this.state = 'size';
    } else if (this.state === 'size') {
      const m = /^([0-9a-fA-F]{1,8})(;chunk-signature=[0-9a-f]{64})?$/.exec(text);
      if (!m) throw badChunk('a chunk size line is not "<hex>[;chunk-signature=<hex>]"');
      this.remaining = parseInt(m[1] as string, 16);
      this.state = this.remaining === 0 ? 'trailer' : 'data';
    } else if (text === '') {
      this.state = 'done';
    } else {
      const m = /^([A-Za-z0-9-]{1,64}):[ \t]*(.*?)[ \t]*$/.exec(text);
      if (!m || this.trailers.size >= 16) throw badChunk('a trailer is not "name:value" (or there are too many)');
      this.trailers.set((m[1] as string).toLowerCase(), m[2] as string);
    }
  }

  end(): Map<string, string> {
    if (this.state !== 'done') throw badChunk('the body ended before its final chunk and trailers');
    return this.trailers;
  }
}

/**
 * Parses DeleteObjects' body: `<Delete>[<Quiet>true|false</Quiet>]<Object><Key>…</Key></Object>…</Delete>`
 * (1 to 1000 objects), with the five predefined entities and character references. Anything else
 * (DOCTYPE, comments, CDATA, other elements, text between elements) is MalformedXML.
 */
export function parseDeleteXml(body: Buffer): { keys: string[]; quiet: boolean } {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw malformedXml();
  }
  text = text.replace(/^\uFEFF?\s*(<\?xml\s[^<>?]*\?>)?/, '');
  const parents: Record<string, string> = { Delete: '', Object: 'Delete', Quiet: 'Delete', Key: 'Object', VersionId: 'Object' };
  const stack: string[] = [];
  const keys: string[] = [];
  let quiet = false;
  let sawRoot = false;
  let value = '';
  let key: string | undefined;
  const token = /<(\/?)([A-Za-z]+)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>|([^<]+)|(<)/y;
  while (token.lastIndex < text.length) {
    const m = token.exec(text);
    if (!m) throw malformedXml();
    const [, close, name, attrs, selfClosing, chars] = m;
    if (chars !== undefined) {
      if (['Key', 'Quiet', 'VersionId'].includes(stack.at(-1) ?? '')) value += decodeEntities(chars);
      else if (chars.trim() !== '') throw malformedXml();
      continue;
    }
    if (name === undefined || (close && (attrs || selfClosing))) throw malformedXml();
    if (!close) {
      if (parents[name] !== (stack.at(-1) ?? '') || (name === 'Delete' && sawRoot)) throw malformedXml();
      sawRoot = true;
      stack.push(name);
      value = '';
      if (name === 'Object') key = undefined;
      if (!selfClosing) continue;
    } else if (stack.at(-1) !== name) {
      throw malformedXml();
    }
    stack.pop();
    if (name === 'Key') {
      if (key !== undefined) throw malformedXml();
      key = value;
    } else if (name === 'Object') {
      if (key === undefined || keys.length >= 1000) throw malformedXml();
      keys.push(key);
    } else if (name === 'Quiet') {
      if (!/^\s*(true|false)\s*$/.test(value)) throw malformedXml();
      quiet = value.trim() === 'true';
    } else if (name === 'VersionId') {
      throw notImplemented('versioned deletes (VersionId in DeleteObjects)');
    }
  }
  if (stack.length > 0 || keys.length === 0) throw malformedXml();
  return { keys, quiet };
}

function decodeEntities(s: string): string {
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: '\'' };
  return s.replace(/&(?:#x([0-9a-fA-F]{1,6})|#([0-9]{1,7})|(amp|lt|gt|quot|apos));|&/g, (_all, hex?: string, dec?: string, name?: string) => {
    if (name) return named[name] as string;
    const cp = hex !== undefined ? parseInt(hex, 16) : dec !== undefined ? Number(dec) : -1;
    if (cp <= 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw malformedXml();
    return String.fromCodePoint(cp);
  });
}

/** One `bytes=` range (`a-b`, `a-`, `-n`) clipped to the object; undefined without a Range header. */
function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) {
    if (/^bytes=.*,/.test(value)) throw notImplemented('multiple byte ranges');
    throw badRequest('InvalidArgument', 'The Range header is not a single "bytes=first-last" range.', { ArgumentName: 'Range' });
  }
  const unsatisfiable = () => new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: value, ActualObjectSize: String(size) });
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) throw badRequest('InvalidArgument', 'The Range header\'s last byte comes before its first.', { ArgumentName: 'Range' });
  if (start >= size) throw unsatisfiable();
  return { start, end };
}

function decodeToken(token: string): string {
  if (/^[A-Za-z0-9_-]{1,2000}$/.test(token)) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(token, 'base64url'));
    } catch {
      // Falls through to the refusal.
    }
  }
  throw badRequest('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
}

/** S3 orders keys by their UTF-8 bytes. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/** Escapes text for XML 1.0; characters it cannot hold at all become U+FFFD. */
function xml(s: string): string {
  const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\'': '&apos;' };
  // eslint-disable-next-line no-control-regex
  return s.replace(/[&<>"']/g, (c) => entities[c] as string).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd');
}

function sendXml(res: ServerResponse, status: number, body: string): void {
  const bytes = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': bytes.length }).end(bytes);
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length;) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
}
