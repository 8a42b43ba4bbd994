/**
 * One schema per event family (shared facts: docs/social-plus.md §4 and §5) and the map from every routing
 * name (and the raw `v3.` names a handler may subscribe to) to its payload schema. Loose like the
 * entities: unknown fields pass through, everything but the envelope's name and `data` is optional.
 */
import { z } from 'zod';
import {
  CHANNEL_EVENTS,
  COMMENT_EVENTS,
  COMMUNITY_EVENTS,
  FILE_EVENTS,
  FOLLOW_EVENTS,
  LEGACY_CHANNEL_EVENTS,
  LEGACY_MESSAGE_EVENTS,
  MESSAGE_EVENTS,
  MODERATION_EVENTS,
  POLL_EVENTS,
  POST_EVENTS,
  PUSH_NOTIFICATION_NAMES,
  PUSH_NOTIFICATION_PREFIX,
  TAG_EVENTS,
  USER_EVENTS,
  USER_RELATION_EVENTS,
  V3_PREFIXED_FAMILIES,
  VIDEO_STREAMING_EVENTS,
} from '../event-names.js';
import {
  CategorySchema,
  ChannelSchema,
  CommentSchema,
  CommunitySchema,
  CommunityUserSchema,
  entities,
  FeedSchema,
  FileSchema,
  MessageFeedSchema,
  MessageSchema,
  opt,
  PollSchema,
  PostSchema,
  ReactionSchema,
  ReactorSchema,
  TagSchema,
  UserSchema,
  VideoStreamingSchema,
} from './entities.js';

const str = opt(z.string());
const strings = opt(z.array(z.string()));

/** The ordinary envelope `{ event, data }` (§4) around a given `data` schema. */
function envelope<D extends z.ZodType>(data: D) {
  return z.looseObject({
    /** The name as sent (`v3.post.didCreate`); route on `ctx.eventType` instead. */
    event: z.string(),
    data,
  });
}

/** The ordinary envelope whose `data` is a loose object with these fields (unknown ones pass through). */
function objectEnvelope<F extends z.ZodRawShape>(fields: F) {
  return envelope(z.looseObject(fields));
}

/** §5.1 `channel.*`: `channel[]` plus who joined, left, was added, removed or banned, and by whom. */
export const ChannelEventSchema = objectEnvelope({
  channel: entities(ChannelSchema),
  users: entities(UserSchema),
  userIds: strings,
  /** Who updated (didUpdate, didUpdateMeta). */
  userId: str,
  adderId: str,
  removerId: str,
  /** Who banned (didBan). */
  actorId: str,
});

/**
 * §5.2 / §5.3 `message.*`: `messages[]` (v3 or v5 items, see {@link MessageSchema}), `users[]`,
 * `files[]`; the v5 shape adds `messageFeeds[]` and `reactions[]`; reaction events add `reactor`.
 */
export const MessageEventSchema = objectEnvelope({
  messages: entities(MessageSchema),
  users: entities(UserSchema),
  files: entities(FileSchema),
  messageFeeds: entities(MessageFeedSchema),
  reactions: entities(ReactionSchema),
  reactor: opt(ReactorSchema),
});

/** §5.4 `moderation.didBan`: a message with a blacklisted word; `userId` is the sender. */
export const ModerationEventSchema = objectEnvelope({
  channel: entities(ChannelSchema),
  users: entities(UserSchema),
  userId: str,
});

/** §5.5 `post.*`; flag events add `flaggedUserId`, reaction events `reactor`. */
export const PostEventSchema = objectEnvelope({
  posts: entities(PostSchema),
  postChildren: entities(PostSchema),
  comments: entities(CommentSchema),
  users: entities(UserSchema),
  files: entities(FileSchema),
  communities: entities(CommunitySchema),
  communityUsers: entities(CommunityUserSchema),
  categories: entities(CategorySchema),
  feeds: entities(FeedSchema),
  videoStreamings: entities(VideoStreamingSchema),
  flaggedUserId: str,
  reactor: opt(ReactorSchema),
});

/** §5.6 `comment.*`; flag events add `flaggedUserId`, reaction events `reactor`. */
export const CommentEventSchema = objectEnvelope({
  comments: entities(CommentSchema),
  commentChildren: entities(CommentSchema),
  communityUsers: entities(CommunityUserSchema),
  users: entities(UserSchema),
  files: entities(FileSchema),
  flaggedUserId: str,
  reactor: opt(ReactorSchema),
});

