/**
 * Contract tests of the typed catalog: every sample payload parses and keeps every field; every
 * event name of docs/social-plus.md §5 (read from the doc itself) has an entry and a payload of its family that parses; the schemas are
 * loose (extra fields pass, missing fields are fine) and a field of the wrong type is left out and
 * reported, never a reason to drop the event.
 */
import { describe, expect, it } from 'vitest';
import { DEPRECATED_EVENT_NAMES, KNOWN_EVENT_TYPES, KNOWN_PUSH_NOTIFICATION_NAMES } from '../../lambda/core/event-names.js';
import { EVENT_SCHEMAS, readTypedPayload, schemaFor, type MessageEvent } from '../../lambda/core/catalog/index.js';
import { normaliseEventType, parseEvent } from '../../lambda/core/envelope.js';
import { codeSpans, docSection } from '../support/docs.js';
import { SAMPLE_NAMES, sampleBody } from '../support/samples.js';

/** What §5 names in code spans that are not webhooks the catalog takes: realtime-only names and the corrected misspelling. */
const NOT_WEBHOOKS = new Set([
  'story.created',
  'story.deleted',
  'story.reactionAdded',
  'story.reactionRemoved',
  'user.didGlobalBan',
  'follow.didDecineRequest',
]);
/** §5.11's spans that belong to the push-notification envelope, not to its names. */
const PUSH_ENVELOPE = new Set(['push-notification.created', 'data.eventName']);

/**
 * The event names a subsection of docs/social-plus.md §5 writes in code spans, as written there (raw
 * names with their `v3.` prefixes), each once. A bare `didX` span (`didStop` after
 * `v3.video-streaming.didStart`) is the last full name's family with that verb.
 */
function eventNamesIn(text: string): string[] {
  const names = new Set<string>();
  let family = '';
  for (const span of codeSpans(text)) {
    if (/^(v3\.)?[A-Za-z-]+\.[A-Za-z-]+$/.test(span)) {
      names.add(span);
      family = span.slice(0, span.lastIndexOf('.') + 1);
    } else if (/^did[A-Z]\w*$/.test(span) && family !== '') names.add(`${family}${span}`);
  }
  return [...names];
}

