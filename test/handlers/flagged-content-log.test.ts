import { describe, expect, it } from 'vitest';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { assertUniqueHandlerNames } from '../../lambda/core/define-handler.js';
import flaggedContentLog from '../../lambda/fanout/handlers/flagged-content-log.js';
import { handlers } from '../../lambda/fanout/handlers/index.js';
import { RecordingLogger } from '../support/fakes.js';
import { inMemoryFanout } from '../support/in-memory-fanout.js';
import { sampleBody } from '../support/samples.js';
import { sqsEventForBodies } from '../support/sqs.js';

function run(bodies: string[]) {
  const logger = new RecordingLogger();
  const handler = inMemoryFanout(handlers, logger);
  return { logger, result: handler(sqsEventForBodies(bodies)) };
}

const flaggedPost = JSON.stringify({
  event: 'v3.post.didFlag',
  data: { posts: [{ postId: 'p-77', postedUserId: 'poster.9', flagCount: 3, data: { text: 'buy cheap followers at spam.example' } }] },
});
const flaggedComment = JSON.stringify({
  event: 'v3.comment.didFlag',
  data: { comments: [{ commentId: 'c-5', userId: 'commenter.1', flagCount: 1, data: { text: 'you are all idiots' } }] },
});

describe('flagged-content-log (example handler)', () => {
  it('is registered and names unique', () => {
    expect(handlers).toContain(flaggedContentLog);
    expect(() => assertUniqueHandlerNames(handlers)).not.toThrow();
  });

  it.each([
    ['message.didFlag', sampleBody('message.didFlag'), 'message.didFlag', '6650fb77c0ffee0000000333', 'spam.account.42', 3],
    ['v3.post.didFlag', flaggedPost, 'post.didFlag', 'p-77', 'poster.9', 3],
    ['v3.comment.didFlag', flaggedComment, 'comment.didFlag', 'c-5', 'commenter.1', 1],
  ])('%s: logs the ids and the flag count at INFO, never the content', async (_label, body, eventType, entityId, ownerId, flagCount) => {
    const { logger, result } = run([body]);
    expect(await result).toEqual({ batchItemFailures: [] });
    const flagged = logger.entries.filter((e) => e.message === 'content flagged');
    expect(flagged).toHaveLength(1);
    expect(flagged[0]?.level).toBe('info');
    expect(flagged[0]?.fields).toEqual({ eventId: eventIdOf(body), requestId: expect.any(String), eventType, entityId, ownerId, flagCount });

    const text = logger.lines().join('\n');
    const parsed = JSON.parse(body);
    const entity = parsed.data.messages?.[0] ?? parsed.data.posts?.[0] ?? parsed.data.comments?.[0];
    expect(typeof entity.data.text).toBe('string');
    expect(text).not.toContain(entity.data.text);
    expect(text).not.toContain(body);
  });

  it('a flag event without entities logs undefined ids rather than failing', async () => {
    const body = '{"event":"user.didFlag","data":{}}';
    const { logger, result } = run([body]);
    expect(await result).toEqual({ batchItemFailures: [] });
    expect(logger.entries.find((e) => e.message === 'content flagged')?.fields).toMatchObject({ eventId: eventIdOf(body), entityId: undefined });
  });

  it('other events are not its business', async () => {
    const { logger, result } = run([sampleBody('message.didCreate'), sampleBody('v3.post.didCreate')]);
    await result;
    expect(logger.entries.filter((e) => e.message === 'content flagged')).toHaveLength(0);
  });
});
