/**
 * Example handler (off by default): counts flags per user in a sliding window ending now and, past
 * a threshold, bans the user (globally, or from the flagged place) exactly once, and optionally
 * deletes the flagged content. Idempotent on retries: a flag is one item per event (rewriting it
 * changes nothing), the ban is claimed once per user and scope, and deletes of what is gone succeed.
 * Safe on replays: a flag older than the window (a replay of an old event) counts for nothing, and
 * an event that caused a ban is remembered for good, so no replay bans again for it.
 */
import type { CommentEvent, MessageEvent, PostEvent, UserEvent } from '../../core/catalog/index.js';
import { defineHandler, type TypedHandlerContext, type WebhookHandler } from '../../core/define-handler.js';
import { messageApiVersion, messageAuthorId } from '../kit/index.js';
import type { AutoModerationConfig, FlagEvent } from './config.js';
import type { FlagCounterStore } from './state-ports.js';

/** Stable handler name (recorded per event). */
export const AUTO_MODERATION_HANDLER = 'auto-moderation';

/** The user a flag is about and the flagged item. */
export interface FlaggedTarget {
  readonly userId: string;
  readonly kind: 'message' | 'post' | 'comment' | 'user';
  readonly itemId?: string;
  /** The place a scoped ban applies to: `channel#<id>` or `community#<id>`. */
  readonly scope?: string;
  readonly messageVersion?: 'v3' | 'v5';
}

/**
 * Who was flagged: the author of a flagged message, post or comment, or the flagged user. A post's
 * or comment's `flaggedUserId` is not used: the sources do not say whether it names the author or
 * the reporter (docs/social-plus.md §5.5).
 */
export function flaggedTarget(eventType: FlagEvent, event: MessageEvent | PostEvent | CommentEvent | UserEvent): FlaggedTarget | undefined {
  switch (eventType) {
    case 'message.didFlag': {
      const e = event as MessageEvent;
      const m = e.data.messages?.[0];
      const userId = m ? messageAuthorId(m) : undefined;
      if (!m || !userId) return undefined;
      return {
        userId,
        kind: 'message',
        ...(m.messageId ? { itemId: m.messageId } : {}),
        ...(m.channelId ? { scope: `channel#${m.channelId}` } : {}),
        messageVersion: messageApiVersion(e),
      };
    }
    case 'post.didFlag': {
      const p = (event as PostEvent).data.posts?.[0];
      return p && feedItemTarget('post', p.postedUserId, p.postId, p);
    }
    case 'comment.didFlag': {
      const c = (event as CommentEvent).data.comments?.[0];
      return c && feedItemTarget('comment', c.userId, c.commentId, c);
    }
    case 'user.didFlag': {
      const u = (event as UserEvent).data.users?.[0];
      return u?.userId ? { userId: u.userId, kind: 'user' } : undefined;
    }
  }
}

/**
 * A flagged post or comment: its author (none, no target), the item, and the community it was
 * posted in as the scope when it was posted in one (`targetType` `community`).
 */
function feedItemTarget(
  kind: 'post' | 'comment',
  authorId: string | null | undefined,
  itemId: string | null | undefined,
  placedIn: { readonly targetType?: string | null; readonly targetId?: string | null },
): FlaggedTarget | undefined {
  if (!authorId) return undefined;
  return {
    userId: authorId,
    kind,
    ...(itemId ? { itemId } : {}),
    ...(placedIn.targetType === 'community' && placedIn.targetId ? { scope: `community#${placedIn.targetId}` } : {}),
  };
}

/** Dependencies of the auto-moderation handler. */
export interface AutoModerationDeps {
  readonly store: FlagCounterStore;
  /** Wall clock: the window ends now (not at the event's `receivedAt`), and ban claims. @default Date */
  readonly now?: () => Date;
  /** How long a ban claim lasts; longer than the fan-out's timeout. @default 120000 */
  readonly banLeaseMs?: number;
}

