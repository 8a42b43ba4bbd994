import { DEPRECATED_EVENT_NAMES, KNOWN_EVENT_TYPES, PUSH_NOTIFICATION_NAMES, PUSH_NOTIFICATION_PREFIX, V3_PREFIXED_FAMILIES } from './event-names.js';
import { nearestMatch } from './near-miss.js';

export type { FamilyPattern, KnownEventPattern } from './catalog/payload-for.js';

/**
 * Subscription patterns: an exact routing name (`message.didFlag`), a family (`message.*`, which
 * also matches deeper names such as `push-notification.message.created` for `push-notification.*`),
 * or `*` for every event. Routing takes any string; which of them the catalog knows is
 * `KnownEventPattern` at compile time and {@link catalogPatternProblem} at start-up.
 */
export type EventPattern = string;

export interface Routable {
  readonly eventType: string;
  readonly eventName: string | null;
  readonly deprecated: boolean;
}

/** Throws on a pattern that could never match, so a typo fails at start-up, not silently. */
export function assertValidPattern(pattern: string): void {
  if (pattern === '*') return;
  if (pattern === '' || /\s/.test(pattern)) throw new Error(`invalid event pattern '${pattern}': empty or contains whitespace`);
  const star = pattern.indexOf('*');
  if (star >= 0 && (star !== pattern.length - 1 || !pattern.endsWith('.*'))) {
    throw new Error(`invalid event pattern '${pattern}': '*' is allowed only alone or as a trailing '.*' (e.g. 'message.*')`);
  }
  // Event names never have empty segments, so '.*', 'message..*' or 'message.' could never match.
  if (pattern.split('.').some((segment) => segment === '')) {
    throw new Error(
      `invalid event pattern '${pattern}': empty name segment (a leading, trailing or doubled '.'); use e.g. 'message.didFlag' or 'message.*'`,
    );
  }
}

/**
 * Whether `pattern` selects the event. Deprecated events reach only patterns that name them
 * exactly (by raw or routing name), never wildcards.
 */
export function matchesPattern(pattern: EventPattern, event: Routable): boolean {
  if (pattern === event.eventType || (event.eventName !== null && pattern === event.eventName)) return true;
  if (event.deprecated) return false;
  if (pattern === '*') return true;
  return pattern.endsWith('.*') && event.eventType.startsWith(pattern.slice(0, -1));
}

/** The subscribers of an event, in registration order. */
export function route<T extends { readonly events: readonly EventPattern[] }>(subscribers: readonly T[], event: Routable): T[] {
  return subscribers.filter((s) => s.events.some((p) => matchesPattern(p, event)));
}

/** Routing name of bodies with no recognisable envelope (`UNKNOWN_EVENT_TYPE` in `./envelope.ts`). */
const UNKNOWN_ROUTING_NAME = 'unknown';

const ROUTING_NAMES: readonly string[] = [...KNOWN_EVENT_TYPES, ...PUSH_NOTIFICATION_NAMES.map((n) => `${PUSH_NOTIFICATION_PREFIX}.${n}`)];

/**
 * Every name the catalog lists, as a handler may name it exactly: the routing names (legacy ones
 * included), the push-notification names (`push-notification.message.created`), and the raw `v3.`
 * names Social Plus sends for posts, comments, communities and (deprecated) live video. The run-time
 * twin of the keys of `EventPayloadMap`.
 */
export const CATALOG_EVENT_NAMES: ReadonlySet<string> = new Set([
  ...ROUTING_NAMES,
  ...ROUTING_NAMES.filter((n) => V3_PREFIXED_FAMILIES.some((f) => n.startsWith(`${f}.`))).map((n) => `v3.${n}`),
  ...DEPRECATED_EVENT_NAMES,
]);

/**
 * Every wildcard that matches some catalog event: `family.*` for each family of routing names and
 * deeper prefixes where names are deeper (`push-notification.message.*`). The run-time twin of
 * `FamilyPattern`.
 */
export const CATALOG_FAMILY_PATTERNS: ReadonlySet<string> = new Set(
  ROUTING_NAMES.flatMap((name) => {
    const segments = name.split('.');
    return segments.slice(1).map((_, i) => `${segments.slice(0, i + 1).join('.')}.*`);
  }),
);

/**
 * Why the catalog does not know `pattern`, or undefined when it does (an exact catalog name, a
 * family wildcard of the catalog, `*`, or `unknown`). A near miss gets "did you mean …?". Assumes
 * `pattern` passed {@link assertValidPattern}.
 */
export function catalogPatternProblem(pattern: string): string | undefined {
  if (pattern === '*' || pattern === UNKNOWN_ROUTING_NAME || CATALOG_EVENT_NAMES.has(pattern) || CATALOG_FAMILY_PATTERNS.has(pattern))
    return undefined;
  const wildcard = pattern.endsWith('.*');
  const suggestion = wildcard
    ? nearestMatch(pattern, CATALOG_FAMILY_PATTERNS)
    : // `message` → `message.*`; `v3.message.didCreate` → `message.didCreate` (Social Plus sends it unprefixed).
      ([`${pattern}.*`, pattern.replace(/^v\d+\./, '')].find((p) => CATALOG_FAMILY_PATTERNS.has(p) || CATALOG_EVENT_NAMES.has(p)) ??
      nearestMatch(pattern, [...CATALOG_EVENT_NAMES, UNKNOWN_ROUTING_NAME]));
  const what = wildcard ? 'matches no event family of the catalog' : 'is not an event name of the catalog';
  return `'${pattern}' ${what}${suggestion !== undefined ? `; did you mean '${suggestion}'?` : ''}`;
}
