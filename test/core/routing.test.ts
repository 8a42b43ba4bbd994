import { describe, expect, it } from 'vitest';
import { assertUniqueHandlerNames, defineHandler, type WebhookHandler } from '../../lambda/core/define-handler.js';
import { parseEvent } from '../../lambda/core/envelope.js';
import { assertValidPattern, matchesPattern, route, type Routable } from '../../lambda/core/routing.js';

const ev = (eventType: string, eventName: string | null = eventType, deprecated = false): Routable => ({ eventType, eventName, deprecated });

describe('matchesPattern', () => {
  it.each([
    // exact names
    ['message.didFlag', ev('message.didFlag'), true],
    ['message.didFlag', ev('message.didCreate'), false],
    ['message.didFlag', ev('message.didFlagged'), false],
    ['post.didCreate', ev('post.didCreate', 'v3.post.didCreate'), true],
    ['v3.post.didCreate', ev('post.didCreate', 'v3.post.didCreate'), true],
    ['v3.post.didCreate', ev('post.didCreate', 'post.didCreate'), false],
    // families
    ['message.*', ev('message.didCreate'), true],
    ['message.*', ev('message.didFlag'), true],
    ['message.*', ev('messages.didCreate'), false],
    ['message.*', ev('message'), false],
    ['message.*', ev('post.didCreate'), false],
    ['message.*', ev('push-notification.message.created'), false],
    ['post.*', ev('post.didCreate', 'v3.post.didCreate'), true],
    ['push-notification.*', ev('push-notification.message.created'), true],
    ['push-notification.message.*', ev('push-notification.message.created'), true],
    ['push-notification.message.*', ev('push-notification.comment.created'), false],
    // everything
    ['*', ev('message.didCreate'), true],
    ['*', ev('unknown', null), true],
    ['*', ev('push-notification.post.created'), true],
    // deprecated: only an exact name, never a wildcard
    ['*', ev('message.created', 'message.created', true), false],
    ['message.*', ev('message.created', 'message.created', true), false],
    ['message.created', ev('message.created', 'message.created', true), true],
    ['video-streaming.*', ev('video-streaming.didRecord', 'v3.video-streaming.didRecord', true), false],
    ['video-streaming.didRecord', ev('video-streaming.didRecord', 'v3.video-streaming.didRecord', true), true],
    ['v3.video-streaming.didRecord', ev('video-streaming.didRecord', 'v3.video-streaming.didRecord', true), true],
  ] as const)('%s vs %o → %s', (pattern, event, expected) => {
    expect(matchesPattern(pattern, event)).toBe(expected);
  });
});

describe('route', () => {
  const subs = [
    { name: 'all', events: ['*'] },
    { name: 'messages', events: ['message.*'] },
    { name: 'flags', events: ['message.didFlag', 'post.didFlag'] },
    { name: 'legacy', events: ['message.created'] },
  ];

  it.each([
    ['message.didFlag', ['all', 'messages', 'flags']],
    ['v3.post.didFlag', ['all', 'flags']],
    ['message.didCreate', ['all', 'messages']],
    ['message.created', ['legacy']],
    ['v3.story.didCreate', ['all']],
  ])('%s → %j in registration order', (name, expected) => {
    const parsed = parseEvent(JSON.stringify({ event: name, data: {} }));
    expect(route(subs, parsed).map((s) => s.name)).toEqual(expected);
  });

  it('no subscribers → empty', () => {
    expect(route([], ev('message.didFlag'))).toEqual([]);
  });
});

describe('assertValidPattern', () => {
  it.each([
    '*',
    'message.*',
    'message.didFlag',
    'v3.post.didCreate',
    'push-notification.*',
    'push-notification.message.*',
    'unknown',
    'video-streaming.didRecord',
  ])('%s is valid', (p) => {
    expect(() => assertValidPattern(p)).not.toThrow();
  });

  it.each([
    ['', /empty or contains whitespace/],
    [' ', /empty or contains whitespace/],
    ['message.didFlag ', /empty or contains whitespace/],
    ['message didFlag', /empty or contains whitespace/],
    ['message*', /trailing '\.\*'/],
    ['*.didFlag', /trailing '\.\*'/],
    ['message.*.x', /trailing '\.\*'/],
    ['mess*age.didFlag', /trailing '\.\*'/],
    ['**', /trailing '\.\*'/],
    ['message.**', /trailing '\.\*'/],
    ['.*', /empty name segment/],
    ['message..*', /empty name segment/],
    ['message.', /empty name segment/],
    ['.message', /empty name segment/],
  ])('%j is rejected', (p, message) => {
    expect(() => assertValidPattern(p)).toThrow(message);
    expect(() => assertValidPattern(p)).toThrow(`'${p}'`);
  });
});

describe('defineHandler', () => {
  const handle = () => {};

  it('returns the definition, frozen', () => {
    const h = defineHandler({ name: 'auto-ban', events: ['message.didFlag', 'user.*'], handle });
    expect(h.name).toBe('auto-ban');
    expect(h.events).toEqual(['message.didFlag', 'user.*']);
    expect(Object.isFrozen(h)).toBe(true);
  });

  it.each(['a', 'auto-ban', 'h2', '0day', 'a'.repeat(63)])('name %s is valid', (name) => {
    expect(defineHandler({ name, events: ['*'], handle }).name).toBe(name);
  });

  it.each(['', 'Auto-Ban', 'auto_ban', 'auto ban', '-auto', 'auto.ban', 'a'.repeat(64), 'émoji'])('name %j is rejected, naming it', (name) => {
    expect(() => defineHandler({ name, events: ['*'], handle })).toThrow(`invalid handler name '${name}'`);
  });

  it('no events is rejected', () => {
    expect(() => defineHandler({ name: 'lazy', events: [], handle })).toThrow("handler 'lazy' subscribes to no events");
  });

  it('an invalid pattern is rejected, naming the pattern', () => {
    // @ts-expect-error the type checker rejects it too (test/catalog/event-names.test.ts); this is the run-time check
    expect(() => defineHandler({ name: 'typo', events: ['message.didFlag', 'post*'], handle })).toThrow("invalid event pattern 'post*'");
  });

  it('events given as a string rather than a list is rejected', () => {
    const def = { name: 'stringly', events: 'message.didFlag', handle } as unknown as WebhookHandler;
    expect(() => defineHandler(def)).toThrow("handler 'stringly': events must be an array");
  });

  it('a missing handle function is rejected', () => {
    const def = { name: 'no-body', events: ['*'] } as unknown as WebhookHandler;
    expect(() => defineHandler(def)).toThrow("handler 'no-body' has no handle(event, ctx) function");
  });
});

describe('assertUniqueHandlerNames', () => {
  it('accepts distinct names', () => {
    expect(() => assertUniqueHandlerNames([{ name: 'a' }, { name: 'b' }])).not.toThrow();
  });

  it('rejects a repeated name, naming it', () => {
    expect(() => assertUniqueHandlerNames([{ name: 'a' }, { name: 'b' }, { name: 'a' }])).toThrow("two handlers are named 'a'");
  });
});
