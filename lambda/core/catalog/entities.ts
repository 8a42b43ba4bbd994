/**
 * Schemas of the entities inside webhook payloads (shared facts: docs/social-plus.md §6), deliberately loose:
 * every object keeps fields it does not name (`looseObject`), and every field is optional and may
 * be null, because the published schemas and the payloads Social Plus sends do not always agree.
 * A field is typed only so a handler reads it without a cast; its absence is never an error.
 */
import { z } from 'zod';

/** An optional, nullable field: missing, null or of the given type. */
export const opt = <T extends z.ZodType>(schema: T) => schema.nullish();

const str = opt(z.string());
const num = opt(z.number());
const bool = opt(z.boolean());
const strings = opt(z.array(z.string()));
/** Free-form JSON object (`metadata`, `data` of custom types). */
const record = opt(z.record(z.string(), z.unknown()));

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * An array of entities. A single object where an array is documented is read as a one-item array:
 * an older documented sample sends `channel` as an object (docs/social-plus.md §10.4).
 */
export const entities = <T extends z.ZodType>(item: T) =>
  opt(z.preprocess((value) => (isPlainObject(value) ? [value] : value), z.array(item)));

/** `hashFlag` (the spec's spelling; an older sample wrote `hashflag`, which passes through untyped). */
export const HashFlagSchema = z.looseObject({ bits: num, hashes: num, hash: strings });

/** `mentionees[]` of messages, posts and comments. */
export const MentioneeSchema = z.looseObject({
  type: str,
  userIds: strings,
  userPublicIds: strings,
  userInternalIds: strings,
});

/** File (§6 File). */
export const FileSchema = z.looseObject({
  fileId: str,
  fileUrl: str,
  type: str,
  accessType: str,
  altText: str,
  attributes: opt(z.looseObject({
    name: str,
    extension: str,
    size: num,
    mimeType: str,
    metadata: record,
  })),
  createdAt: str,
  updatedAt: str,
});

/** Chat user (§6 User) merged with the social UserV3: one loose shape for both. */
export const UserSchema = z.looseObject({
  _id: str,
  path: str,
  /** The app-chosen public id. */
  userId: str,
  userInternalId: str,
  userPublicId: str,
  roles: strings,
  permissions: strings,
  displayName: str,
  description: str,
  avatarFileId: str,
  avatarCustomUrl: str,
  flagCount: num,
  hashFlag: opt(HashFlagSchema),
  metadata: record,
  isGlobalBan: bool,
  isBrand: bool,
  isDeleted: bool,
  /** Newer spec (S6) on `user.didFlag`: one entry per report. */
  flags: opt(z.array(z.looseObject({ reportType: str, reason: str, comment: str, userId: str }))),
  createdAt: str,
  updatedAt: str,
});

/**
 * A chat message: the v3 fields (§6 Message: `userId`, `type`, `channelSegment`, `reactions` as a
 * name → count map) and the v5 fields (§6 MessageV5: `creatorId`, `dataType`, `messageFeedId`,
 * `segment`) in one loose shape, since the two share event names (§4) and the spec swaps the item
 * types of v5 payloads (§5.3). The text of a text message is `data.text` in both.
 */
export const MessageSchema = z.looseObject({
  _id: str,
  path: str,
  messageId: str,
  networkId: str,
  parentId: str,
  childrenNumber: num,
  childCount: num,
  channelId: str,
  channelType: str,
  messageFeedId: str,
  /** v3: the sender. */
  userId: str,
  /** v5: the sender. */
  creatorId: str,
  /** v3: text, image, video, json, … */
  type: str,
  /** v5: text, image, file, video, custom, … */
  dataType: str,
  data: opt(z.looseObject({ text: str })),
  fileId: str,
  thumbnailFileId: str,
  metadata: record,
  tags: strings,
  isDeleted: bool,
  channelSegment: num,
  segment: num,
  flagCount: num,
  hashFlag: opt(HashFlagSchema),
  reactions: opt(z.record(z.string(), z.number())),
  reactionsCount: num,
  reactionCount: num,
  myReactions: strings,
  mentionees: opt(z.array(MentioneeSchema)),
  mentionedUsers: opt(z.array(z.unknown())),
  editedAt: str,
  createdAt: str,
  updatedAt: str,
});

