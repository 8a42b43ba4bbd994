/** Deletes comments that carry more than two links, a common spam pattern. */
import { defineHandler, textOf } from '../kit/index.js';

const MAX_LINKS = 2;

export default defineHandler({
  name: 'link-spam',
  events: ['comment.didCreate', 'comment.didUpdate'],
  async handle(event, ctx) {
    const comment = event.data.comments?.[0];
    const links = textOf(comment)?.match(/https?:\/\/\S+/gi)?.length ?? 0;
    if (!comment?.commentId || links <= MAX_LINKS) return;
    ctx.logger.info('link-spam: deleting a comment with too many links', { commentId: comment.commentId, links });
    await ctx.socialPlus.deleteComment(comment.commentId);
  },
});
