/**
 * The entities every family shares (docs/social-plus.md §6): users, files, reactors, and the parts
 * (`hashFlag`, `mentionees[]`) messages, posts and comments carry. Loose, like all the entities
 * (see `./entities.ts`).
 */
import { z } from 'zod';
import { bool, num, opt, record, str, strings } from './fields.js';

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
  attributes: opt(
    z.looseObject({
      name: str,
      extension: str,
      size: num,
      mimeType: str,
      metadata: record,
    }),
  ),
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
