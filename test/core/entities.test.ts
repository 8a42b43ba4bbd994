import { describe, expect, it } from 'vitest';
import { extractEntities } from '../../lambda/core/entities.js';

const T1 = '2025-07-02T09:00:00.000Z';
const T2 = '2025-07-02T09:05:00.000Z';

/**
 * Actor, target and occurredAt per family (docs/social-plus.md §6, §7): the primary entity is the first of
 * its array, the time is its `updatedAt` (else `createdAt`), and the actor is the reactor when
 * there is one.
 */
const CASES: Array<[string, string, Record<string, unknown>, Record<string, string>]> = [
  [
    'message: author and message id',
    'message.didCreate',
    {
      data: {
        messages: [
          { messageId: 'm1', userId: 'u1', createdAt: T1, updatedAt: T2 },
          { messageId: 'm2', userId: 'u2' },
        ],
      },
    },
    { actorId: 'u1', targetType: 'message', targetId: 'm1', occurredAt: T2 },
  ],
  [
    'message: v5 creatorId',
    'message.didCreate',
    { data: { messages: [{ messageId: 'm1', creatorId: 'c1', createdAt: T1 }], messageFeeds: [] } },
    { actorId: 'c1', targetType: 'message', targetId: 'm1', occurredAt: T1 },
  ],
  [
    'message: the reactor acts on a reaction',
    'message.didAddReaction',
    { data: { messages: [{ messageId: 'm1', userId: 'author', updatedAt: T1 }], reactor: { userId: 'fan', reactionName: 'like' } } },
    { actorId: 'fan', targetType: 'message', targetId: 'm1', occurredAt: T1 },
  ],
  [
    'message: _id when messageId is absent',
    'message.didDelete',
    { data: { messages: [{ _id: 'oid1', userId: 'u1' }] } },
    { actorId: 'u1', targetType: 'message', targetId: 'oid1' },
  ],
  [
    'channel: actorId and channel[0]',
    'channel.didBan',
    { data: { channel: [{ channelId: 'ch1', updatedAt: T1 }], actorId: 'mod', userIds: ['bad'] } },
    { actorId: 'mod', targetType: 'channel', targetId: 'ch1', occurredAt: T1 },
  ],
  [
    'channel: adderId',
    'channel.didAddUsers',
    { data: { channel: [{ channelId: 'ch1' }], adderId: 'adder' } },
    { actorId: 'adder', targetType: 'channel', targetId: 'ch1' },
  ],
  [
    'channel: removerId',
    'channel.didRemoveUsers',
    { data: { channel: [{ channelId: 'ch1' }], removerId: 'remover' } },
    { actorId: 'remover', targetType: 'channel', targetId: 'ch1' },
  ],
  [
    'channel: userId on join',
    'channel.didJoin',
    { data: { channel: [{ channelId: 'ch1', createdAt: T1 }], userId: 'joiner' } },
    { actorId: 'joiner', targetType: 'channel', targetId: 'ch1', occurredAt: T1 },
  ],
  [
    'channel: an object rather than an array (older samples)',
    'channel.didCreate',
    { data: { channel: { channelId: 'ch1' } } },
    { targetType: 'channel', targetId: 'ch1' },
  ],
  [
    'channel: plural channels key',
    'channel.didUpdate',
    { data: { channels: [{ channelId: 'ch2', updatedAt: T2 }] } },
    { targetType: 'channel', targetId: 'ch2', occurredAt: T2 },
  ],
  [
    'moderation: the banned-words event is about a channel',
    'moderation.didBan',
    { data: { channel: [{ channelId: 'ch1' }], userId: 'u9' } },
    { actorId: 'u9', targetType: 'channel', targetId: 'ch1' },
  ],
  [
    'post: postedUserId',
    'post.didCreate',
    { data: { posts: [{ postId: 'p1', postedUserId: 'u1', updatedAt: T1 }] } },
    { actorId: 'u1', targetType: 'post', targetId: 'p1', occurredAt: T1 },
  ],
  [
    'post: reactor',
    'post.didAddReaction',
    { data: { posts: [{ postId: 'p1', postedUserId: 'u1' }], reactor: { userId: 'fan' } } },
    { actorId: 'fan', targetType: 'post', targetId: 'p1' },
  ],
  [
    'comment: userId',
    'comment.didCreate',
    { data: { comments: [{ commentId: 'c1', userId: 'u1', createdAt: T1 }] } },
    { actorId: 'u1', targetType: 'comment', targetId: 'c1', occurredAt: T1 },
  ],
  [
    'comment: reactor',
    'comment.didAddReaction',
    { data: { comments: [{ commentId: 'c1', userId: 'u1' }], reactor: { userId: 'fan' } } },
    { actorId: 'fan', targetType: 'comment', targetId: 'c1' },
  ],
  [
    'community: communityUsers[0]',
    'community.didJoin',
    { data: { communities: [{ communityId: 'co1', userId: 'owner', updatedAt: T1 }], communityUsers: [{ userId: 'joiner' }] } },
    { actorId: 'joiner', targetType: 'community', targetId: 'co1', occurredAt: T1 },
  ],
  [
    'community: owner when no community user',
    'community.didUpdate',
    { data: { communities: [{ communityId: 'co1', userId: 'owner' }] } },
    { actorId: 'owner', targetType: 'community', targetId: 'co1' },
  ],
  [
    'communityJoinRequest: a community event',
    'communityJoinRequest.didCreate',
    { data: { communities: [{ communityId: 'co1' }], communityUsers: [{ userId: 'asker' }] } },
    { actorId: 'asker', targetType: 'community', targetId: 'co1' },
  ],
  [
    'follow: from → to',
    'follow.didCreate',
    { data: { from: 'a', to: 'b', status: 'accepted', createdAt: T1, updatedAt: T2 } },
    { actorId: 'a', targetType: 'user', targetId: 'b', occurredAt: T2 },
  ],
  [
    'user: users[0] acts on itself',
    'user.didUpdate',
    { data: { users: [{ userId: 'u1', updatedAt: T1 }] } },
    { actorId: 'u1', targetType: 'user', targetId: 'u1', occurredAt: T1 },
  ],
  [
    'user: block is from → to',
    'user.didBlock',
    { data: { from: 'a', to: 'b', updatedAt: T1 } },
    { actorId: 'a', targetType: 'user', targetId: 'b', occurredAt: T1 },
  ],
  [
    'video-streaming: stream',
    'video-streaming.didStart',
    { data: { videoStreamings: [{ streamId: 's1', userId: 'host', updatedAt: T1 }] } },
    { actorId: 'host', targetType: 'stream', targetId: 's1', occurredAt: T1 },
  ],
  [
    'poll: poll',
    'poll.didVote',
    { data: { polls: [{ pollId: 'pl1', userId: 'voter' }] } },
    { actorId: 'voter', targetType: 'poll', targetId: 'pl1' },
  ],
  [
    'file: data is a single file object',
    'file.didDelete',
    { networkId: 'n1', data: { fileId: 'f1', createdAt: T1 } },
    { targetType: 'file', targetId: 'f1', occurredAt: T1 },
  ],
  ['tag: tagId', 'tag.created', { data: { tagId: 't1', updatedAt: T1 } }, { targetType: 'tag', targetId: 't1', occurredAt: T1 }],
  [
    'push-notification: a comment',
    'push-notification.comment.created',
    { eventType: 'push-notification.created', senderId: 's', sentTime: T1, data: { eventName: 'comment.created', comments: [{ commentId: 'c1' }] } },
    { actorId: 's', targetType: 'comment', targetId: 'c1', occurredAt: T1 },
  ],
  [
    'push-notification: a post',
    'push-notification.post.created',
    { eventType: 'push-notification.created', senderId: 's', data: { posts: [{ postId: 'p1' }] } },
    { actorId: 's', targetType: 'post', targetId: 'p1' },
  ],
  [
    'push-notification: a channel',
    'push-notification.channel.joined',
    { eventType: 'push-notification.created', senderId: 's', data: { channels: [{ channelId: 'ch1' }] } },
    { actorId: 's', targetType: 'channel', targetId: 'ch1' },
  ],
  [
    'push-notification: a stream',
    'push-notification.video-streaming.started',
    { eventType: 'push-notification.created', data: { videoStreamings: [{ streamId: 's1' }] } },
    { targetType: 'stream', targetId: 's1' },
  ],
  [
    'push-notification: no entity, sender and time only',
    'push-notification.follow.created',
    { eventType: 'push-notification.created', senderId: 's', sentTime: T1, data: { users: [{ userId: 'x' }] } },
    { actorId: 's', occurredAt: T1 },
  ],
  ['an unknown family: nothing', 'story.didCreate', { data: { stories: [{ storyId: 'st1', userId: 'u1' }] } }, {}],
];

