/**
 * The one shape of a configuration rule: a function from a key's {@link Field} (its raw context
 * value, its default, the keys read before it) to its validated value. A rule adds a line to the
 * field's problems for each thing wrong, and then returns the default.
 */
import { CONFIG_DEFAULTS, type ConfigKey } from './defaults.js';
import { readBoolean, readInteger, readOneOf, type Problems } from './problems.js';
import type { WebhooksConfig } from './schema.js';

/** The keys validated so far (rules run in a fixed order; see `RULES`). */
export type ReadSoFar = { -readonly [K in ConfigKey]?: WebhooksConfig[K] };

/** What a rule gets for one key. */
export interface Field<K extends ConfigKey> {
  readonly key: K;
  /** The key's value in the context: undefined when not set. */
  readonly raw: unknown;
  /** The key's default: the profile's (`PROFILE_DEFAULTS`), else `CONFIG_DEFAULTS`. */
  readonly fallback: (typeof CONFIG_DEFAULTS)[K];
  /** The keys validated before this one, for rules that depend on another key. */
  readonly read: ReadSoFar;
  readonly problems: Problems;
}

/** Reads one key; see the module comment. */
export type Rule<K extends ConfigKey> = (f: Field<K>) => WebhooksConfig[K];

/** The keys whose default is of type `T`. */
type KeyWithDefault<T> = { [K in ConfigKey]: (typeof CONFIG_DEFAULTS)[K] extends T ? K : never }[ConfigKey];

/** An integer key in [min, max]. */
export function integer(min: number, max: number): (f: Field<KeyWithDefault<number>>) => number {
  return (f) => readInteger(f.problems, f.key, f.raw, f.fallback, min, max);
}

/** A key taking one of a fixed list, matched without regard to case. */
export function oneOf<T extends string>(allowed: readonly T[]): (f: Field<KeyWithDefault<T>>) => T {
  return (f) => readOneOf(f.problems, f.key, f.raw, allowed, f.fallback as T);
}

/** A `true`/`false` key; `meaning` says what each does. */
export function boolean(meaning: string): (f: Field<KeyWithDefault<boolean>>) => boolean {
  return (f) => readBoolean(f.problems, f.key, f.raw, f.fallback, meaning);
}

/** The validated value of a key a rule depends on; it must come earlier in `RULES`. */
export function earlier<K extends ConfigKey>(read: ReadSoFar, key: K): WebhooksConfig[K] {
  if (!(key in read)) throw new Error(`configuration rule order: ${key} is read after a rule that depends on it`);
  return read[key] as WebhooksConfig[K];
}
