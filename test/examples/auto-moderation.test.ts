/**
 * Auto-moderation against dynalite (the handler state table) and a fake Social Plus API on
 * localhost: the sliding window (ending now), the ban exactly once, scoped bans, deleting the
 * flagged item, idempotency when an event is retried (after a failed ban, or a crashed invocation),
 * and replays (forced, or after the event store's TTL) that never ban again for the same event.
 */
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbFlagCounterStore } from '../../lambda/adapters/flag-counter-store.js';
import { ensureHandlerStateTable } from '../../lambda/adapters/handler-state-table.js';
import { createAutoModeration, flaggedTarget } from '../../lambda/fanout/handlers/auto-moderation.js';
import { parseHandlersConfig, type AutoModerationConfig } from '../../lambda/fanout/handlers/config.js';
import { SocialPlusHttpClient, staticCredentials } from '../../lambda/fanout/kit/social-plus-client.js';
import { RecordingLogger, runHandler, sampleEvent } from '../../lambda/fanout/kit/testing.js';
import { FakeSocialPlusServer } from '../kit/fake-social-plus-server.js';
import { useTestDynalite } from '../support/emulators.js';

const dynalite = useTestDynalite();
let api: FakeSocialPlusServer;
let table: string;
let tableNo = 0;

const T0 = Date.parse('2025-07-02T09:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function config(extra: Record<string, unknown> = {}): AutoModerationConfig {
  return parseHandlersConfig({ socialPlus: { region: 'us' }, autoModeration: { enabled: true, threshold: 3, windowMinutes: 60, ...extra } })
    .autoModeration;
}

/**
 * The handler on a fresh table. Unless `opts.now` is given, its clock is the arrival time of the
 * flag being handled (each event handled as it arrives); `replay` handles an event later.
 */
function setup(extra: Record<string, unknown> = {}, opts: { now?: () => Date; maxAttempts?: number } = {}) {
  const store = new DynamoDbFlagCounterStore(dynalite.client, table);
  let clock = new Date(T0);
  const handler = createAutoModeration(config(extra), { store, now: opts.now ?? (() => clock), banLeaseMs: 60_000 });
  const socialPlus = new SocialPlusHttpClient({
    baseUrl: api.url,
    credentials: staticCredentials({ adminToken: 'admin' }),
    logger: new RecordingLogger(),
    maxAttempts: opts.maxAttempts ?? 1,
    sleep: async () => undefined,
  });
  /** Event `id`, one flag of `user` received at minute `minute`, handled at minute `handledAt`. */
  const handle = (id: string, minute: number, handledAt: number, user = 'spam.account.42') => {
    clock = new Date(at(handledAt));
    return runHandler(
      handler,
      sampleEvent('message.didFlag', (e) => {
        e.data.messages![0]!.userId = user;
        e.data.messages![0]!.messageId = `msg-${id}`;
      }),
      { eventId: id, receivedAt: at(minute), socialPlus },
    );
  };
  /** One flag of `user` received at minute `minute`, as event `id`, handled as it arrives. */
  const flag = (id: string, minute: number, user = 'spam.account.42') => handle(id, minute, minute, user);
  /** Event `id` (received at `minute`) handled again at minute `handledAt`: a replay. */
  const replay = (id: string, minute: number, handledAt: number) => handle(id, minute, handledAt);
  return { store, handler, flag, replay, socialPlus };
}

const bans = () => api.requestsTo('POST', '/api/v2/users/ban');

