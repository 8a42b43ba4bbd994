/**
 * Contract tests of the typed catalog: every sample payload parses and keeps every field; every
 * event name of docs/social-plus.md §5 has an entry and a payload of its family that parses; the schemas are
 * loose (extra fields pass, missing fields are fine) and a field of the wrong type is left out and
 * reported, never a reason to drop the event.
 */
import { describe, expect, it } from 'vitest';
import { DEPRECATED_EVENT_NAMES, KNOWN_EVENT_TYPES, KNOWN_PUSH_NOTIFICATION_NAMES } from '../../lambda/core/event-names.js';
import { EVENT_SCHEMAS, readTypedPayload, schemaFor, type MessageEvent } from '../../lambda/core/catalog/index.js';
import { normaliseEventType, parseEvent } from '../../lambda/core/envelope.js';
import { SAMPLE_NAMES, sampleBody } from '../support/samples.js';

/** Every event name docs/social-plus.md §5 lists, as written there (raw names with their `v3.` prefixes). */
const WEBHOOKS_SECTION_5 = {
  '5.1 channels': [
    'channel.didCreate',
    'channel.didUpdate',
    'channel.didUpdateMeta',
    'channel.didClose',
    'channel.didJoin',
    'channel.didLeave',
    'channel.didAddUsers',
    'channel.didRemoveUsers',
    'channel.didBan',
  ],
  '5.2 messages (v3)': [
    'message.didCreate',
    'message.didUpdate',
    'message.didDelete',
    'message.didFlag',
    'message.didUnflag',
    'message.didClearflag',
    'message.didAddReaction',
    'message.didRemoveReaction',
  ],
  '5.3 messages (v5; sent without the prefix)': ['message.didCreate', 'message.didUpdate', 'message.didDelete'],
  '5.4 moderation': ['moderation.didBan'],
  '5.5 posts': [
    'v3.post.didCreate',
    'v3.post.didUpdate',
    'v3.post.didDelete',
    'v3.post.didApprove',
    'v3.post.didDecline',
    'v3.post.didFlag',
    'v3.post.didUnflag',
    'v3.post.didAddReaction',
    'v3.post.didRemoveReaction',
    'v3.post.didModerate',
  ],
  '5.6 comments': [
    'v3.comment.didCreate',
    'v3.comment.didUpdate',
    'v3.comment.didDelete',
    'v3.comment.didReply',
    'v3.comment.didFlag',
    'v3.comment.didUnflag',
    'v3.comment.didAddReaction',
    'v3.comment.didRemoveReaction',
    'comment.didModerate',
    'comment.didCreate',
  ],
  '5.7 communities': [
    'v3.community.didCreate',
    'v3.community.didUpdate',
    'v3.community.didDelete',
    'v3.community.didJoin',
    'v3.community.didLeave',
    'v3.community.didAddUsers',
    'v3.community.didRemoveUsers',
    'v3.community.didBan',
    'v3.community.didUnban',
    'v3.community.didRoleChange',
    'communityJoinRequest.didCreate',
    'communityJoinRequest.didAccept',
    'communityJoinRequest.didReject',
    'communityMemberInvitation.didCreate',
    'communityMemberInvitation.didAccept',
    'communityMemberInvitation.didReject',
  ],
  '5.8 polls': ['poll.didCreate', 'poll.didUpdate', 'poll.didVote'],
  '5.8 follows': [
    'follow.didCreate',
    'follow.didRequest',
    'follow.didAcceptRequest',
    'follow.didDeclineRequest',
    'follow.didCancelRequest',
    'follow.didUnfollow',
    'follow.didDeleteFollower',
  ],
  '5.9 users': [
    'user.didCreate',
    'user.didUpdate',
    'user.didFlag',
    'user.didUnflag',
    'user.didClearFlag',
    'user.profileReset',
    'user.didBlock',
    'user.didUnblock',
  ],
  '5.10 live video': [
    'video-streaming.didStart',
    'video-streaming.didStop',
    'video-streaming.didRecord',
    'v3.video-streaming.didStart',
    'v3.video-streaming.didStop',
    'v3.video-streaming.didRecord',
  ],
  '5.12 other': ['tag.created', 'tag.updated', 'tag.deleted', 'file.didDelete'],
  '5.13 rewritten list only': ['channel.didDelete', 'post.didReact', 'user.didFollow', 'user.didJoinCommunity', 'user.didBan', 'user.didUnban'],
  '5.14 deprecated legacy': ['message.created', 'channel.created', 'channel.joined', 'channel.membersAdded'],
} as const;

/** §5.11: names carried in `data.eventName` of push-notification webhooks. */
const PUSH_NAMES = [
  'channel.created',
  'channel.joined',
  'message.created',
  'comment.created',
  'comment.reacted',
  'comment.replied',
  'post.created',
  'post.approved',
  'post.reacted',
  'post.need-reviewing',
  'follow.created',
  'follow.requested',
  'follow.accepted',
  'video-streaming.started',
  'mention-post.created',
  'mention-comment.created',
  'mention-comment.replied',
  'mention-user-feed-post.created',
  'mention-user-feed-comment.created',
  'mention-user-feed-comment.replied',
];

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

describe.each(Object.entries(WEBHOOKS_SECTION_5))('WEBHOOKS %s', (_section, names) => {
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
