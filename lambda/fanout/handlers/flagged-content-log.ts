import { defineHandler } from '../kit/index.js';

/**
 * Example handler: logs who was flagged for what, as a starting point for moderation. It logs ids
 * and counts only, never the content, so it is safe at INFO.
 */
export default defineHandler({
  name: 'flagged-content-log',
  events: ['message.didFlag', 'post.didFlag', 'comment.didFlag', 'user.didFlag'],
  handle(event, ctx) {
    const data = (event.data ?? {}) as Record<string, unknown>;
    const entity = firstOf(data.messages) ?? firstOf(data.posts) ?? firstOf(data.comments) ?? firstOf(data.users);
    ctx.logger.info('content flagged', {
      eventId: ctx.eventId,
      eventType: ctx.eventType,
      entityId: entity?.messageId ?? entity?.postId ?? entity?.commentId ?? entity?.userId,
      ownerId: entity?.userId ?? entity?.postedUserId ?? entity?.creatorId,
      flagCount: entity?.flagCount,
    });
  },
});

function firstOf(value: unknown): Record<string, unknown> | undefined {
  return Array.isArray(value) && typeof value[0] === 'object' && value[0] !== null ? (value[0] as Record<string, unknown>) : undefined;
}
