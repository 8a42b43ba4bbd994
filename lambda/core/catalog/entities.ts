/**
 * Schemas of the entities inside webhook payloads (shared facts: docs/social-plus.md §6), deliberately loose:
 * every object keeps fields it does not name (`looseObject`), and every field is optional and may
 * be null, because the published schemas and the payloads Social Plus sends do not always agree.
 * A field is typed only so a handler reads it without a cast; its absence is never an error.
 */
import type { z } from 'zod';
import type { FileSchema, HashFlagSchema, MentioneeSchema, ReactorSchema, UserSchema } from './common-entities.js';
import type { ChannelSchema, MessageFeedSchema, MessageSchema, ReactionSchema } from './chat-entities.js';
import type {
  CategorySchema,
  CommentSchema,
  CommunitySchema,
  CommunityUserSchema,
  FeedSchema,
  PollSchema,
  PostSchema,
  TagSchema,
  VideoStreamingSchema,
} from './social-entities.js';

export { entities, opt } from './fields.js';
export * from './common-entities.js';
export * from './chat-entities.js';
export * from './social-entities.js';

/** The TypeScript types of the entities, as handlers read them (each schema's output). */
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
