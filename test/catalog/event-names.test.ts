/**
 * A handler's event names are checked against the catalog twice: by the type checker (each entry
 * of `events` in `defineHandler` must be a `KnownEventPattern` or declared in `uncatalogued`; the
 * `@ts-expect-error` lines below fail `npm run typecheck` if a typo is ever accepted again), and at
 * start-up, when `lambda/fanout/handlers/index.ts` loads, with "did you mean …?" on a near miss.
 */
import { afterEach, describe, expect, expectTypeOf, it, vi } from 'vitest';
import { EVENT_SCHEMAS, type CatalogEventName } from '../../lambda/core/catalog/index.js';
import type { FamilyPattern, KnownEventPattern } from '../../lambda/core/catalog/payload-for.js';
import { assertCatalogEvents, defineHandler, UnknownEventPatternError, type WebhookHandler } from '../../lambda/core/define-handler.js';
import { editDistance, nearestMatch } from '../../lambda/core/near-miss.js';
import { CATALOG_EVENT_NAMES, CATALOG_FAMILY_PATTERNS, catalogPatternProblem } from '../../lambda/core/routing.js';
import { handlers, withSocialPlus } from '../../lambda/fanout/handlers/index.js';

const handle = () => undefined;

describe('at compile time', () => {
  it('a misspelt name, family or raw name does not typecheck', () => {
    // @ts-expect-error 'message.didCreat' is not in the catalog
    defineHandler({ name: 'typo', events: ['message.didCreat'], handle });
    // @ts-expect-error one bad entry among good ones is enough
    defineHandler({ name: 'typo', events: ['message.didCreate', 'comment.didUpdat'], handle });
    // @ts-expect-error no 'mesage' family
    defineHandler({ name: 'typo', events: ['mesage.*'], handle });
    // @ts-expect-error messages are sent without a version prefix, so this raw name never arrives
    defineHandler({ name: 'typo', events: ['v3.message.didCreate'], handle });
    // @ts-expect-error routing names carry no version: 'v3.*' would match nothing
    defineHandler({ name: 'typo', events: ['v3.*'], handle });
    // @ts-expect-error a name the catalog lacks needs `uncatalogued`
    defineHandler({ name: 'typo', events: ['story.didCreate'], handle });
    // @ts-expect-error the check applies to raw-payload handlers too
    defineHandler({ name: 'typo', events: ['post.didCreat'], rawPayload: true, handle });
    // @ts-expect-error declaring another name in `uncatalogued` does not let a typo through
    defineHandler({ name: 'typo', events: ['message.didCreat', 'story.didCreate'], uncatalogued: ['story.didCreate'], handle });
  });

  it('every form the catalog knows typechecks: names, raw v3. names, push names, families, *, unknown', () => {
    defineHandler({
      name: 'all-forms',
      events: [
        'message.didCreate',
        'v3.post.didCreate',
        'push-notification.message.created',
        'message.created',
        'v3.video-streaming.didStart',
        'comment.*',
        'push-notification.*',
        'push-notification.message.*',
        'communityJoinRequest.*',
        '*',
        'unknown',
      ],
      handle,
    });
    expectTypeOf<CatalogEventName>().toMatchTypeOf<KnownEventPattern>();
    expectTypeOf<'message.*' | 'push-notification.mention-post.*'>().toMatchTypeOf<FamilyPattern>();
    expectTypeOf<'v3.*' | 'v3.post.*' | 'mesage.*'>().not.toMatchTypeOf<FamilyPattern>();
  });

  it('the escape hatch: a name declared in `uncatalogued` typechecks, with the loose payload type', () => {
    const h = defineHandler({
      name: 'new-thing',
      events: ['message.didCreate', 'message.didSomethingNew', 'story.*'],
      uncatalogued: ['message.didSomethingNew', 'story.*'],
      handle(event) {
        expectTypeOf(event.data).not.toBeAny();
      },
    });
    expect(h.uncatalogued).toEqual(['message.didSomethingNew', 'story.*']);
  });

  it('a list only known as string[] typechecks (it is checked at start-up instead)', () => {
    const fromConfig: string[] = ['message.*'];
    expect(defineHandler({ name: 'dynamic', events: fromConfig, handle }).events).toEqual(['message.*']);
  });
});