/** docs/social-plus.md §5's subsections (`5.1 Chat: channels`, …) and the names each lists. */
const SECTION_5 = docSection('docs/social-plus.md', '## 5.')
  .split(/^(?=### )/m)
  .slice(1)
  .map((sub) => [sub.slice(4, sub.indexOf('\n')), eventNamesIn(sub)] as const);
const [, PUSH_SPANS = []] = SECTION_5.find(([title]) => title.startsWith('5.11 ')) ?? [];
/** §5.11: names carried in `data.eventName` of push-notification webhooks. */
const PUSH_NAMES = PUSH_SPANS.filter((n) => !PUSH_ENVELOPE.has(n));
/** Every other subsection's names of the ordinary envelope. */
const WEBHOOKS_SECTION_5 = SECTION_5.filter(([title]) => !title.startsWith('5.11 ')).map(
  ([title, names]) => [title, names.filter((n) => !NOT_WEBHOOKS.has(n))] as const,
);

/** The sample whose shape stands for each family, for names with no sample of their own. */
const FAMILY_SAMPLE: Record<string, string> = {
  channel: 'channel.didCreate',
  message: 'message.didCreate',
  moderation: 'moderation.didBan',
  post: 'v3.post.didCreate',
  comment: 'v3.comment.didCreate',
  community: 'v3.community.didCreate',
  communityJoinRequest: 'v3.community.didCreate',
  communityMemberInvitation: 'v3.community.didCreate',
  poll: 'poll.didVote',
  follow: 'follow.didCreate',
  user: 'user.didFlag',
  'video-streaming': 'video-streaming.didStart',
  tag: 'tag.created',
  file: 'file.didDelete',
};
const FOLLOW_SHAPED = new Set(['user.didBlock', 'user.didUnblock', 'user.didFollow']);

/** A payload for `rawName`: its own sample when there is one, else its family's with the name swapped in. */
function payloadFor(rawName: string): Record<string, unknown> {
  const own = SAMPLE_NAMES.find((s) => s === rawName);
  const routing = normaliseEventType(rawName);
  const family = routing.split('.')[0] ?? '';
  const sample = own ?? (FOLLOW_SHAPED.has(routing) ? 'user.didBlock' : FAMILY_SAMPLE[family]);
  if (sample === undefined) throw new Error(`no sample for the family of ${rawName}`);
  return { ...(JSON.parse(sampleBody(sample)) as Record<string, unknown>), event: rawName };
}

describe('every sample in fixtures/samples', () => {
  it.each(SAMPLE_NAMES)('%s parses with its schema, with no issue and nothing lost', (name) => {
    const raw = sampleBody(name);
    const parsed = parseEvent(raw);
    expect(parsed.flags).toEqual([]);
    const read = readTypedPayload(parsed.eventType, parsed.payload);
    expect(read.typed).toBe(true);
    expect(read.issues).toEqual([]);
    // Loose schemas: the typed copy has every field of the body, unknown ones included.
    expect(read.payload).toEqual(JSON.parse(raw));
  });

  it('covers every family of docs/social-plus.md §5', () => {
    const families = new Set(SAMPLE_NAMES.map((s) => parseEvent(sampleBody(s)).eventType.split('.')[0]));
    expect([...families].sort()).toEqual([
      'channel',
      'comment',
      'community',
      'file',
      'follow',
      'message',
      'moderation',
      'poll',
      'post',
      'push-notification',
      'tag',
      'user',
      'video-streaming',
    ]);
  });
});

describe('reading docs/social-plus.md §5', () => {
  it('finds names in every subsection, and the push-notification names in §5.11', () => {
    expect(SECTION_5.map(([title]) => title.split(' ')[0])).toEqual(Array.from({ length: 14 }, (_, i) => `5.${i + 1}`));
    for (const [title, names] of WEBHOOKS_SECTION_5) expect(names.length, title).toBeGreaterThan(0);
    expect(PUSH_NAMES.length).toBeGreaterThan(0);
  });

  it('the names it mentions that are not webhooks are not in the catalog', () => {
    const mentioned = SECTION_5.flatMap(([, names]) => names).filter((n) => NOT_WEBHOOKS.has(n));
    expect(new Set(mentioned)).toEqual(NOT_WEBHOOKS);
    for (const name of NOT_WEBHOOKS) expect(KNOWN_EVENT_TYPES.has(normaliseEventType(name)), name).toBe(false);
  });
});

describe.each(WEBHOOKS_SECTION_5)('WEBHOOKS %s', (_section, names) => {
  it.each(names.map((n) => [n]))('%s has a catalog entry and a payload of its shape that parses', (rawName) => {
    const routing = normaliseEventType(rawName);
    expect(KNOWN_EVENT_TYPES.has(routing)).toBe(true);
    expect(Object.hasOwn(EVENT_SCHEMAS, routing)).toBe(true);
    const payload = payloadFor(rawName);
    const parsed = parseEvent(JSON.stringify(payload));
    expect(parsed.eventType).toBe(routing);
    expect(parsed.flags).toEqual([]);
    expect(parsed.deprecated).toBe(DEPRECATED_EVENT_NAMES.has(rawName));
    const read = readTypedPayload(parsed.eventType, parsed.payload);
    expect(read).toMatchObject({ typed: true, issues: [] });
    expect(read.payload).toEqual(payload);
  });
});

describe('docs/social-plus.md §5.11 push-notification webhooks', () => {
  const base = JSON.parse(sampleBody('push-notification.message.created')) as { data: Record<string, unknown> };

  it('the catalog lists exactly these names', () => {
    expect([...KNOWN_PUSH_NOTIFICATION_NAMES].sort()).toEqual([...PUSH_NAMES].sort());
  });

  it.each(PUSH_NAMES.map((n) => [n]))('push-notification.%s has a catalog entry and parses', (name) => {
    const payload = { ...base, data: { ...base.data, eventName: name } };
    const parsed = parseEvent(JSON.stringify(payload));
    expect(parsed.eventType).toBe(`push-notification.${name}`);
    expect(parsed.flags).toEqual([]);
    expect(Object.hasOwn(EVENT_SCHEMAS, parsed.eventType)).toBe(true);
    const read = readTypedPayload(parsed.eventType, parsed.payload);
    expect(read).toMatchObject({ typed: true, issues: [] });
    expect(read.payload).toEqual(payload);
  });
});

describe('the raw v3. names a handler may subscribe to', () => {
  it.each(['v3.post.didFlag', 'v3.comment.didCreate', 'v3.community.didJoin', 'v3.video-streaming.didStart'])(
    '%s has the schema of its routing name',
    (raw) => {
      expect((EVENT_SCHEMAS as unknown as Record<string, unknown>)[raw]).toBe(schemaFor(normaliseEventType(raw)));
    },
  );
});

describe('loose reading', () => {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- a test edits a sample freely
  const flag = (): Record<string, any> => JSON.parse(sampleBody('message.didFlag'));

  it('keeps fields it does not know, at every level', () => {
    const p = flag();
    p.newTopLevel = { a: 1 };
    p.data.newArray = [1, 2];
    p.data.messages[0].newField = 'x';
    const read = readTypedPayload('message.didFlag', p);
    expect(read.issues).toEqual([]);
    expect(read.payload).toEqual(p);
  });

  it('accepts missing optional fields and nulls', () => {
    const read = readTypedPayload('message.didFlag', { event: 'message.didFlag', data: { messages: [{ messageId: 'm1', userId: null }] } });
    expect(read).toMatchObject({ typed: true, issues: [] });
  });

  it('leaves out a value of the wrong type and reports its path, not its value', () => {
    const p = flag();
    p.data.messages[0].userId = 42;
    p.data.messages[0].flagCount = 'three';
    const read = readTypedPayload('message.didFlag', p);
    const message = (read.payload as MessageEvent).data.messages?.[0];
    expect(read.typed).toBe(true);
    expect(message?.userId).toBeUndefined();
    expect(message?.flagCount).toBeUndefined();
    expect(message?.messageId).toBe('6650fb77c0ffee0000000333');
    expect(read.issues).toEqual([
      { path: 'data.messages.0.userId', code: 'invalid_type', expected: 'string' },
      { path: 'data.messages.0.flagCount', code: 'invalid_type', expected: 'number' },
    ]);
    expect(JSON.stringify(read.issues)).not.toContain('three');
    // The input is never changed: the stored and archived body stays exact.
    expect(p.data.messages[0].userId).toBe(42);
  });

  it('removes a list item that is not an object, keeping the others in order', () => {
    const read = readTypedPayload('channel.didJoin', {
      event: 'channel.didJoin',
      data: { users: [{ userId: 'a' }, 'not-a-user', { userId: 'b' }, 7], userIds: ['a', 'b'] },
    });
    expect((read.payload as { data: { users: Array<{ userId: string }> } }).data.users).toEqual([{ userId: 'a' }, { userId: 'b' }]);
    expect(read.issues.map((i) => i.path)).toEqual(['data.users.1', 'data.users.3']);
  });

  it('reads a single object where a list is documented as a one-item list (channel, docs/social-plus.md §10.4)', () => {
    const read = readTypedPayload('channel.didCreate', { event: 'channel.didCreate', data: { channel: { channelId: 'c1', memberCount: 'many' } } });
    expect((read.payload as { data: { channel: unknown[] } }).data.channel).toEqual([{ channelId: 'c1' }]);
    expect(read.issues.map((i) => i.path)).toEqual(['data.channel.0.memberCount']);
  });

  it('reads a missing or malformed data as empty, reporting it', () => {
    for (const data of [undefined, 'text', [1]]) {
      const read = readTypedPayload('user.didFlag', { event: 'user.didFlag', ...(data === undefined ? {} : { data }) });
      expect(read.payload).toEqual({ event: 'user.didFlag', data: {} });
      expect(read.issues.map((i) => i.path)).toEqual(['data']);
    }
  });

  it("reads an uncatalogued name of a known family with the family's schema", () => {
    const read = readTypedPayload('message.didPin', { event: 'message.didPin', data: { messages: [{ messageId: 1 }] } });
    expect(read.typed).toBe(true);
    expect(read.issues.map((i) => i.path)).toEqual(['data.messages.0.messageId']);
  });

  it('leaves a payload of an unknown family untouched and untyped', () => {
    const payload = { event: 'story.didCreate', data: { anything: 1 } };
    expect(readTypedPayload('story.didCreate', payload)).toEqual({ payload, typed: false, issues: [] });
    expect(readTypedPayload('unknown', [1, 2])).toEqual({ payload: [1, 2], typed: false, issues: [] });
  });

  it('reads one payload object once, however many handlers ask', () => {
    const p = flag();
    expect(readTypedPayload('message.didFlag', p)).toBe(readTypedPayload('message.didFlag', p));
  });
});