/** §5.7 `community.*`, `communityJoinRequest.*`, `communityMemberInvitation.*`. */
export const CommunityEventSchema = objectEnvelope({
  communities: entities(CommunitySchema),
  communityUsers: entities(CommunityUserSchema),
  files: entities(FileSchema),
  users: entities(UserSchema),
  categories: entities(CategorySchema),
  feeds: entities(FeedSchema),
});

/** §5.8 `poll.*`. */
export const PollEventSchema = objectEnvelope({
  polls: entities(PollSchema),
  users: entities(UserSchema),
});

/**
 * §5.8 `follow.*` and the follow-shaped `user.didBlock` / `user.didUnblock`: flat `data`.
 * `status` is accepted (didCreate, didAcceptRequest), pending (didRequest) or none (the rest).
 */
export const FollowEventSchema = objectEnvelope({
  from: str,
  to: str,
  status: str,
  createdAt: str,
  updatedAt: str,
});

/** §5.9 `user.*`: `users[]` (UserV3) and `files[]`. */
export const UserEventSchema = objectEnvelope({
  users: entities(UserSchema),
  files: entities(FileSchema),
});

/** §5.10 `video-streaming.*`. */
export const VideoStreamingEventSchema = objectEnvelope({
  videoStreamings: entities(VideoStreamingSchema),
  users: entities(UserSchema),
  files: entities(FileSchema),
});

/** §5.12 `tag.*`: `data` is one Tag object (the envelope is not given in the sources; assumed ordinary). */
export const TagEventSchema = envelope(TagSchema);

/** §5.12 `file.didDelete`: top-level `networkId`, `data` is one File object. */
export const FileEventSchema = z.looseObject({
  event: z.string(),
  networkId: str,
  data: FileSchema,
});

/**
 * §4 / §5.11 push-notification webhooks: `eventType` is `push-notification.created`, the trigger is
 * `data.eventName`; top-level `id`, `networkId`, `path`, `senderId`, `sentTime`, `version`.
 */
export const PushNotificationEventSchema = z.looseObject({
  eventType: z.string(),
  id: str,
  networkId: str,
  path: str,
  senderId: str,
  sentTime: str,
  version: str,
  data: z.looseObject({
    eventName: str,
    isBroadcast: opt(z.boolean()),
    targetIds: strings,
    notify: opt(z.boolean()),
    title: str,
    body: str,
    channels: entities(ChannelSchema),
    messages: entities(MessageSchema),
    posts: entities(PostSchema),
    comments: entities(CommentSchema),
    communities: entities(CommunitySchema),
    users: entities(UserSchema),
    files: entities(FileSchema),
    videoStreamings: entities(VideoStreamingSchema),
  }),
});

export type ChannelEvent = z.output<typeof ChannelEventSchema>;
export type MessageEvent = z.output<typeof MessageEventSchema>;
export type ModerationEvent = z.output<typeof ModerationEventSchema>;
export type PostEvent = z.output<typeof PostEventSchema>;
export type CommentEvent = z.output<typeof CommentEventSchema>;
export type CommunityEvent = z.output<typeof CommunityEventSchema>;
export type PollEvent = z.output<typeof PollEventSchema>;
export type FollowEvent = z.output<typeof FollowEventSchema>;
export type UserEvent = z.output<typeof UserEventSchema>;
export type VideoStreamingEvent = z.output<typeof VideoStreamingEventSchema>;
export type TagEvent = z.output<typeof TagEventSchema>;
export type FileEvent = z.output<typeof FileEventSchema>;
export type PushNotificationEvent = z.output<typeof PushNotificationEventSchema>;

function entriesFor<const N extends readonly string[], S extends z.ZodType>(names: N, schema: S): { readonly [K in N[number]]: S } {
  return Object.fromEntries(names.map((n) => [n, schema])) as { [K in N[number]]: S };
}

