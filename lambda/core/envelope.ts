import { DEPRECATED_EVENT_NAMES, KNOWN_EVENT_TYPES, KNOWN_PUSH_NOTIFICATION_NAMES, PUSH_NOTIFICATION_PREFIX } from './event-names.js';
import { extractEntities, type EventEntities } from './entities.js';

/** Routing name used when a verified body has no recognisable event name. */
export const UNKNOWN_EVENT_TYPE = 'unknown';

/**
 * Why an event is flagged. Flagged events are still stored and archived, never dropped.
 * - `invalid-json`, `unknown-envelope`, `unknown-event-type`: what parsing the body found;
 * - `body-base64`: the body is not UTF-8, so `payload` is the base64 of its exact bytes;
 * - `payload-in-s3`: `payload` is the key of the archive bucket's object holding the exact body,
 *   which was too large for an archive record (the store keeps its own `payloadRef` likewise);
 * - `undecodable`: the queue record could not be turned back into the event; `payload` is the
 *   record's body as received (a pointer or notification), with one reason flag:
 *   `blob-missing` (the claim-checked or spilled object is gone), `pointer-malformed` (a pointer
 *   or notification names no inbox object of ours), `encoding-invalid` (a body flagged base64
 *   that is not, or an unknown encoding);
 * - `verification`: the body is a JSON object with the top-level key {@link VERIFICATION_MARKER_KEY}
 *   (`socialplus-webhooks verify` adds it): stored and archived like any event, dispatched to no
 *   handler. A label rather than an anomaly: the body is signed, so only a holder of the source's
 *   secret can mark an event.
 */
export type EventFlag =
  | 'invalid-json'
  | 'unknown-envelope'
  | 'unknown-event-type'
  | 'body-base64'
  | 'payload-in-s3'
  | 'undecodable'
  | 'blob-missing'
  | 'pointer-malformed'
  | 'encoding-invalid'
  | 'verification';

/**
 * Top-level key of a verification event's body: `{ "runId": "…", "seq": 1 }`, added by
 * `socialplus-webhooks verify` to a signed sample so the run's events can be told apart (flag
 * `verification`): handlers skip them, queries exclude them with the flag.
 */
export const VERIFICATION_MARKER_KEY = 'socialplusWebhooksVerification';

/** What {@link VERIFICATION_MARKER_KEY} holds: the verify run and the event's number in it (1-based). */
export interface VerificationMarker {
  readonly runId: string;
  readonly seq: number;
}

export type EnvelopeKind = 'standard' | 'push-notification' | 'unknown';

/** What the core knows about a verified body after reading it once. */
export interface ParsedEvent {
  readonly envelope: EnvelopeKind;
  /** The name as Social Plus sent it (`v3.post.didCreate`); null when the body has none. */
  readonly eventName: string | null;
  /** The routing name: version prefix removed (`post.didCreate`), or `push-notification.<name>`. */
  readonly eventType: string;
  readonly deprecated: boolean;
  readonly flags: readonly EventFlag[];
  /** The parsed JSON body; undefined when it is not valid JSON. */
  readonly payload: unknown;
  readonly entities: EventEntities;
}

const VERSION_PREFIX = /^v\d+\./;

/** `v3.post.didCreate` → `post.didCreate`; names without a version prefix are returned unchanged. */
export function normaliseEventType(name: string): string {
  return name.replace(VERSION_PREFIX, '');
}

export function isDeprecatedEventName(name: string): boolean {
  return DEPRECATED_EVENT_NAMES.has(name);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Whether a parsed body carries the verification marker: a JSON object with
 * {@link VERIFICATION_MARKER_KEY} as its own top-level key (whatever it holds).
 */
export function isVerificationMarked(payload: unknown): boolean {
  return isRecord(payload) && Object.hasOwn(payload, VERIFICATION_MARKER_KEY);
}

const NO_ENTITIES: EventEntities = {};

/** Parses a verified body: never throws, so nothing verified is ever dropped. */
export function parseEvent(body: string): ParsedEvent {
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    return unparsed(undefined, ['invalid-json']);
  }
  return parsePayload(payload);
}

/** As {@link parseEvent}, for a body that is already parsed. */
export function parsePayload(payload: unknown): ParsedEvent {
  if (!isRecord(payload)) return unparsed(payload, ['unknown-envelope']);
  const marked: EventFlag[] = isVerificationMarked(payload) ? ['verification'] : [];

  if (typeof payload.event === 'string' && payload.event !== '') {
    const eventName = payload.event;
    const eventType = normaliseEventType(eventName);
    const flags: EventFlag[] = [...(KNOWN_EVENT_TYPES.has(eventType) ? [] : ['unknown-event-type' as const]), ...marked];
    return withEntities({ envelope: 'standard', eventName, eventType, deprecated: isDeprecatedEventName(eventName), flags, payload }, payload);
  }

  if (typeof payload.eventType === 'string' && payload.eventType.startsWith(`${PUSH_NOTIFICATION_PREFIX}.`)) {
    const data = isRecord(payload.data) ? payload.data : {};
    const inner = typeof data.eventName === 'string' && data.eventName !== '' ? data.eventName : null;
    const eventType = `${PUSH_NOTIFICATION_PREFIX}.${inner ?? UNKNOWN_EVENT_TYPE}`;
    const flags: EventFlag[] = [...(inner !== null && KNOWN_PUSH_NOTIFICATION_NAMES.has(inner) ? [] : ['unknown-event-type' as const]), ...marked];
    return withEntities({ envelope: 'push-notification', eventName: eventType, eventType, deprecated: false, flags, payload }, payload);
  }

  return unparsed(payload, ['unknown-envelope', ...marked]);
}

/**
 * Adds `entities`, extracted on first read: the receiver only routes on the event type, so its
 * hot path never walks the payload for actor and target; the fan-out reads them once.
 */
function withEntities(base: Omit<ParsedEvent, 'entities'>, envelope: Record<string, unknown>): ParsedEvent {
  let entities: EventEntities | undefined;
  return {
    ...base,
    get entities() {
      entities ??= extractEntities(base.eventType, envelope);
      return entities;
    },
  };
}

function unparsed(payload: unknown, flags: readonly EventFlag[]): ParsedEvent {
  return {
    envelope: 'unknown',
    eventName: null,
    eventType: UNKNOWN_EVENT_TYPE,
    deprecated: false,
    flags,
    payload,
    entities: NO_ENTITIES,
  };
}
