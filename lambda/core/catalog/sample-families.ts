/**
 * The `data` of a generated sample per event family; `action` is the routing name's last part
 * (`didApprove`). Push notifications have their own shape ({@link pushNotification}).
 */
import { PUSH_NOTIFICATION_PREFIX } from '../event-names.js';
import {
  category,
  channel,
  comment,
  community,
  communityUser,
  file,
  hashFlag,
  message,
  poll,
  post,
  reactor,
  stream,
  user,
} from './sample-entities.js';
import { NETWORK_ID, TAGS, type SamplePayload, type World } from './sample-world.js';

export type FamilyBuilder = (action: string, w: World, family: string) => SamplePayload;

export const FAMILIES: Readonly<Record<string, FamilyBuilder>> = {
  channel: channelData,
  message: messageData,
  moderation: (_action, w) => ({ channel: [channel(w)], users: [user(w, w.actor)], userId: w.actor.userId }),
  post: postData,
  comment: commentData,
  community: communityData,
  communityJoinRequest: communityData,
  communityMemberInvitation: communityData,
  poll: pollData,
  follow: followData,
  user: userData,
  'video-streaming': streamData,
  tag: (action, w) => {
    const id = w.objectId();
    return { _id: id, tagId: id, name: w.pick(TAGS), createdAt: action === 'created' ? w.time() : w.time(60 * 24), updatedAt: w.time() };
  },
  file: (_action, w) => file(w),
};

function channelData(action: string, w: World): SamplePayload {
  const { actor, other, third } = w;
  switch (action) {
    case 'didCreate':
      return {
        channel: [channel(w, { memberCount: 2, messageCount: 0, createdAt: w.time(), lastActivity: w.time() })],
        userIds: [actor.userId, other.userId],
        users: [user(w, actor, { roles: ['channel-moderator'] }), user(w, other)],
      };
    case 'didUpdate':
    case 'didUpdateMeta':
      return {
        channel: [
          channel(w, action === 'didUpdateMeta' ? { metadata: { topic: 'weekend plans' } } : { displayName: `${w.channel.displayName} (new)` }),
        ],
        userId: actor.userId,
        users: [user(w, actor)],
      };
    case 'didClose':
      return { channel: [channel(w, { type: 'conversation', isPublic: false, memberCount: 2 })], userId: actor.userId, users: [user(w, actor)] };
    case 'didJoin':
    case 'didLeave':
      return { channel: [channel(w)], userIds: [actor.userId], users: [user(w, actor)] };
    case 'didAddUsers':
      return { channel: [channel(w)], adderId: actor.userId, userIds: [other.userId, third.userId], users: [user(w, other), user(w, third)] };
    case 'didRemoveUsers':
      return { channel: [channel(w)], removerId: actor.userId, userIds: [other.userId], users: [user(w, other)] };
    case 'didBan':
      return { channel: [channel(w)], actorId: actor.userId, userIds: [other.userId], users: [user(w, other, { flagCount: 4 })] };
    case 'didDelete':
      return { channel: [channel(w, { isDeleted: true })], userId: actor.userId, users: [user(w, actor)] };
    default:
      return { channel: [channel(w)], users: [user(w, actor)] };
  }
}

function messageData(action: string, w: World): SamplePayload {
  const { actor, other } = w;
  const plain = (extra: SamplePayload = {}) => ({ messages: [message(w, actor, extra)], users: [user(w, actor)], files: [] });
  switch (action) {
    case 'didUpdate':
      return plain({ data: { text: `${w.text} (edited)` }, editedAt: w.time() });
    case 'didDelete':
      return plain({ isDeleted: true });
    case 'didFlag':
      return plain({ flagCount: 1 + w.int(3), hashFlag: hashFlag(w) });
    case 'didUnflag':
    case 'didClearflag':
      return plain({ flagCount: 0, hashFlag: null });
    case 'didAddReaction':
    case 'didRemoveReaction': {
      const added = action === 'didAddReaction';
      return {
        messages: [message(w, actor, { reactions: added ? { like: 1 } : {}, reactionsCount: added ? 1 : 0 })],
        users: [user(w, other)],
        files: [],
        reactor: reactor(w, other, 'like'),
      };
    }
    default:
      return plain();
  }
}

/** The edit, deletion or flag a post or a comment shows for its action; undefined for other actions. */
function contentChange(action: string, w: World): SamplePayload | undefined {
  switch (action) {
    case 'didUpdate':
      return { data: { text: `${w.text} (edited)` }, editedAt: w.time() };
    case 'didDelete':
      return { isDeleted: true };
    case 'didFlag':
    case 'didModerate':
      return { flagCount: 1 + w.int(3), hashFlag: hashFlag(w) };
    default:
      return undefined;
  }
}

/** What a liked post or comment shows (a fresh object each time: a sample is the caller's to change). */
const liked = (): SamplePayload => ({ reactions: { like: 1 }, reactionsCount: 1 });