type PushNames = (typeof PUSH_NOTIFICATION_NAMES)[number];
const pushEntries = Object.fromEntries(PUSH_NOTIFICATION_NAMES.map((n) => [`${PUSH_NOTIFICATION_PREFIX}.${n}`, PushNotificationEventSchema])) as {
  readonly [K in PushNames as `push-notification.${K}`]: typeof PushNotificationEventSchema;
};

/** Routing name (`ctx.eventType`) → payload schema, for every name of docs/social-plus.md §5. */
const BY_ROUTING_NAME = {
  ...entriesFor(CHANNEL_EVENTS, ChannelEventSchema),
  ...entriesFor(LEGACY_CHANNEL_EVENTS, ChannelEventSchema),
  ...entriesFor(MESSAGE_EVENTS, MessageEventSchema),
  ...entriesFor(LEGACY_MESSAGE_EVENTS, MessageEventSchema),
  ...entriesFor(MODERATION_EVENTS, ModerationEventSchema),
  ...entriesFor(POST_EVENTS, PostEventSchema),
  ...entriesFor(COMMENT_EVENTS, CommentEventSchema),
  ...entriesFor(COMMUNITY_EVENTS, CommunityEventSchema),
  ...entriesFor(POLL_EVENTS, PollEventSchema),
  ...entriesFor(FOLLOW_EVENTS, FollowEventSchema),
  ...entriesFor(USER_EVENTS, UserEventSchema),
  ...entriesFor(USER_RELATION_EVENTS, FollowEventSchema),
  ...entriesFor(VIDEO_STREAMING_EVENTS, VideoStreamingEventSchema),
  ...entriesFor(TAG_EVENTS, TagEventSchema),
  ...entriesFor(FILE_EVENTS, FileEventSchema),
  ...pushEntries,
};

type RoutingSchemas = typeof BY_ROUTING_NAME;
type V3Family = (typeof V3_PREFIXED_FAMILIES)[number];

/**
 * Every name a handler may subscribe to exactly, with its payload schema: the routing names, plus
 * the raw `v3.` names Social Plus sends for posts, comments, communities and (legacy) live video,
 * which a pattern may also name (`matchesPattern` compares the raw name too).
 */
export type EventSchemas = RoutingSchemas & {
  readonly [K in keyof RoutingSchemas as K extends `${V3Family}.${string}` ? `v3.${K}` : never]: RoutingSchemas[K];
};

export const EVENT_SCHEMAS: EventSchemas = {
  ...BY_ROUTING_NAME,
  ...Object.fromEntries(
    Object.entries(BY_ROUTING_NAME)
      .filter(([name]) => V3_PREFIXED_FAMILIES.some((f) => name.startsWith(`${f}.`)))
      .map(([name, schema]) => [`v3.${name}`, schema]),
  ),
} as EventSchemas;

/** Every exactly-named event of the catalog. */
export type CatalogEventName = keyof EventSchemas;

/** The payload type of each named event, as a handler receives it. */
export type EventPayloadMap = { [K in CatalogEventName]: z.output<EventSchemas[K]> };

/**
 * The schema of an event family (the routing name's first segment), for names the catalog does not
 * list yet (`message.didSomethingNew`): a `message.*` handler still gets the message shape.
 */
export const FAMILY_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  channel: ChannelEventSchema,
  message: MessageEventSchema,
  moderation: ModerationEventSchema,
  post: PostEventSchema,
  comment: CommentEventSchema,
  community: CommunityEventSchema,
  communityJoinRequest: CommunityEventSchema,
  communityMemberInvitation: CommunityEventSchema,
  poll: PollEventSchema,
  follow: FollowEventSchema,
  user: UserEventSchema,
  'video-streaming': VideoStreamingEventSchema,
  tag: TagEventSchema,
  file: FileEventSchema,
  [PUSH_NOTIFICATION_PREFIX]: PushNotificationEventSchema,
};

/** The schema for a routing name: its own, else its family's; undefined when neither is known. */
export function schemaFor(eventType: string): z.ZodType | undefined {
  const own = (EVENT_SCHEMAS as unknown as Record<string, z.ZodType>)[eventType];
  if (own) return own;
  const family = eventType.split('.')[0] ?? '';
  // `user.*` names not in the catalog are more likely user-shaped than follow-shaped.
  return Object.hasOwn(FAMILY_SCHEMAS, family) ? FAMILY_SCHEMAS[family] : undefined;
}
