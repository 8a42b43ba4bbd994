/**
 * The entities of generated samples (docs/social-plus.md §6), each built from a sample's {@link World}.
 */
import { NETWORK_ID, type Person, type SamplePayload, type World } from './sample-world.js';

export function user(w: World, p: Person, extra: SamplePayload = {}): SamplePayload {
  return {
    _id: p.internalId,
    path: `${NETWORK_ID}/user/${p.internalId}`,
    userId: p.userId,
    userInternalId: p.internalId,
    userPublicId: p.userId,
    roles: [],
    permissions: [],
    displayName: p.displayName,
    flagCount: 0,
    metadata: {},
    isGlobalBan: false,
    isBrand: false,
    isDeleted: false,
    createdAt: p.createdAt,
    updatedAt: w.time(60 * 24),
    ...extra,
  };
}

export function channel(w: World, extra: SamplePayload = {}): SamplePayload {
  return {
    _id: w.channel.internalId,
    path: `${NETWORK_ID}/chat/${w.channel.channelId}`,
    channelId: w.channel.channelId,
    channelInternalId: w.channel.internalId,
    channelPublicId: w.channel.channelId,
    isDistinct: false,
    metadata: {},
    type: 'community',
    tags: [],
    isMuted: false,
    isRateLimited: false,
    rateLimit: 0,
    rateLimitWindow: 1000,
    displayName: w.channel.displayName,
    messageAutoDeleteEnabled: false,
    autoDeleteMessageByFlagLimit: 0,
    memberCount: 42,
    messageCount: 310,
    lastActivity: w.time(),
    isDeleted: false,
    isPublic: true,
    notificationMode: 'default',
    createdAt: '2025-01-15T09:00:00.000Z',
    updatedAt: w.time(),
    ...extra,
  };
}

export function message(w: World, author: Person, extra: SamplePayload = {}): SamplePayload {
  const id = w.objectId();
  const sentAt = w.time(5);
  return {
    _id: id,
    path: `${NETWORK_ID}/chat/${w.channel.channelId}/${id}`,
    messageId: id,
    parentId: null,
    childrenNumber: 0,
    channelId: w.channel.channelId,
    userId: author.userId,
    type: 'text',
    tags: [],
    data: { text: w.text },
    isDeleted: false,
    channelSegment: 100 + w.int(900),
    flagCount: 0,
    hashFlag: null,
    reactions: {},
    reactionsCount: 0,
    mentionees: [],
    createdAt: sentAt,
    updatedAt: w.time(),
    editedAt: sentAt,
    ...extra,
  };
}

export function hashFlag(w: World): SamplePayload {
  const hex = () => w.objectId().slice(-4);
  return { bits: 64, hashes: 3, hash: [hex(), hex(), hex()] };
}

export function reactor(w: World, who: Person, reactionName: string): SamplePayload {
  return {
    reactionName,
    userId: who.userId,
    userPublicIdId: who.userId,
    userInternalId: who.internalId,
    reactionId: w.objectId(),
    createdAt: w.time(),
    updatedAt: w.time(),
  };
}

export function community(w: World, owner: Person, extra: SamplePayload = {}): SamplePayload {
  const c = w.community;
  return {
    _id: c.communityId,
    path: `${NETWORK_ID}/social/community/${c.communityId}`,
    communityId: c.communityId,
    channelId: c.communityId,
    userId: owner.userId,
    userPublicId: owner.userId,
    userInternalId: owner.internalId,
    displayName: c.displayName,
    description: c.description,
    isOfficial: false,
    isPublic: true,
    onlyAdminCanPost: false,
    tags: [],
    metadata: {},
    postsCount: 57,
    membersCount: 311,
    isJoined: true,
    categoryIds: [c.categoryId],
    isDeleted: false,
    hasFlaggedComment: false,
    hasFlaggedPost: false,
    needApprovalOnPostCreation: false,
    moderatorMemberCount: 2,
    allowCommentInStory: true,
    notificationMode: 'default',
    isDiscoverable: true,
    requiresJoinApproval: false,
    type: 'default',
    createdAt: '2024-11-01T00:00:00.000Z',
    updatedAt: w.time(),
    ...extra,
  };
}

export function communityUser(w: World, p: Person, extra: SamplePayload = {}): SamplePayload {
  return {
    userId: p.userId,
    userPublicId: p.userId,
    userInternalId: p.internalId,
    channelId: w.community.communityId,
    communityId: w.community.communityId,
    communityMembership: 'member',
    isBanned: false,
    lastActivity: w.time(),
    roles: [],
    permissions: [],
    createdAt: p.createdAt,
    updatedAt: w.time(),
    ...extra,
  };
}