/** What a post's or a comment's data adds for a flag (whose content) and a reaction (who reacted). */
function withFlagAndReactor(data: SamplePayload, action: string, reacted: boolean, w: World): SamplePayload {
  const { actor, other } = w;
  if (action === 'didFlag' || action === 'didUnflag') data.flaggedUserId = other.userId;
  if (reacted || action === 'didRemoveReaction') {
    data.reactor = reactor(w, other, 'like');
    data.users = [user(w, actor), user(w, other)];
  }
  return data;
}

function postData(action: string, w: World): SamplePayload {
  const { actor } = w;
  const reacted = action === 'didAddReaction' || action === 'didReact';
  const extra = contentChange(action, w) ?? (action === 'didDecline' ? { isDeleted: true } : reacted ? liked() : {});
  return withFlagAndReactor(
    {
      posts: [post(w, actor, extra)],
      postChildren: [],
      comments: [],
      communities: [community(w, w.third, action === 'didApprove' || action === 'didDecline' ? { needApprovalOnPostCreation: true } : {})],
      communityUsers: [communityUser(w, actor)],
      users: [user(w, actor)],
      files: [],
      categories: [category(w)],
      feeds: [],
      videoStreamings: [],
    },
    action,
    reacted,
    w,
  );
}

function commentData(action: string, w: World): SamplePayload {
  const { actor } = w;
  const postId = w.objectId();
  const reacted = action === 'didAddReaction';
  let extra = contentChange(action, w) ?? (reacted ? liked() : {});
  if (action === 'didReply') {
    const parentId = w.objectId();
    extra = { parentId, rootId: parentId };
  }
  return withFlagAndReactor(
    {
      comments: [comment(w, actor, postId, extra)],
      commentChildren: [],
      communityUsers: [communityUser(w, actor)],
      users: [user(w, actor)],
      files: [],
    },
    action,
    reacted,
    w,
  );
}

/** `community.*`, `communityJoinRequest.*`, `communityMemberInvitation.*`: `communityUsers[0]` is who the event is about. */
function communityData(action: string, w: World, family: string): SamplePayload {
  const { actor, third } = w;
  const membership = (extra: SamplePayload) => communityUser(w, actor, extra);
  let member: SamplePayload = membership({});
  let communityExtra: SamplePayload = {};
  if (family === 'communityJoinRequest') {
    communityExtra = { requiresJoinApproval: true, isPublic: false, isJoined: false };
    member = membership({ communityMembership: action === 'didAccept' ? 'member' : 'none' });
  } else if (family === 'communityMemberInvitation') {
    member = membership({ communityMembership: action === 'didAccept' ? 'member' : 'none' });
  } else {
    switch (action) {
      case 'didCreate':
        communityExtra = { membersCount: 1, postsCount: 0, moderatorMemberCount: 1, createdAt: w.time() };
        member = membership({ roles: ['community-moderator'] });
        break;
      case 'didDelete':
        communityExtra = { isDeleted: true };
        break;
      case 'didLeave':
      case 'didRemoveUsers':
        member = membership({ communityMembership: 'none' });
        break;
      case 'didBan':
        member = membership({ communityMembership: 'banned', isBanned: true });
        break;
      case 'didRoleChange':
        member = membership({ roles: ['community-moderator'] });
        break;
      default:
        break;
    }
  }
  const owner = family === 'community' && action === 'didCreate' ? actor : third;
  return {
    communities: [community(w, owner, communityExtra)],
    communityUsers: [member],
    files: [],
    users: [user(w, actor)],
    categories: [category(w)],
    feeds: [],
  };
}

function pollData(action: string, w: World): SamplePayload {
  const extra: SamplePayload =
    action === 'didUpdate'
      ? { status: 'closed', closedAt: w.time(), createdAt: w.time(60) }
      : action === 'didVote'
        ? {
            answers: [
              { id: 'a1', dataType: 'text', data: { text: '10 km' }, voteCount: 12, isVotedByUser: false },
              { id: 'a2', dataType: 'text', data: { text: '21 km' }, voteCount: 7, isVotedByUser: false },
            ],
            createdAt: w.time(60),
          }
        : {};
  return { polls: [poll(w, w.actor, extra)], users: [user(w, w.actor)] };
}

/** Follow statuses (§5.8): accepted, pending, or none once a request or follow is gone. */
const FOLLOW_STATUS: Readonly<Record<string, string>> = {
  didCreate: 'accepted',
  didAcceptRequest: 'accepted',
  didRequest: 'pending',
  didFollow: 'accepted',
  didBlock: 'blocked',
};

function followData(action: string, w: World): SamplePayload {
  return {
    from: w.actor.userId,
    to: w.other.userId,
    status: FOLLOW_STATUS[action] ?? 'none',
    createdAt: w.time(action === 'didCreate' || action === 'didRequest' ? 0 : 60 * 24),
    updatedAt: w.time(),
  };
}

