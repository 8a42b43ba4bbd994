/**
 * Daily counters against dynalite: counts per event type and per channel or community, exactly once
 * per event: retries, a crash at each step of the store's protocol, and a concurrent duplicate.
 */
import { UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbDailyCounterStore } from '../../lambda/adapters/daily-counters-store.js';
import { ensureHandlerStateTable } from '../../lambda/adapters/handler-state-table.js';
import { counterKeys, createDailyCounters } from '../../lambda/fanout/handlers/daily-counters.js';
import { CountInProgressError } from '../../lambda/fanout/handlers/state-ports.js';
import { runHandler, sampleEvent, sampleNames } from '../../lambda/fanout/kit/testing.js';
import { parseEvent } from '../../lambda/core/envelope.js';
import { useTestDynalite } from '../support/emulators.js';

const dynalite = useTestDynalite();
let table: string;
let tableNo = 0;

const DAY = '2025-07-02';
const NOW = new Date('2025-07-02T10:00:00.000Z');

/**
 * The real client, except that the calls `crashOn` picks throw as if the invocation died there
 * (the call is not made).
 */
function crashingClient(crashOn: (kind: string, callNo: number) => boolean): DynamoDBClient {
  let calls = 0;
  return {
    send: (command: { constructor: { name: string }; input: unknown }, options?: unknown) => {
      const kind =
        command instanceof UpdateItemCommand ? String((command.input as { UpdateExpression?: string }).UpdateExpression) : command.constructor.name;
      if (crashOn(kind, ++calls)) return Promise.reject(new Error(`crash before ${kind}`));
      return (dynalite.client.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
    },
  } as unknown as DynamoDBClient;
}

describe('daily counters', () => {
  beforeEach(async () => {
    table = `counters-${++tableNo}`;
    await ensureHandlerStateTable(dynalite.client, table);
  });

  const store = (client: DynamoDBClient = dynalite.client) => new DynamoDbDailyCounterStore(client, table, { leaseMs: 60_000 });

  it('counts every sample by type, and by channel or community where it has one', async () => {
    const handler = createDailyCounters({ store: store(), now: () => NOW });
    for (const name of sampleNames()) {
      await runHandler(handler, sampleEvent(name), { receivedAt: '2025-07-02T08:00:00.000Z' }).catch((err: Error) => {
        // '*' does not reach deprecated names; no sample is one.
        throw new Error(`${name}: ${err.message}`);
      });
    }
    const counts = await store().read(DAY);
    expect(counts['type#message.didCreate']).toBe(2);
    expect(counts['type#post.didCreate']).toBe(1);
    expect(counts['type#push-notification.message.created']).toBe(1);
    expect(counts['channel#general']).toBe(3);
    expect(counts['channel#support-lobby']).toBe(2);
    expect(counts['community#66500c0c0c0c0c0c0c0c0c01']).toBe(4); // posts and comments: created and flagged
    expect(
      Object.entries(counts)
        .filter(([k]) => k.startsWith('type#'))
        .reduce((n, [, v]) => n + v, 0),
    ).toBe(sampleNames().length);
  });

  it('files events under their UTC arrival day', async () => {
    const handler = createDailyCounters({ store: store(), now: () => NOW });
    await runHandler(handler, sampleEvent('follow.didCreate'), { receivedAt: '2025-07-02T23:59:59.999Z' });
    await runHandler(handler, sampleEvent('poll.didVote'), { receivedAt: '2025-07-03T00:00:00.000Z' });
    expect(await store().read('2025-07-02')).toEqual({ 'type#follow.didCreate': 1 });
    expect(await store().read('2025-07-03')).toEqual({ 'type#poll.didVote': 1 });
  });

  it('counts a retried event once', async () => {
    const handler = createDailyCounters({ store: store(), now: () => NOW });
    const event = sampleEvent('message.didFlag');
    for (let i = 0; i < 3; i++) await runHandler(handler, event, { eventId: 'same-event', receivedAt: '2025-07-02T09:00:00.000Z' });
    expect(await store().read(DAY)).toEqual({ 'type#message.didFlag': 1, 'channel#general': 1 });
  });

  // The store's steps for an event with two counters: claim (PutItem), two increments, done, two clean-ups.
  it.each([
    ['the first increment', (kind: string) => kind.startsWith('ADD n')],
    ['the second increment', (kind: string, n: number) => kind.startsWith('ADD n') && n === 3],
    ['marking it done', (kind: string) => kind === 'SET #state = :done'],
    ['the first clean-up', (kind: string) => kind.startsWith('DELETE pending')],
  ])('counts exactly once when the invocation dies before %s and the event is retried', async (_label, crashOn) => {
    const keys = ['type#message.didFlag', 'channel#general'];
    await expect(store(crashingClient(crashOn)).increment('e1', DAY, keys, NOW)).rejects.toThrow('crash before');
    // The retry comes after the visibility timeout, so after the claim's lease.
    const later = new Date(NOW.getTime() + 61_000);
    const outcome = await store().increment('e1', DAY, keys, later);
    expect(['counted', 'already-counted']).toContain(outcome);
    expect(await store().increment('e1', DAY, keys, later)).toBe('already-counted');
    expect(await store().read(DAY)).toEqual({ 'type#message.didFlag': 1, 'channel#general': 1 });
    // Nothing is left pending once the event is done.
    const raw = await dynalite.client.send(
      new (await import('@aws-sdk/client-dynamodb')).QueryCommand({
        TableName: table,
        KeyConditionExpression: 'PK = :pk',
        ExpressionAttributeValues: { ':pk': { S: `DAILY#${DAY}` } },
        ConsistentRead: true,
      }),
    );
    expect(raw.Items?.map((i) => i.pending)).toEqual([undefined, undefined]);
  });

  it('refuses a concurrent duplicate while the first holds the event, so the queue retries it', async () => {
    const keys = ['type#message.didFlag'];
    await expect(store(crashingClient((kind) => kind.startsWith('ADD n'))).increment('e1', DAY, keys, NOW)).rejects.toThrow('crash before');
    const err = await store()
      .increment('e1', DAY, keys, new Date(NOW.getTime() + 1000))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CountInProgressError);
    expect((err as Error).message).toBe(
      'event e1 is being counted by another invocation (its claim lasts until 2025-07-02T10:01:00.000Z); retry later',
    );
    expect(await store().read(DAY)).toEqual({});
  });

  it('rejects a malformed day', async () => {
    await expect(store().increment('e1', '2025-7-2', ['type#x'], NOW)).rejects.toThrow("day must be YYYY-MM-DD, got '2025-7-2'");
  });
});

