/**
 * `defineHandler` with the typed catalog: the payload type follows the patterns (checked by the
 * type checker through `expectTypeOf`), the payload is read through the catalog before `handle`
 * runs, a mismatch is warned about once per event, and `ctx.socialPlus` is always there.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  CommentEvent,
  EventPayloadMap,
  FollowEvent,
  MessageEvent,
  PostEvent,
  PushNotificationEvent,
  UserEvent,
} from '../../lambda/core/catalog/index.js';
import type { LooseEnvelope, PayloadFor } from '../../lambda/core/catalog/payload-for.js';
import {
  defineHandler,
  SocialPlusNotConfiguredError,
  type HandlerContext,
  type SocialPlusApi,
  type WebhookHandler,
} from '../../lambda/core/define-handler.js';
import { RecordingSocialPlusApi, runHandler, sampleEvent } from '../../lambda/fanout/kit/testing.js';
import { RecordingLogger, RecordingMetrics } from '../support/fakes.js';
import { inMemoryFanout } from '../support/in-memory-fanout.js';
import { sqsEventForBodies } from '../support/sqs.js';

describe('payload types follow the patterns', () => {
  it('ctx.metrics takes any metric name the handler chooses (published under its handler dimension)', () => {
    const handler = defineHandler({
      name: 'custom-metrics',
      events: ['message.didCreate'],
      handle(_event, ctx) {
        ctx.metrics.count('LinksDeleted');
        ctx.metrics.count('LinksSeen', 3);
      },
    });
    expectTypeOf(handler.handle).parameter(1).toHaveProperty('metrics');
    expectTypeOf<HandlerContext['metrics']['count']>().parameter(0).toEqualTypeOf<string>();
  });

  it('an exact name gives its payload, with no cast', () => {
    defineHandler({
      name: 'typed',
      events: ['message.didFlag'],
      handle(event) {
        expectTypeOf(event).toEqualTypeOf<MessageEvent>();
        expectTypeOf(event.data.messages).toEqualTypeOf<MessageEvent['data']['messages']>();
        const first = event.data.messages?.[0];
        expectTypeOf(first?.userId).toEqualTypeOf<string | null | undefined>();
        expectTypeOf(first?.flagCount).toEqualTypeOf<number | null | undefined>();
      },
    });
  });

  it('several names give the union of their payloads', () => {
    type P = PayloadFor<'message.didFlag' | 'v3.post.didFlag' | 'user.didFlag'>;
    expectTypeOf<P>().toEqualTypeOf<MessageEvent | PostEvent | UserEvent>();
  });

  it("a family pattern gives the family's payloads; raw v3. names and push names are typed too", () => {
    expectTypeOf<PayloadFor<'comment.*'>>().toEqualTypeOf<CommentEvent>();
    expectTypeOf<PayloadFor<'v3.comment.didCreate'>>().toEqualTypeOf<CommentEvent>();
    expectTypeOf<PayloadFor<'user.*'>>().toEqualTypeOf<UserEvent | FollowEvent>();
    expectTypeOf<PayloadFor<'push-notification.*'>>().toEqualTypeOf<PushNotificationEvent>();
    expectTypeOf<PayloadFor<'push-notification.message.created'>>().toEqualTypeOf<PushNotificationEvent>();
    expectTypeOf<EventPayloadMap['follow.didCreate']>().toEqualTypeOf<FollowEvent>();
  });

  it('*, unknown names, unknown families and plain strings stay loose', () => {
    expectTypeOf<PayloadFor<'*'>>().toEqualTypeOf<LooseEnvelope>();
    expectTypeOf<PayloadFor<'story.didCreate'>>().toEqualTypeOf<LooseEnvelope>();
    expectTypeOf<PayloadFor<'story.*'>>().toEqualTypeOf<LooseEnvelope>();
    expectTypeOf<PayloadFor<string>>().toEqualTypeOf<LooseEnvelope>();
    expectTypeOf<PayloadFor<'unknown'>>().toEqualTypeOf<unknown>();
    const names: string[] = ['message.didFlag'];
    defineHandler({
      name: 'loose',
      events: names,
      handle: (event) => {
        expectTypeOf(event).toEqualTypeOf<LooseEnvelope>();
      },
    });
  });

  it('a raw handler gets the loose envelope', () => {
    defineHandler({
      name: 'raw',
      events: ['message.didFlag'],
      rawPayload: true,
      handle: (event) => {
        expectTypeOf(event).toEqualTypeOf<LooseEnvelope>();
      },
    });
  });

  it("typed handlers go in the fan-out's list as they are", () => {
    const h = defineHandler({ name: 'typed', events: ['post.didCreate'], handle: () => undefined });
    expectTypeOf(h).toMatchTypeOf<WebhookHandler>();
    const list: readonly WebhookHandler[] = [h];
    expect(list).toHaveLength(1);
  });

  it('ctx.socialPlus is always there for a defined handler', () => {
    defineHandler({
      name: 'ctx',
      events: ['*'],
      handle: (_e, ctx) => {
        expectTypeOf(ctx.socialPlus).toEqualTypeOf<SocialPlusApi>();
      },
    });
    expectTypeOf<HandlerContext['socialPlus']>().toEqualTypeOf<SocialPlusApi | undefined>();
  });
});

describe('at run time', () => {
  it('handle gets the payload read through the catalog; one WARN per event names the paths', async () => {
    const seen: unknown[] = [];
    const handlers = ['first', 'second'].map((name) =>
      defineHandler({
        name,
        events: ['message.didFlag'],
        handle(event) {
          seen.push(event.data.messages?.[0]?.userId);
        },
      }),
    );
    const body = JSON.stringify(
      sampleEvent('message.didFlag', (e) => {
        (e.data.messages![0] as Record<string, unknown>).userId = { id: 'not-a-string' };
      }),
    );
    const logger = new RecordingLogger();
    const fanout = inMemoryFanout(handlers, logger);
    expect(await fanout(sqsEventForBodies([body]))).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([undefined, undefined]);
    const warnings = logger.entries.filter((e) => e.level === 'warn' && e.message.startsWith('payload differs from the event catalog'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toMatchObject({
      eventType: 'message.didFlag',
      issues: [{ path: 'data.messages.0.userId', code: 'invalid_type', expected: 'string' }],
    });
    expect(JSON.stringify(warnings)).not.toContain('not-a-string');
  });

  it('a raw handler gets the payload untouched', async () => {
    let got: unknown;
    const h = defineHandler({ name: 'raw', events: ['message.didFlag'], rawPayload: true, handle: (event) => void (got = event) });
    const event = sampleEvent('message.didFlag', (e) => {
      (e.data.messages![0] as Record<string, unknown>).userId = 7;
    });
    await runHandler(h, event);
    expect(got).toEqual(event);
  });

  it('without a client, ctx.socialPlus rejects every call saying so', async () => {
    const h = defineHandler({ name: 'needs-api', events: ['user.didFlag'], handle: (_e, ctx) => ctx.socialPlus.banUser('u1').then(() => undefined) });
    const ctx = {
      eventId: 'e',
      eventType: 'user.didFlag',
      eventName: 'user.didFlag',
      receivedAt: '2025-07-02T00:00:00Z',
      source: 'default',
      deprecated: false,
      logger: new RecordingLogger(),
      metrics: new RecordingMetrics(),
    };
    const err = await Promise.resolve(h.handle(sampleEvent('user.didFlag'), ctx)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SocialPlusNotConfiguredError);
    expect((err as Error).message).toMatch(/^ctx\.socialPlus is not configured: the fan-out was given no Social Plus API client/);
  });

  it('with a client in the context, that client is used', async () => {
    const api = new RecordingSocialPlusApi();
    const h = defineHandler({
      name: 'uses-api',
      events: ['user.didFlag'],
      handle: async (event, ctx) => void (await ctx.socialPlus.clearUserFlags(event.data.users?.[0]?.userId ?? '?')),
    });
    await runHandler(h, sampleEvent('user.didFlag'), { socialPlus: api });
    expect(api.calls).toEqual([{ action: 'clearUserFlags', userId: 'spam.account.42' }]);
  });
});

describe('runHandler', () => {
  it('refuses an event the handler does not subscribe to, naming both', async () => {
    const h = defineHandler({ name: 'posts-only', events: ['post.*'], handle: () => undefined });
    await expect(runHandler(h, sampleEvent('message.didFlag'))).rejects.toThrow(
      "handler 'posts-only' does not subscribe to 'message.didFlag' (raw name \"message.didFlag\"); its events: post.*",
    );
  });

  it('gives the context the fan-out would: routing name, raw name, id of the body', async () => {
    const h = defineHandler({ name: 'ctx', events: ['post.didCreate'], handle: () => undefined });
    const run = await runHandler(h, sampleEvent('v3.post.didCreate'), { receivedAt: '2025-07-02T11:30:00.000Z' });
    expect(run.ctx).toMatchObject({
      eventType: 'post.didCreate',
      eventName: 'v3.post.didCreate',
      source: 'default',
      deprecated: false,
      receivedAt: '2025-07-02T11:30:00.000Z',
    });
    expect(run.ctx.eventId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('sampleEvent names the samples when one is missing', () => {
    expect(() => sampleEvent('message.didExplode')).toThrow(/no sample 'message\.didExplode' in .*samples: channel\.didBan, /);
  });
});
