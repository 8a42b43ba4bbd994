import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  parseSuppressionList,
  serializeSuppressionList,
  SUPPRESSION_LIST_KEY,
  SUPPRESSION_LIST_MAX_AGE_MS,
  withUserIdHash,
  type SuppressionList,
} from '../core/privacy/suppression.js';

type S3 = Pick<S3Client, 'send'>;

export interface S3SuppressionListOptions {
  /** How long a read of the list is used before the next one. @default SUPPRESSION_LIST_MAX_AGE_MS (60 s) */
  readonly maxAgeMs?: number;
  /** A monotonic clock in milliseconds. @default performance.now */
  readonly clockMs?: () => number;
}

/**
 * The suppression list port on S3 (docs/privacy.md): `erasures/suppressed.json` of the archive
 * bucket, read at most once a minute per container. Each read first lists the key
 * (`ListObjectsV2` with the key as prefix): a missing list is then an empty one without relying on
 * how S3 answers a `GetObject` of a missing key (`NoSuchKey` needs `s3:ListBucket` on that key, a
 * 403 otherwise), and an unchanged ETag spares fetching the object again. Any failure rejects; the
 * fan-out then retries its records (fail closed).
 */
export class S3SuppressionList implements SuppressionList {
  private cached: { readonly hashes: ReadonlySet<string>; readonly etag: string | undefined; readonly at: number } | undefined;
  private reading: Promise<ReadonlySet<string>> | undefined;
  private readonly maxAgeMs: number;
  private readonly clockMs: () => number;

  constructor(
    private readonly client: S3,
    readonly bucket: string,
    opts: S3SuppressionListOptions = {},
  ) {
    this.maxAgeMs = opts.maxAgeMs ?? SUPPRESSION_LIST_MAX_AGE_MS;
    this.clockMs = opts.clockMs ?? (() => performance.now());
  }

  async userIdHashes(): Promise<ReadonlySet<string>> {
    const cached = this.cached;
    if (cached !== undefined && this.clockMs() - cached.at < this.maxAgeMs) return cached.hashes;
    // One read at a time: the batches of a container that find the copy stale share it.
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<ReadonlySet<string>> {
    const at = this.clockMs();
    const listed = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: SUPPRESSION_LIST_KEY, MaxKeys: 1 }));
    const entry = listed.Contents?.find((o) => o.Key === SUPPRESSION_LIST_KEY);
    let hashes: ReadonlySet<string>;
    let etag: string | undefined;
    if (entry === undefined) {
      hashes = new Set();
    } else if (entry.ETag !== undefined && entry.ETag === this.cached?.etag) {
      hashes = this.cached.hashes;
      etag = entry.ETag;
    } else {
      const object = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: SUPPRESSION_LIST_KEY }));
      hashes = parseSuppressionList((await object.Body?.transformToString('utf8')) ?? '');
      etag = object.ETag;
    }
    this.cached = { hashes, etag, at };
    return hashes;
  }
}

/** What {@link addToS3SuppressionList} did. */
export type SuppressionListChange = 'added' | 'already-listed';

/** Whether S3 refused a conditional write because the object changed (412) or another write was in flight (409). */
function conditionLost(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | undefined;
  const status = e?.$metadata?.httpStatusCode;
  return e?.name === 'PreconditionFailed' || e?.name === 'ConditionalRequestConflict' || status === 412 || status === 409;
}

/**
 * Adds `hash` to the list in `bucket`, by a conditional write over the version read (`If-Match` its
 * ETag, or `If-None-Match: *` when there is no list yet): two operators adding at once never lose
 * each other's entry; the one whose write S3 refuses reads the list again and retries, up to
 * `attempts` times. Reading needs `s3:ListBucket` on the bucket (a missing list must read as
 * `NoSuchKey`), writing `s3:PutObject` on the key.
 */
export async function addToS3SuppressionList(client: S3, bucket: string, hash: string, attempts = 5): Promise<SuppressionListChange> {
  for (let attempt = 1; ; attempt++) {
    let stored: { text: string; etag: string | undefined } | undefined;
    try {
      const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: SUPPRESSION_LIST_KEY }));
      stored = { text: (await object.Body?.transformToString('utf8')) ?? '', etag: object.ETag };
    } catch (err) {
      if ((err as { name?: string } | undefined)?.name !== 'NoSuchKey') throw err;
    }
    const { document, added } = withUserIdHash(stored === undefined ? new Set() : parseSuppressionList(stored.text), hash);
    if (!added) return 'already-listed';
    try {
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: SUPPRESSION_LIST_KEY,
          Body: serializeSuppressionList(document.userIdHashes),
          ContentType: 'application/json',
          ...(stored === undefined ? { IfNoneMatch: '*' } : stored.etag !== undefined ? { IfMatch: stored.etag } : {}),
        }),
      );
      return 'added';
    } catch (err) {
      if (!conditionLost(err) || attempt >= attempts) throw err;
    }
  }
}
