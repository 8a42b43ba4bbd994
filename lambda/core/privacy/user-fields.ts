/**
 * Which fields of an event identify a user, per event family of the catalog (`FAMILY_SCHEMAS` in
 * `../catalog/events.ts`; the entities and their fields: docs/social-plus.md §4–§7). Erasure
 * (docs/privacy.md) removes every event in which the user's id is the value of one of these
 * fields. Paths are in the syntax of `./field-path.ts`, from the root of the parsed body.
 *
 * The lists are built from one list per entity, as the catalog's schemas are: a family lists every
 * entity array its schema has, and each entity brings all of its user fields (the app's `userId`
 * and the platform's public and internal variants), since a request may name the user by any of
 * them. Free-form fields (`metadata`, a message's `data`) name no field a user id is known to be in.
 */

/** One field that identifies a user, and why. */
export interface UserField {
  /** Where, in the syntax of `./field-path.ts`. */
  readonly path: string;
  /** What the field holds, in one line. */
  readonly reason: string;
}

/** A user field of an entity, relative to it; `where` keeps only entities with that field value. */
interface EntityField {
  readonly field: string;
  readonly reason: string;
  readonly where?: string;
}

const f = (field: string, reason: string, where?: string): EntityField => (where === undefined ? { field, reason } : { field, reason, where });

/**
 * The three fields that name one user: the app's id (`<stem>Id<plural>`) and the platform's public
 * and internal ones (`<stem>PublicId<plural>`, `<stem>InternalId<plural>`); `who` says whose they are.
 */
const userIds = (stem: string, who: string, plural = ''): EntityField[] => [
  f(`${stem}Id${plural}`, who),
  f(`${stem}PublicId${plural}`, `${who}'s public id`),
  f(`${stem}InternalId${plural}`, `${who}'s internal id`),
];

/** User (chat) and UserV3 (social): one loose shape (`UserSchema`). */
const USER: readonly EntityField[] = [
  f('userId', 'the user (the id the app chose)'),
  f('userPublicId', "the user's public id"),
  f('userInternalId', "the user's internal (platform) id"),
  f('_id', "the user's internal (platform) id, as the object's own id"),
  f('flags[].userId', 'who reported the user (`user.didFlag`, newer spec)'),
];

/** `mentionees[]` of messages, posts and comments (`MentioneeSchema`). */
const MENTIONEES: readonly EntityField[] = userIds('mentionees[].user', 'a mentioned user', 's[]');

/** Message, v3 and v5 in one shape (`MessageSchema`). */
const MESSAGE: readonly EntityField[] = [
  f('userId', 'the sender (v3 message)'),
  f('creatorId', 'the sender (v5 message)'),
  ...MENTIONEES,
  f('mentionedUsers[].userIds[]', 'a mentioned user (v5 message; assumed to be shaped like `mentionees[]`)'),
];

/** Post (`PostSchema`); `targetType` user means the post is on that user's feed. */
const POST: readonly EntityField[] = [
  ...userIds('postedUser', 'the author'),
  f('sharedUserId', 'the user who shared the post'),
  f('targetId', 'the user whose feed the post is on', 'targetType=user'),
  f('targetPublicId', 'the public id of the user whose feed the post is on', 'targetType=user'),
  f('targetInternalId', 'the internal id of the user whose feed the post is on', 'targetType=user'),
  ...MENTIONEES,
];

/** Comment (`CommentSchema`). */
const COMMENT: readonly EntityField[] = [
  ...userIds('user', 'the author'),
  f('targetId', 'the user on whose feed the commented post is', 'targetType=user'),
  ...MENTIONEES,
];

/** Community (`CommunitySchema`). */
const COMMUNITY: readonly EntityField[] = userIds('user', 'the creator');

/** A member of a community (`CommunityUserSchema`). */
const COMMUNITY_USER: readonly EntityField[] = userIds('user', 'the member');

/** A feed (`FeedSchema`). */
const FEED: readonly EntityField[] = [f('targetId', 'the user whose feed it is', 'targetType=user')];

/** A live stream (`VideoStreamingSchema`). */
const STREAM: readonly EntityField[] = userIds('user', 'the streamer');

/** Poll (`PollSchema`). */
const POLL: readonly EntityField[] = [f('userId', 'the creator')];

/** `data.reactor` of reaction events (`ReactorSchema`). */
const REACTOR: readonly EntityField[] = [
  f('userId', 'who reacted'),
  f('userPublicIdId', "who reacted: public id (the spec's own spelling)"),
  f('userInternalId', 'who reacted: internal id'),
];

/**
 * The fields of the entities at `at`: a list (each item, `at[]`) unless `single`; a field with
 * `where` keeps the matching items (`at[targetType=user].targetId`).
 */
