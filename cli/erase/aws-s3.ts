/**
 * The archive bucket as `erase --aws` reads and changes it: objects with their ETag and version,
 * every version of one key (the bucket is versioned, lib/constructs/archive.ts, so an overwritten
 * or deleted object keeps its old bytes as a noncurrent version until they are deleted by id), and
 * the receipt store under `erasures/`. Every failure names the call and its IAM action. Local mode's
 * erasure (`./local.ts`, `./stores.ts`) reads and writes its S3 stand-in through the same functions.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { hasErrorName } from '../../lambda/core/errors.js';
import { ERASURES_PREFIX } from '../../lambda/core/privacy/receipt.js';
import { awsError } from '../aws-errors.js';
import type { ReceiptStore } from './target.js';

export type S3 = Pick<S3Client, 'send'>;

/** One object as read: its bytes and what a conditional write back needs. */
export interface ReadObject {
  readonly body: Buffer;
  readonly etag: string | undefined;
  readonly versionId: string | undefined;
  readonly contentType: string | undefined;
  readonly contentEncoding: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
}

/** The object (or one version of it), undefined when there is none: `NoSuchKey`, or a delete marker. */
export async function readObject(s3: S3, bucket: string, key: string, versionId?: string): Promise<ReadObject | undefined> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(versionId !== undefined ? { VersionId: versionId } : {}) }));
    return {
      body: Buffer.from((await out.Body?.transformToByteArray()) ?? new Uint8Array(0)),
      etag: out.ETag,
      versionId: out.VersionId,
      contentType: out.ContentType,
      contentEncoding: out.ContentEncoding,
      metadata: out.Metadata ?? {},
    };
  } catch (err) {
    if (hasErrorName(err, 'NoSuchKey') || hasErrorName(err, 'NoSuchVersion')) return undefined;
    throw awsError(err, `read s3://${bucket}/${key} (s3:GetObject${versionId !== undefined ? ', s3:GetObjectVersion' : ''})`);
  }
}

/** The parsed JSON of object `key` (a body's copy), undefined when it is gone or not JSON. */
export async function readJson(s3: S3, bucket: string, key: string): Promise<unknown> {
  const object = await readObject(s3, bucket, key);
  if (object === undefined) return undefined;
  try {
    return JSON.parse(object.body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Writes an object; with `ifMatch`, only over the version of that ETag. Returns the new version, if any. */
export async function writeObject(s3: S3, input: PutObjectCommandInput & { Bucket: string; Key: string }): Promise<string | undefined> {
  return (await s3.send(new PutObjectCommand(input))).VersionId;
}

/** Whether S3 refused a conditional write because the object changed (412), or another write to it was in flight (409). */
export function isConditionLost(err: unknown): boolean {
  const status = (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  return hasErrorName(err, 'PreconditionFailed') || hasErrorName(err, 'ConditionalRequestConflict') || status === 412 || status === 409;
}

/** One version (or delete marker) of a key. */
export interface KeyVersion {
  readonly versionId: string;
  readonly isLatest: boolean;
  readonly deleteMarker: boolean;
}

/**
 * Lists the versions and delete markers under `prefix`, page by page, until `onPage` returns true
 * or the listing ends. A failure names the listing and its IAM action.
 */
export async function eachVersionPage(
  s3: S3,
  bucket: string,
  prefix: string,
  onPage: (page: ListObjectVersionsCommandOutput) => boolean | void,
  what = `under s3://${bucket}/${prefix}`,
): Promise<void> {
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  for (;;) {
    let page;
    try {
      page = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: bucket,
          Prefix: prefix,
          ...(keyMarker !== undefined ? { KeyMarker: keyMarker } : {}),
          ...(versionMarker !== undefined ? { VersionIdMarker: versionMarker } : {}),
        }),
      );
    } catch (err) {
      throw awsError(err, `list the versions ${what} (s3:ListBucketVersions)`);
    }
    if (onPage(page) === true || !page.IsTruncated) return;
    keyMarker = page.NextKeyMarker;
    versionMarker = page.NextVersionIdMarker;
  }
}

/** Every version and delete marker of exactly `key` (S3 lists by prefix: other keys that start with it are left out). */
export async function versionsOf(s3: S3, bucket: string, key: string): Promise<KeyVersion[]> {
  const found: KeyVersion[] = [];
  await eachVersionPage(
    s3,
    bucket,
    key,
    (page) => {
      for (const v of page.Versions ?? []) {
        if (v.Key === key && v.VersionId) found.push({ versionId: v.VersionId, isLatest: v.IsLatest === true, deleteMarker: false });
      }
      for (const m of page.DeleteMarkers ?? []) {
        if (m.Key === key && m.VersionId) found.push({ versionId: m.VersionId, isLatest: m.IsLatest === true, deleteMarker: true });
      }
      // Keys are listed in order and `key` sorts first among those it prefixes: past it, nothing more is its.
      return [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].some((v) => v.Key !== undefined && v.Key !== key);
    },
    `of s3://${bucket}/${key}`,
  );
  return found;
}

/** Deletes versions of `key` by id (for good: no delete marker is left); returns them as `key#versionId`. */
export async function deleteVersions(s3: S3, bucket: string, key: string, versions: readonly KeyVersion[]): Promise<string[]> {
  const deleted: string[] = [];
  for (const v of versions) {
    try {
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: v.versionId }));
    } catch (err) {
      throw awsError(err, `delete version ${v.versionId} of s3://${bucket}/${key} (s3:DeleteObjectVersion)`);
    }
    deleted.push(`${key}#${v.versionId}`);
  }
  return deleted;
}

/**
 * Deletes the versions of `key` older than its current one (and any delete marker not current),
 * never `keep` (the version just written); or, with `keep` = `'all'`, every version of it. Returns
 * them as `key#versionId`.
 */
export async function deleteOldVersions(s3: S3, bucket: string, key: string, keep: string | undefined | 'all'): Promise<string[]> {
  const versions = await versionsOf(s3, bucket, key);
  const doomed = keep === 'all' ? versions : versions.filter((v) => !v.isLatest && v.versionId !== keep);
  return deleteVersions(s3, bucket, key, doomed);
}

/**
 * The runner's progress and receipts as JSON objects in the archive bucket, under `erasures/` only:
 * a key anywhere else is refused, so no mistake in a caller can overwrite an archive object.
 */
export function s3ReceiptStore(s3: S3, bucket: string, describe: (key: string) => string = (key) => `s3://${bucket}/${key}`): ReceiptStore {
  const check = (key: string) => {
    if (!key.startsWith(ERASURES_PREFIX) || key.includes('..')) throw new RangeError(`receipt key '${key}' is not under ${ERASURES_PREFIX}`);
  };
  return {
    async read(key) {
      check(key);
      const object = await readObject(s3, bucket, key);
      return object === undefined ? undefined : (JSON.parse(object.body.toString('utf8')) as unknown);
    },
    async write(key, document) {
      check(key);
      const body = `${JSON.stringify(document, null, 2)}\n`;
      try {
        await writeObject(s3, { Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' });
      } catch (err) {
        throw awsError(err, `write s3://${bucket}/${key} (s3:PutObject)`);
      }
    },
    async remove(key) {
      check(key);
      try {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
      } catch (err) {
        throw awsError(err, `delete s3://${bucket}/${key} (s3:DeleteObject)`);
      }
    },
    describe,
  };
}
