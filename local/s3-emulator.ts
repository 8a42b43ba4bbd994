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
 * The files are s3rver 3's, since the CLI's tools and the start-up repair read them directly (the
 * layout and how each file is written whole: `s3/object-store.ts`). Keys the layout cannot hold
 * faithfully (empty or `.`/`..` segments, control characters, the `._S3rver_` infix) are refused
 * with 400; Windows' file-name escaping is not implemented.
 *
 * This module routes the requests and answers them; its parts are in `s3/`: the object store, the
 * body reading and digests (`body.ts`), the XML (`xml.ts`), the target, key and Range rules
 * (`request-parts.ts`), the stored metadata (`metadata.ts`) and the errors (`errors.ts`).
 */
import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../lambda/core/errors.js';
import { silentLogger, type Logger } from '../lambda/core/telemetry.js';
import { receiveBody } from './s3/body.js';
import { badRequest, notImplemented, S3Error } from './s3/errors.js';
import { storedMetadata } from './s3/metadata.js';
import { S3ObjectStore } from './s3/object-store.js';
import { checkBucketName, checkKey, decodeToken, encodeToken, hasParams, parseRange, parseTarget } from './s3/request-parts.js';
import { errorXml, parseDeleteXml, sendXml, xml, XMLNS } from './s3/xml.js';

export { parseDeleteXml } from './s3/xml.js';

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

const MAX_XML_BYTES = 2 * 1024 * 1024;

