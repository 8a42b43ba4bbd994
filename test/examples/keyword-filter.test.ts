/**
 * The keyword filter against a fake Social Plus API on localhost: whole words, any case, phrases,
 * Unicode; messages of both shapes, comments and (when targeted) posts; already-deleted items left
 * alone; a retry that finds the item gone succeeds.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseHandlersConfig } from '../../lambda/fanout/handlers/config.js';
import { createKeywordFilter, keywordMatcher } from '../../lambda/fanout/handlers/keyword-filter.js';
import { SocialPlusHttpClient, staticCredentials } from '../../lambda/fanout/kit/social-plus-client.js';
import { RecordingLogger, runHandler, sampleEvent } from '../../lambda/fanout/kit/testing.js';
import { FakeSocialPlusServer } from '../kit/fake-social-plus-server.js';

describe('keywordMatcher', () => {
  const match = keywordMatcher(['crypto', 'free money', 'c++', 'straße']);

  it.each([
    ['FREE CRYPTO >>> click my profile', 'CRYPTO'],
    ['get some Free   Money now', 'Free   Money'],
    ['crypto.', 'crypto'],
    ['(crypto)', 'crypto'],
    ['learn C++ today', 'C++'],
    ['die STRASSE', undefined],
    ['Hauptstraße 5', undefined],
    ['die Straße', 'Straße'],
    ['ｃｒｙｐｔｏ in full width', 'crypto'],
    ['cryptocurrency', undefined],
    ['anticrypto', undefined],
    ['crypto_bros', undefined],
    ['kryptonite', undefined],
    ['', undefined],
  ])('%j → %j', (text, expected) => {
    expect(match(text)).toBe(expected);
  });

  it('needs a word', () => {
    expect(() => keywordMatcher([' ', ''])).toThrow('at least one non-empty word');
  });
});

describe('keyword filter', () => {
  let api: FakeSocialPlusServer;
  let socialPlus: SocialPlusHttpClient;

  beforeEach(async () => {
    api = await new FakeSocialPlusServer().start();
    socialPlus = new SocialPlusHttpClient({ baseUrl: api.url, credentials: staticCredentials({ adminToken: 'a' }), logger: new RecordingLogger() });
  });
  afterEach(async () => {
    await api.close();
  });

  const filter = (extra: Record<string, unknown> = {}) =>
    createKeywordFilter(
      parseHandlersConfig({ socialPlus: { region: 'eu' }, keywordFilter: { enabled: true, words: ['crypto'], ...extra } }).keywordFilter,
    );

  it('subscribes to messages and comments by default, posts when asked', () => {
    expect(filter().events).toEqual(['message.didCreate', 'message.didUpdate', 'comment.didCreate', 'comment.didUpdate', 'comment.didReply']);
    expect(filter({ targets: ['posts'] }).events).toEqual(['post.didCreate', 'post.didUpdate']);
  });

  it('deletes a v3 message through the v3 API, and a retry that finds it gone succeeds', async () => {
    const event = sampleEvent('message.didCreate', (e) => {
      e.data.messages![0]!.data = { text: 'Crypto giveaway!' };
    });
    const run = await runHandler(filter(), event, { socialPlus });
    await runHandler(filter(), event, { socialPlus });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'DELETE /api/v3/messages/6650f1a2b3c4d5e6f7a80111',
      'DELETE /api/v3/messages/6650f1a2b3c4d5e6f7a80111',
    ]);
    expect(api.deleted).toEqual(new Set(['/api/v3/messages/6650f1a2b3c4d5e6f7a80111']));
    expect(JSON.stringify(run.logs)).not.toContain('giveaway');
  });

  it('deletes a v5 message through the v5 API, permanently when configured', async () => {
    const event = sampleEvent('v5.message.didCreate', (e) => {
      e.data.messages![0]!.data = { text: 'crypto' };
    });
    await runHandler(filter({ permanent: true }), event, { socialPlus });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /api/v5/messages/6650f9e0a1b2c3d4e5f60222?permanent=true']);
  });

  it('deletes a comment through the v4 API', async () => {
    const event = sampleEvent('v3.comment.didCreate', (e) => {
      e.data.comments![0]!.data = { text: 'FREE CRYPTO' };
    });
    await runHandler(filter(), event, { socialPlus });
    expect(api.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['DELETE /api/v4/comments/66510b0b0b0b0b0b0b0b0555?permanent=false']);
  });

  it('deletes a post when posts are targeted, matching its title too', async () => {
    const event = sampleEvent('v3.post.didCreate', (e) => {
      e.data.posts![0]!.data = { text: 'nothing here', title: 'Crypto club' };
    });
    await runHandler(filter({ targets: ['posts'] }), event, { socialPlus });
    expect(api.requests.map((r) => r.path)).toEqual(['/api/v4/posts/66510a0a0a0a0a0a0a0a0444?permanent=false']);
  });

  it.each([
    ['a message without the word', sampleEvent('message.didCreate')],
    [
      'a message already deleted',
      sampleEvent('message.didCreate', (e) => {
        e.data.messages![0]!.data = { text: 'crypto' };
        e.data.messages![0]!.isDeleted = true;
      }),
    ],
    [
      'a message with no text (an image)',
      sampleEvent('message.didCreate', (e) => {
        e.data.messages![0]!.type = 'image';
        e.data.messages![0]!.data = { fileId: 'f1' };
      }),
    ],
  ])('leaves alone %s', async (_label, event) => {
    await runHandler(filter(), event, { socialPlus });
    expect(api.requests).toHaveLength(0);
  });

  it('fails (so the event is retried) when the API keeps failing', async () => {
    api.forced.push({ status: 500 }, { status: 500 }, { status: 500 });
    const event = sampleEvent('message.didCreate', (e) => {
      e.data.messages![0]!.data = { text: 'crypto' };
    });
    await expect(
      runHandler(filter(), event, {
        socialPlus: new SocialPlusHttpClient({
          baseUrl: api.url,
          credentials: staticCredentials({ adminToken: 'a' }),
          logger: new RecordingLogger(),
          sleep: async () => undefined,
        }),
      }),
    ).rejects.toThrow('failed after 3 attempt(s): 500');
  });
});