describe('auto-moderation', () => {
  beforeEach(async () => {
    // A table per test: tests share nothing.
    table = `handler-state-${++tableNo}`;
    await ensureHandlerStateTable(dynalite.client, table);
    api = await new FakeSocialPlusServer().start();
  });
  afterEach(async () => {
    await api.close();
  });

  it('bans once the threshold is reached within the window, and only once', async () => {
    const { flag } = setup();
    await flag('e1', 0);
    await flag('e2', 10);
    expect(bans()).toHaveLength(0);
    await flag('e3', 20);
    expect(bans()).toHaveLength(1);
    expect(bans()[0]?.body).toEqual({ userId: 'spam.account.42' });
    await flag('e4', 30);
    await flag('e5', 40);
    expect(bans()).toHaveLength(1);
    expect(api.bannedUsers).toEqual(new Set(['spam.account.42']));
  });

  it('counts flags in a sliding window ending now', async () => {
    const { flag } = setup();
    await flag('e1', 0);
    await flag('e2', 30);
    // Minute 70: the window is minutes 10 to 70, so e1 has left it.
    await flag('e3', 70);
    expect(bans()).toHaveLength(0);
    await flag('e4', 80);
    expect(bans()).toHaveLength(1);
  });

  it('counts each user on their own', async () => {
    const { flag } = setup();
    await flag('a1', 0, 'alice');
    await flag('b1', 1, 'bob');
    await flag('a2', 2, 'alice');
    await flag('b2', 3, 'bob');
    expect(bans()).toHaveLength(0);
    await flag('a3', 4, 'alice');
    expect(bans().map((r) => r.body)).toEqual([{ userId: 'alice' }]);
  });

  it('counts a retried event once', async () => {
    const { flag } = setup();
    await flag('e1', 0);
    await flag('e2', 5);
    await flag('e2', 5);
    await flag('e2', 5);
    expect(bans()).toHaveLength(0);
  });

  it('bans on the retry of an event whose ban call failed, and then never again', async () => {
    const { flag } = setup();
    await flag('e1', 0);
    await flag('e2', 1);
    api.forced.push({ status: 503 });
    await expect(flag('e3', 2)).rejects.toThrow('POST /api/v2/users/ban failed after 1 attempt(s): 503');
    expect(api.bannedUsers.size).toBe(0);
    // The queue redelivers e3: same id, same arrival time.
    await flag('e3', 2);
    expect(api.bannedUsers).toEqual(new Set(['spam.account.42']));
    await flag('e3', 2);
    await flag('e4', 3);
    expect(bans()).toHaveLength(2);
  });

  it('leaves a claim held by another event alone until its lease runs out, then takes it over', async () => {
    let now = new Date(T0);
    const { flag } = setup({}, { now: () => now });
    await flag('e1', 0);
    await flag('e2', 1);
    api.forced.push({ status: 500 });
    // e3 claims the ban and crashes on the call (it would retry later, or never, from the DLQ).
    await expect(flag('e3', 2)).rejects.toThrow();
    await flag('e4', 3);
    expect(bans()).toHaveLength(1);
    now = new Date(T0 + 61_000);
    await flag('e5', 4);
    expect(bans()).toHaveLength(2);
    expect(api.bannedUsers).toEqual(new Set(['spam.account.42']));
  });

  it('bans again once the ban hold has passed (the user was unbanned and keeps getting flagged)', async () => {
    let now = new Date(T0);
    const { flag } = setup({ banHoldMinutes: 30 }, { now: () => now });
    for (const [i, m] of [0, 1, 2].entries()) await flag(`e${i}`, m);
    expect(bans()).toHaveLength(1);
    now = new Date(T0 + 31 * 60_000);
    for (const [i, m] of [31, 32, 33].entries()) await flag(`f${i}`, m);
    expect(bans()).toHaveLength(2);
  });

  it("a replayed old flag (after the store's TTL every handler runs again) is outside the window: no count, no second ban", async () => {
    const { flag, replay } = setup({ banHoldMinutes: 30 });
    for (const [i, m] of [0, 1, 2].entries()) await flag(`e${i}`, m);
    expect(bans()).toHaveLength(1);
    // Days later, a plain replay after the TTL: the events are new to the store, every handler runs.
    for (const [i, m] of [0, 1, 2].entries()) await replay(`e${i}`, m, 3 * 24 * 60);
    expect(bans()).toHaveLength(1);
  });

  it('a forced replay after the ban hold does not ban again for the same event', async () => {
    const { flag, replay } = setup({ banHoldMinutes: 30 });
    for (const [i, m] of [0, 1, 2].entries()) await flag(`e${i}`, m);
    expect(bans()).toHaveLength(1);
    // Minute 45: the hold (30 minutes) has passed, the three flags are still inside the window (60).
    await replay('e2', 2, 45);
    expect(bans()).toHaveLength(1);
    // A new flag past the hold still bans: the user keeps getting flagged.
    await flag('f1', 46);
    expect(bans()).toHaveLength(2);
  });

  it('keeps for good which event caused a ban (no TTL), apart from the ban marker', async () => {
    const { flag } = setup();
    for (const [i, m] of [0, 1, 2].entries()) await flag(`e${i}`, m);
    const out = await dynalite.client.send(
      new GetItemCommand({ TableName: table, Key: { PK: { S: 'FLAGS#spam.account.42' }, SK: { S: 'BANEVENT#e2' } }, ConsistentRead: true }),
    );
    expect(out.Item).toEqual({ PK: { S: 'FLAGS#spam.account.42' }, SK: { S: 'BANEVENT#e2' }, eventId: { S: 'e2' }, scope: { S: 'global' } });
  });

  it('countFlags leaves out flags whose TTL has passed (DynamoDB deletes them lazily)', async () => {
    const { store } = setup();
    const flagAt = (eventId: string, minute: number, keptMinutes: number) =>
      store.recordFlag({
        userId: 'u',
        eventId,
        at: new Date(at(minute)),
        eventType: 'message.didFlag',
        keepUntil: new Date(at(minute + keptMinutes)),
      });
    await flagAt('old', 0, 10);
    await flagAt('kept', 5, 120);
    expect(await store.countFlags({ userId: 'u', from: new Date(at(0)), to: new Date(at(30)), limit: 10 })).toBe(1);
    expect(await store.countFlags({ userId: 'u', from: new Date(at(0)), to: new Date(at(9)), limit: 10 })).toBe(2);
  });

  it('bans from the flagged message\'s channel when ban is "scoped"', async () => {
    const { flag } = setup({ ban: 'scoped' });
    for (const [i, m] of [0, 1, 2, 3].entries()) await flag(`e${i}`, m);
    expect(api.requestsTo('PUT', '/api/v3/channels/')).toHaveLength(1);
    expect(api.scopedBans.get('channel:general')).toEqual(new Set(['spam.account.42']));
    expect(bans()).toHaveLength(0);
  });

  it("bans a post's author from its community, counting post and comment flags together", async () => {
    const store = new DynamoDbFlagCounterStore(dynalite.client, table);
    const handler = createAutoModeration(config({ ban: 'scoped', threshold: 2 }), { store, now: () => new Date(at(1)) });
    const socialPlus = new SocialPlusHttpClient({
      baseUrl: api.url,
      credentials: staticCredentials({ adminToken: 'a' }),
      logger: new RecordingLogger(),
    });
    await runHandler(handler, sampleEvent('v3.comment.didFlag'), { receivedAt: at(0), socialPlus });
    await runHandler(handler, sampleEvent('v3.post.didFlag'), { receivedAt: at(1), socialPlus });
    expect(api.scopedBans.get('community:66500c0c0c0c0c0c0c0c0c01')).toEqual(new Set(['spam.account.42']));
  });

  it('deletes the flagged message with the API of its shape, and a retry finds it gone and succeeds', async () => {
    const { flag } = setup({ ban: 'none', deleteFlaggedContent: true, threshold: 1 });
    await flag('e1', 0);
    await flag('e1', 0);
    expect(api.requestsTo('DELETE', '/api/v3/messages/msg-e1').map((r) => r.path)).toEqual(['/api/v3/messages/msg-e1', '/api/v3/messages/msg-e1']);
    expect(api.deleted).toEqual(new Set(['/api/v3/messages/msg-e1']));
  });

  it('counts only the configured flag events', async () => {
    const handler = createAutoModeration(config({ events: ['post.didFlag'] }), { store: new DynamoDbFlagCounterStore(dynalite.client, table) });
    expect(handler.events).toEqual(['post.didFlag']);
    await expect(runHandler(handler, sampleEvent('message.didFlag'))).rejects.toThrow("does not subscribe to 'message.didFlag'");
  });

  it('warns and counts nothing when the payload names no flagged user', async () => {
    const { handler } = setup();
    const run = await runHandler(handler, { event: 'message.didFlag', data: { messages: [{ messageId: 'm1' }] } });
    expect(run.logs).toEqual([
      expect.objectContaining({ level: 'warn', message: 'auto-moderation: no flagged user in the payload; nothing counted' }),
    ]);
    expect(api.requests).toHaveLength(0);
  });
});