export function createS3Emulator(opts: S3EmulatorOptions): S3Emulator {
  const store = new S3ObjectStore(opts.directory);
  const logger = opts.logger ?? silentLogger;
  const maxObjectBytes = opts.maxObjectBytes ?? 64 * 1024 * 1024;
  const inFlight = new Set<Promise<void>>();
  let closed = false;

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
      if (method === 'HEAD' && !hasParams(query, [])) return store.requireBucket(bucket).then(() => void res.writeHead(200).end());
      if (
        method === 'GET' &&
        query.get('list-type') === '2' &&
        !hasParams(query, ['list-type', 'prefix', 'delimiter', 'max-keys', 'continuation-token', 'start-after', 'fetch-owner', 'encoding-type'])
      )
        return listObjects(res, bucket, query);
      if (method === 'POST' && query.has('delete') && !hasParams(query, ['delete'])) return deleteObjects(req, res, bucket);
      throw notImplemented(method === 'GET' && !hasParams(query, []) ? 'ListObjects (version 1); use ListObjectsV2' : op);
    }
    checkKey(key);
    if (hasParams(query, []) || req.headers['x-amz-copy-source'] !== undefined) throw notImplemented(op);
    if (method === 'PUT') return putObject(req, res, bucket, key);
    if (method === 'GET' || method === 'HEAD') return getObject(req, res, bucket, key);
    if (method === 'DELETE') {
      await store.requireBucket(bucket);
      await store.delete(bucket, key);
      res.writeHead(204).end();
      return;
    }
    throw notImplemented(op);
  }

  async function listBuckets(res: ServerResponse): Promise<void> {
    const buckets = (await store.listBuckets()).map(
      (b) => `<Bucket><Name>${xml(b.name)}</Name><CreationDate>${b.created.toISOString()}</CreationDate></Bucket>`,
    );
    sendXml(
      res,
      200,
      `<ListAllMyBucketsResult xmlns="${XMLNS}"><Owner><ID>local</ID><DisplayName>local</DisplayName></Owner><Buckets>${buckets.join('')}</Buckets></ListAllMyBucketsResult>`,
    );
  }

  async function createBucket(req: IncomingMessage, res: ServerResponse, bucket: string): Promise<void> {
    await receiveBody(req, 64 * 1024, () => undefined); // A CreateBucketConfiguration, if any: the region is not kept.
    await store.createBucket(bucket);
    res.writeHead(200, { Location: `/${bucket}` }).end();
  }

  async function listObjects(res: ServerResponse, bucket: string, q: URLSearchParams): Promise<void> {
    await store.requireBucket(bucket);
    const prefix = q.get('prefix') ?? '';
    const delimiter = q.get('delimiter') ?? '';
    const maxKeysText = q.get('max-keys') ?? '1000';
    if (!/^\d{1,10}$/.test(maxKeysText))
      throw badRequest('InvalidArgument', 'Provided max-keys not an integer or within integer range', {
        ArgumentName: 'max-keys',
        ArgumentValue: maxKeysText,
      });
    const maxKeys = Math.min(1000, Number(maxKeysText));
    const token = q.get('continuation-token');
    const startAfter = token !== null ? decodeToken(token) : (q.get('start-after') ?? '');
    // `encoding-type=url` (the AWS CLI asks for it): names in the answer URL-encoded, spaces as '+'.
    const encoding = q.get('encoding-type');
    if (encoding !== null && encoding !== 'url')
      throw badRequest('InvalidArgument', 'Invalid Encoding Method specified in Request', { ArgumentName: 'encoding-type', ArgumentValue: encoding });
    const name = (text: string) => xml(encoding === 'url' ? encodeURIComponent(text).replace(/%20/g, '+') : text);
    const keys = await store.listKeys(bucket, prefix, startAfter);
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
    const contents = await Promise.all(
      items.map(async (item) => {
        if ('prefix' in item) return `<CommonPrefixes><Prefix>${name(item.prefix)}</Prefix></CommonPrefixes>`;
        const o = await store.describe(bucket, item.key);
        if (!o) return ''; // Deleted since the walk.
        return `<Contents><Key>${name(item.key)}</Key><LastModified>${o.mtime.toISOString()}</LastModified><ETag>${xml(`"${o.etag}"`)}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
      }),
    );
    const last = items.at(-1);
    const next = truncated && last ? encodeToken('prefix' in last ? last.prefix : last.key) : undefined;
    sendXml(
      res,
      200,
      `<ListBucketResult xmlns="${XMLNS}"><Name>${xml(bucket)}</Name><Prefix>${name(prefix)}</Prefix>` +
        (token !== null
          ? `<ContinuationToken>${xml(token)}</ContinuationToken>`
          : q.has('start-after')
            ? `<StartAfter>${name(startAfter)}</StartAfter>`
            : '') +
        (delimiter ? `<Delimiter>${name(delimiter)}</Delimiter>` : '') +
        (encoding === 'url' ? '<EncodingType>url</EncodingType>' : '') +
        `<KeyCount>${items.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys><IsTruncated>${truncated}</IsTruncated>` +
        (next ? `<NextContinuationToken>${next}</NextContinuationToken>` : '') +
        contents.join('') +
        '</ListBucketResult>',
    );
  }

  async function putObject(req: IncomingMessage, res: ServerResponse, bucket: string, key: string): Promise<void> {
    await store.requireBucket(bucket);
    const metadata = storedMetadata(req);
    const md5 = await store.put(bucket, key, metadata, (write) => receiveBody(req, maxObjectBytes, write));
    res.writeHead(200, { ETag: `"${md5}"` }).end();
  }

  async function getObject(req: IncomingMessage, res: ServerResponse, bucket: string, key: string): Promise<void> {
    if (Object.keys(req.headers).some((h) => h.startsWith('if-'))) throw notImplemented('conditional requests (If-Match, If-None-Match, …)');
    await store.requireBucket(bucket);
    const { fh, size, mtime, metadata, etag } = await store.open(bucket, key);
    let streaming = false;
    try {
      const headers: Record<string, string | number> = {
        ...metadata,
        'content-type': metadata['content-type'] ?? 'binary/octet-stream',
        ETag: `"${etag}"`,
        'Last-Modified': mtime.toUTCString(),
        'Accept-Ranges': 'bytes',
      };
      const range = parseRange(req.headers.range, size);
      headers['Content-Length'] = range ? range.end - range.start + 1 : size;
      if (range) headers['Content-Range'] = `bytes ${range.start}-${range.end}/${size}`;
      res.writeHead(range ? 206 : 200, headers);
      if (req.method === 'HEAD' || headers['Content-Length'] === 0) {
        res.end();
        return;
      }
      streaming = true;
      const stream = fh.createReadStream({ start: range?.start ?? 0, end: range?.end ?? size - 1 });
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

  async function deleteObjects(req: IncomingMessage, res: ServerResponse, bucket: string): Promise<void> {
    await store.requireBucket(bucket);
    const chunks: Buffer[] = [];
    await receiveBody(req, MAX_XML_BYTES, (chunk) => void chunks.push(chunk));
    const { keys, quiet } = parseDeleteXml(Buffer.concat(chunks));
    const results: string[] = [];
    for (const key of keys) {
      try {
        checkKey(key);
        await store.delete(bucket, key);
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
    if (!(err instanceof S3Error)) logger.warn('local S3: internal error', { method: req.method, error: errorMessage(err) });
    try {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      for (const name of res.getHeaderNames()) if (name !== 'x-amz-request-id') res.removeHeader(name);
      // A body left unread is not drained: the connection closes instead.
      if (!req.complete) res.setHeader('Connection', 'close');
      if (req.method === 'HEAD') res.writeHead(e.status).end();
      else sendXml(res, e.status, errorXml(e));
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
