import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS, FAMILY_SCHEMAS } from '../../lambda/core/catalog/events.js';
import { normaliseEventType } from '../../lambda/core/envelope.js';
import {
  ALL_PAYLOAD_USER_FIELDS,
  familyOf,
  parseFieldPath,
  RECORD_USER_FIELDS,
  USER_FIELDS,
  userAppearances,
  type UserMatchEvent,
} from '../../lambda/core/privacy/user-match.js';

const FAMILIES = Object.keys(FAMILY_SCHEMAS);

/** A catalogued routing name of each family, taken from the catalog (raw `v3.` names normalised). */
function catalogNameOf(family: string): string {
  const name = Object.keys(EVENT_SCHEMAS)
    .map(normaliseEventType)
    .find((n) => familyOf(n) === family);
  if (name === undefined) throw new Error(`the catalog names no event of family ${family}`);
  return name;
}

/** The steps of a path, read independently of the code under test (no filter value in the table holds a dot). */
function steps(path: string): Array<{ key: string; each: boolean; where?: [string, string] }> {
  return path.split('.').map((part) => {
    const m = /^([\w$-]+)(\[(?:(\w+)=(\w+))?\])?$/.exec(part);
    if (!m) throw new Error(`cannot read step '${part}' of '${path}'`);
    return { key: m[1] as string, each: m[2] !== undefined, ...(m[3] ? { where: [m[3], m[4] as string] as [string, string] } : {}) };
  });
}

/** A JSON value with `value` at `path`; `single` writes each list as its one item, which must read the same. */
function placed(path: string, value: string, single: boolean): Record<string, unknown> {
  const all = steps(path);
  let inner: unknown = value;
  for (let i = all.length - 1; i >= 0; i--) {
    const { key, each, where } = all[i] as (typeof all)[number];
    let v = inner;
    if (where) v = { ...(v as object), [where[0]]: where[1] };
    if (each && !single) v = [v];
    inner = { [key]: v };
  }
  return inner as Record<string, unknown>;
}

/** Deep merge: objects field by field, lists concatenated (an object beside a list joins it). */
function merge(a: unknown, b: unknown): unknown {
  if (a === undefined || a === b) return b;
  const isObj = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (Array.isArray(a) || Array.isArray(b)) return [...(Array.isArray(a) ? a : [a]), ...(Array.isArray(b) ? b : [b])];
  if (isObj(a) && isObj(b)) {
    const out: Record<string, unknown> = { ...(a as object) };
    for (const [k, v] of Object.entries(b as object)) out[k] = merge(out[k], v);
    return out;
  }
  throw new Error(`two values for one field: ${JSON.stringify(a)} and ${JSON.stringify(b)}`);
}

/** The event with each `[path, id]` placed: record paths into the record's fields, the others into the body. */
function eventWith(eventType: string, placements: ReadonlyArray<readonly [string, string]>, single: boolean): UserMatchEvent {
  let body: unknown = {};
  let record: Record<string, unknown> = {};
  for (const [path, id] of placements) {
    if (path.startsWith('record')) record = merge(record, placed(path, id, true)) as Record<string, unknown>;
    else body = merge(body, placed(path, id, single));
  }
  const r = (record.record ?? {}) as { actorId?: string; targetType?: string; targetId?: string };
  return { eventName: eventType, eventType, ...r, payload: JSON.stringify(body), flags: [] };
}

/**
 * Every path gets its own id, the user's is one of them: the user must be found at exactly that
 * path, every other id at exactly its own, and an id placed nowhere nowhere.
 */
function checkPlacements(eventType: string, paths: readonly string[]) {
  return fc.property(
    fc.nat({ max: paths.length - 1 }),
    fc.uniqueArray(fc.string({ minLength: 1, maxLength: 12 }), { minLength: paths.length + 1, maxLength: paths.length + 1 }),
    fc.boolean(),
    (at, ids, single) => {
      const placements = paths.map((p, i) => [p, ids[i] as string] as const);
      const event = eventWith(eventType, placements, single);
      expect(userAppearances(event, ids[at] as string)).toEqual([paths[at]]);
      expect(userAppearances(event, ids[paths.length] as string)).toEqual([]);
      const other = (at + 1) % paths.length;
      if (other !== at) expect(userAppearances(event, ids[other] as string)).toEqual([paths[other]]);
    },
  );
}

