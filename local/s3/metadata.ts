/**
 * An object's metadata as s3rver kept it in `<key>._S3rver_metadata.json`: some of the PutObject
 * request's headers and its `x-amz-meta-*`.
 */
import type { IncomingMessage } from 'node:http';
import { badRequest } from './errors.js';

const MAX_USER_METADATA_BYTES = 2048;
/** The request headers s3rver kept with an object (its `ALLOWED_METADATA`), besides `x-amz-meta-*`. */
const STORED_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'content-type',
  'expires',
  'x-amz-storage-class',
  'x-amz-website-redirect-location',
];

/** The headers kept in the metadata file, as s3rver kept them (`aws-chunked` is transport only). */
export function storedMetadata(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  let userBytes = 0;
  for (const name of STORED_HEADERS) {
    let value = req.headers[name];
    if (name === 'content-encoding' && typeof value === 'string')
      value = value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s && s !== 'aws-chunked')
        .join(', ');
    if (typeof value === 'string' && value !== '') out[name] = value;
  }
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-meta-') || typeof value !== 'string') continue;
    out[name] = value;
    userBytes += name.length - 'x-amz-meta-'.length + Buffer.byteLength(value);
  }
  if (userBytes > MAX_USER_METADATA_BYTES)
    throw badRequest('MetadataTooLarge', `Your metadata headers exceed the maximum allowed metadata size (${MAX_USER_METADATA_BYTES} bytes).`);
  return out;
}

/** The entries of a metadata file's object that are headers s3rver would have kept. */
export function keptMetadata(parsed: object): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) {
    if ((STORED_HEADERS.includes(k) || k.startsWith('x-amz-meta-')) && typeof v === 'string') out[k] = v;
  }
  return out;
}
