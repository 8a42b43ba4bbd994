/**
 * Local mode's blob store: the Lambda's S3 adapter over s3rver, made as durable as S3 itself.
 *
 * S3 has the whole object before it answers a put; s3rver answers before its file is fully written
 * (it ends the write stream without waiting), and this process may be killed right after. The
 * receiver answers 200 to a spilled event on the strength of that put, so here a put resolves only
 * once the object reads back byte for byte (and, when s3rver's folder is known, its file is synced).
 *
 * S3 also never shows half an object, where s3rver keeps whatever part of the body it got: a put
 * aborted by the receiver's deadline would leave a torn object, or truncate a whole one of the same
 * key. So the caller's abort signal is not passed on (the put finishes in the background, as a
 * request already sent to S3 may), and an inbox object that is already whole is not written again:
 * its key names the hash of its body, so the same key always means the same bytes (unless it lacks
 * the put's `identityMetadata`, such as local mode's MAC: then it is written again).
 *
 * A read can also catch an object mid-write (a listing by the spill drain, or the same event spilled
 * twice): inbox keys end in the event id, the hash of the exact body, so a read whose body does not
 * hash to its key's id is retried, then reported as {@link IncompleteObjectError}: a transient
 * failure, so the fan-out retries the record instead of storing a torn body under a wrong id.
 */
import { BlobNotFoundError, SocialPlusWebhooksError } from '../lambda/core/errors.js';
import { eventIdOf } from '../lambda/core/event-id.js';
import { parseInboxKey } from '../lambda/core/inbox.js';
import type { BlobPutOptions, BlobStore, CallOptions, StoredBlob } from '../lambda/core/ports.js';
import { syncFile } from './append-log.js';
import { s3rverObjectFile } from './paths.js';

const GET_ATTEMPTS = 4;

export interface VerifiedBlobStoreOptions {
  /** s3rver's folder: each object written is then synced to disk too. Optional. */
  readonly s3Directory?: string;
  /** Reads back before a put gives up on an object that is not whole yet. @default 20 */
  readonly attempts?: number;
  /**
   * User metadata names that belong to an inbox object as much as its bytes (local mode's MAC,
   * `inbox-mac.ts`): an object already whole is written again unless it carries the put's values
   * for them, so one planted with the right bytes but without the MAC does not stay unverifiable.
   * @default none
   */
  readonly identityMetadata?: readonly string[];
}

/** An inbox object that did not read back whole (still being written, or torn by a crash). */
export class IncompleteObjectError extends SocialPlusWebhooksError {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super(`object ${key} is incomplete: ${detail}`);
    this.name = 'IncompleteObjectError';
  }
}

/** Wraps a blob store on s3rver (an `S3BlobStore`) so that puts are durable and reads are whole. */
export class VerifiedBlobStore implements BlobStore {
  private readonly attempts: number;
  /** The put in progress (or last queued) per key. */
  private readonly writing = new Map<string, Promise<void>>();

  constructor(
    private readonly inner: BlobStore,
    private readonly opts: VerifiedBlobStoreOptions = {},
  ) {
    this.attempts = opts.attempts ?? 20;
    if (!Number.isInteger(this.attempts) || this.attempts < 1)
      throw new RangeError(`verified blob store option attempts must be a positive integer, got ${opts.attempts}`);
  }

  get bucket(): string | undefined {
    return this.inner.bucket;
  }

  /**
   * Puts of one key, one at a time: a second put of the same bytes while the first is being
   * written would otherwise truncate the object the first one just verified, and a crash during
   * that second write would leave a torn copy of an event already acknowledged.
   */
  put(key: string, body: Uint8Array, options: BlobPutOptions = {}): Promise<void> {
    const before = this.writing.get(key);
    const mine = (before ? before.catch(() => undefined) : Promise.resolve()).then(() => this.putNow(key, body, options));
    this.writing.set(key, mine);
    const forget = () => {
      if (this.writing.get(key) === mine) this.writing.delete(key);
    };
    mine.then(forget, forget);
    return mine;
  }

  private async putNow(key: string, body: Uint8Array, options: BlobPutOptions): Promise<void> {
    const expected = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    const ref = parseInboxKey(key);
    if (ref && eventIdOf(expected) === ref.eventId) {
      const existing = await this.read(key);
      if (existing?.body.equals(expected) && this.sameIdentity(existing.metadata, options.metadata ?? {})) return;
    }
    await this.inner.put(key, body, options.metadata ? { metadata: options.metadata } : {});
    for (let attempt = 1; ; attempt++) {
      const got = await this.readBody(key);
      if (got?.equals(expected)) break;
      if (attempt >= this.attempts) {
        throw new IncompleteObjectError(
          key,
          got === undefined ? 'not found right after it was written' : `read back ${got.length} bytes, wrote ${expected.length}`,
        );
      }
      await pause(5 * attempt);
    }
    if (this.opts.s3Directory && this.inner.bucket) await syncFile(s3rverObjectFile(this.opts.s3Directory, this.inner.bucket, key));
  }

  async get(key: string, options: CallOptions = {}): Promise<StoredBlob> {
    const ref = parseInboxKey(key);
    // A few short tries: the spill drain announces only whole objects, so this is a rare race.
    for (let attempt = 1; ; attempt++) {
      const blob = await this.inner.get(key, options);
      if (!ref) return blob;
      const id = eventIdOf(blob.body);
      if (id === ref.eventId) return blob;
      if (attempt >= GET_ATTEMPTS) throw new IncompleteObjectError(key, `its ${blob.body.length} bytes hash to event id ${id}, not the key's`);
      await pause(10 * attempt, options.signal);
    }
  }

  /** The object's bytes, or undefined when there is none. */
  private async readBody(key: string): Promise<Buffer | undefined> {
    return (await this.read(key))?.body;
  }

  /** The object, or undefined when there is none. */
  private async read(key: string): Promise<StoredBlob | undefined> {
    try {
      return await this.inner.get(key);
    } catch (err) {
      if (err instanceof BlobNotFoundError) return undefined;
      throw err;
    }
  }

  /** Whether an object's metadata has the put's values for every `identityMetadata` name. */
  private sameIdentity(existing: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
    return (this.opts.identityMetadata ?? []).every((name) => existing[name.toLowerCase()] === wanted[name]);
  }

  delete(key: string, options?: CallOptions): Promise<void> {
    return this.inner.delete(key, options);
  }
}

function pause(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