describe('userAppearances: a user id placed at any listed field is found there, another id is not', () => {
  it.each(FAMILIES)('%s (a catalogued name of the family; lists or single objects)', (family) => {
    const paths = [...RECORD_USER_FIELDS, ...(USER_FIELDS[family] ?? [])].map((f) => f.path);
    fc.assert(checkPlacements(catalogNameOf(family), paths));
  });

  it('a name the catalog does not know: every family’s fields count', () => {
    const paths = [...RECORD_USER_FIELDS, ...ALL_PAYLOAD_USER_FIELDS].map((f) => f.path);
    const uncatalogued = ['unknown', 'newFamily.didHappen', ...FAMILIES.map((f) => `${f}.didSomethingNotInTheCatalog`)];
    for (const eventType of uncatalogued) fc.assert(checkPlacements(eventType, paths), { numRuns: 20 });
  });
});

describe('userAppearances: what the body is', () => {
  const post = (targetType: string) => ({ data: { posts: [{ postId: 'p1', postedUserId: 'author', targetType, targetId: 'feed.owner' }] } });
  const event = (payload: string, extra: Partial<UserMatchEvent> = {}): UserMatchEvent => ({
    eventName: 'v3.post.didCreate',
    eventType: 'post.didCreate',
    payload,
    flags: [],
    ...extra,
  });

  it('a post’s target is a user only on a user’s feed', () => {
    expect(userAppearances(event(JSON.stringify(post('user'))), 'feed.owner')).toEqual(['data.posts[targetType=user].targetId']);
    expect(userAppearances(event(JSON.stringify(post('community'))), 'feed.owner')).toEqual([]);
  });

  it('reads a body flagged body-base64 from its bytes, not from the base64 text', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"data":{"posts":[{"postedUserId":"author","data":{"text":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}}]}}'),
    ]);
    const b64 = bytes.toString('base64');
    expect(userAppearances(event(b64, { flags: ['body-base64'] }), 'author')).toEqual(['data.posts[].postedUserId']);
    expect(userAppearances(event(bytes.toString('utf8')), 'author')).toEqual(['data.posts[].postedUserId']);
    // Unflagged, the same base64 is just text that is not JSON.
    expect(userAppearances(event(b64), 'author')).toEqual([]);
  });

  it('a body that is not JSON, or flagged payload-in-s3 (its payload is a key): only the record’s fields count', () => {
    const json = JSON.stringify(post('user'));
    const record = { actorId: 'author', targetType: 'user', targetId: 'feed.owner' };
    for (const e of [event(`${json}}`, record), event(json, { ...record, flags: ['payload-in-s3'] })]) {
      expect(userAppearances(e, 'author')).toEqual(['record.actorId']);
      expect(userAppearances(e, 'feed.owner')).toEqual(['record[targetType=user].targetId']);
    }
    expect(userAppearances(event(json, { flags: ['payload-in-s3'] }), 'author')).toEqual([]);
  });

  it('the record’s target counts only when it is a user', () => {
    expect(userAppearances(event('{}', { targetType: 'post', targetId: 'author' }), 'author')).toEqual([]);
    expect(userAppearances(event('{}', { actorId: null, targetType: null, targetId: null }), 'author')).toEqual([]);
  });

  it('only strings are ids; inherited and non-own keys name nothing', () => {
    const body = '{"data":{"users":[{"userId":42},{"userId":["u"]},{"userId":{"x":"u"}}],"userIds":"u"},"__proto__":{"senderId":"u"}}';
    const e = { eventName: null, eventType: 'channel.didJoin', payload: body };
    expect(userAppearances(e, '42')).toEqual([]);
    // A single string where a list of ids is documented is read as a one-item list, as the catalog reads entities.
    expect(userAppearances(e, 'u')).toEqual(['data.userIds[]']);
  });

  it('refuses an empty user id', () => {
    expect(() => userAppearances(event('{}'), '')).toThrow(RangeError);
  });
});

describe('parseFieldPath', () => {
  it('reads keys, lists and filters (a filter value may hold dots)', () => {
    expect(parseFieldPath('data.posts[targetType=user].targetId')).toEqual([
      { key: 'data', each: false },
      { key: 'posts', each: true, where: { field: 'targetType', equals: 'user' } },
      { key: 'targetId', each: false },
    ]);
    expect(parseFieldPath('a[k=v.w].b[]')).toEqual([
      { key: 'a', each: true, where: { field: 'k', equals: 'v.w' } },
      { key: 'b', each: true },
    ]);
  });

  it.each(['', 'a..b', '.a', 'a.', 'a[', 'a[]b', 'a[k]', 'a[=v]', '1a', 'a b'])('refuses %j', (path) => {
    expect(() => parseFieldPath(path)).toThrow(RangeError);
  });
});
