/**
 * The handlers' configuration and wiring: `HANDLERS_CONFIG` validation, `handlersFromEnv` failing
 * fast on what an enabled handler lacks, `ctx.socialPlus` per source, and all four examples inside
 * the real fan-out (event store on dynalite, handler state on dynalite, fake Social Plus API, a
 * recording bus), redeliveries included.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest';
import { DynamoDbDailyCounterStore } from '../../lambda/adapters/daily-counters-store.js';
import { DynamoDbEventStore } from '../../lambda/adapters/dynamodb-store.js';
import { ensureHandlerStateTable } from '../../lambda/adapters/handler-state-table.js';
import { defineHandler, SocialPlusNotConfiguredError } from '../../lambda/core/define-handler.js';
import { createFanoutHandler } from '../../lambda/fanout/batch-handler.js';
import { HandlersConfigError, parseHandlersConfig, parseHandlersConfigJson } from '../../lambda/fanout/handlers/config.js';
import { HANDLER_ENV } from '../../lambda/fanout/handlers/env.js';
import { handlersFromEnv } from '../../lambda/fanout/handlers/from-env.js';
import { handlers as registered, withSocialPlus } from '../../lambda/fanout/handlers/index.js';
import type { BusEntry, EventPublisher } from '../../lambda/fanout/handlers/state-ports.js';
import { RecordingLogger, RecordingSocialPlusApi, runHandler, sampleEvent } from '../../lambda/fanout/kit/testing.js';
import { ConfigurationError } from '../../lambda/common/env.js';
import { ensureEventTable, localDynamoDbClient, startDynalite, type RunningEmulator } from '../../local/emulators.js';
import { InMemoryArchiveStream, RecordingMetrics } from '../support/fakes.js';
import { sqsEventForBodies } from '../support/sqs.js';
import { FakeSocialPlusServer } from '../kit/fake-social-plus-server.js';

describe('HANDLERS_CONFIG', () => {
  it('unset or {} turns every example handler off', () => {
    const config = parseHandlersConfigJson(undefined);
    expect(config).toEqual(parseHandlersConfig({}));
    expect([config.autoModeration.enabled, config.keywordFilter.enabled, config.dailyCounters.enabled, config.eventBridge.enabled]).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(config.autoModeration).toMatchObject({ threshold: 5, windowMinutes: 60, ban: 'global', deleteFlaggedContent: false });
    expect(config.claimLeaseSeconds).toBe(120);
  });

  it('lists every problem, naming the key, the value and what is allowed', () => {
    const err = (() => {
      try {
        parseHandlersConfig({
          socialPlus: { region: 'ap' },
          autoModeration: { enabled: true, treshold: 3, windowMinutes: 0 },
          keywordFilter: { enabled: true, words: [] },
          eventBridge: { enabled: true, events: ['post*'] },
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(HandlersConfigError);
    const problems = (err as HandlersConfigError).problems;
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^HANDLERS_CONFIG\.socialPlus\.region: .*"us"\|"eu"\|"sg".*, got "ap"$/),
        "HANDLERS_CONFIG.autoModeration: unknown key(s) 'treshold'",
        expect.stringMatching(/^HANDLERS_CONFIG\.autoModeration\.windowMinutes: .*>=1, got 0$/),
        expect.stringMatching(/^HANDLERS_CONFIG\.eventBridge\.events\[0\]: invalid event pattern 'post\*'/),
      ]),
    );
    expect((err as Error).message).toMatch(/^HANDLERS_CONFIG is not valid:\n {2}- /);
  });

  it('asks for words when the keyword filter is on, and a region when a handler calls the API', () => {
    expect(() => parseHandlersConfig({ socialPlus: { region: 'us' }, keywordFilter: { enabled: true } })).toThrow(
      'HANDLERS_CONFIG.keywordFilter.words: the keyword filter is enabled but has no words',
    );
    expect(() => parseHandlersConfig({ keywordFilter: { enabled: true, words: ['x'] } })).toThrow(
      'HANDLERS_CONFIG.socialPlus.region: an enabled handler calls the Social Plus API',
    );
    expect(parseHandlersConfig({ socialPlus: { dryRun: true }, keywordFilter: { enabled: true, words: ['x'] } }).keywordFilter.enabled).toBe(true);
    expect(parseHandlersConfig({ autoModeration: { enabled: true, ban: 'none' } }).autoModeration.enabled).toBe(true);
  });

  it('rejects text that is not JSON, quoting it', () => {
    expect(() => parseHandlersConfigJson('{enabled: true}')).toThrow(/HANDLERS_CONFIG is not valid:\n {2}- not JSON .*got '\{enabled: true\}'/);
  });
});

// The registered list is the user's: it is read from index.ts, never spelled out here.
const registeredNames = registered.map((h) => h.name);

describe('handlersFromEnv', () => {
  const logger = new RecordingLogger();
  const env = (config: unknown, extra: Record<string, string> = {}) => ({ [HANDLER_ENV.HANDLERS_CONFIG]: JSON.stringify(config), ...extra });

  it('with nothing configured: the registered handlers, and ctx.socialPlus that says why it is missing', async () => {
    const built = await handlersFromEnv({}, { logger });
    expect(built.handlers.map((h) => h.name)).toEqual(registeredNames);
    expect(built.handlers.map((h) => h.events)).toEqual(registered.map((h) => h.events));
    expect(built.enabled).toEqual([]);
    expect(built.socialPlus).toBe('not configured');

    const probe = defineHandler({ name: 'probe', events: ['user.didFlag'], handle: (_e, ctx) => ctx.socialPlus.banUser('u1').then(() => undefined) });
    const withProbe = (await handlersFromEnv({}, { logger, extraHandlers: [probe] })).handlers;
    expect(withProbe.map((h) => h.name)).toEqual([...registeredNames, 'probe']);
    const wrapped = withProbe.at(-1);
    const err = await runHandler(wrapped!, sampleEvent('user.didFlag'), { socialPlus: undefined }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocialPlusNotConfiguredError);
    expect((err as Error).message).toBe(
      'ctx.socialPlus is not configured: HANDLERS_CONFIG.socialPlus gives no region (set socialPlus.region to us, eu or sg, and SOCIALPLUS_API_SECRET_ARN on the fan-out)',
    );
  });

  it.each([
    [
      { autoModeration: { enabled: true, ban: 'none' } },
      {},
      'environment variable HANDLER_STATE_TABLE_NAME is not set, and autoModeration (enabled in HANDLERS_CONFIG) keep their state in that table',
    ],
    [{ dailyCounters: { enabled: true } }, {}, 'HANDLER_STATE_TABLE_NAME is not set, and dailyCounters'],
    [{ eventBridge: { enabled: true } }, {}, 'environment variable EVENT_BUS_NAME is not set, and eventBridge is enabled in HANDLERS_CONFIG'],
    [
      { socialPlus: { region: 'us' }, keywordFilter: { enabled: true, words: ['x'] } },
      {},
      'environment variable SOCIALPLUS_API_SECRET_ARN is not set, and an enabled handler calls the Social Plus API',
    ],
    [
      { autoModeration: { enabled: true, tresholds: 1 } },
      {},
      "environment variable HANDLERS_CONFIG is not valid:\n  - environment variable HANDLERS_CONFIG.autoModeration: unknown key(s) 'tresholds'",
    ],
  ])('fails fast at cold start: %j', async (config, extra, message) => {
    const err = await handlersFromEnv(env(config, extra), { logger }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigurationError);
    expect((err as Error).message).toContain(message);
  });

  it('a dry run needs no token and sends nothing', async () => {
    const built = await handlersFromEnv(env({ socialPlus: { dryRun: true }, keywordFilter: { enabled: true, words: ['crypto'] } }), { logger });
    expect(built.socialPlus).toBe('dry-run');
    const filter = built.handlers.find((h) => h.name === 'keyword-filter');
    const dryLogger = new RecordingLogger();
    // The handler list carries its own client: runHandler's socialPlus is replaced by it.
    await runHandler(
      filter!,
      sampleEvent('message.didCreate', (e) => {
        e.data.messages![0]!.data = { text: 'crypto' };
      }),
      { logger: dryLogger },
    );
    expect(
      logger.entries.some(
        (l) => l.message === 'Social Plus API dry run: would call' && l.fields?.path === '/api/v3/messages/6650f1a2b3c4d5e6f7a80111',
      ),
    ).toBe(true);
  });
  it('checks the configured patterns against the catalog too, with did you mean', async () => {
    await expect(
      handlersFromEnv(env({ eventBridge: { enabled: true, events: ['mesage.*'] } }), { logger, eventPublisher: { publish: async () => undefined } }),
    ).rejects.toThrow(/mesage\.\*.*did you mean 'message\.\*'/s);
  });
});

describe('withSocialPlus', () => {
  it('gives the client only to events of the allowed sources', async () => {
    const api = new RecordingSocialPlusApi();
    const probe = defineHandler({
      name: 'probe',
      events: ['user.didFlag'],
      handle: async (_e, ctx) => void (await ctx.socialPlus.clearUserFlags('u1')),
    });
    const [wrapped] = withSocialPlus([probe], { api, sources: ['default'] });
    await runHandler(wrapped!, sampleEvent('user.didFlag'), { source: 'default' });
    expect(api.calls).toEqual([{ action: 'clearUserFlags', userId: 'u1' }]);
    await expect(runHandler(wrapped!, sampleEvent('user.didFlag'), { source: 'partner' })).rejects.toThrow(
      "ctx.socialPlus is not configured: events of webhook source 'partner' may not call it (socialPlus.sources lists default)",
    );
  });
});

describe('the example handlers in the fan-out', () => {
  let dynalite: RunningEmulator;
  let dynamodb: DynamoDBClient;
  let api: FakeSocialPlusServer;
  const bus: BusEntry[] = [];
  const publisher: EventPublisher = { publish: async (e) => void bus.push(e) };

  beforeAll(async () => {
    dynalite = await startDynalite();
    dynamodb = localDynamoDbClient(dynalite.endpoint);
    await ensureEventTable(dynamodb, 'events');
    await ensureHandlerStateTable(dynamodb, 'handler-state');
  });
  afterAll(async () => {
    dynamodb.destroy();
    await dynalite.close();
  });
  beforeEach(async () => {
    api = await new FakeSocialPlusServer().start();
  });
  afterEach(async () => {
    await api.close();
  });

  it('moderates, counts and forwards, and a redelivered batch repeats nothing', async () => {
    const config = {
      socialPlus: { region: 'us', baseUrl: api.url, maxAttempts: 1 },
      autoModeration: { enabled: true, threshold: 2, events: ['message.didFlag'] },
      keywordFilter: { enabled: true, words: ['crypto'] },
      dailyCounters: { enabled: true },
      eventBridge: { enabled: true, events: ['message.*'] },
    };
    const built = await handlersFromEnv(
      {
        [HANDLER_ENV.HANDLERS_CONFIG]: JSON.stringify(config),
        [HANDLER_ENV.HANDLER_STATE_TABLE_NAME]: 'handler-state',
        [HANDLER_ENV.SOCIALPLUS_ADMIN_TOKEN]: 'local-token',
      },
      { logger: new RecordingLogger(), dynamodb, eventPublisher: publisher },
    );
    // The registered handlers first, then the four examples this config enables, in their fixed order.
    expect(built.handlers.map((h) => h.name)).toEqual([
      ...registeredNames,
      'auto-moderation',
      'keyword-filter',
      'daily-counters',
      'eventbridge-forwarder',
    ]);
    const fanout = createFanoutHandler({
      archive: new InMemoryArchiveStream(),
      store: new DynamoDbEventStore(dynamodb, 'events'),
      // Only the examples: what a registered handler does is its own test's business.
      handlers: built.handlers.filter((h) => !registeredNames.includes(h.name)),
      logger: new RecordingLogger(),
      metrics: new RecordingMetrics(),
      eventRetentionDays: 90,
    });
    const flag = (n: number) => JSON.stringify({ ...sampleEvent('message.didFlag'), copy: n });
    const spam = JSON.stringify(
      sampleEvent('message.didCreate', (e) => {
        e.data.messages![0]!.data = { text: 'free crypto' };
      }),
    );
    const batch = sqsEventForBodies([flag(1), flag(2), spam], { receivedAt: '2025-07-02T09:54:03.221Z' });
    // Handled as they arrive: auto-moderation's window ends now, so the clock reads a moment later.
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2025-07-02T09:54:05.000Z') });
    onTestFinished(() => {
      vi.useRealTimers();
    });

    // The keyword filter's delete fails once: only its record is retried.
    api.forced.push({ status: 503 });
    const first = await fanout(batch);
    expect(first.batchItemFailures).toHaveLength(1);
    const again = await fanout(batch);
    expect(again.batchItemFailures).toEqual([]);
    await fanout(batch);

    expect(api.requestsTo('POST', '/api/v2/users/ban').map((r) => r.body)).toEqual([{ userId: 'spam.account.42' }]);
    expect(api.deleted).toEqual(new Set(['/api/v3/messages/6650f1a2b3c4d5e6f7a80111']));
    expect(api.requests.every((r) => r.headers.authorization === 'Bearer local-token')).toBe(true);
    const counts = await new DynamoDbDailyCounterStore(dynamodb, 'handler-state').read('2025-07-02');
    expect(counts).toEqual({ 'type#message.didFlag': 2, 'type#message.didCreate': 1, 'channel#general': 2, 'channel#support-lobby': 1 });
    expect(bus.map((e) => e.detailType).sort()).toEqual(['message.didCreate', 'message.didFlag', 'message.didFlag']);
  });
});
