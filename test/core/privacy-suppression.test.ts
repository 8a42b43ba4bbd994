/**
 * The suppression list's pure core (lambda/core/privacy/suppression.ts): the stored object read and
 * written back, adding a hash, and which user ids an event names, which must be exactly the ids an
 * erasure finds in it (`userAppearances`), so the fan-out drops exactly what an erasure would remove.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_SCHEMAS } from '../../lambda/core/catalog/events.js';
import { normaliseEventType } from '../../lambda/core/envelope.js';
import { SocialPlusWebhooksError } from '../../lambda/core/errors.js';
import { ERASURES_PREFIX, userIdHash } from '../../lambda/core/privacy/receipt.js';
import {
  isSuppressed,
  parseSuppressionList,
  serializeSuppressionList,
  SUPPRESSION_LIST_FORMAT,
  SUPPRESSION_LIST_KEY,
  suppressionListDocument,
  SuppressionListFormatError,
  suppressionListFrom,
  userIdsOf,
  withUserIdHash,
} from '../../lambda/core/privacy/suppression.js';
import {
  ALL_PAYLOAD_USER_FIELDS,
  parseFieldPath,
  RECORD_USER_FIELDS,
  userAppearances,
  type UserMatchEvent,
} from '../../lambda/core/privacy/user-match.js';

const A = userIdHash('alice');
const B = userIdHash('bob');

describe('the stored list', () => {
  it('lives under erasures/, outside every event prefix', () => {
    expect(SUPPRESSION_LIST_KEY).toBe(`${ERASURES_PREFIX}suppressed.json`);
  });

  it('is written sorted, each hash once, and read back as the same set', () => {
    const text = serializeSuppressionList([B, A, B]);
    expect(JSON.parse(text)).toEqual({ format: SUPPRESSION_LIST_FORMAT, userIdHashes: [A, B].sort() });
    expect(text.endsWith('}\n')).toBe(true);
    expect([...parseSuppressionList(text)].sort()).toEqual([A, B].sort());
    expect(parseSuppressionList(serializeSuppressionList([])).size).toBe(0);
  });

  it('holds hashes only: an id where a hash belongs is refused, writing and reading', () => {
    expect(() => suppressionListDocument(['alice'])).toThrow(RangeError);
    expect(() => suppressionListDocument([A.toUpperCase()])).toThrow(RangeError);
    expect(() => suppressionListFrom({ format: SUPPRESSION_LIST_FORMAT, userIdHashes: [A, 'alice'] })).toThrow(/"alice", not 64 lower-case hex/);
  });

  it.each([
    ['not JSON', '{"format":', /not JSON/],
    ['not an object', '[]', /not a JSON object/],
    ['another format', JSON.stringify({ format: 'socialplus-webhooks/suppression-list/v0', userIdHashes: [] }), /format is not/],
    ['no list of hashes', JSON.stringify({ format: SUPPRESSION_LIST_FORMAT, userIdHashes: A }), /userIdHashes is not a list/],
    ['a number for a hash', JSON.stringify({ format: SUPPRESSION_LIST_FORMAT, userIdHashes: [7] }), /holds 7/],
  ])('refuses an object that is %s, naming the key', (_what, text, problem) => {
    expect(() => parseSuppressionList(text)).toThrow(SuppressionListFormatError);
    expect(() => parseSuppressionList(text)).toThrow(problem);
    expect(() => parseSuppressionList(text)).toThrow(SUPPRESSION_LIST_KEY);
  });

  it("refuses with one of the project's own errors, its name a literal that survives minification", () => {
    let thrown: unknown;
    try {
      parseSuppressionList('[]');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SocialPlusWebhooksError);
    expect(thrown).toBeInstanceOf(SuppressionListFormatError);
    expect((thrown as Error).name).toBe('SuppressionListFormatError');
  });

  it('adds a hash once: a second add changes nothing and says so', () => {
    const first = withUserIdHash(new Set([B]), A);
    expect(first).toEqual({ added: true, document: { format: SUPPRESSION_LIST_FORMAT, userIdHashes: [A, B].sort() } });
    const again = withUserIdHash(suppressionListFrom(first.document), A);
    expect(again).toEqual({ added: false, document: first.document });
    expect(withUserIdHash(new Set(), A).document.userIdHashes).toEqual([A]);
  });
});

/** A catalogued routing name of each family the catalog lists, and names it does not know. */
const EVENT_TYPES = [...new Set(Object.keys(EVENT_SCHEMAS).map(normaliseEventType))];
const UNCATALOGUED = ['unknown', 'newFamily.didHappen', 'post.didSomethingNotInTheCatalog'];

