import { assertValidPattern, type EventPattern } from './routing.js';
import type { Logger, Metrics } from './telemetry.js';

/** The ordinary envelope, or the push-notification one; fields are loose until the typed catalog. */
export interface WebhookEnvelope {
  readonly event?: string;
  readonly eventType?: string;
  readonly data?: unknown;
  readonly [key: string]: unknown;
}

/** What a handler knows about the event besides its payload. */
export interface HandlerContext {
  readonly eventId: string;
  /** Routing name (`post.didCreate`). */
  readonly eventType: string;
  /** Raw name as sent (`v3.post.didCreate`). */
  readonly eventName: string | null;
  readonly receivedAt: string;
  readonly source: string;
  readonly deprecated: boolean;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

export interface WebhookHandler<E = WebhookEnvelope> {
  /** Stable: recorded per event so a retry re-runs only handlers that have not succeeded. */
  readonly name: string;
  readonly events: readonly EventPattern[];
  handle(event: E, ctx: HandlerContext): Promise<void> | void;
}

const HANDLER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Declares a handler. Validates its name and patterns at start-up, so a typo fails the deploy's
 * tests rather than silently never matching.
 */
export function defineHandler<E = WebhookEnvelope>(def: WebhookHandler<E>): WebhookHandler<E> {
  if (!HANDLER_NAME.test(def.name)) {
    throw new Error(`invalid handler name '${def.name}': use 1-63 lower-case letters, digits and '-' (it is recorded per event, keep it stable)`);
  }
  if (typeof def.handle !== 'function') throw new Error(`handler '${def.name}' has no handle(event, ctx) function`);
  if (!Array.isArray(def.events)) throw new Error(`handler '${def.name}': events must be an array of patterns, e.g. ['message.didFlag'], got ${JSON.stringify(def.events)}`);
  if (def.events.length === 0) throw new Error(`handler '${def.name}' subscribes to no events: give exact names, 'family.*' or '*'`);
  for (const p of def.events) assertValidPattern(p);
  return Object.freeze({ ...def });
}

/** Throws when two handlers share a name: outcomes are recorded by name. */
export function assertUniqueHandlerNames(handlers: readonly { name: string }[]): void {
  const seen = new Set<string>();
  for (const h of handlers) {
    if (seen.has(h.name)) throw new Error(`two handlers are named '${h.name}': handler names must be unique`);
    seen.add(h.name);
  }
}