describe('flaggedTarget', () => {
  it.each([
    [
      'message.didFlag',
      'message.didFlag',
      { userId: 'spam.account.42', kind: 'message', itemId: '6650fb77c0ffee0000000333', scope: 'channel#general', messageVersion: 'v3' },
    ],
    [
      'post.didFlag',
      'v3.post.didFlag',
      { userId: 'spam.account.42', kind: 'post', itemId: '66510e0e0e0e0e0e0e0e0e21', scope: 'community#66500c0c0c0c0c0c0c0c0c01' },
    ],
    [
      'comment.didFlag',
      'v3.comment.didFlag',
      { userId: 'spam.account.42', kind: 'comment', itemId: '66510f0f0f0f0f0f0f0f0f31', scope: 'community#66500c0c0c0c0c0c0c0c0c01' },
    ],
    ['user.didFlag', 'user.didFlag', { userId: 'spam.account.42', kind: 'user' }],
  ] as const)('%s: the author or the flagged user', (eventType, sample, expected) => {
    expect(flaggedTarget(eventType, sampleEvent(sample) as never)).toEqual(expected);
  });

  it('a v5 message: author from creatorId, deleted through the v5 API', () => {
    const v5 = sampleEvent('v5.message.didCreate');
    expect(flaggedTarget('message.didFlag', v5 as never)).toMatchObject({
      userId: 'raj.p',
      messageVersion: 'v5',
      scope: 'channel#6650f000aa11bb22cc33dd01',
    });
  });
});