function within(at: string, fields: readonly EntityField[], single = false): UserField[] {
  return fields.map(({ field, reason, where }) => {
    const holder = where !== undefined ? `${at}[${where}]` : single ? at : `${at}[]`;
    return { path: `${holder}.${field}`, reason };
  });
}

const one = (path: string, reason: string): UserField => ({ path, reason });

const COMMUNITY_FAMILY: readonly UserField[] = [
  ...within('data.communities', COMMUNITY),
  ...within('data.communityUsers', COMMUNITY_USER),
  ...within('data.users', USER),
  ...within('data.feeds', FEED),
];

/**
 * Event family (the routing name's first segment, as `FAMILY_SCHEMAS` keys them) → the payload
 * fields that identify a user. Every event also counts the record's own fields
 * ({@link RECORD_USER_FIELDS}); an event whose name the catalog does not know counts all of these
 * ({@link ALL_PAYLOAD_USER_FIELDS}).
 */
export const USER_FIELDS: Readonly<Record<string, readonly UserField[]>> = {
  channel: [
    ...within('data.users', USER),
    one('data.userIds[]', 'the users the event is about: members at creation, who joined, left, were added, removed or banned'),
    one('data.userId', 'who updated the channel (didUpdate, didUpdateMeta)'),
    one('data.adderId', 'who added the members (didAddUsers)'),
    one('data.removerId', 'who removed the members (didRemoveUsers)'),
    one('data.actorId', 'who banned (didBan)'),
  ],
  message: [
    ...within('data.messages', MESSAGE),
    ...within('data.users', USER),
    ...within('data.messageFeeds', [f('creatorId', 'who created the message feed (v5)')]),
    ...within('data.reactions', [f('userId', 'who reacted (v5 reaction record)')]),
    ...within('data.reactor', REACTOR, true),
  ],
  moderation: [...within('data.users', USER), one('data.userId', 'the sender of the stopped message')],
  post: [
    ...within('data.posts', POST),
    ...within('data.postChildren', POST),
    ...within('data.comments', COMMENT),
    ...within('data.users', USER),
    ...within('data.communities', COMMUNITY),
    ...within('data.communityUsers', COMMUNITY_USER),
    ...within('data.feeds', FEED),
    ...within('data.videoStreamings', STREAM),
    one('data.flaggedUserId', 'the flagged author or the reporter (no source says which)'),
    ...within('data.reactor', REACTOR, true),
  ],
  comment: [
    ...within('data.comments', COMMENT),
    ...within('data.commentChildren', COMMENT),
    ...within('data.communityUsers', COMMUNITY_USER),
    ...within('data.users', USER),
    one('data.flaggedUserId', 'the flagged author or the reporter (no source says which)'),
    ...within('data.reactor', REACTOR, true),
  ],
  community: COMMUNITY_FAMILY,
  communityJoinRequest: COMMUNITY_FAMILY,
  communityMemberInvitation: COMMUNITY_FAMILY,
  poll: [...within('data.polls', POLL), ...within('data.users', USER)],
  follow: [one('data.from', 'the follower (who asked, followed, unfollowed)'), one('data.to', 'the followed user')],
  user: [
    ...within('data.users', USER),
    one('data.from', 'who blocked or unblocked (follow-shaped `user.didBlock`, `user.didUnblock`, `user.didFollow`)'),
    one('data.to', 'the blocked, unblocked or followed user'),
  ],
  'video-streaming': [...within('data.videoStreamings', STREAM), ...within('data.users', USER)],
  tag: [],
  file: [],
  'push-notification': [
    one('senderId', 'who caused the notification'),
    one('data.targetIds[]', 'a recipient of the notification'),
    ...within('data.users', USER),
    ...within('data.messages', MESSAGE),
    ...within('data.posts', POST),
    ...within('data.comments', COMMENT),
    ...within('data.communities', COMMUNITY),
    ...within('data.videoStreamings', STREAM),
  ],
};

/**
 * The fields of the archive record (and store item) itself, for every event: what the fan-out
 * extracted (docs/social-plus.md §7). They still count when the payload cannot be read.
 */
export const RECORD_USER_FIELDS: readonly UserField[] = [
  one('record.actorId', 'who acted (archive column `actor_id`)'),
  one('record[targetType=user].targetId', 'the user the event is about (archive column `target_id` when `target_type` is `user`)'),
];

/** Every family's payload fields, once each: what counts for an event name the catalog does not know. */
export const ALL_PAYLOAD_USER_FIELDS: readonly UserField[] = Object.values(USER_FIELDS)
  .flat()
  .filter((field, i, all) => all.findIndex((other) => other.path === field.path) === i);