describe('counterKeys', () => {
  it.each([
    ['message.didCreate', 'message.didCreate', ['type#message.didCreate', 'channel#support-lobby']],
    ['v5.message.didCreate', 'message.didCreate', ['type#message.didCreate', 'channel#6650f000aa11bb22cc33dd01']],
    ['channel.didBan', 'channel.didBan', ['type#channel.didBan', 'channel#general']],
    ['moderation.didBan', 'moderation.didBan', ['type#moderation.didBan', 'channel#general']],
    ['v3.post.didCreate', 'post.didCreate', ['type#post.didCreate', 'community#66500c0c0c0c0c0c0c0c0c01']],
    ['v3.comment.didCreate', 'comment.didCreate', ['type#comment.didCreate', 'community#66500c0c0c0c0c0c0c0c0c01']],
    ['v3.community.didCreate', 'community.didCreate', ['type#community.didCreate', 'community#66510c0c0c0c0c0c0c0c0666']],
    ['follow.didCreate', 'follow.didCreate', ['type#follow.didCreate']],
    ['user.didFlag', 'user.didFlag', ['type#user.didFlag']],
  ])('%s', (sample, eventType, keys) => {
    expect(parseEvent(JSON.stringify(sampleEvent(sample))).eventType).toBe(eventType);
    expect(counterKeys(eventType, sampleEvent(sample))).toEqual(keys);
  });
});
