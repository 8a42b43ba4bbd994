/**
 * The social entities (docs/social-plus.md §6): posts, comments, communities and their members,
 * categories, feeds, live streams, polls and tags. Loose, like all the entities (see `./entities.ts`).
 */
import { z } from 'zod';
import { HashFlagSchema, MentioneeSchema } from './common-entities.js';
import { bool, num, opt, record, str, strings } from './fields.js';

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
  data: opt(
    z.looseObject({
      text: str,
      title: str,
      fileId: str,
      thumbnailFileId: str,
      videoFileId: opt(z.looseObject({ original: str, low: str, medium: str, high: str })),
      streamId: str,
    }),
  ),
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
