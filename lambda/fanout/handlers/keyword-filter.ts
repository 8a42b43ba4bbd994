/**
 * Example handler (off by default): deletes messages, comments (and optionally posts) whose text
 * contains a configured word or phrase: case-insensitive, whole words only, after Unicode NFKC
 * normalisation (so full-width or ligature look-alikes match too). Idempotent on retries: deleting
 * what is already gone succeeds. Logs ids only, never the text.
 */
import type { CommentEvent, MessageEvent, PostEvent } from '../../core/catalog/index.js';
import { defineHandler, type WebhookHandler } from '../../core/define-handler.js';
import { messageApiVersion, textOf } from '../kit/index.js';
import type { KeywordFilterConfig } from './config.js';

/** Stable handler name (recorded per event). */
export const KEYWORD_FILTER_HANDLER = 'keyword-filter';

const EVENTS_BY_TARGET = {
  messages: ['message.didCreate', 'message.didUpdate'],
  comments: ['comment.didCreate', 'comment.didUpdate', 'comment.didReply'],
  posts: ['post.didCreate', 'post.didUpdate'],
} as const;

type KeywordEvent = (typeof EVENTS_BY_TARGET)[keyof typeof EVENTS_BY_TARGET][number];

/**
 * A matcher for whole words: a word matches where it is not preceded or followed by a letter,
 * digit, combining mark or underscore, ignoring case. Throws when no word is given.
 */
export function keywordMatcher(words: readonly string[]): (text: string) => string | undefined {
  const cleaned = [...new Set(words.map((w) => w.normalize('NFKC').trim()).filter((w) => w !== ''))];
  if (cleaned.length === 0) throw new RangeError('the keyword filter needs at least one non-empty word');
  // Longest first, so a phrase wins over a word it starts with.
  cleaned.sort((a, b) => b.length - a.length);
  const alternatives = cleaned.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\s+/g, '\\s+'));
  const re = new RegExp(`(?<![\\p{L}\\p{N}\\p{M}_])(?:${alternatives.join('|')})(?![\\p{L}\\p{N}\\p{M}_])`, 'iu');
  return (text) => {
    const m = re.exec(text.normalize('NFKC'));
    return m ? m[0] : undefined;
  };
}

/** Builds the keyword filter from its configuration. */
export function createKeywordFilter(config: KeywordFilterConfig): WebhookHandler {
  const matches = keywordMatcher(config.words);
  const events: readonly KeywordEvent[] = config.targets.flatMap((t) => EVENTS_BY_TARGET[t]);
  return defineHandler({
    name: KEYWORD_FILTER_HANDLER,
    events,
    async handle(event, ctx) {
      const family = ctx.eventType.split('.')[0];
      if (family === 'message') {
        const e = event as MessageEvent;
        const m = e.data.messages?.[0];
        const text = textOf(m);
        if (!m?.messageId || m.isDeleted || text === undefined || matches(text) === undefined) return;
        ctx.logger.info('keyword filter: deleting a message with a blocked word', { messageId: m.messageId, channelId: m.channelId });
        await ctx.socialPlus.deleteMessage(m.messageId, { version: messageApiVersion(e), permanent: config.permanent });
      } else if (family === 'comment') {
        const c = (event as CommentEvent).data.comments?.[0];
        const text = textOf(c);
        if (!c?.commentId || c.isDeleted || text === undefined || matches(text) === undefined) return;
        ctx.logger.info('keyword filter: deleting a comment with a blocked word', { commentId: c.commentId });
        await ctx.socialPlus.deleteComment(c.commentId, { permanent: config.permanent });
      } else if (family === 'post') {
        const p = (event as PostEvent).data.posts?.[0];
        const text = [textOf(p), p?.data?.title].filter((t): t is string => typeof t === 'string').join('\n');
        if (!p?.postId || p.isDeleted || text === '' || matches(text) === undefined) return;
        ctx.logger.info('keyword filter: deleting a post with a blocked word', { postId: p.postId });
        await ctx.socialPlus.deletePost(p.postId, { permanent: config.permanent });
      }
    },
  });
}
