/**
 * The handler kit: what a handler module imports. `defineHandler` (payload typed by the events it
 * names), the catalog's types, the `ctx.socialPlus` port, and small readers for facts several
 * handlers need. Test helpers are in `./testing.ts`.
 */
import type { Comment, Message, MessageEvent, Post } from '../../core/catalog/index.js';
import type { MessageApiVersion } from '../../core/define-handler.js';

export { defineHandler, SocialPlusNotConfiguredError } from '../../core/define-handler.js';
export type {
  HandlerContext,
  HandlerDefinition,
  MessageApiVersion,
  SocialPlusApi,
  SocialPlusCallResult,
  TypedHandlerContext,
  WebhookEnvelope,
  WebhookHandler,
} from '../../core/define-handler.js';
export type * from '../../core/catalog/entities.js';
export type {
  CatalogEventName,
  ChannelEvent,
  CommentEvent,
  CommunityEvent,
  EventPayloadMap,
  FileEvent,
  FollowEvent,
  MessageEvent,
  ModerationEvent,
  PollEvent,
  PostEvent,
  PushNotificationEvent,
  TagEvent,
  UserEvent,
  VideoStreamingEvent,
} from '../../core/catalog/events.js';
export type { FamilyPattern, KnownEventPattern, LooseEnvelope, PayloadFor } from '../../core/catalog/payload-for.js';

/**
 * Which API version handles a message event's message: v5 when the payload has the v5 shape
 * (`messageFeeds[]`, docs/social-plus.md §4), else v3.
 */
export function messageApiVersion(event: Pick<MessageEvent, 'data'>): MessageApiVersion {
  return Array.isArray(event.data.messageFeeds) ? 'v5' : 'v3';
}

/** The sender of a message: `userId` (v3) or `creatorId` (v5). */
export function messageAuthorId(message: Message): string | undefined {
  return message.userId ?? message.creatorId ?? undefined;
}

/** The text of a message, post or comment (`data.text`), when it has one. */
export function textOf(entity: Message | Post | Comment | undefined): string | undefined {
  const text = entity?.data?.text;
  return typeof text === 'string' ? text : undefined;
}

/** The channel or community an event happened in, for per-place statistics and scoped bans. */
export interface EventPlace {
  readonly type: 'channel' | 'community';
  readonly id: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : undefined);
const first = (v: unknown): Obj | undefined => (Array.isArray(v) ? obj(v[0]) : obj(v));
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The channel or community of any event, by its routing name: a message's `channelId`, a channel
 * event's channel, a community event's community, a post's or comment's target when it is a
 * community; undefined otherwise (user feeds, follows, users, …).
 */
export function placeOf(eventType: string, payload: unknown): EventPlace | undefined {
  const data = obj(obj(payload)?.data) ?? {};
  const family = eventType.split('.')[0];
  const channel = (id: string | undefined): EventPlace | undefined => (id ? { type: 'channel', id } : undefined);
  const community = (id: string | undefined): EventPlace | undefined => (id ? { type: 'community', id } : undefined);
  switch (family) {
    case 'message':
      return channel(str(first(data.messages)?.channelId) ?? str(first(data.messageFeeds)?.channelId));
    case 'channel':
    case 'moderation':
      return channel(str(first(data.channel)?.channelId));
    case 'community':
    case 'communityJoinRequest':
    case 'communityMemberInvitation':
      return community(str(first(data.communities)?.communityId));
    case 'post':
    case 'comment': {
      const item = first(family === 'post' ? data.posts : data.comments);
      return str(item?.targetType) === 'community' ? community(str(item?.targetId)) : undefined;
    }
    default:
      return undefined;
  }
}
