import { readTypedPayload, wasRead } from './catalog/parse.js';
import type { KnownEventPattern, LooseEnvelope, PayloadFor } from './catalog/payload-for.js';
import { errorMessage, SocialPlusWebhooksError } from './errors.js';
import type { EventHeader } from './event-header.js';
import { assertValidPattern, catalogPatternProblem, type EventPattern } from './routing.js';
import type { HandlerMetrics, Logger } from './telemetry.js';

/** The ordinary envelope, or the push-notification one, with nothing known about its fields. */
export type WebhookEnvelope = LooseEnvelope;

/** What each call of the Social Plus API port did. */
export interface SocialPlusCallResult {
  /** The HTTP status of the last attempt; 0 in a dry run. */
  readonly status: number;
  /** True when nothing was sent: the client only logged what it would call. */
  readonly dryRun: boolean;
  /** True when a delete (or flag clearing) found nothing: it was already gone, which a retry expects. */
  readonly notFound?: boolean;
}

/** Which API version deletes a message or clears its flags (docs/social-plus.md §9). */
export type MessageApiVersion = 'v3' | 'v5';

/**
 * Port: the Social Plus moderation calls a handler can make (docs/social-plus.md §9), on the network the
 * event came from. Implemented over HTTP in `lambda/fanout/kit/social-plus-client.ts`, by a
 * recording fake in `lambda/fanout/kit/testing.ts`. Every call is safe to repeat: bans are
 * idempotent, and deleting what is already gone resolves with `notFound`.
 */
export interface SocialPlusApi {
  /** Global ban: `POST /api/v2/users/ban`. */
  banUser(userId: string): Promise<SocialPlusCallResult>;
  /** Lifts a global ban: `POST /api/v2/users/unban`. */
  unbanUser(userId: string): Promise<SocialPlusCallResult>;
  /** `PUT /api/v3/channels/{channelId}/users/ban` (sent in groups of at most 100 user ids). */
  banFromChannel(channelId: string, userIds: readonly string[]): Promise<SocialPlusCallResult>;
  /** `PUT /api/v3/channels/{channelId}/users/unban`. */
  unbanFromChannel(channelId: string, userIds: readonly string[]): Promise<SocialPlusCallResult>;
  /** `PUT /api/v3/communities/{communityId}/users/ban`. */
  banFromCommunity(communityId: string, userIds: readonly string[]): Promise<SocialPlusCallResult>;
  /** `PUT /api/v3/communities/{communityId}/users/unban`. */
  unbanFromCommunity(communityId: string, userIds: readonly string[]): Promise<SocialPlusCallResult>;
  /** `DELETE /api/v5/messages/{id}` (`?permanent=`), or `DELETE /api/v3/messages/{id}`. @default version 'v5' */
  deleteMessage(messageId: string, opts?: { readonly version?: MessageApiVersion; readonly permanent?: boolean }): Promise<SocialPlusCallResult>;
  /** `DELETE /api/v5/messages/{id}/flags/all`, or `DELETE /api/v3/messages/{id}/clearFlags`. @default version 'v5' */
  clearMessageFlags(messageId: string, opts?: { readonly version?: MessageApiVersion }): Promise<SocialPlusCallResult>;
  /** `DELETE /api/v4/posts/{postId}` (`?permanent=`). */
  deletePost(postId: string, opts?: { readonly permanent?: boolean }): Promise<SocialPlusCallResult>;
  /** `DELETE /api/v4/comments/{commentId}` (`?permanent=`). */
  deleteComment(commentId: string, opts?: { readonly permanent?: boolean }): Promise<SocialPlusCallResult>;
  /** `DELETE /api/v2/users/{userId}/flags`. */
  clearUserFlags(userId: string): Promise<SocialPlusCallResult>;
}

/** Thrown by every call of `ctx.socialPlus` when the fan-out has no Social Plus API client for the event. */
export class SocialPlusNotConfiguredError extends SocialPlusWebhooksError {
  constructor(reason: string) {
    super(`ctx.socialPlus is not configured: ${reason}`);
    this.name = 'SocialPlusNotConfiguredError';
  }
}

/** A {@link SocialPlusApi} whose every call rejects with {@link SocialPlusNotConfiguredError} naming `reason`. */
export function unconfiguredSocialPlus(reason: string): SocialPlusApi {
  const fail = () => Promise.reject(new SocialPlusNotConfiguredError(reason));
  return {
    banUser: fail,
    unbanUser: fail,
    banFromChannel: fail,
    unbanFromChannel: fail,
    banFromCommunity: fail,
    unbanFromCommunity: fail,
    deleteMessage: fail,
    clearMessageFlags: fail,
    deletePost: fail,
    deleteComment: fail,
    clearUserFlags: fail,
  };
}

