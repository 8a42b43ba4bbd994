/**
 * The Social Plus API client against a fake API on localhost: the calls of docs/social-plus.md §9 (method,
 * path, body, auth), retries on 429/5xx/no answer with Retry-After, one token refresh on 401, no
 * retry on other 4xx, 404 on a delete as "already gone", dry run; and the Secrets Manager token.
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  parseSocialPlusCredentials,
  SecretsManagerSocialPlusCredentials,
  SocialPlusCredentialsError,
  SOCIALPLUS_API_SECRET_PLACEHOLDER,
} from '../../lambda/adapters/socialplus-credentials.js';
import type { SocialPlusApi } from '../../lambda/core/define-handler.js';
import {
  retryAfterMs,
  SOCIALPLUS_API_HOSTS,
  SocialPlusApiError,
  SocialPlusArgumentError,
  SocialPlusHttpClient,
  SocialPlusUnavailableError,
  staticCredentials,
  type SocialPlusCredentialsSource,
  type SocialPlusHttpClientOptions,
} from '../../lambda/fanout/kit/social-plus-client.js';
import { RecordingLogger } from '../../lambda/fanout/kit/testing.js';
import { jsonAnswer, jsonError, useAwsDouble } from '../support/aws-double.js';
import { doubleClientConfig } from '../support/aws-recorded-answers.js';
import { FakeSocialPlusServer } from './fake-social-plus-server.js';

let api: FakeSocialPlusServer;
let sleeps: number[];
let logger: RecordingLogger;

beforeEach(async () => {
  api = await new FakeSocialPlusServer().start();
  sleeps = [];
  logger = new RecordingLogger();
});
afterEach(async () => {
  await api.close();
});

/** Waits (on I/O, not on a clock) until the fake API has seen `n` requests. */
async function untilRequests(n: number): Promise<void> {
  for (let turn = 0; api.requests.length < n; turn++) {
    if (turn > 100_000) throw new Error(`the fake API saw ${api.requests.length} request(s), expected ${n}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

function client(extra: Partial<SocialPlusHttpClientOptions> = {}): SocialPlusHttpClient {
  return new SocialPlusHttpClient({
    baseUrl: api.url,
    credentials: staticCredentials({ adminToken: 'admin-token' }),
    logger,
    // Recorded, not waited: no test depends on the clock.
    sleep: async (ms) => void sleeps.push(ms),
    random: () => 1,
    ...extra,
  });
}

describe('the calls of docs/social-plus.md §9', () => {
  const cases: Array<[string, (c: SocialPlusApi) => Promise<unknown>, string, string, unknown]> = [
    ['global ban', (c) => c.banUser('u 1'), 'POST', '/api/v2/users/ban', { userId: 'u 1' }],
    ['global unban', (c) => c.unbanUser('u1'), 'POST', '/api/v2/users/unban', { userId: 'u1' }],
    [
      'ban from channel',
      (c) => c.banFromChannel('general/x', ['u1', 'u2', 'u1']),
      'PUT',
      '/api/v3/channels/general%2Fx/users/ban',
      { userIds: ['u1', 'u2'] },
    ],
    ['unban from channel', (c) => c.unbanFromChannel('general', ['u1']), 'PUT', '/api/v3/channels/general/users/unban', { userIds: ['u1'] }],
    ['ban from community', (c) => c.banFromCommunity('c1', ['u1']), 'PUT', '/api/v3/communities/c1/users/ban', { userIds: ['u1'] }],
    ['unban from community', (c) => c.unbanFromCommunity('c1', ['u1']), 'PUT', '/api/v3/communities/c1/users/unban', { userIds: ['u1'] }],
    ['delete message (v5, default)', (c) => c.deleteMessage('m1'), 'DELETE', '/api/v5/messages/m1?permanent=false', undefined],
    ['delete message (v5, permanent)', (c) => c.deleteMessage('m1', { permanent: true }), 'DELETE', '/api/v5/messages/m1?permanent=true', undefined],
    ['delete message (v3)', (c) => c.deleteMessage('m1', { version: 'v3' }), 'DELETE', '/api/v3/messages/m1', undefined],
    ['clear message flags (v5)', (c) => c.clearMessageFlags('m1'), 'DELETE', '/api/v5/messages/m1/flags/all', undefined],
    ['clear message flags (v3)', (c) => c.clearMessageFlags('m1', { version: 'v3' }), 'DELETE', '/api/v3/messages/m1/clearFlags', undefined],
    ['delete post', (c) => c.deletePost('p1'), 'DELETE', '/api/v4/posts/p1?permanent=false', undefined],
    ['delete comment', (c) => c.deleteComment('c9', { permanent: true }), 'DELETE', '/api/v4/comments/c9?permanent=true', undefined],
    ['clear user flags', (c) => c.clearUserFlags('u1'), 'DELETE', '/api/v2/users/u1/flags', undefined],
  ];

  it.each(cases)('%s', async (_label, call, method, path, body) => {
    await expect(call(client())).resolves.toEqual({ status: 200, dryRun: false });
    expect(api.requests).toHaveLength(1);
    const req = api.requests[0];
    expect(req).toMatchObject({ method, path, body });
    expect(req?.headers.authorization).toBe('Bearer admin-token');
    expect(req?.headers['x-api-key']).toBeUndefined();
  });

  it('sends X-API-Key when the credentials have an API key', async () => {
    await client({ credentials: staticCredentials({ adminToken: 't', apiKey: 'network-key' }) }).banUser('u1');
    expect(api.requests[0]?.headers['x-api-key']).toBe('network-key');
  });

  it('splits a ban of more than 100 users into groups of 100', async () => {
    const users = Array.from({ length: 230 }, (_, i) => `u${i}`);
    await client().banFromCommunity('c1', users);
    expect(api.requests.map((r) => (r.body as { userIds: string[] }).userIds.length)).toEqual([100, 100, 30]);
    expect(api.scopedBans.get('community:c1')?.size).toBe(230);
  });

  it.each([
    ['an empty user id', (c: SocialPlusApi) => c.banUser(''), 'userId must be a non-empty string'],
    ['no user ids', (c: SocialPlusApi) => c.banFromChannel('general', []), 'userIds must be a non-empty list'],
    ['an empty channel id', (c: SocialPlusApi) => c.banFromChannel(' ', ['u1']), 'channelId must be a non-empty string'],
    [
      'a channel id of ".." (it would make the request PUT /api/v3/users/ban)',
      (c: SocialPlusApi) => c.banFromChannel('..', ['u1']),
      'channelId must be an id, got ".."',
    ],
    ['a user id of "."', (c: SocialPlusApi) => c.clearUserFlags('.'), 'userId must be an id, got "."'],
    ['a message id of ".."', (c: SocialPlusApi) => c.deleteMessage('..'), 'messageId must be an id, got ".."'],
  ])('rejects %s before calling, naming it', async (_label, call, message) => {
    await expect(call(client())).rejects.toThrow(message);
    await expect(call(client())).rejects.toBeInstanceOf(SocialPlusArgumentError);
    expect(api.requests).toHaveLength(0);
  });

  it('picks the apix host of a region', () => {
    expect(SOCIALPLUS_API_HOSTS).toEqual({ us: 'https://apix.us.amity.co', eu: 'https://apix.eu.amity.co', sg: 'https://apix.sg.amity.co' });
    expect(() => new SocialPlusHttpClient({ region: 'ap' as 'us', credentials: staticCredentials({ adminToken: 't' }), logger })).toThrow(
      "unknown Social Plus region 'ap'",
    );
    expect(() => new SocialPlusHttpClient({ credentials: staticCredentials({ adminToken: 't' }), logger })).toThrow(
      'needs a region (one of us, eu, sg) or a baseUrl',
    );
  });
});

describe('retries', () => {
  it('retries a 503 with exponential backoff, then succeeds', async () => {
    api.forced.push({ status: 503 }, { status: 502 });
    await expect(client({ maxAttempts: 3, backoffBaseMs: 100 }).banUser('u1')).resolves.toEqual({ status: 200, dryRun: false });
    expect(api.requests).toHaveLength(3);
    expect(sleeps).toEqual([100, 200]);
    expect(api.bannedUsers.has('u1')).toBe(true);
  });

  it('waits what Retry-After says on a 429', async () => {
    api.forced.push({ status: 429, headers: { 'retry-after': '2' } });
    await client().deletePost('p1');
    expect(sleeps).toEqual([2000]);
    expect(api.requests).toHaveLength(2);
  });

  it('gives up when Retry-After asks for longer than it waits, saying so', async () => {
    api.forced.push({ status: 429, headers: { 'retry-after': '120' } });
    const err = await client({ maxBackoffMs: 10_000 })
      .banUser('u1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocialPlusUnavailableError);
    expect((err as Error).message).toMatch(/POST \/api\/v2\/users\/ban failed .*429.*Retry-After 120 s/);
    expect(api.requests).toHaveLength(1);
  });

  it('fails after maxAttempts retryable answers, with the last one', async () => {
    api.forced.push({ status: 500, body: { message: 'db down' } }, { status: 500, body: { message: 'db down' } });
    await expect(client({ maxAttempts: 2 }).deleteMessage('m1')).rejects.toThrow(
      'DELETE /api/v5/messages/m1?permanent=false failed after 2 attempt(s): 500: db down',
    );
  });

  it('retries an attempt that gets no answer within the timeout', async () => {
    // The attempt's deadline runs on fake timers: the client's AbortSignal.timeout(ms) is served by
    // a (faked) setTimeout, so the test moves the clock itself rather than waiting on real time.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const deadlines: number[] = [];
    const timeout = vi.spyOn(AbortSignal, 'timeout').mockImplementation((ms) => {
      deadlines.push(ms);
      const controller = new AbortController();
      setTimeout(() => controller.abort(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), ms);
      return controller.signal;
    });
    try {
      api.forced.push({ hang: true });
      const answer = client({ timeoutMs: 200 }).banUser('u1');
      await untilRequests(1);
      expect(deadlines).toEqual([200]);
      await vi.advanceTimersByTimeAsync(199);
      // One millisecond before the deadline: still waiting on the first attempt.
      expect(api.requests).toHaveLength(1);
      expect(logger.entries.filter((e) => e.level === 'warn')).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      await expect(answer).resolves.toMatchObject({ status: 200 });
      expect(api.requests).toHaveLength(2);
      expect(deadlines).toEqual([200, 200]);
      expect(logger.entries.filter((e) => e.level === 'warn').map((e) => e.fields?.problem)).toEqual(['no answer within 200 ms']);
    } finally {
      timeout.mockRestore();
      vi.useRealTimers();
    }
  });

  it('retries network errors and then names the problem', async () => {
    const closed = new FakeSocialPlusServer();
    await closed.start();
    await closed.close();
    const err = await client({ baseUrl: closed.url, maxAttempts: 2 })
      .banUser('u1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocialPlusUnavailableError);
    expect((err as Error).message).toMatch(/failed after 2 attempt\(s\): network error/);
  });

  it('does not retry a 400, and says what the API said', async () => {
    api.forced.push({ status: 400, body: { message: 'userId is invalid' } });
    const err = await client()
      .banUser('u1')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocialPlusApiError);
    expect((err as SocialPlusApiError).status).toBe(400);
    expect((err as Error).message).toBe('Social Plus API POST /api/v2/users/ban answered 400: userId is invalid');
    expect(api.requests).toHaveLength(1);
  });

  it('reads the token again once on a 401 (a rotated token), then fails on a second 401', async () => {
    api.validTokens.add('new-token');
    let reads = 0;
    const rotating: SocialPlusCredentialsSource = {
      get: async (opts) => {
        reads++;
        return { adminToken: opts?.forceRefresh ? 'new-token' : 'old-token' };
      },
    };
    await expect(client({ credentials: rotating }).banUser('u1')).resolves.toMatchObject({ status: 200 });
    expect(api.requests.map((r) => r.headers.authorization)).toEqual(['Bearer old-token', 'Bearer new-token']);
    expect(reads).toBe(2);

    api.validTokens.clear();
    api.validTokens.add('something-else');
    await expect(client({ credentials: rotating }).banUser('u1')).rejects.toThrow('answered 401: invalid token');
  });

  it('treats 404 on a delete as already done, so a retried handler succeeds', async () => {
    const c = client();
    await expect(c.deleteComment('c1')).resolves.toEqual({ status: 200, dryRun: false });
    await expect(c.deleteComment('c1')).resolves.toEqual({ status: 404, dryRun: false, notFound: true });
  });

  it.each([
    ['3', 3000],
    [' 0 ', 0],
    ['Wed, 02 Jul 2025 12:00:05 GMT', 5000],
    ['soon', undefined],
    [null, undefined],
  ])('Retry-After %j → %s ms', (header, ms) => {
    expect(retryAfterMs(header, Date.parse('2025-07-02T12:00:00Z'))).toBe(ms);
  });
});

describe('dry run', () => {
  it('logs what it would call and sends nothing, without reading the token', async () => {
    const never: SocialPlusCredentialsSource = { get: () => Promise.reject(new Error('must not be read')) };
    const c = client({ dryRun: true, credentials: never });
    await expect(c.banFromChannel('general', ['u1'])).resolves.toEqual({ status: 0, dryRun: true });
    expect(api.requests).toHaveLength(0);
    expect(logger.entries).toEqual([
      {
        level: 'info',
        message: 'Social Plus API dry run: would call',
        fields: { action: 'banFromChannel', method: 'PUT', path: '/api/v3/channels/general/users/ban' },
      },
    ]);
  });

  it('never logs the token', async () => {
    api.forced.push({ status: 503 });
    await client({ credentials: staticCredentials({ adminToken: 'super-secret-token' }) }).banUser('u1');
    expect(JSON.stringify(logger.entries)).not.toContain('super-secret-token');
  });
});

describe('the admin token from Secrets Manager', () => {
  // A real Secrets Manager client against the AWS double: the SDK's serializer and error parsing run.
  const aws = useAwsDouble();
  const secretsManager = () => new SecretsManagerClient(doubleClientConfig(aws.endpoint, 'us-east-1'));
  const secretValue = (secretString: string) =>
    jsonAnswer({
      ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf',
      Name: 'api',
      SecretString: secretString,
      VersionId: '11111111-2222-4333-8444-555555555555',
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1751450400,
    });

  it.each([
    ['a plain token', ' tok-123 ', { adminToken: 'tok-123' }],
    ['JSON with an API key', '{"adminToken":"tok","apiKey":"key"}', { adminToken: 'tok', apiKey: 'key' }],
    ['JSON without an API key', '{"adminToken":"tok","apiKey":""}', { adminToken: 'tok' }],
  ])('reads %s', (_label, raw, expected) => {
    expect(parseSocialPlusCredentials('arn:x', raw)).toEqual(expected);
  });

  it.each([
    ['empty', '', 'the secret is empty'],
    ['the placeholder', SOCIALPLUS_API_SECRET_PLACEHOLDER, 'still holds the placeholder'],
    ['broken JSON', '{"adminToken":', 'looks like JSON but does not parse'],
    ['JSON without a token', '{"apiKey":"k"}', 'no non-empty "adminToken"'],
  ])('rejects %s, naming the secret and the problem', (_label, raw, message) => {
    expect(() => parseSocialPlusCredentials('arn:secret', raw)).toThrow(SocialPlusCredentialsError);
    expect(() => parseSocialPlusCredentials('arn:secret', raw)).toThrow(
      new RegExp(`^Social Plus API secret 'arn:secret': .*${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
  });

  it('caches the token for maxAgeMs, shares one read between concurrent callers, and re-reads on demand', async () => {
    let value = 'first';
    aws.answer({ 'secretsmanager:GetSecretValue': () => secretValue(value) });
    let now = 0;
    const creds = new SecretsManagerSocialPlusCredentials(secretsManager(), 'arn:api', 1000, () => now);
    const [a, b] = await Promise.all([creds.get(), creds.get()]);
    expect([a, b]).toEqual([{ adminToken: 'first' }, { adminToken: 'first' }]);
    expect(aws.calls.map((c) => `${c.service}:${c.operation}`)).toEqual(['secretsmanager:GetSecretValue']);
    expect(aws.calls[0]?.input).toEqual({ SecretId: 'arn:api' });
    value = 'second';
    now = 999;
    expect(await creds.get()).toEqual({ adminToken: 'first' });
    expect(await creds.get({ forceRefresh: true })).toEqual({ adminToken: 'second' });
    now = 5000;
    value = 'third';
    expect(await creds.get()).toEqual({ adminToken: 'third' });
    expect(aws.callsTo('secretsmanager:GetSecretValue')).toHaveLength(3);
  });

  it('says what to do when the secret has no value', async () => {
    aws.answer({
      'secretsmanager:GetSecretValue': jsonError(
        'ResourceNotFoundException',
        "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT",
      ),
    });
    await expect(new SecretsManagerSocialPlusCredentials(secretsManager(), 'arn:api').get()).rejects.toThrow(
      "Social Plus API secret 'arn:api': Secrets Manager has no value for it",
    );
    expect(aws.callsTo('secretsmanager:GetSecretValue')).toHaveLength(1);
  });
});
