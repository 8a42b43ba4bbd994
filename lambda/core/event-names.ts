/**
 * The event names Social Plus documents (shared facts: docs/social-plus.md §5), in their normalised form
 * (no `v<digits>.` prefix), grouped by family. Plain data with no dependency: the receiver imports
 * it (through `envelope.ts`), so the typed schemas live apart, in `catalog/`, which only the
 * fan-out imports.
 */

/** §5.1 chat: channels (`data.channel[]`). `channel.didDelete` is only in the rewritten list (§5.13). */
export const CHANNEL_EVENTS = [
  'channel.didCreate',
  'channel.didUpdate',
  'channel.didUpdateMeta',
  'channel.didClose',
  'channel.didJoin',
  'channel.didLeave',
  'channel.didAddUsers',
  'channel.didRemoveUsers',
  'channel.didBan',
  'channel.didDelete',
] as const;

/** §5.2 / §5.3 chat: messages; the v3 and v5 shapes share these names. */
export const MESSAGE_EVENTS = [
  'message.didCreate',
  'message.didUpdate',
  'message.didDelete',
  'message.didFlag',
  'message.didUnflag',
  'message.didClearflag',
  'message.didAddReaction',
  'message.didRemoveReaction',
] as const;

/** §5.4 keyword blacklist. */
export const MODERATION_EVENTS = ['moderation.didBan'] as const;

/** §5.5 posts (sent as `v3.post.*`). `post.didReact` is only in the rewritten list (§5.13). */
export const POST_EVENTS = [
  'post.didCreate',
  'post.didUpdate',
  'post.didDelete',
  'post.didApprove',
  'post.didDecline',
  'post.didFlag',
  'post.didUnflag',
  'post.didAddReaction',
  'post.didRemoveReaction',
  'post.didModerate',
  'post.didReact',
] as const;

/** §5.6 comments (sent as `v3.comment.*`). */
export const COMMENT_EVENTS = [
  'comment.didCreate',
  'comment.didUpdate',
  'comment.didDelete',
  'comment.didReply',
  'comment.didFlag',
  'comment.didUnflag',
  'comment.didAddReaction',
  'comment.didRemoveReaction',
  'comment.didModerate',
] as const;

/** §5.7 communities (sent as `v3.community.*`), with the newer join-request and invitation names. */
export const COMMUNITY_EVENTS = [
  'community.didCreate',
  'community.didUpdate',
  'community.didDelete',
  'community.didJoin',
  'community.didLeave',
  'community.didAddUsers',
  'community.didRemoveUsers',
  'community.didBan',
  'community.didUnban',
  'community.didRoleChange',
  'communityJoinRequest.didCreate',
  'communityJoinRequest.didAccept',
  'communityJoinRequest.didReject',
  'communityMemberInvitation.didCreate',
  'communityMemberInvitation.didAccept',
  'communityMemberInvitation.didReject',
] as const;

/** §5.8 polls. */
export const POLL_EVENTS = ['poll.didCreate', 'poll.didUpdate', 'poll.didVote'] as const;

/** §5.8 follows (flat `data`). */
export const FOLLOW_EVENTS = [
  'follow.didCreate',
  'follow.didRequest',
  'follow.didAcceptRequest',
  'follow.didDeclineRequest',
  'follow.didCancelRequest',
  'follow.didUnfollow',
  'follow.didDeleteFollower',
] as const;

/**
 * §5.9 users (`data.users[]`). `user.didBan`, `user.didUnban` and `user.didJoinCommunity` are only
 * in the rewritten list (§5.13): accepted, never relied on.
 */
export const USER_EVENTS = [
  'user.didCreate',
  'user.didUpdate',
  'user.didFlag',
  'user.didUnflag',
  'user.didClearFlag',
  'user.profileReset',
  'user.didBan',
  'user.didUnban',
  'user.didJoinCommunity',
] as const;

/** §5.9 user events shaped like follows (`from`, `to`, `status`); `user.didFollow` is §5.13. */
export const USER_RELATION_EVENTS = ['user.didBlock', 'user.didUnblock', 'user.didFollow'] as const;

/** §5.10 live video (also sent, before 2024, as `v3.video-streaming.*`: deprecated). */
export const VIDEO_STREAMING_EVENTS = ['video-streaming.didStart', 'video-streaming.didStop', 'video-streaming.didRecord'] as const;

/** §5.12 tags: `data` is one Tag object. */
export const TAG_EVENTS = ['tag.created', 'tag.updated', 'tag.deleted'] as const;

/** §5.12 files: top-level `networkId`, `data` is one File object. */
export const FILE_EVENTS = ['file.didDelete'] as const;

/** §5.14 deprecated legacy names, in the ordinary envelope (flagged `deprecated` separately). */
export const LEGACY_MESSAGE_EVENTS = ['message.created'] as const;
export const LEGACY_CHANNEL_EVENTS = ['channel.created', 'channel.joined', 'channel.membersAdded'] as const;

/**
 * Every normalised name of the ordinary envelope. An event whose normalised name is not here is
 * kept and archived, flagged `unknown-event-type`, never dropped.
 */
export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set<string>([
  ...CHANNEL_EVENTS,
  ...MESSAGE_EVENTS,
  ...MODERATION_EVENTS,
  ...POST_EVENTS,
  ...COMMENT_EVENTS,
  ...COMMUNITY_EVENTS,
  ...POLL_EVENTS,
  ...FOLLOW_EVENTS,
  ...USER_EVENTS,
  ...USER_RELATION_EVENTS,
  ...VIDEO_STREAMING_EVENTS,
  ...TAG_EVENTS,
  ...FILE_EVENTS,
  ...LEGACY_MESSAGE_EVENTS,
  ...LEGACY_CHANNEL_EVENTS,
]);

/** Push-notification webhook names (docs/social-plus.md §5.11), carried in `data.eventName`. */
export const PUSH_NOTIFICATION_NAMES = [
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
] as const;

/** {@link PUSH_NOTIFICATION_NAMES} as a set. */
export const KNOWN_PUSH_NOTIFICATION_NAMES: ReadonlySet<string> = new Set<string>(PUSH_NOTIFICATION_NAMES);

/**
 * Raw names on the deprecated legacy list (docs/architecture.md §2): kept, archived and flagged `deprecated`;
 * delivered only to handlers that name them explicitly.
 */
export const DEPRECATED_EVENT_NAMES: ReadonlySet<string> = new Set([
  'message.created',
  'channel.created',
  'channel.joined',
  'channel.membersAdded',
  'v3.video-streaming.didRecord',
  'v3.video-streaming.didStart',
  'v3.video-streaming.didStop',
]);

/** Prefix of the routing name of push-notification webhooks: `push-notification.<data.eventName>`. */
export const PUSH_NOTIFICATION_PREFIX = 'push-notification';

/** Families whose raw names carry a `v3.` prefix (docs/social-plus.md §5.5-§5.7, and legacy §5.10). */
export const V3_PREFIXED_FAMILIES = ['post', 'comment', 'community', 'video-streaming'] as const;
