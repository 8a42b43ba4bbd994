/**
 * The parts of an S3 request the local S3 emulator reads besides the body: the path-style target,
 * the bucket-name and key rules, the query parameters it allows, a Range and a continuation token.
 */
import { badRequest, notImplemented, S3Error } from './errors.js';

/** Splits a path-style request target into bucket, key (undefined for a bucket) and query. */
export function parseTarget(target: string): { bucket: string; key: string | undefined; query: URLSearchParams } {
  if (!target.startsWith('/')) throw badRequest('InvalidURI', 'Only path-style requests are served (the path begins with the bucket).');
  const q = target.indexOf('?');
  const path = q === -1 ? target.slice(1) : target.slice(1, q);
  const slash = path.indexOf('/');
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      throw badRequest('InvalidURI', "Couldn't parse the specified URI.");
    }
  };
  const bucket = decode(slash === -1 ? path : path.slice(0, slash));
  const key = slash === -1 || slash === path.length - 1 ? undefined : decode(path.slice(slash + 1));
  return { bucket, key, query: new URLSearchParams(q === -1 ? '' : target.slice(q + 1)) };
}

/** True when the query has a parameter other than `x-id` and `allowed`. */
export function hasParams(query: URLSearchParams, allowed: string[]): boolean {
  return [...query.keys()].some((k) => k !== 'x-id' && !allowed.includes(k));
}

export function validBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..');
}

export function checkBucketName(name: string): void {
  if (!validBucketName(name)) throw badRequest('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
}

/** Refuses keys the s3rver layout cannot hold as one file inside the bucket's folder. */
export function checkKey(key: string): void {
  if (Buffer.byteLength(key) > 1024) throw badRequest('KeyTooLongError', 'Your key is too long', { Key: key.slice(0, 64) });
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key))
    throw badRequest('InvalidArgument', 'The local S3 emulator refuses keys with control characters.', { Key: key });
  if (key.includes('._S3rver_'))
    throw badRequest('InvalidArgument', 'Keys containing "._S3rver_" are reserved for the emulator\'s own files.', { Key: key });
  const parts = key.split('/');
  if (parts.some((p, i) => p === '.' || p === '..' || (p === '' && i < parts.length - 1))) {
    throw badRequest('InvalidArgument', 'The local S3 emulator refuses keys with empty, "." or ".." segments (they cannot be kept as files).', {
      Key: key,
    });
  }
}

/** One `bytes=` range (`a-b`, `a-`, `-n`) clipped to the object; undefined without a Range header. */
export function parseRange(value: string | undefined, size: number): { start: number; end: number } | undefined {
  if (value === undefined) return undefined;
  const m = /^bytes=(\d{0,16})-(\d{0,16})$/.exec(value.trim());
  if (!m || (m[1] === '' && m[2] === '')) {
    if (/^bytes=.*,/.test(value)) throw notImplemented('multiple byte ranges');
    throw badRequest('InvalidArgument', 'The Range header is not a single "bytes=first-last" range.', { ArgumentName: 'Range' });
  }
  const unsatisfiable = () =>
    new S3Error(416, 'InvalidRange', 'The requested range is not satisfiable', { RangeRequested: value, ActualObjectSize: String(size) });
  if (m[1] === '') {
    const n = Number(m[2]);
    if (n === 0 || size === 0) throw unsatisfiable();
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start)
    throw badRequest('InvalidArgument', "The Range header's last byte comes before its first.", { ArgumentName: 'Range' });
  if (start >= size) throw unsatisfiable();
  return { start, end };
}

/** A ListObjectsV2 continuation token: the last key or common prefix listed, base64url-encoded. */
export function encodeToken(last: string): string {
  return Buffer.from(last).toString('base64url');
}

/** The key or common prefix a continuation token (from `encodeToken`) stands for. */
export function decodeToken(token: string): string {
  if (/^[A-Za-z0-9_-]{1,2000}$/.test(token)) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(token, 'base64url'));
    } catch {
      // Falls through to the refusal.
    }
  }
  throw badRequest('InvalidArgument', 'The continuation token provided is incorrect', { ArgumentName: 'continuation-token' });
}
