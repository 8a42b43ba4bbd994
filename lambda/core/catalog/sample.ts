/**
 * Sample payloads generated from the catalog: a realistic envelope for every event name of
 * `../catalog.ts`, current and deprecated, push notifications included. `send` posts one when no
 * sample is shipped in `fixtures/samples/`, and the handler kit's `sampleEvent` builds one likewise.
 *
 * Each sample has the raw name as Social Plus sends it (`v3.post.didApprove`), and a `data` with
 * the entities of its family (docs/social-plus.md §5-§6 as the schemas of `./events.ts` type them) whose ids
 * agree with each other: the author of a post is in `users[]` and `communityUsers[]`, a message's
 * `path` names its channel, a reactor is a user of the network. The same name and seed always give
 * the same payload (so the same event id); another seed gives other people, ids, texts and times.
 *
 * Pure: no I/O, no clock, no zod (the schemas check the output in the tests, not here).
 */
import {
  DEPRECATED_EVENT_NAMES,
  KNOWN_EVENT_TYPES,
  PUSH_NOTIFICATION_NAMES,
  PUSH_NOTIFICATION_PREFIX,
  V3_PREFIXED_FAMILIES,
} from '../event-names.js';
import { FAMILIES, pushNotification } from './sample-families.js';
import { NETWORK_ID, World, type SamplePayload } from './sample-world.js';

/** One name `send` knows, as it lists it. */
export interface SampleName {
  /**
   * The name as Social Plus sends it: `v3.post.didApprove`, `message.didCreate`, the deprecated
   * `v3.video-streaming.didStart`; for a push notification its routing name
   * (`push-notification.post.created`), the trigger being `data.eventName`.
   */
  readonly name: string;
  /** The routing name the fan-out gives it (`ctx.eventType`): `post.didApprove`. */
  readonly eventType: string;
  /** The routing name's first segment: `post`, `communityJoinRequest`, `push-notification`. */
  readonly family: string;
  /** On the deprecated legacy list: delivered only to handlers that name it exactly. */
  readonly deprecated: boolean;
}

export type { SamplePayload } from './sample-world.js';

/** The seed of `send <name>` and `sampleEvent(name)` when none is given. */
export const DEFAULT_SAMPLE_SEED = 1;

const VERSION_PREFIX = /^v\d+\./;

let names: readonly SampleName[] | undefined;

/**
 * Every name of the catalog, once each, family by family in the catalog's order: the current
 * names as sent (`v3.` for posts, comments and communities), the deprecated legacy names, and the
 * push-notification names.
 */
export function catalogSampleNames(): readonly SampleName[] {
  if (names) return names;
  const out: SampleName[] = [];
  const seen = new Set<string>();
  const add = (name: string, eventType: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    out.push({ name, eventType, family: familyOf(eventType), deprecated: DEPRECATED_EVENT_NAMES.has(name) });
  };
  for (const eventType of KNOWN_EVENT_TYPES) {
    const prefixed = `v3.${eventType}`;
    // A `v3.` family sends the prefixed name, unless that is the deprecated spelling (live video).
    const v3 = V3_PREFIXED_FAMILIES.some((f) => eventType.startsWith(`${f}.`)) && !DEPRECATED_EVENT_NAMES.has(prefixed);
    add(v3 ? prefixed : eventType, eventType);
    if (DEPRECATED_EVENT_NAMES.has(prefixed)) add(prefixed, eventType);
  }
  for (const name of DEPRECATED_EVENT_NAMES) add(name, name.replace(VERSION_PREFIX, ''));
  for (const push of PUSH_NOTIFICATION_NAMES) add(`${PUSH_NOTIFICATION_PREFIX}.${push}`, `${PUSH_NOTIFICATION_PREFIX}.${push}`);
  // Family by family (the legacy names join their family), each in the catalog's order.
  const families = [...new Set(out.map((n) => n.family))];
  names = out
    .map((n, i) => ({ n, i }))
    .sort((a, b) => families.indexOf(a.n.family) - families.indexOf(b.n.family) || a.i - b.i)
    .map(({ n }) => n);
  return names;
}

function familyOf(eventType: string): string {
  return eventType.startsWith(`${PUSH_NOTIFICATION_PREFIX}.`) ? PUSH_NOTIFICATION_PREFIX : (eventType.split('.')[0] ?? '');
}

/**
 * The catalog name `name` stands for: the name as sent (`v3.post.didApprove`), or, without a
 * version prefix, the routing name of a current event (`post.didApprove`). A deprecated spelling is
 * found only as itself. Undefined when the catalog has no such name.
 */
export function findSampleName(name: string): SampleName | undefined {
  const all = catalogSampleNames();
  return all.find((n) => n.name === name) ?? (VERSION_PREFIX.test(name) ? undefined : all.find((n) => n.eventType === name && !n.deprecated));
}

/**
 * A generated payload for a catalog name (see {@link findSampleName}), deterministic for a given
 * seed (a whole number from 0 to 2^32 - 1). Throws on a name outside the catalog.
 */
export function generateSample(name: string, seed: number = DEFAULT_SAMPLE_SEED): SamplePayload {
  const entry = findSampleName(name);
  if (!entry) throw new Error(`'${name}' is not an event name of the catalog`);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff)
    throw new RangeError(`the seed must be a whole number from 0 to ${0xffff_ffff}, got ${seed}`);
  const w = new World(seed);
  if (entry.family === PUSH_NOTIFICATION_PREFIX) return pushNotification(entry.eventType.slice(PUSH_NOTIFICATION_PREFIX.length + 1), w);
  const build = FAMILIES[entry.family];
  if (!build) throw new Error(`no sample generator for the family '${entry.family}' of '${name}'`);
  const action = entry.eventType.slice(entry.family.length + 1);
  const data = build(entry.deprecated ? (LEGACY_ACTIONS[action] ?? action) : action, w, entry.family);
  // `file.didDelete` has a top-level networkId beside the File (§5.12).
  return entry.family === 'file' ? { event: entry.name, networkId: NETWORK_ID, data } : { event: entry.name, data };
}

/** The legacy names' current equivalents (docs/social-plus.md §5.14): `channel.joined` has the shape of `channel.didJoin`. */
const LEGACY_ACTIONS: Readonly<Record<string, string>> = { created: 'didCreate', joined: 'didJoin', membersAdded: 'didAddUsers' };
