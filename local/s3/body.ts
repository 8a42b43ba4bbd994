/**
 * Reading an S3 request body in the local S3 emulator: `aws-chunked` decoding, the size limit, and
 * every payload digest the request declares: a hex `x-amz-content-sha256` (XAmzContentSHA256Mismatch),
 * `Content-MD5` and the CRC32, SHA-1 and SHA-256 flexible checksums, in headers or `aws-chunked`
 * trailers (BadDigest).
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { crc32 } from 'node:zlib';
import { badRequest } from './errors.js';

const CHECKSUMS: Record<string, string> = { crc32: 'CRC32', sha1: 'SHA1', sha256: 'SHA256' };

const badChunk = (why: string) => badRequest('IncompleteBody', `The aws-chunked request body is malformed: ${why}.`);

/**
 * Reads a request body through `sink` (decoding `aws-chunked`), at most `limit` bytes, and checks
 * every digest the request declares. Returns the body's md5 (hex).
 */
export async function receiveBody(req: IncomingMessage, limit: number, sink: (chunk: Buffer) => Promise<void> | void): Promise<string> {
  const h = req.headers;
  const contentSha = header(req, 'x-amz-content-sha256');
  const chunked = contentSha?.startsWith('STREAMING-') || (header(req, 'content-encoding') ?? '').split(',').some((s) => s.trim() === 'aws-chunked');
  const tooLarge = () =>
    badRequest('EntityTooLarge', `Your proposed upload exceeds the maximum allowed size (${limit} bytes in local mode).`, {
      MaxSizeAllowed: String(limit),
    });
  const declared = chunked ? header(req, 'x-amz-decoded-content-length') : h['content-length'];
  if (declared !== undefined && !/^\d{1,16}$/.test(declared)) throw badRequest('InvalidArgument', 'The declared content length is not a number.');
  if (declared !== undefined && Number(declared) > limit) throw tooLarge();
  if (h['content-length'] !== undefined && Number(h['content-length']) > limit * 2 + 1024 * 1024) throw tooLarge();
  if (contentSha !== undefined && !/^([0-9a-f]{64}|UNSIGNED-PAYLOAD|STREAMING-[A-Z0-9-]+)$/.test(contentSha))
    throw badRequest('InvalidArgument', 'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or a lower-case hex SHA-256 digest.');
  const contentMd5 = header(req, 'content-md5');
  if (contentMd5 !== undefined && Buffer.from(contentMd5, 'base64').length !== 16)
    throw badRequest('InvalidDigest', 'The Content-MD5 you specified was invalid.');

  const md5 = createHash('md5');
  const sha256 = contentSha && /^[0-9a-f]{64}$/.test(contentSha) ? createHash('sha256') : undefined;
  // CRC32 is always computed (it is cheap); SHA-1 and SHA-256 only when the request declares them.
  const declaredTrailers = (header(req, 'x-amz-trailer') ?? '').split(',').map((s) => s.trim().toLowerCase());
  const hashes = new Map<string, Hash>();
  for (const name of ['sha1', 'sha256']) {
    if (header(req, `x-amz-checksum-${name}`) !== undefined || declaredTrailers.includes(`x-amz-checksum-${name}`))
      hashes.set(name, createHash(name));
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
  if (chunked && declared !== undefined && size !== Number(declared))
    throw badRequest('IncompleteBody', 'The decoded body is not as long as x-amz-decoded-content-length says.');
  if (sha256 && contentSha !== sha256.digest('hex'))
    throw badRequest('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
      ClientComputedContentSHA256: contentSha as string,
    });
  const md5Bytes = md5.digest();
  if (contentMd5 !== undefined && !md5Bytes.equals(Buffer.from(contentMd5, 'base64')))
    throw badRequest('BadDigest', 'The Content-MD5 you specified did not match what we received.');
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