/** A message feed, a sub-channel (§6 MessageFeed), in v5 payloads. */
export const MessageFeedSchema = z.looseObject({
  messageFeedId: str,
  channelId: str,
  channelPublicId: str,
  channelType: str,
  name: str,
  lastMessageId: str,
  lastMessageTimestamp: str,
  messagePreviewId: str,
  creatorId: str,
  path: str,
  childCount: num,
  isDeleted: bool,
  editedAt: str,
  createdAt: str,
  updatedAt: str,
});

/** A reaction record, in v5 payloads' `reactions[]`. Its fields are not specified. */
export const ReactionSchema = z.looseObject({ reactionName: str, userId: str, referenceId: str, referenceType: str });

/** Channel (§6 Channel); `type` is community, live, broadcast, conversation (or the deprecated standard, private). */
export const ChannelSchema = z.looseObject({
  _id: str,
  path: str,
  channelId: str,
  channelInternalId: str,
  channelPublicId: str,
  isDistinct: bool,
  metadata: record,
  type: str,
  tags: strings,
  isMuted: bool,
  isRateLimited: bool,
  muteTimeout: str,
  rateLimit: num,
  rateLimitWindow: num,
  rateLimitTimeout: str,
  displayName: str,
  messageAutoDeleteEnabled: bool,
  autoDeleteMessageByFlagLimit: num,
  memberCount: num,
  messageCount: num,
  lastActivity: str,
  isDeleted: bool,
  isPublic: bool,
  notificationMode: str,
  createdAt: str,
  updatedAt: str,
});

/** `data.reactor` of reaction events (§6 Reactor; `userPublicIdId` is the spec's own spelling). */
export const ReactorSchema = z.looseObject({
  reactionName: str,
  userId: str,
  userPublicIdId: str,
  userInternalId: str,
  reactionId: str,
  createdAt: str,
  updatedAt: str,
});

/** Post (§6 Post); `targetType` is user, community or content. */
export const PostSchema = z.looseObject({
  _id: str,
  path: str,
  postId: str,
  parentPostId: str,
  postedUserId: str,
  postedUserPublicId: str,
  postedUserInternalId: str,
  sharedUserId: str,
  sharedCount: num,
  targetId: str,
  targetPublicId: str,
  targetInternalId: str,
  targetType: str,
  dataType: str,
  data: opt(z.looseObject({
    text: str,
    title: str,
    fileId: str,
    thumbnailFileId: str,
    videoFileId: opt(z.looseObject({ original: str, low: str, medium: str, high: str })),
    streamId: str,
  })),
  metadata: record,
  flagCount: num,
  hashFlag: opt(HashFlagSchema),
  reactions: opt(z.record(z.string(), z.number())),
  reactionsCount: num,
  myReactions: strings,
  commentsCount: num,
  comments: strings,
  children: strings,
  isDeleted: bool,
  hasFlaggedComment: bool,
  hasFlaggedChildren: bool,
  feedId: str,
  tags: strings,
  mentionees: opt(z.array(MentioneeSchema)),
  impression: num,
  reach: num,
  editedAt: str,
  createdAt: str,
  updatedAt: str,
});

/** Comment (§6 Comment); `referenceType` is post, content or story; `targetType` community, user or content. */
export const CommentSchema = z.looseObject({
  _id: str,
  path: str,
  commentId: str,
  userId: str,
  userPublicId: str,
  userInternalId: str,
  parentId: str,
  rootId: str,
  referenceId: str,
  referenceType: str,
  dataType: str,
  dataTypes: strings,
  data: opt(z.looseObject({ text: str })),
  metadata: record,
  childrenNumber: num,
  flagCount: num,
  hashFlag: opt(HashFlagSchema),
  reactions: opt(z.record(z.string(), z.number())),
  reactionsCount: num,
  myReactions: strings,
  isDeleted: bool,
  children: strings,
  segmentNumber: num,
  mentionees: opt(z.array(MentioneeSchema)),
  attachments: opt(z.array(z.looseObject({ type: str, fileId: str }))),
  targetId: str,
  targetType: str,
  editedAt: str,
  createdAt: str,
  updatedAt: str,
});