export function category(w: World): SamplePayload {
  return {
    categoryId: w.community.categoryId,
    name: w.community.category,
    metadata: {},
    isDeleted: false,
    createdAt: '2024-01-01T00:00:00.000Z',
    updatedAt: '2024-01-01T00:00:00.000Z',
  };
}

export function post(w: World, author: Person, extra: SamplePayload = {}): SamplePayload {
  const id = w.objectId();
  const c = w.community.communityId;
  const postedAt = w.time(30);
  return {
    _id: id,
    path: `${NETWORK_ID}/social/community/${c}/post/${id}`,
    postId: id,
    parentPostId: null,
    postedUserId: author.userId,
    postedUserPublicId: author.userId,
    postedUserInternalId: author.internalId,
    sharedCount: 0,
    targetId: c,
    targetPublicId: c,
    targetInternalId: c,
    targetType: 'community',
    dataType: 'text',
    data: { text: w.text },
    metadata: {},
    flagCount: 0,
    hashFlag: null,
    reactions: {},
    reactionsCount: 0,
    commentsCount: 0,
    comments: [],
    children: [],
    isDeleted: false,
    hasFlaggedComment: false,
    hasFlaggedChildren: false,
    feedId: w.objectId(),
    tags: [],
    mentionees: [],
    impression: 0,
    reach: 0,
    createdAt: postedAt,
    updatedAt: w.time(),
    editedAt: postedAt,
    ...extra,
  };
}

export function comment(w: World, author: Person, postId: string, extra: SamplePayload = {}): SamplePayload {
  const id = w.objectId();
  const postedAt = w.time(10);
  return {
    _id: id,
    path: `${NETWORK_ID}/social/post/${postId}/comment/${id}`,
    commentId: id,
    userId: author.userId,
    userPublicId: author.userId,
    userInternalId: author.internalId,
    parentId: null,
    rootId: null,
    referenceId: postId,
    referenceType: 'post',
    dataType: 'text',
    dataTypes: ['text'],
    data: { text: w.text },
    metadata: {},
    childrenNumber: 0,
    flagCount: 0,
    hashFlag: null,
    reactions: {},
    reactionsCount: 0,
    isDeleted: false,
    children: [],
    segmentNumber: 1 + w.int(20),
    mentionees: [],
    attachments: [],
    targetId: w.community.communityId,
    targetType: 'community',
    createdAt: postedAt,
    updatedAt: w.time(),
    editedAt: postedAt,
    ...extra,
  };
}

export function stream(w: World, host: Person, extra: SamplePayload = {}): SamplePayload {
  return {
    streamId: w.objectId(),
    userId: host.userId,
    userPublicId: host.userId,
    userInternalId: host.internalId,
    thumbnailFileId: w.objectId(),
    title: `${w.community.displayName} live`,
    description: w.text,
    status: 'idle',
    isLive: false,
    isDeleted: false,
    platform: 'ios',
    resolution: 'HD',
    metadata: {},
    createdAt: w.time(5),
    updatedAt: w.time(),
    ...extra,
  };
}

export function file(w: World, extra: SamplePayload = {}): SamplePayload {
  const id = w.objectId();
  return {
    fileId: id,
    fileUrl: `https://files.example.invalid/${id}`,
    type: 'image',
    accessType: 'public',
    altText: 'photo',
    attributes: { name: 'photo.jpg', extension: 'jpg', size: 100_000 + w.int(900_000), mimeType: 'image/jpeg', metadata: {} },
    createdAt: w.time(60),
    updatedAt: w.time(),
    ...extra,
  };
}

export function poll(w: World, author: Person, extra: SamplePayload = {}): SamplePayload {
  return {
    pollId: w.objectId(),
    userId: author.userId,
    question: 'Sunday: 10 km or 21 km?',
    answerType: 'single',
    answers: [
      { id: 'a1', dataType: 'text', data: { text: '10 km' }, voteCount: 0, isVotedByUser: false },
      { id: 'a2', dataType: 'text', data: { text: '21 km' }, voteCount: 0, isVotedByUser: false },
    ],
    status: 'open',
    closedIn: 86_400_000,
    isVoted: false,
    isDeleted: false,
    createdAt: w.time(),
    updatedAt: w.time(),
    ...extra,
  };
}