/** Builds the auto-moderation handler from its configuration. */
export function createAutoModeration(config: AutoModerationConfig, deps: AutoModerationDeps): WebhookHandler {
  const windowMs = config.windowMinutes * 60_000;
  const holdMs = (config.banHoldMinutes ?? config.windowMinutes) * 60_000;
  const now = deps.now ?? (() => new Date());
  const events: readonly FlagEvent[] = config.events;
  return defineHandler({
    name: AUTO_MODERATION_HANDLER,
    events,
    async handle(event, ctx) {
      const target = flaggedTarget(ctx.eventType as FlagEvent, event);
      if (!target) {
        ctx.logger.warn('auto-moderation: no flagged user in the payload; nothing counted', { eventId: ctx.eventId, eventType: ctx.eventType });
        return;
      }
      const at = new Date(ctx.receivedAt);
      const current = now();
      const from = new Date(current.getTime() - windowMs);
      // Measured from now: a replayed old flag is outside it, counts for nothing and bans no one.
      if (!(at.getTime() >= from.getTime())) {
        ctx.logger.info('auto-moderation: flag older than the window (a replay?); not counted', {
          userId: target.userId,
          receivedAt: ctx.receivedAt,
          windowMinutes: config.windowMinutes,
        });
        return;
      }
      await deps.store.recordFlag({
        userId: target.userId,
        eventId: ctx.eventId,
        at,
        eventType: ctx.eventType,
        keepUntil: new Date(at.getTime() + windowMs + 86_400_000),
      });
      // Up to now, or to the event if its time is a little ahead of this clock.
      const to = at.getTime() > current.getTime() ? at : current;
      const count = await deps.store.countFlags({ userId: target.userId, from, to, limit: config.threshold });
      if (count < config.threshold) {
        ctx.logger.debug('auto-moderation: flag counted', { userId: target.userId, count, threshold: config.threshold });
        return;
      }
      ctx.logger.info('auto-moderation: flag threshold reached', {
        userId: target.userId,
        threshold: config.threshold,
        windowMinutes: config.windowMinutes,
      });
      await ban(target, ctx, current);
      if (config.deleteFlaggedContent) await deleteItem(target, ctx);
    },
  });

  async function ban(target: FlaggedTarget, ctx: TypedHandlerContext, current: Date): Promise<void> {
    if (config.ban === 'none') return;
    const scope = config.ban === 'global' ? 'global' : target.scope;
    if (scope === undefined) {
      ctx.logger.info('auto-moderation: no channel or community to ban from (ban is "scoped"); not banning', {
        userId: target.userId,
        kind: target.kind,
      });
      return;
    }
    const claim = await deps.store.claimBan({
      userId: target.userId,
      scope,
      eventId: ctx.eventId,
      now: current,
      leaseMs: deps.banLeaseMs ?? 120_000,
      holdMs,
    });
    if (claim !== 'claimed') {
      ctx.logger.info('auto-moderation: ban already done or in progress; not banning again', { userId: target.userId, scope, claim });
      return;
    }
    const [kind, id] = scope === 'global' ? ['global', ''] : (scope.split(/#(.*)/s) as [string, string]);
    if (kind === 'global') await ctx.socialPlus.banUser(target.userId);
    else if (kind === 'channel') await ctx.socialPlus.banFromChannel(id, [target.userId]);
    else await ctx.socialPlus.banFromCommunity(id, [target.userId]);
    await deps.store.completeBan({ userId: target.userId, scope, eventId: ctx.eventId });
    ctx.logger.info('auto-moderation: user banned', { userId: target.userId, scope });
  }

  async function deleteItem(target: FlaggedTarget, ctx: TypedHandlerContext): Promise<void> {
    if (target.itemId === undefined) return;
    if (target.kind === 'message') await ctx.socialPlus.deleteMessage(target.itemId, { version: target.messageVersion ?? 'v5' });
    else if (target.kind === 'post') await ctx.socialPlus.deletePost(target.itemId);
    else if (target.kind === 'comment') await ctx.socialPlus.deleteComment(target.itemId);
  }
}