function userData(action: string, w: World): SamplePayload {
  // §5.9 user events shaped like follows.
  if (action === 'didBlock' || action === 'didUnblock' || action === 'didFollow') return followData(action, w);
  const { actor, other } = w;
  let extra: SamplePayload;
  switch (action) {
    case 'didCreate':
      extra = { createdAt: w.time(), updatedAt: w.time() };
      break;
    case 'didUpdate':
      extra = { description: 'Runner, baker, night owl', updatedAt: w.time() };
      break;
    case 'didFlag':
      extra = {
        flagCount: 1 + w.int(3),
        flags: [{ reportType: 'user', reason: 'spam', comment: 'posts links everywhere', userId: other.userId }],
        updatedAt: w.time(),
      };
      break;
    case 'didUnflag':
    case 'didClearFlag':
      extra = { flagCount: 0, flags: [], updatedAt: w.time() };
      break;
    case 'profileReset':
      extra = { displayName: actor.userId, description: '', avatarFileId: null, metadata: {}, updatedAt: w.time() };
      break;
    case 'didBan':
      extra = { isGlobalBan: true, flagCount: 4, updatedAt: w.time() };
      break;
    default:
      extra = { updatedAt: w.time() };
      break;
  }
  return { users: [user(w, actor, extra)], files: [] };
}

function streamData(action: string, w: World): SamplePayload {
  const extra: SamplePayload =
    action === 'didStart'
      ? { status: 'live', isLive: true, startedAt: w.time() }
      : action === 'didStop'
        ? { status: 'ended', isLive: false, startedAt: w.time(45), endedAt: w.time() }
        : action === 'didRecord'
          ? {
              status: 'recorded',
              isLive: false,
              startedAt: w.time(60),
              endedAt: w.time(15),
              recordings: [{ mp4: `https://files.example.invalid/${w.objectId()}.mp4` }],
            }
          : {};
  return { videoStreamings: [stream(w, w.actor, extra)], users: [user(w, w.actor)], files: [] };
}

/** §5.11: `data.eventName` carries the trigger; the entity it is about sits under `data`, the recipients in `targetIds`. */
export function pushNotification(eventName: string, w: World): SamplePayload {
  const { actor, other } = w;
  const [subject = ''] = eventName.split('.');
  const data: SamplePayload = { eventName, isBroadcast: false, targetIds: [other.userId], notify: true, title: actor.displayName, body: w.text };
  let path = `${NETWORK_ID}/user/${actor.internalId}`;
  const mention = subject.startsWith('mention-');
  const mentionees = mention ? [{ type: 'user', userIds: [other.userId] }] : [];
  const onUserFeed = subject.startsWith('mention-user-feed-');
  const postOf = (extra: SamplePayload = {}) =>
    post(w, actor, {
      mentionees,
      ...(onUserFeed ? { targetType: 'user', targetId: actor.userId, targetPublicId: actor.userId, targetInternalId: actor.internalId } : {}),
      ...extra,
    });
  if (subject === 'channel') {
    data.channels = [channel(w)];
    path = `${NETWORK_ID}/chat/${w.channel.channelId}`;
    data.body =
      eventName === 'channel.joined'
        ? `${actor.displayName} joined ${w.channel.displayName}`
        : `${actor.displayName} added you to ${w.channel.displayName}`;
  } else if (subject === 'message') {
    const m = message(w, actor);
    data.messages = [m];
    path = m.path as string;
  } else if (subject === 'post' || subject === 'mention-post' || subject === 'mention-user-feed-post') {
    const p = postOf();
    if (onUserFeed) p.path = `${NETWORK_ID}/social/user/${actor.internalId}/post/${p.postId as string}`;
    data.posts = [p];
    if (!onUserFeed) data.communities = [community(w, w.third)];
    path = p.path as string;
    if (eventName === 'post.need-reviewing') data.targetIds = [w.third.userId];
  } else if (subject === 'comment' || subject === 'mention-comment' || subject === 'mention-user-feed-comment') {
    const p = postOf({ postedUserId: other.userId, postedUserPublicId: other.userId, postedUserInternalId: other.internalId });
    if (onUserFeed) p.path = `${NETWORK_ID}/social/user/${actor.internalId}/post/${p.postId as string}`;
    const parentId = eventName.endsWith('.replied') ? w.objectId() : null;
    const c = comment(w, actor, p.postId as string, { mentionees, parentId, rootId: parentId });
    data.comments = [c];
    data.posts = [p];
    path = c.path as string;
  } else if (subject === 'video-streaming') {
    const s = stream(w, actor, { status: 'live', isLive: true, startedAt: w.time() });
    data.videoStreamings = [s];
    data.body = `${actor.displayName} is live: ${s.title as string}`;
  } else if (subject === 'follow') {
    data.body =
      eventName === 'follow.requested'
        ? `${actor.displayName} asked to follow you`
        : eventName === 'follow.accepted'
          ? `${actor.displayName} accepted your request`
          : `${actor.displayName} followed you`;
  }
  data.users = [user(w, actor)];
  return {
    eventType: `${PUSH_NOTIFICATION_PREFIX}.created`,
    id: w.objectId(),
    networkId: NETWORK_ID,
    path,
    senderId: actor.userId,
    sentTime: w.time(),
    version: '1',
    data,
  };
}