describe('at start-up: assertCatalogEvents', () => {
  const h = (events: string[], uncatalogued?: string[]): Pick<WebhookHandler, 'name' | 'events' | 'uncatalogued'> => ({
    name: 'mine',
    events,
    ...(uncatalogued ? { uncatalogued } : {}),
  });
  const problemsOf = (list: readonly Pick<WebhookHandler, 'name' | 'events' | 'uncatalogued'>[]): readonly string[] => {
    try {
      assertCatalogEvents(list);
    } catch (err) {
      expect(err).toBeInstanceOf(UnknownEventPatternError);
      return (err as UnknownEventPatternError).problems;
    }
    return [];
  };

  it('accepts every name of the catalog, every family wildcard, * and unknown', () => {
    const names = Object.keys(EVENT_SCHEMAS);
    expect(problemsOf([h([...names, ...CATALOG_FAMILY_PATTERNS, '*', 'unknown'])])).toEqual([]);
    // The run-time list is the type's: the catalog's schemas name exactly the same events.
    expect(new Set(names)).toEqual(CATALOG_EVENT_NAMES);
  });

  it.each([
    ['message.didCreat', "'message.didCreat' is not an event name of the catalog; did you mean 'message.didCreate'?"],
    ['message.didclearflag', "'message.didclearflag' is not an event name of the catalog; did you mean 'message.didClearflag'?"],
    ['v3.message.didCreate', "'v3.message.didCreate' is not an event name of the catalog; did you mean 'message.didCreate'?"],
    ['message', "'message' is not an event name of the catalog; did you mean 'message.*'?"],
    ['mesage.*', "'mesage.*' matches no event family of the catalog; did you mean 'message.*'?"],
    [
      'push-notification.mesage.*',
      "'push-notification.mesage.*' matches no event family of the catalog; did you mean 'push-notification.message.*'?",
    ],
    ['story.didCreate', "'story.didCreate' is not an event name of the catalog"],
    ['v3.*', "'v3.*' matches no event family of the catalog"],
  ])('%s: %s', (pattern, message) => {
    expect(catalogPatternProblem(pattern)).toBe(message);
    expect(problemsOf([h([pattern])])).toEqual([`handler 'mine': ${message}`]);
  });

  it('lists every problem of every handler, syntax errors included, and says how to declare a new name', () => {
    const err = (() => {
      try {
        assertCatalogEvents([
          { name: 'a', events: ['message.didFlag', 'post.didCreat'] },
          { name: 'b', events: ['comment*', 'user.*'] },
        ]);
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(UnknownEventPatternError);
    expect(err?.message).toBe(
      [
        'handlers subscribe to events the catalog does not know (lambda/core/event-names.ts):',
        "  - handler 'a': 'post.didCreat' is not an event name of the catalog; did you mean 'post.didCreate'?",
        "  - handler 'b': invalid event pattern 'comment*': '*' is allowed only alone or as a trailing '.*' (e.g. 'message.*')",
        'A name the catalog does not list yet goes in the handler\'s uncatalogued as well as its events (docs/extending.md, "Typed events").',
      ].join('\n'),
    );
  });

  it('lets through what a handler declares in uncatalogued, and only that', () => {
    expect(problemsOf([h(['story.didCreate', 'message.didSomethingNew'], ['story.didCreate', 'message.didSomethingNew'])])).toEqual([]);
    expect(problemsOf([h(['story.didCreate', 'stroy.didCreate'], ['story.didCreate'])])).toEqual([
      "handler 'mine': 'stroy.didCreate' is not an event name of the catalog",
    ]);
  });

  it('defineHandler refuses an uncatalogued name that is not among the events, and keeps the declaration through withSocialPlus', () => {
    expect(() => defineHandler({ name: 'odd', events: ['message.*'] as string[], uncatalogued: ['story.didCreate'], handle })).toThrow(
      "handler 'odd': uncatalogued lists 'story.didCreate', which is not among its events (message.*): list it in both",
    );
    const declared = defineHandler({ name: 'new-thing', events: ['story.didCreate'], uncatalogued: ['story.didCreate'], handle });
    const [wrapped] = withSocialPlus([declared], {});
    expect(wrapped?.uncatalogued).toEqual(['story.didCreate']);
    expect(() => assertCatalogEvents([wrapped!])).not.toThrow();
  });
});

describe('the registered handlers (lambda/fanout/handlers/index.ts)', () => {
  afterEach(() => {
    vi.doUnmock('../../lambda/fanout/handlers/flagged-content-log.js');
    vi.resetModules();
  });

  it('pass the check', () => {
    expect(handlers.length).toBeGreaterThan(0);
    expect(() => assertCatalogEvents(handlers)).not.toThrow();
  });

  it('a typo in a registered handler fails when the list loads, with "did you mean"', async () => {
    vi.resetModules();
    const names: string[] = ['message.didFlag', 'post.didFlg'];
    vi.doMock('../../lambda/fanout/handlers/flagged-content-log.js', () => ({
      default: defineHandler({ name: 'flagged-content-log', events: names, handle }),
    }));
    await expect(import('../../lambda/fanout/handlers/index.js')).rejects.toThrow(
      "handler 'flagged-content-log': 'post.didFlg' is not an event name of the catalog; did you mean 'post.didFlag'?",
    );
  });
});

describe('near-miss', () => {
  it('edit distance', () => {
    expect([
      editDistance('', ''),
      editDistance('abc', 'abc'),
      editDistance('abc', 'abd'),
      editDistance('abc', 'ab'),
      editDistance('kitten', 'sitting'),
    ]).toEqual([0, 0, 1, 1, 3]);
  });

  it('the nearest candidate, ignoring case; none when nothing is close or the input is a candidate', () => {
    expect(nearestMatch('tabel', ['table', 'label', 'cable'])).toBe('label');
    expect(nearestMatch('tbale', ['table', 'cable'])).toBe('table');
    expect(nearestMatch('TABLE', ['table'])).toBe('table');
    expect(nearestMatch('queue', ['table', 'bucket'])).toBeUndefined();
    expect(nearestMatch('table', ['tables', 'table'])).toBeUndefined();
    expect(nearestMatch('abcdefghijklmnopqrstuvwxy', ['abcdefghijklmnopqrstu'])).toBe('abcdefghijklmnopqrstu');
    expect(nearestMatch('abcdef', ['abcxyz'], 2)).toBeUndefined();
  });
});
