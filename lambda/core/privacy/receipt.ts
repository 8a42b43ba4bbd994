/**
 * The erasure receipt (docs/privacy.md): proof that an erasure ran, kept in the archive bucket under
 * `erasures/`, with no personal data in it. The user is named only by a hash of their id: whoever
 * knows the id can find and check the receipt; nobody reads the id from it.
 */
import { createHash } from 'node:crypto';

/** Prefix of receipts in the archive bucket; outside `events/`, so no query and no event lifecycle rule reaches them. */
export const ERASURES_PREFIX = 'erasures/';

/** Domain separation: the hash names a user of an erasure receipt of this scheme, and nothing else. */
export const USER_ID_HASH_DOMAIN = 'socialplus-webhooks/erasure/v1:';

/** What a receipt says its `userIdHash` is, so it can be checked without this code. */
export const USER_ID_HASH_SCHEME = `sha256-hex("${USER_ID_HASH_DOMAIN}" + userId)`;

/** The receipt format's name and version. */
export const RECEIPT_FORMAT = 'socialplus-webhooks/erasure-receipt/v1';

/** Hex SHA-256 of {@link USER_ID_HASH_DOMAIN} followed by the id (UTF-8). */
export function userIdHash(userId: string): string {
  if (typeof userId !== 'string' || userId === '') throw new RangeError('the user id to hash must be a non-empty string');
  return createHash('sha256').update(`${USER_ID_HASH_DOMAIN}${userId}`, 'utf8').digest('hex');
}

export interface ErasureReceiptInput {
  readonly userId: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  /** Events removed per store (`archive`, `store`, …): names of stores, never of people. */
  readonly counts: Readonly<Record<string, number>>;
  /** Keys of the objects written back without the user's lines. */
  readonly objectsRewritten: readonly string[];
  /** Keys of the objects deleted (no line was left, or the object was a copy of a removed event's body). */
  readonly objectsDeleted: readonly string[];
  /** A dry run changes nothing; its receipt says so. @default false */
  readonly dryRun?: boolean;
  /** The tool's version, as `--version` prints it. */
  readonly toolVersion?: string;
}

/** The receipt as stored (JSON). */
export interface ErasureReceipt {
  readonly format: typeof RECEIPT_FORMAT;
  readonly userIdHash: string;
  readonly userIdHashScheme: typeof USER_ID_HASH_SCHEME;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly dryRun: boolean;
  readonly toolVersion?: string;
  readonly counts: Readonly<Record<string, number>>;
  readonly objectsRewritten: readonly string[];
  readonly objectsDeleted: readonly string[];
}

function iso(at: Date, what: string): string {
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new RangeError(`erasure receipt: ${what} is not a valid date`);
  return at.toISOString();
}

/**
 * The receipt of an erasure: the user's id hash, when, counts per store and the keys of the objects
 * changed. Nothing else: no user id, no payload, no names. The count names, keys and version are
 * the tool's own (store names, archive object keys), never derived from the user, so a receipt
 * holds the user's id only where it is by chance a part of them (an id `2025` is in every key).
 *
 * @throws RangeError for an invalid date, a finish before the start, or a count that is not a
 *   non-negative integer
 */
export function erasureReceipt(input: ErasureReceiptInput): ErasureReceipt {
  const userIdHashValue = userIdHash(input.userId);
  const startedAt = iso(input.startedAt, 'startedAt');
  const finishedAt = iso(input.finishedAt, 'finishedAt');
  if (input.finishedAt.getTime() < input.startedAt.getTime()) throw new RangeError('erasure receipt: finishedAt is before startedAt');
  const counts: Record<string, number> = {};
  for (const [store, n] of Object.entries(input.counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`erasure receipt: count '${store}' must be a non-negative integer, got ${n}`);
    counts[store] = n;
  }
  const objectsRewritten = [...new Set(input.objectsRewritten)].sort();
  const objectsDeleted = [...new Set(input.objectsDeleted)].sort();
  const toolVersion = input.toolVersion;
  return {
    format: RECEIPT_FORMAT,
    userIdHash: userIdHashValue,
    userIdHashScheme: USER_ID_HASH_SCHEME,
    startedAt,
    finishedAt,
    dryRun: input.dryRun ?? false,
    ...(toolVersion === undefined ? {} : { toolVersion }),
    counts,
    objectsRewritten,
    objectsDeleted,
  };
}

/** Whether a receipt is the one of `userId` (its hash matches). */
export function receiptIsFor(receipt: Pick<ErasureReceipt, 'userIdHash'>, userId: string): boolean {
  return receipt.userIdHash === userIdHash(userId);
}

/**
 * The receipt's key: `erasures/<yyyy-mm-dd>/<time>-<first 16 hex of the hash>.json`, by the UTC day
 * and time the erasure finished. The time is ISO 8601 in its basic format (`20250702T095403.221Z`):
 * no colons, which S3 keys would carry URL-encoded and some file systems (local mode) refuse.
 */
export function receiptKey(hash: string, finishedAt: Date): string {
  if (!/^[0-9a-f]{64}$/.test(hash)) throw new RangeError('receiptKey: the hash must be 64 lower-case hex digits (userIdHash)');
  const at = iso(finishedAt, 'finishedAt');
  const day = at.slice(0, 10);
  const basic = at.replace(/[-:]/g, '');
  return `${ERASURES_PREFIX}${day}/${basic}-${hash.slice(0, 16)}.json`;
}
