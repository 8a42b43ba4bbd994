import type { BlobPutOptions, BlobStore, CallOptions, StoredBlob } from '../core/ports.js';

/**
 * A blob store built on first use. The receiver needs S3 only on its rare paths (claim check,
 * spill), and `@aws-sdk/client-s3` is the largest module it would load: deferring the import keeps
 * it out of every cold start (see `bench/cold-start.ts` for the figures).
 */
export class LazyBlobStore implements BlobStore {
  private loading: Promise<BlobStore> | undefined;

  /** @param load builds the real store, typically with `await import(...)` of the SDK inside. */
  constructor(
    private readonly load: () => Promise<BlobStore>,
    readonly bucket?: string,
  ) {}

  /** The real store, loading it once; a failed load is retried by the next call. */
  private store(): Promise<BlobStore> {
    this.loading ??= this.load().catch((err: unknown) => {
      this.loading = undefined;
      throw err;
    });
    return this.loading;
  }

  async put(key: string, body: Uint8Array, options?: BlobPutOptions): Promise<void> {
    return (await this.store()).put(key, body, options);
  }

  async get(key: string, options?: CallOptions): Promise<StoredBlob> {
    return (await this.store()).get(key, options);
  }

  async delete(key: string, options?: CallOptions): Promise<void> {
    return (await this.store()).delete(key, options);
  }
}