const NOT_WIRED = unconfiguredSocialPlus(
  'the fan-out was given no Social Plus API client (see docs/extending.md, "Calling Social Plus": ' +
    'configure the handlers with handlersFromEnv, or pass one in tests with runHandler)',
);

/** What a handler knows about the event besides its payload, as the fan-out builds it. */
export interface HandlerContext extends EventHeader {
  readonly logger: Logger;
  /** The handler's own counters: any name, published under the handler's dimension. */
  readonly metrics: HandlerMetrics;
  /** The Social Plus API of the event's network, when the fan-out was given one. */
  readonly socialPlus?: SocialPlusApi;
}

/**
 * The context a handler defined with {@link defineHandler} receives: `socialPlus` is always there,
 * and rejects every call with a message saying why when no client is configured.
 */
export interface TypedHandlerContext extends HandlerContext {
  readonly socialPlus: SocialPlusApi;
}

/** A handler as the fan-out dispatches to it. */
export interface WebhookHandler<E = WebhookEnvelope> {
  /** Stable: recorded per event so a retry re-runs only handlers that have not succeeded. */
  readonly name: string;
  readonly events: readonly EventPattern[];
  /** Entries of `events` the catalog does not list, declared on purpose: the start-up check lets them through. */
  readonly uncatalogued?: readonly EventPattern[];
  handle(event: E, ctx: HandlerContext): Promise<void> | void;
}

/**
 * A pattern as `defineHandler` accepts it: itself when the catalog knows it (a
 * {@link KnownEventPattern}) or the handler declares it in `uncatalogued` (`U`), or when it is only
 * known as `string` (a list built at run time, checked at start-up instead); otherwise a message
 * the type checker shows: `Type '"message.didCreat"' is not assignable to type '"'message.didCreat'
 * is not in the event catalog…"'`.
 */
export type CheckedPattern<S extends string, U extends string> = string extends S
  ? S
  : S extends KnownEventPattern | U
    ? S
    : `'${S}' is not in the event catalog: use a catalog name, 'family.*' or '*' (a name the catalog lacks goes in uncatalogued too)`;

/** `events` as `defineHandler` accepts it: each entry a {@link CheckedPattern}. */
export type CheckedPatterns<P extends readonly string[], U extends string> = { readonly [I in keyof P]: CheckedPattern<P[I], U> };

/**
 * Entries of a handler's `events` as written: the catalog's patterns are offered first (editor
 * completion), any string is accepted here and checked by {@link CheckedPatterns}.
 */
export type EventPatternInput = KnownEventPattern | (string & {});

/** The payload type `handle` gets: the catalog's type for the patterns, or the loose envelope with `rawPayload: true`. */
export type HandlerPayload<P extends readonly string[], R extends boolean> = R extends true ? WebhookEnvelope : PayloadFor<P[number]>;

/**
 * A handler definition: `handle` gets the payload typed by the patterns in `events`
 * (`['message.didFlag']` → the message payload; `'post.*'` → the post payloads; `'*'` → loose).
 * Each entry of `events` must be in the catalog, or also listed in `uncatalogued`.
 */
export interface HandlerDefinition<
  P extends readonly EventPatternInput[],
  U extends readonly EventPatternInput[] = readonly [],
  R extends boolean = false,
> {
  readonly name: string;
  readonly events: CheckedPatterns<P, U[number]>;
  /**
   * The escape hatch for names the catalog does not list yet (Social Plus added an event, or a
   * family of its own): each is also in `events`, where the type checker and the start-up check
   * then accept it. Such a name's payload is the loose envelope type.
   */
  readonly uncatalogued?: U;
  /**
   * True for a handler that wants the payload exactly as parsed from the body, not read through
   * the catalog (e.g. to forward it unchanged); it gets the loose envelope type.
   */
  readonly rawPayload?: R;
  handle(event: HandlerPayload<P, R>, ctx: TypedHandlerContext): Promise<void> | void;
}

const HANDLER_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Declares a handler. The type checker checks each entry of `events` against the catalog (see
 * {@link CheckedPattern}); at run time its name and the patterns' syntax are checked here, and the
 * registered list against the catalog by {@link assertCatalogEvents}, so a typo fails the deploy's
 * tests rather than silently never matching.
 *
 * Before `handle` runs, the payload is read through the typed catalog (`./catalog/`): what the
 * handler gets matches its type. A payload with a field of the wrong type still arrives, without
 * that field, and one WARN per event names the paths (never the values). `ctx.socialPlus` is always
 * present; when the fan-out has no client, its calls reject saying so.
 */
