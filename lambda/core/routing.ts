/**
 * Subscription patterns: an exact routing name (`message.didFlag`), a family (`message.*`, which
 * also matches deeper names such as `push-notification.message.created` for `push-notification.*`),
 * or `*` for every event.
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
    throw new Error(`invalid event pattern '${pattern}': empty name segment (a leading, trailing or doubled '.'); use e.g. 'message.didFlag' or 'message.*'`);
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
