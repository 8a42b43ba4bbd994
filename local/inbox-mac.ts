/**
 * Proof that an inbox object was written by this installation's receiver or fan-out.
 *
 * The inbox (`inbox/spill/`, `inbox/large/`) is how events reach the fan-out without the queue:
 * the spill drain announces every spill it finds, and the fan-out stores and dispatches what a
 * claim check or a spill holds, without a webhook signature to check. On AWS only the pipeline's
 * roles may write the bucket; locally, the S3 emulator listens on the machine, and an object put
 * there under `inbox/spill/<day>/<id of its body>` would become an event that handlers act on (a
 * ban, a deletion). The event id in the key proves only that the body is whole, not who wrote it.
 *
 * So every inbox object local mode writes carries a MAC as user metadata ({@link INBOX_MAC_METADATA}):
 * HMAC-SHA256, under a key only this installation has (`.local/inbox.key`, owner-only), of the
 * object's key and the hash of its body. The spill drain announces only spills whose MAC verifies,
 * and {@link InboxMacBlobStore} refuses to hand the fan-out an inbox object whose MAC is missing or
 * wrong. The key is bound in, so a genuine object copied to another key does not verify there.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmod, lstat, readFile } from 'node:fs/promises';
import { SocialPlusWebhooksError, errorMessage } from '../lambda/core/errors.js';
import { parseInboxKey } from '../lambda/core/inbox.js';
import { loadOrCreatePrivateFile } from './private-file.js';
import type { BlobPutOptions, BlobStore, CallOptions, StoredBlob } from '../lambda/core/ports.js';

/** Bytes of the inbox key. */
export const INBOX_KEY_BYTES = 32;
/** The user metadata name of the MAC (S3 lower-cases names; stored as `x-amz-meta-local-mac`). */
export const INBOX_MAC_METADATA = 'local-mac';
/** Separates these MACs from anything else the key could ever be used for. */
const DOMAIN = 'socialplus-webhooks local inbox v1';
/** The file's content: the key in base64url (43 characters), and a newline. */
const KEY_TEXT = /^[A-Za-z0-9_-]{43}$/;

/** Thrown when the inbox key file exists but cannot be used. */
export class InboxKeyError extends SocialPlusWebhooksError {
  constructor(message: string) {
    super(message);
    this.name = 'InboxKeyError';
  }
}

/**
 * An inbox object without a valid MAC: not written by this installation, so never processed. Not
 * a {@link BlobNotFoundError}: the object is there, and is left in place for a person to inspect.
 */
export class UnauthenticatedInboxObjectError extends SocialPlusWebhooksError {
  constructor(
    readonly key: string,
    readonly reason: string,
  ) {
    super(
      `inbox object ${key} was not written by this installation's receiver or fan-out (${reason}): it is not processed, and is left in place for you to inspect`,
    );
    this.name = 'UnauthenticatedInboxObjectError';
  }
}

/**
 * Reads the inbox key from `file`, or creates it with 32 random bytes (mode 0600). The new file
 * appears complete or not at all (written under a temporary name, then hard-linked into place,
 * which fails if the name exists), so a concurrent creator's key wins and is read back rather than
 * overwritten or read half-written. A file whose mode lets others read it is made owner-only.
 */
export function loadOrCreateInboxKey(file: string): Promise<Buffer> {
  return loadOrCreatePrivateFile(file, readKeyFile, () => {
    const value = randomBytes(INBOX_KEY_BYTES);
    return { value, text: `${value.toString('base64url')}\n` };
  });
}