describe('extractEntities', () => {
  it.each(CASES)('%s', (_label, eventType, envelope, expected) => {
    expect(extractEntities(eventType, envelope)).toEqual(expected);
  });

  it.each([
    ['no data', 'message.didCreate', {}],
    ['empty arrays', 'post.didCreate', { data: { posts: [] } }],
    ['null entity', 'comment.didCreate', { data: { comments: [null] } }],
    ['non-string ids', 'message.didCreate', { data: { messages: [{ messageId: 42, userId: { id: 'u' } }] } }],
    ['empty-string ids', 'follow.didCreate', { data: { from: '', to: '' } }],
  ])('%s → nothing, not an error', (_label, eventType, envelope) => {
    expect(extractEntities(eventType, envelope)).toEqual({});
  });

  it('a target needs both its type and its id', () => {
    const e = extractEntities('message.didCreate', { data: { messages: [{ userId: 'u1', createdAt: T1 }] } });
    expect(e).toEqual({ actorId: 'u1', occurredAt: T1 });
    expect('targetType' in e).toBe(false);
  });

  it('occurredAt prefers updatedAt over createdAt', () => {
    expect(extractEntities('post.didUpdate', { data: { posts: [{ postId: 'p', createdAt: T1, updatedAt: T2 }] } }).occurredAt).toBe(T2);
    expect(extractEntities('post.didUpdate', { data: { posts: [{ postId: 'p', createdAt: T1, updatedAt: '' }] } }).occurredAt).toBe(T1);
  });
});