/** Community (§6 Community). */
export const CommunitySchema = z.looseObject({
  _id: str,
  path: str,
  communityId: str,
  channelId: str,
  userId: str,
  userPublicId: str,
  userInternalId: str,
  displayName: str,
  avatarFileId: str,
  description: str,
  isOfficial: bool,
  isPublic: bool,
  onlyAdminCanPost: bool,
  tags: strings,
  metadata: record,
  postsCount: num,
  membersCount: num,
  isJoined: bool,
  categoryIds: strings,
  isDeleted: bool,
  hasFlaggedComment: bool,
  hasFlaggedPost: bool,
  needApprovalOnPostCreation: bool,
  moderatorMemberCount: num,
  allowCommentInStory: bool,
  notificationMode: str,
  isDiscoverable: bool,
  requiresJoinApproval: bool,
  type: str,
  createdAt: str,
  updatedAt: str,
});

/** A member of a community (§6 CommunityUser). */
export const CommunityUserSchema = z.looseObject({
  userId: str,
  userPublicId: str,
  userInternalId: str,
  channelId: str,
  communityId: str,
  communityMembership: str,
  isBanned: bool,
  lastActivity: str,
  roles: strings,
  permissions: strings,
  createdAt: str,
  updatedAt: str,
});

/** Community category (S5 CommunityCategory). */
export const CategorySchema = z.looseObject({
  categoryId: str,
  name: str,
  metadata: record,
  avatarFileId: str,
  isDeleted: bool,
  createdAt: str,
  updatedAt: str,
});

/** A feed of posts; its fields are not specified in the sources read. */
export const FeedSchema = z.looseObject({ feedId: str, targetId: str, targetType: str, feedType: str, postCount: num });

/** Live stream (§6 VideoStreaming). */
export const VideoStreamingSchema = z.looseObject({
  streamId: str,
  userId: str,
  userPublicId: str,
  userInternalId: str,
  thumbnailFileId: str,
  title: str,
  description: str,
  status: str,
  isLive: bool,
  isDeleted: bool,
  platform: str,
  moderationId: str,
  resolution: str,
  metadata: record,
  streamerUrl: opt(z.unknown()),
  watcherUrl: opt(z.unknown()),
  recordings: opt(z.unknown()),
  startedAt: str,
  endedAt: str,
  createdAt: str,
  updatedAt: str,
});

/** Poll; not detailed in docs/social-plus.md §6: the fields the SDKs show, all optional. */
export const PollSchema = z.looseObject({
  pollId: str,
  userId: str,
  question: str,
  answerType: str,
  answers: opt(z.array(z.looseObject({ id: str, dataType: str, data: opt(z.unknown()), voteCount: num, isVotedByUser: bool }))),
  status: str,
  closedAt: str,
  closedIn: num,
  isVoted: bool,
  isDeleted: bool,
  createdAt: str,
  updatedAt: str,
});

/** Tag (§5.12): its fields are not given in the sources read. */
export const TagSchema = z.looseObject({ _id: str, tagId: str, name: str, createdAt: str, updatedAt: str });

export type HashFlag = z.output<typeof HashFlagSchema>;
export type Mentionee = z.output<typeof MentioneeSchema>;
export type SocialPlusFile = z.output<typeof FileSchema>;
export type User = z.output<typeof UserSchema>;
export type Message = z.output<typeof MessageSchema>;
export type MessageFeed = z.output<typeof MessageFeedSchema>;
export type Reaction = z.output<typeof ReactionSchema>;
export type Channel = z.output<typeof ChannelSchema>;
export type Reactor = z.output<typeof ReactorSchema>;
export type Post = z.output<typeof PostSchema>;
export type Comment = z.output<typeof CommentSchema>;
export type Community = z.output<typeof CommunitySchema>;
export type CommunityUser = z.output<typeof CommunityUserSchema>;
export type Category = z.output<typeof CategorySchema>;
export type Feed = z.output<typeof FeedSchema>;
export type VideoStreaming = z.output<typeof VideoStreamingSchema>;
export type Poll = z.output<typeof PollSchema>;
export type Tag = z.output<typeof TagSchema>;
