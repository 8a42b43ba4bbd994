/**
 * Type-level routing: the payload type a handler gets for the patterns it subscribes to, mirroring
 * `matchesPattern` in `../routing.ts`. Types only: importing this module loads nothing at run time.
 */
import type { EventPayloadMap } from './events.js';

/**
 * The ordinary envelope, or the push-notification one, with nothing known about its fields: what a
 * handler gets for `'*'` or for a name outside the catalog.
 */
export interface LooseEnvelope {
  readonly event?: string;
  readonly eventType?: string;
  readonly data?: unknown;
  readonly [key: string]: unknown;
}

type Names = keyof EventPayloadMap;

/** The routing names of the catalog (`post.didCreate`, `push-notification.message.created`): its names without the raw `v3.` ones. */
type RoutingNames = Exclude<Names, `v3.${string}`>;

/** Every proper dotted prefix of a name: `push-notification.message.created` → `push-notification` | `push-notification.message`. */
type DottedPrefixes<N extends string> = N extends `${infer Head}.${infer Rest}` ? Head | `${Head}.${DottedPrefixes<Rest>}` : never;

/**
 * The wildcard patterns that can match a catalog event: `family.*` for each family of routing
 * names (`message.*`, `communityJoinRequest.*`, `push-notification.*`), and deeper ones where the
 * names are deeper (`push-notification.message.*`). Never `v3.…*`: routing names carry no version.
 */
export type FamilyPattern = `${DottedPrefixes<RoutingNames>}.*`;

/**
 * Every pattern a handler may name that the catalog knows, checked at compile time by
 * `defineHandler`: an exact name (a routing name such as `message.didFlag`, a raw `v3.` name such as
 * `v3.post.didCreate`, a push-notification name such as `push-notification.message.created`, a
 * deprecated legacy name), a {@link FamilyPattern}, `*`, or `unknown` (bodies with no recognisable
 * envelope). A name the catalog does not list yet is declared in the handler's `uncatalogued`.
 */
export type KnownEventPattern = Names | FamilyPattern | '*' | 'unknown';

/** The union of the payloads of every catalog name starting with `Prefix`; never when none does. */
type PayloadsStartingWith<Prefix extends string> = {
  [K in Names]: K extends `${Prefix}${string}` ? EventPayloadMap[K] : never;
}[Names];

type OrLoose<T> = [T] extends [never] ? LooseEnvelope : T;

/**
 * The payload type for one pattern:
 * - an exact catalog name (`'message.didFlag'`, `'v3.post.didCreate'`, `'push-notification.message.created'`): its payload;
 * - `'family.*'`: the union of the family's payloads (an uncatalogued name of a known family is read with the family's schema);
 * - `'unknown'` (bodies with no recognised envelope, even JSON that is not an object): `unknown`;
 * - `'*'`, a name outside the catalog, or a pattern only known as `string`: the loose envelope.
 */
export type PayloadForPattern<P extends string> = string extends P
  ? LooseEnvelope
  : P extends Names
    ? EventPayloadMap[P]
    : P extends '*'
      ? LooseEnvelope
      : P extends 'unknown'
        ? unknown
        : P extends `${infer Prefix}*`
          ? OrLoose<PayloadsStartingWith<Prefix>>
          : LooseEnvelope;

/** The payload type for a handler's patterns: the union over each (distributes over a union of patterns). */
export type PayloadFor<P extends string> = P extends string ? PayloadForPattern<P> : never;