/** Sets `value` at `path` of `root` (lists of one item; a `[field=value]` step gets that field). */
function place(root: Record<string, unknown>, path: string, value: string): void {
  const steps = parseFieldPath(path);
  let at: Record<string, unknown> = root;
  steps.forEach((step, i) => {
    const last = i === steps.length - 1;
    if (last && !step.each) {
      at[step.key] = value;
      return;
    }
    if (last) {
      at[step.key] = [...((at[step.key] as unknown[] | undefined) ?? []), value];
      return;
    }
    const next: Record<string, unknown> = step.where ? { [step.where.field]: step.where.equals } : {};
    if (step.each) at[step.key] = [...((at[step.key] as unknown[] | undefined) ?? []), next];
    else at[step.key] = (at[step.key] as Record<string, unknown> | undefined) ?? next;
    at = (step.each ? next : at[step.key]) as Record<string, unknown>;
  });
}

const PATHS = [...RECORD_USER_FIELDS, ...ALL_PAYLOAD_USER_FIELDS].map((f) => f.path);

/** Events with ids from a small pool at any user field of any family, and at a field that is none. */
const anEvent = fc
  .record({
    eventType: fc.constantFrom(...EVENT_TYPES, ...UNCATALOGUED),
    placements: fc.array(
      fc.tuple(fc.constantFrom(...PATHS, 'data.notAUserField', 'data.users[].displayName'), fc.constantFrom('u1', 'u2', 'u3', '')),
      {
        maxLength: 8,
      },
    ),
    targetType: fc.constantFrom('user', 'post', undefined),
  })
  .map(({ eventType, placements, targetType }): UserMatchEvent => {
    const body: Record<string, unknown> = {};
    const record: Record<string, unknown> = {};
    for (const [path, id] of placements) {
      if (path === 'record.actorId') record.actorId = id;
      else if (path.startsWith('record')) record.targetId = id;
      else place(body, path, id);
    }
    return { eventName: eventType, eventType, ...record, ...(targetType ? { targetType } : {}), payload: JSON.stringify(body), flags: [] };
  });

describe('userIdsOf', () => {
  it('names exactly the ids an erasure finds in the event, each once', () => {
    fc.assert(
      fc.property(anEvent, (event) => {
        const ids = userIdsOf(event);
        expect(new Set(ids).size).toBe(ids.length);
        for (const id of ['u1', 'u2', 'u3', 'u4']) expect(ids.includes(id), id).toBe(userAppearances(event, id).length > 0);
        expect(ids).not.toContain('');
      }),
    );
  });

  it("reads the record's fields, and a user target only", () => {
    const base = { eventName: 'v3.post.didCreate', eventType: 'post.didCreate', payload: '{}', flags: [] };
    expect(userIdsOf({ ...base, actorId: 'author', targetType: 'user', targetId: 'owner' })).toEqual(['author', 'owner']);
    expect(userIdsOf({ ...base, actorId: 'author', targetType: 'community', targetId: 'c-1' })).toEqual(['author']);
  });

  it('reads the body given rather than parsing the payload again', () => {
    const event = { eventName: 'v3.post.didCreate', eventType: 'post.didCreate', payload: 'not json', flags: [] };
    expect(userIdsOf(event)).toEqual([]);
    expect(userIdsOf(event, { data: { posts: [{ postedUserId: 'author' }] } })).toEqual(['author']);
  });
});

describe('isSuppressed', () => {
  const post = (author: string): UserMatchEvent => ({
    eventName: 'v3.post.didCreate',
    eventType: 'post.didCreate',
    payload: JSON.stringify({ event: 'v3.post.didCreate', data: { posts: [{ postedUserId: author }] } }),
    flags: [],
  });

  it('is true when a user the event names is listed, by the hash of their id', () => {
    expect(isSuppressed(post('alice'), new Set([A]))).toBe(true);
    expect(isSuppressed(post('bob'), new Set([A]))).toBe(false);
    expect(isSuppressed(post('alice'), new Set(['alice']))).toBe(false);
  });

  it('with an empty list reads nothing of the event', () => {
    const untouchable = new Proxy(post('alice'), {
      get: () => {
        throw new Error('the event was read');
      },
    });
    expect(isSuppressed(untouchable, new Set())).toBe(false);
    expect(() => isSuppressed(untouchable, new Set([A]))).toThrow('the event was read');
  });
});
