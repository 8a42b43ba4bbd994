import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { BlobNotFoundError } from '../core/errors.js';
import type { BlobPutOptions, BlobStore, CallOptions, StoredBlob } from '../core/ports.js';

/**
 * Blob port on S3: the archive bucket's inbox (`inbox/large/`, `inbox/spill/`). Objects hold the
 * exact bytes with the queue attributes as user metadata (`lambda/core/inbox.ts`).
 */
export class S3BlobStore implements BlobStore {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
  ) {}

  async put(key: string, body: Uint8Array, options: BlobPutOptions = {}): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.byteLength,
        ContentType: 'application/octet-stream',
        ...(options.metadata ? { Metadata: { ...options.metadata } } : {}),
      }),
      options.signal ? { abortSignal: options.signal } : {},
    );
  }

  async get(key: string, options: CallOptions = {}): Promise<StoredBlob> {
    let out;
    try {
      out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }), options.signal ? { abortSignal: options.signal } : {});
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(key);
      throw err;
    }
    const bytes = out.Body ? await out.Body.transformToByteArray() : new Uint8Array(0);
    return { body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), metadata: lowerCaseKeys(out.Metadata ?? {}) };
  }

  async delete(key: string, options: CallOptions = {}): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }), options.signal ? { abortSignal: options.signal } : {});
  }
}

/**
 * Only `NoSuchKey` means the object is gone. Every other failure stays an error (a retry, then the
 * DLQ): a 404 `NoSuchBucket` is a misconfiguration, and without `s3:ListBucket` S3 answers a
 * missing key with 403, so a wrong grant can never make the fan-out treat an event as lost (the
 * fan-out is granted `s3:ListBucket` so that a missing key does read as `NoSuchKey`).
 */
function isNotFound(err: unknown): boolean {
  return err instanceof NoSuchKey || (err as { name?: string } | null)?.name === 'NoSuchKey';
}

function lowerCaseKeys(m: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) out[k.toLowerCase()] = v;
  return out;
}
