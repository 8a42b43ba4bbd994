import { describe, expect, it } from 'vitest';
import linkSpam from '../../lambda/fanout/handlers/link-spam.js';
import { runHandler, sampleEvent } from '../../lambda/fanout/kit/testing.js';

describe('link-spam', () => {
  it('deletes a comment with more than two links', async () => {
    const event = sampleEvent('v3.comment.didCreate', (e) => {
      e.data.comments![0]!.data = { text: 'deals: https://a.example https://b.example https://c.example' };
    });
    const run = await runHandler(linkSpam, event);
    expect(run.calls).toEqual([{ action: 'deleteComment', commentId: '66510b0b0b0b0b0b0b0b0555', permanent: false }]);
  });

  it('leaves an ordinary comment alone', async () => {
    const run = await runHandler(linkSpam, sampleEvent('v3.comment.didCreate'));
    expect(run.calls).toEqual([]);
  });
});
