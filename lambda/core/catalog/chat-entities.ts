/**
 * The chat entities (docs/social-plus.md §6): messages in their v3 and v5 shapes, message feeds,
 * reactions and channels. Loose, like all the entities (see `./entities.ts`).
 */
import { z } from 'zod';
import { HashFlagSchema, MentioneeSchema } from './common-entities.js';
import { bool, num, opt, record, str, strings } from './fields.js';

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