export function defineHandler<
  const P extends readonly EventPatternInput[],
  const U extends readonly EventPatternInput[] = readonly [],
  const R extends boolean = false,
>(def: HandlerDefinition<P, U, R>): WebhookHandler<HandlerPayload<P, R>>;
export function defineHandler(def: HandlerDefinition<readonly string[], readonly string[], boolean>): WebhookHandler {
  if (!HANDLER_NAME.test(def.name)) {
    throw new Error(`invalid handler name '${def.name}': use 1-63 lower-case letters, digits and '-' (it is recorded per event, keep it stable)`);
  }
  if (typeof def.handle !== 'function') throw new Error(`handler '${def.name}' has no handle(event, ctx) function`);
  if (!Array.isArray(def.events))
    throw new Error(`handler '${def.name}': events must be an array of patterns, e.g. ['message.didFlag'], got ${JSON.stringify(def.events)}`);
  if (def.events.length === 0) throw new Error(`handler '${def.name}' subscribes to no events: give exact names, 'family.*' or '*'`);
  for (const p of def.events) assertValidPattern(p);
  const uncatalogued = def.uncatalogued ?? [];
  if (!Array.isArray(uncatalogued))
    throw new Error(`handler '${def.name}': uncatalogued must be an array of patterns also listed in events, got ${JSON.stringify(uncatalogued)}`);
  for (const p of uncatalogued) {
    if (!def.events.includes(p))
      throw new Error(`handler '${def.name}': uncatalogued lists '${p}', which is not among its events (${def.events.join(', ')}): list it in both`);
  }

  const userHandle = def.handle.bind(def) as (event: unknown, ctx: TypedHandlerContext) => Promise<void> | void;
  const raw = def.rawPayload === true;
  return Object.freeze({
    name: def.name,
    events: Object.freeze([...def.events]),
    ...(uncatalogued.length > 0 ? { uncatalogued: Object.freeze([...uncatalogued]) } : {}),
    handle(event: unknown, ctx: HandlerContext) {
      const ready: TypedHandlerContext = ctx.socialPlus ? (ctx as TypedHandlerContext) : { ...ctx, socialPlus: NOT_WIRED };
      return userHandle(raw ? event : typedPayload(event, ready), ready);
    },
  });
}

function typedPayload(event: unknown, ctx: HandlerContext): unknown {
  const firstRead = !wasRead(event);
  const read = readTypedPayload(ctx.eventType, event);
  if (firstRead && read.issues.length > 0) {
    ctx.logger.warn(
      'payload differs from the event catalog: values of the wrong type are left out of what handlers get (the stored and archived body is unchanged)',
      {
        eventId: ctx.eventId,
        eventType: ctx.eventType,
        issues: read.issues,
      },
    );
  }
  return read.payload;
}

/** Throws when two handlers share a name: outcomes are recorded by name. */
export function assertUniqueHandlerNames(handlers: readonly { name: string }[]): void {
  const seen = new Set<string>();
  for (const h of handlers) {
    if (seen.has(h.name)) throw new Error(`two handlers are named '${h.name}': handler names must be unique`);
    seen.add(h.name);
  }
}

/** A handler names an event pattern the catalog does not know; the message lists each, with "did you mean" on a near miss. */
export class UnknownEventPatternError extends SocialPlusWebhooksError {
  constructor(readonly problems: readonly string[]) {
    super(
      `handlers subscribe to events the catalog does not know (lambda/core/event-names.ts):\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'A name the catalog does not list yet goes in the handler\'s uncatalogued as well as its events (docs/extending.md, "Typed events").',
    );
    this.name = 'UnknownEventPatternError';
  }
}

/**
 * The start-up check of the handler list against the catalog: every pattern of every handler is a
 * valid pattern the catalog knows (an exact name, a family wildcard, `*` or `unknown`), or is
 * declared in that handler's `uncatalogued`. Throws an {@link UnknownEventPatternError} naming each
 * handler and pattern, with "did you mean …?" on a near miss. Catches what the type checker cannot:
 * patterns only known as `string`, and handlers not made with {@link defineHandler}.
 */
export function assertCatalogEvents(handlers: readonly Pick<WebhookHandler, 'name' | 'events' | 'uncatalogued'>[]): void {
  const problems: string[] = [];
  for (const h of handlers) {
    for (const p of h.events) {
      if (h.uncatalogued?.includes(p)) continue;
      try {
        assertValidPattern(p);
      } catch (err) {
        problems.push(`handler '${h.name}': ${errorMessage(err)}`);
        continue;
      }
      const problem = catalogPatternProblem(p);
      if (problem !== undefined) problems.push(`handler '${h.name}': ${problem}`);
    }
  }
  if (problems.length > 0) throw new UnknownEventPatternError(problems);
}
