/**
 * The event names Social Plus documents (shared facts: WEBHOOKS §5), in their normalised form
 * (no `v<digits>.` prefix). An event whose normalised name is not here is kept and archived,
 * flagged `unknown-event-type`, never dropped.
 */
export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([
  // 5.1 chat: channels
  'channel.didCreate', 'channel.didUpdate', 'channel.didUpdateMeta', 'channel.didClose', 'channel.didJoin',
  'channel.didLeave', 'channel.didAddUsers', 'channel.didRemoveUsers', 'channel.didBan',
  // 5.2 / 5.3 chat: messages (v3 and v5 shapes share names)
  'message.didCreate', 'message.didUpdate', 'message.didDelete', 'message.didFlag', 'message.didUnflag',
  'message.didClearflag', 'message.didAddReaction', 'message.didRemoveReaction',
  // 5.4 moderation
  'moderation.didBan',
  // 5.5 posts
  'post.didCreate', 'post.didUpdate', 'post.didDelete', 'post.didApprove', 'post.didDecline', 'post.didFlag',
  'post.didUnflag', 'post.didAddReaction', 'post.didRemoveReaction', 'post.didModerate',
  // 5.6 comments
  'comment.didCreate', 'comment.didUpdate', 'comment.didDelete', 'comment.didReply', 'comment.didFlag',
  'comment.didUnflag', 'comment.didAddReaction', 'comment.didRemoveReaction', 'comment.didModerate',
  // 5.7 communities
  'community.didCreate', 'community.didUpdate', 'community.didDelete', 'community.didJoin', 'community.didLeave',
  'community.didAddUsers', 'community.didRemoveUsers', 'community.didBan', 'community.didUnban',
  'community.didRoleChange',
  'communityJoinRequest.didCreate', 'communityJoinRequest.didAccept', 'communityJoinRequest.didReject',
  'communityMemberInvitation.didCreate', 'communityMemberInvitation.didAccept', 'communityMemberInvitation.didReject',
  // 5.8 polls and follows
  'poll.didCreate', 'poll.didUpdate', 'poll.didVote',
  'follow.didCreate', 'follow.didRequest', 'follow.didAcceptRequest', 'follow.didDeclineRequest',
  'follow.didCancelRequest', 'follow.didUnfollow', 'follow.didDeleteFollower',
  // 5.9 users
  'user.didCreate', 'user.didUpdate', 'user.didFlag', 'user.didUnflag', 'user.didClearFlag', 'user.profileReset',
  'user.didBlock', 'user.didUnblock',
  // 5.10 live video
  'video-streaming.didStart', 'video-streaming.didStop', 'video-streaming.didRecord',
  // 5.12 other
  'tag.created', 'tag.updated', 'tag.deleted', 'file.didDelete',
  // 5.13 names only the rewritten docs list; accepted so they are not flagged if they ever arrive
  'channel.didDelete', 'post.didReact', 'user.didFollow', 'user.didJoinCommunity', 'user.didBan', 'user.didUnban',
  // 5.14 deprecated legacy names (flagged `deprecated` separately)
  'message.created', 'channel.created', 'channel.joined', 'channel.membersAdded',
]);

/** Push-notification webhook names (WEBHOOKS §5.11), carried in `data.eventName`. */
export const KNOWN_PUSH_NOTIFICATION_NAMES: ReadonlySet<string> = new Set([
  'channel.created', 'channel.joined', 'message.created',
  'comment.created', 'comment.reacted', 'comment.replied',
  'post.created', 'post.approved', 'post.reacted', 'post.need-reviewing',
  'follow.created', 'follow.requested', 'follow.accepted',
  'video-streaming.started',
  'mention-post.created', 'mention-comment.created', 'mention-comment.replied',
  'mention-user-feed-post.created', 'mention-user-feed-comment.created', 'mention-user-feed-comment.replied',
]);

/**
 * Raw names on the deprecated legacy list (DESIGN §2): kept, archived and flagged `deprecated`;
 * delivered only to handlers that name them explicitly.
 */
export const DEPRECATED_EVENT_NAMES: ReadonlySet<string> = new Set([
  'message.created', 'channel.created', 'channel.joined', 'channel.membersAdded',
  'v3.video-streaming.didRecord', 'v3.video-streaming.didStart', 'v3.video-streaming.didStop',
]);

/** Prefix of the routing name of push-notification webhooks: `push-notification.<data.eventName>`. */
export const PUSH_NOTIFICATION_PREFIX = 'push-notification';