async function readKeyFile(file: string): Promise<Buffer | undefined> {
  let info;
  try {
    info = await lstat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new InboxKeyError(`cannot read the inbox key file ${file}: ${errorMessage(err)}`);
  }
  if (!info.isFile()) throw new InboxKeyError(`the inbox key file ${file} is not a regular file: move it away so that a new key can be generated`);
  // Owner-only before it is read: the key is what makes inbox objects trusted.
  if ((info.mode & 0o077) !== 0) await chmod(file, 0o600);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new InboxKeyError(`cannot read the inbox key file ${file}: ${errorMessage(err)}`);
  }
  const value = text.trim();
  // The content is never echoed: it may be the key.
  if (!KEY_TEXT.test(value)) {
    throw new InboxKeyError(
      `the inbox key file ${file} does not hold a valid key (${INBOX_KEY_BYTES} bytes as 43 base64url characters). ` +
        'Delete it to generate a new one; spills and claim checks still waiting in the inbox then no longer verify and are not processed.',
    );
  }
  return Buffer.from(value, 'base64url');
}

function checkKey(key: Buffer): void {
  if (!Buffer.isBuffer(key) || key.length !== INBOX_KEY_BYTES) {
    throw new TypeError(`the inbox key must be ${INBOX_KEY_BYTES} bytes (from loadOrCreateInboxKey)`);
  }
}

function macBytes(key: Buffer, objectKey: string, body: Uint8Array): Buffer {
  const bodyHash = createHash('sha256').update(body).digest('hex');
  return createHmac('sha256', key).update(`${DOMAIN}\n${objectKey}\n${bodyHash}`, 'utf8').digest();
}

/** The MAC of an inbox object, as its {@link INBOX_MAC_METADATA} value (base64url). */
export function inboxMac(key: Buffer, objectKey: string, body: Uint8Array): string {
  checkKey(key);
  return macBytes(key, objectKey, body).toString('base64url');
}

/**
 * What is wrong with an object's MAC, or undefined when it verifies. `metadata` is the object's
 * user metadata, names in any case (the SDK hands them over as the server spelled them).
 */
export function inboxMacProblem(
  key: Buffer,
  objectKey: string,
  body: Uint8Array,
  metadata: Readonly<Record<string, string | undefined>>,
): string | undefined {
  checkKey(key);
  let given: string | undefined;
  for (const [name, value] of Object.entries(metadata)) if (name.toLowerCase() === INBOX_MAC_METADATA) given = value;
  if (given === undefined || given === '') return `it carries no ${INBOX_MAC_METADATA} metadata`;
  const expected = macBytes(key, objectKey, body);
  const got = /^[A-Za-z0-9_-]+$/.test(given) ? Buffer.from(given, 'base64url') : Buffer.alloc(0);
  // Constant time: the lengths are public (always 32), the bytes are not.
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) return `its ${INBOX_MAC_METADATA} does not match its key and body`;
  return undefined;
}

/**
 * Wraps local mode's inbox blob store: puts of inbox keys carry the MAC (besides the caller's
 * metadata), and reads of inbox keys whose MAC does not verify throw
 * {@link UnauthenticatedInboxObjectError}. Other keys pass through untouched.
 *
 * Put it outside `VerifiedBlobStore` (whose reads retry an object caught mid-write, so the MAC is
 * checked on the whole object), and give that store `identityMetadata: [INBOX_MAC_METADATA]` so
 * an object already there with the same bytes but no MAC is written again rather than kept.
 */
export class InboxMacBlobStore implements BlobStore {
  constructor(
    private readonly inner: BlobStore,
    private readonly key: Buffer,
  ) {
    checkKey(key);
  }

  get bucket(): string | undefined {
    return this.inner.bucket;
  }

  put(key: string, body: Uint8Array, options: BlobPutOptions = {}): Promise<void> {
    if (parseInboxKey(key) === undefined) return this.inner.put(key, body, options);
    return this.inner.put(key, body, { ...options, metadata: { ...options.metadata, [INBOX_MAC_METADATA]: inboxMac(this.key, key, body) } });
  }

  async get(key: string, options?: CallOptions): Promise<StoredBlob> {
    const blob = await this.inner.get(key, options);
    if (parseInboxKey(key) === undefined) return blob;
    const problem = inboxMacProblem(this.key, key, blob.body, blob.metadata);
    if (problem !== undefined) throw new UnauthenticatedInboxObjectError(key, problem);
    return blob;
  }

  delete(key: string, options?: CallOptions): Promise<void> {
    return this.inner.delete(key, options);
  }
}
