/**
 * Whether, and where, a user appears in an event (docs/privacy.md): the test erasure applies to
 * every archive line and store item. Pure: the caller reads the events, this only looks at them.
 *
 * A user appears in an event when their id is, exactly, the value of one of the event's user
 * fields ({@link USER_FIELDS} of its family, and the record's own {@link RECORD_USER_FIELDS}).
 * Ids are compared as given: no trimming, no case folding, no substring.
 */
import { EVENT_SCHEMAS } from '../catalog/events.js';
import { pathHolds } from './field-path.js';
import { ALL_PAYLOAD_USER_FIELDS, RECORD_USER_FIELDS, USER_FIELDS, type UserField } from './user-fields.js';

export { ALL_PAYLOAD_USER_FIELDS, RECORD_USER_FIELDS, USER_FIELDS, type UserField } from './user-fields.js';
export { parseFieldPath, valuesAt } from './field-path.js';

/**
 * What {@link userAppearances} reads of an event: an archive record or a store item (both are
 * shaped so), or a line read back (`./archive-rewrite.ts`). Null entities read as absent.
 */
export interface UserMatchEvent {
  /** The name as sent; not used to choose fields (the routing name is), kept for callers' reports. */
  readonly eventName: string | null;
  /** The routing name (`post.didCreate`, `push-notification.message.created`). */
  readonly eventType: string;
  readonly actorId?: string | null;
  readonly targetType?: string | null;
  readonly targetId?: string | null;
  /** The raw body text; base64 of its exact bytes when flagged `body-base64`; its S3 key when flagged `payload-in-s3`. */
  readonly payload: string;
  readonly flags?: readonly string[];
}

/** The flag of a record whose `payload` is the S3 key of the body, not the body (`../envelope.ts`). */
export const PAYLOAD_IN_S3_FLAG = 'payload-in-s3';
/** The flag of a record whose `payload` is base64 of the body's exact bytes (`../envelope.ts`). */
export const BODY_BASE64_FLAG = 'body-base64';

/** The event family of a routing name: its first dotted segment, as `FAMILY_SCHEMAS` keys them. */
export function familyOf(eventType: string): string {
  return eventType.split('.')[0] ?? '';
}

/** Whether the catalog names this routing name exactly (`EVENT_SCHEMAS`). */
export function isCatalogued(eventType: string): boolean {
  return Object.hasOwn(EVENT_SCHEMAS, eventType);
}

/**
 * The payload fields that count for an event of this routing name: its family's when the catalog
 * knows the name; otherwise (a name Social Plus added since, an `unknown` envelope) every family's,
 * since nothing says where such an event keeps its users.
 */
export function payloadUserFields(eventType: string): readonly UserField[] {
  const family = familyOf(eventType);
  if (isCatalogued(eventType) && Object.hasOwn(USER_FIELDS, family)) return USER_FIELDS[family] as readonly UserField[];
  return ALL_PAYLOAD_USER_FIELDS;
}

/**
 * The body text of an event, or undefined when the record does not carry it: flagged
 * `payload-in-s3`, its `payload` is the key of the body's copy, which the caller reads and passes
 * as the payload (without that flag) to have the body searched too.
 */
export function bodyText(event: Pick<UserMatchEvent, 'payload' | 'flags'>): string | undefined {
  const flags = event.flags ?? [];
  if (flags.includes(PAYLOAD_IN_S3_FLAG)) return undefined;
  return flags.includes(BODY_BASE64_FLAG) ? Buffer.from(event.payload, 'base64').toString('utf8') : event.payload;
}

/** The body parsed as JSON, or undefined when it is absent or not JSON (then only the record's fields count). */
export function parsedBody(event: Pick<UserMatchEvent, 'payload' | 'flags'>): unknown {
  const text = bodyText(event);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function requireUserId(userId: string): void {
  if (typeof userId !== 'string' || userId === '') throw new RangeError('the user id to look for must be a non-empty string');
}

/**
 * The paths of the fields of `event` whose value is `userId` (each once, record fields first, then
 * payload fields in the order of {@link USER_FIELDS}); empty when the user is not in the event.
 *
 * @param body the event's body already parsed (see {@link parsedBody}), to check several users
 *   against one event without parsing it again
 */
export function userAppearances(event: UserMatchEvent, userId: string, body: unknown = parsedBody(event)): string[] {
  requireUserId(userId);
  const record = { record: { actorId: event.actorId, targetType: event.targetType, targetId: event.targetId } };
  const found = RECORD_USER_FIELDS.filter((field) => pathHolds(record, field.path, userId)).map((field) => field.path);
  if (body === undefined) return found;
  for (const field of payloadUserFields(event.eventType)) {
    if (pathHolds(body, field.path, userId)) found.push(field.path);
  }
  return found;
}

/** Whether `userId` appears in `event` at all (see {@link userAppearances}). */
export function mentionsUser(event: UserMatchEvent, userId: string): boolean {
  return userAppearances(event, userId).length > 0;
}
