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
