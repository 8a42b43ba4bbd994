/**
 * The suppression list (docs/privacy.md, "Keep a user out: --also-future"): the users whose events
 * the fan-out drops on arrival, named by their id hash ({@link userIdHash}), never by id. One JSON
 * object in the archive bucket, {@link SUPPRESSION_LIST_KEY}, which `erase --also-future` adds to
 * and the fan-out reads. Pure: reading and writing the object is the adapters' work.
 */
import { SocialPlusWebhooksError } from '../errors.js';
import { ERASURES_PREFIX, userIdHash } from './receipt.js';
import { valuesAt } from './field-path.js';
import { parsedBody, payloadUserFields, RECORD_USER_FIELDS, type UserMatchEvent } from './user-match.js';

/** The list's key in the archive bucket: under `erasures/`, which no query and no event lifecycle rule reaches. */
export const SUPPRESSION_LIST_KEY = `${ERASURES_PREFIX}suppressed.json`;

/** The list format's name and version. */
export const SUPPRESSION_LIST_FORMAT = 'socialplus-webhooks/suppression-list/v1';

/** How old the fan-out's copy of the list may be before it reads the object again. */
export const SUPPRESSION_LIST_MAX_AGE_MS = 60_000;

/** The list as stored. */
export interface SuppressionListDocument {
  readonly format: typeof SUPPRESSION_LIST_FORMAT;
  /** Hex SHA-256 hashes ({@link userIdHash}), sorted, each once. */
  readonly userIdHashes: readonly string[];
}

/**
 * Port: the suppression list as the fan-out reads it. Rejects when the list cannot be read (the
 * fan-out then retries the batch's records rather than let a listed user's event through).
 */
export interface SuppressionList {
  /** The hashes on the list; empty when there is no list. */
  userIdHashes(): Promise<ReadonlySet<string>>;
}

/** Thrown for a list object that is not a list: the fan-out fails closed on it, so its message says what to fix. */
export class SuppressionListFormatError extends SocialPlusWebhooksError {
  constructor(problem: string) {
    super(`${SUPPRESSION_LIST_KEY} is not a suppression list: ${problem}`);
    this.name = 'SuppressionListFormatError';
  }
}

const HASH = /^[0-9a-f]{64}$/;

/** The hashes of a stored list (parsed JSON); throws {@link SuppressionListFormatError} for anything else. */
export function suppressionListFrom(document: unknown): ReadonlySet<string> {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) throw new SuppressionListFormatError('not a JSON object');
  const d = document as Record<string, unknown>;
  if (d.format !== SUPPRESSION_LIST_FORMAT) throw new SuppressionListFormatError(`format is not '${SUPPRESSION_LIST_FORMAT}'`);
  if (!Array.isArray(d.userIdHashes)) throw new SuppressionListFormatError('userIdHashes is not a list');
  const bad = d.userIdHashes.find((h) => typeof h !== 'string' || !HASH.test(h));
  if (bad !== undefined) throw new SuppressionListFormatError(`userIdHashes holds ${JSON.stringify(bad)}, not 64 lower-case hex digits`);
  return new Set(d.userIdHashes as string[]);
}

/** The hashes of a list object's text; throws {@link SuppressionListFormatError} for text that is not one. */
export function parseSuppressionList(text: string): ReadonlySet<string> {
  let document: unknown;
  try {
    document = JSON.parse(text) as unknown;
  } catch {
    throw new SuppressionListFormatError('not JSON');
  }
  return suppressionListFrom(document);
}

/** The list of `hashes` as stored: sorted, each once. */
export function suppressionListDocument(hashes: Iterable<string>): SuppressionListDocument {
  const sorted = [...new Set(hashes)].sort();
  for (const h of sorted) if (!HASH.test(h)) throw new RangeError(`suppression list: '${h}' is not a user id hash (64 lower-case hex digits)`);
  return { format: SUPPRESSION_LIST_FORMAT, userIdHashes: sorted };
}

/** The text of {@link suppressionListDocument}, as the object holds it. */
export function serializeSuppressionList(hashes: Iterable<string>): string {
  return `${JSON.stringify(suppressionListDocument(hashes), null, 2)}\n`;
}

/** The list `hashes` with `hash` added: `added` false (the same hashes) when it was already on it. */
export function withUserIdHash(hashes: ReadonlySet<string>, hash: string): { readonly document: SuppressionListDocument; readonly added: boolean } {
  return { document: suppressionListDocument([...hashes, hash]), added: !hashes.has(hash) };
}

/**
 * Every user id the event names: each string value of its user fields (the record's own
 * {@link RECORD_USER_FIELDS} and its family's payload fields, as `userAppearances` searches them),
 * each once, in the order found. An id is in this list exactly when `userAppearances` finds it in
 * the event, so the fan-out drops exactly the events an erasure would remove.
 *
 * @param body the event's body already parsed (see `parsedBody`)
 */
export function userIdsOf(event: UserMatchEvent, body: unknown = parsedBody(event)): string[] {
  const record = { record: { actorId: event.actorId, targetType: event.targetType, targetId: event.targetId } };
  const found = new Set<string>();
  const take = (values: unknown[]) => {
    for (const v of values) if (typeof v === 'string' && v !== '') found.add(v);
  };
  for (const field of RECORD_USER_FIELDS) take(valuesAt(record, field.path));
  if (body !== undefined) for (const field of payloadUserFields(event.eventType)) take(valuesAt(body, field.path));
  return [...found];
}

/**
 * Whether one of the users the event names is on the list. An empty list decides at once: nothing
 * of the event is read, parsed or hashed.
 */
export function isSuppressed(event: UserMatchEvent, hashes: ReadonlySet<string>, body?: unknown): boolean {
  if (hashes.size === 0) return false;
  return userIdsOf(event, body === undefined ? parsedBody(event) : body).some((id) => hashes.has(userIdHash(id)));
}
