import { describe, expect, it } from 'vitest';
import { DEPRECATED_EVENT_NAMES, KNOWN_EVENT_TYPES } from '../../lambda/core/event-names.js';
import {
  isVerificationMarked,
  normaliseEventType,
  parseEvent,
  parsePayload,
  UNKNOWN_EVENT_TYPE,
  VERIFICATION_MARKER_KEY,
} from '../../lambda/core/envelope.js';
import { SAMPLE_NAMES, sampleBody } from '../support/samples.js';

/** What each sample in fixtures/samples must parse to (facts: docs/social-plus.md §4, §6, §7 and §10). */
const SAMPLES = [
  {
    sample: 'channel.didBan',
    envelope: 'standard',
    eventName: 'channel.didBan',
    eventType: 'channel.didBan',
    entities: { actorId: 'mod.alina', targetType: 'channel', targetId: 'general', occurredAt: '2025-07-02T09:20:30.000Z' },
  },
  {
    // No actor field in the payload: the actor stays unknown rather than guessed.
    sample: 'channel.didCreate',
    envelope: 'standard',
    eventName: 'channel.didCreate',
    eventType: 'channel.didCreate',
    entities: { targetType: 'channel', targetId: 'trail-runners-bkk', occurredAt: '2025-07-02T10:00:05.411Z' },
  },
  {
    sample: 'follow.didCreate',
    envelope: 'standard',
    eventName: 'follow.didCreate',
    eventType: 'follow.didCreate',
    entities: { actorId: 'ben.w', targetType: 'user', targetId: 'nok.s', occurredAt: '2025-07-02T12:30:00.000Z' },
  },
  {
    sample: 'message.didCreate',
    envelope: 'standard',
    eventName: 'message.didCreate',
    eventType: 'message.didCreate',
    entities: { actorId: 'mika.tan', targetType: 'message', targetId: '6650f1a2b3c4d5e6f7a80111', occurredAt: '2025-07-02T08:14:03.221Z' },
  },
  {
    sample: 'message.didFlag',
    envelope: 'standard',
    eventName: 'message.didFlag',
    eventType: 'message.didFlag',
    entities: { actorId: 'spam.account.42', targetType: 'message', targetId: '6650fb77c0ffee0000000333', occurredAt: '2025-07-02T09:13:44.870Z' },
  },
  {
    sample: 'push-notification.message.created',
    envelope: 'push-notification',
    eventName: 'push-notification.message.created',
    eventType: 'push-notification.message.created',
    entities: { actorId: 'mika.tan', targetType: 'message', targetId: '6650f1a2b3c4d5e6f7a80111', occurredAt: '2025-07-02T08:14:03.400Z' },
  },
  {
    sample: 'user.didBan.inferred',
    envelope: 'standard',
    eventName: 'user.didBan',
    eventType: 'user.didBan',
    entities: { actorId: 'spam.account.42', targetType: 'user', targetId: 'spam.account.42', occurredAt: '2025-07-02T09:20:31.002Z' },
  },
  {
    sample: 'v3.comment.didCreate',
    envelope: 'standard',
    eventName: 'v3.comment.didCreate',
    eventType: 'comment.didCreate',
    entities: { actorId: 'ben.w', targetType: 'comment', targetId: '66510b0b0b0b0b0b0b0b0555', occurredAt: '2025-07-02T11:41:09.000Z' },
  },
  {
    sample: 'v3.community.didCreate',
    envelope: 'standard',
    eventName: 'v3.community.didCreate',
    eventType: 'community.didCreate',
    entities: { actorId: 'ops.bot', targetType: 'community', targetId: '66510c0c0c0c0c0c0c0c0666', occurredAt: '2025-07-02T12:00:00.000Z' },
  },
  {
    sample: 'v3.post.didCreate',
    envelope: 'standard',
    eventName: 'v3.post.didCreate',
    eventType: 'post.didCreate',
    entities: { actorId: 'nok.s', targetType: 'post', targetId: '66510a0a0a0a0a0a0a0a0444', occurredAt: '2025-07-02T11:30:00.000Z' },
  },
  {
    // The v5 shape shares the name of the v3 one (docs/social-plus.md §4); its author is `creatorId`.
    sample: 'v5.message.didCreate',
    envelope: 'standard',
    eventName: 'message.didCreate',
    eventType: 'message.didCreate',
    entities: { actorId: 'raj.p', targetType: 'message', targetId: '6650f9e0a1b2c3d4e5f60222', occurredAt: '2025-07-02T09:00:41.510Z' },
  },
  {
    // data is one File object; no actor field.
    sample: 'file.didDelete',
    envelope: 'standard',
    eventName: 'file.didDelete',
    eventType: 'file.didDelete',
    entities: { targetType: 'file', targetId: '66511d1d1d1d1d1d1d1d1d71', occurredAt: '2025-07-02T16:30:00.000Z' },
  },
  {
    // The reactor acts; the target is the message reacted to.
    sample: 'message.didAddReaction',
    envelope: 'standard',
    eventName: 'message.didAddReaction',
    eventType: 'message.didAddReaction',
    entities: { actorId: 'ben.w', targetType: 'message', targetId: '6650f1a2b3c4d5e6f7a80111', occurredAt: '2025-07-02T08:20:11.004Z' },
  },
  {
    sample: 'moderation.didBan',
    envelope: 'standard',
    eventName: 'moderation.didBan',
    eventType: 'moderation.didBan',
    entities: { actorId: 'spam.account.77', targetType: 'channel', targetId: 'general', occurredAt: '2025-07-02T09:31:02.118Z' },
  },
  {
    sample: 'poll.didVote',
    envelope: 'standard',
    eventName: 'poll.didVote',
    eventType: 'poll.didVote',
    entities: { actorId: 'nok.s', targetType: 'poll', targetId: '66511a1a1a1a1a1a1a1a1a41', occurredAt: '2025-07-02T14:35:10.000Z' },
  },
  {
    sample: 'tag.created',
    envelope: 'standard',
    eventName: 'tag.created',
    eventType: 'tag.created',
    entities: { targetType: 'tag', targetId: '66511c1c1c1c1c1c1c1c1c61', occurredAt: '2025-07-02T16:00:00.000Z' },
  },
  {
    // Follow-shaped: from blocks to.
    sample: 'user.didBlock',
    envelope: 'standard',
    eventName: 'user.didBlock',
    eventType: 'user.didBlock',
    entities: { actorId: 'nok.s', targetType: 'user', targetId: 'spam.account.42', occurredAt: '2025-07-02T09:17:00.000Z' },
  },
  {
    sample: 'user.didFlag',
    envelope: 'standard',
    eventName: 'user.didFlag',
    eventType: 'user.didFlag',
    entities: { actorId: 'spam.account.42', targetType: 'user', targetId: 'spam.account.42', occurredAt: '2025-07-02T09:16:02.500Z' },
  },
  {
    sample: 'v3.comment.didFlag',
    envelope: 'standard',
    eventName: 'v3.comment.didFlag',
    eventType: 'comment.didFlag',
    entities: { actorId: 'spam.account.42', targetType: 'comment', targetId: '66510f0f0f0f0f0f0f0f0f31', occurredAt: '2025-07-02T11:58:12.640Z' },
  },
  {
    // The author of the flagged post, not flaggedUserId.
    sample: 'v3.post.didFlag',
    envelope: 'standard',
    eventName: 'v3.post.didFlag',
    eventType: 'post.didFlag',
    entities: { actorId: 'spam.account.42', targetType: 'post', targetId: '66510e0e0e0e0e0e0e0e0e21', occurredAt: '2025-07-02T13:09:45.300Z' },
  },
  {
    sample: 'video-streaming.didStart',
    envelope: 'standard',
    eventName: 'video-streaming.didStart',
    eventType: 'video-streaming.didStart',
    entities: { actorId: 'ops.bot', targetType: 'stream', targetId: '66511b1b1b1b1b1b1b1b1b51', occurredAt: '2025-07-02T15:00:02.000Z' },
  },
] as const;

describe('parseEvent: every sample in fixtures/samples', () => {
  it('the table covers every sample file', () => {
    expect(SAMPLES.map((s) => s.sample).sort()).toEqual([...SAMPLE_NAMES]);
  });

  describe.each(SAMPLES)('$sample', ({ sample, envelope, eventName, eventType, entities }) => {
    const raw = sampleBody(sample);
    const parsed = parseEvent(raw);

    it(`is a ${envelope} envelope named ${eventName}, routed as ${eventType}`, () => {
      expect(parsed.envelope).toBe(envelope);
      expect(parsed.eventName).toBe(eventName);
      expect(parsed.eventType).toBe(eventType);
    });

    it('is known, not deprecated, not flagged', () => {
      expect(parsed.deprecated).toBe(false);
      expect(parsed.flags).toEqual([]);
    });

    it('keeps the parsed payload', () => {
      expect(parsed.payload).toEqual(JSON.parse(raw));
    });

    it('extracts actor, target and time', () => {
      expect(parsed.entities).toEqual(entities);
    });
  });
});

describe('normaliseEventType', () => {
  it.each([
    ['v3.post.didCreate', 'post.didCreate'],
    ['v5.message.didCreate', 'message.didCreate'],
    ['v12.comment.didFlag', 'comment.didFlag'],
    ['message.didCreate', 'message.didCreate'],
    ['v3.video-streaming.didRecord', 'video-streaming.didRecord'],
    // Only one leading `v<digits>.` is a version prefix.
    ['v3.v3.post.didCreate', 'v3.post.didCreate'],
    ['v.post.didCreate', 'v.post.didCreate'],
    ['V3.post.didCreate', 'V3.post.didCreate'],
    ['v3post.didCreate', 'v3post.didCreate'],
    ['post.v3.didCreate', 'post.v3.didCreate'],
  ])('%s → %s', (raw, normalised) => {
    expect(normaliseEventType(raw)).toBe(normalised);
  });
});

describe('parseEvent: deprecated legacy names', () => {
  it.each([
    ['message.created', 'message.created'],
    ['channel.created', 'channel.created'],
    ['channel.joined', 'channel.joined'],
    ['channel.membersAdded', 'channel.membersAdded'],
    ['v3.video-streaming.didRecord', 'video-streaming.didRecord'],
    ['v3.video-streaming.didStart', 'video-streaming.didStart'],
    ['v3.video-streaming.didStop', 'video-streaming.didStop'],
  ])('%s is kept, routed as %s and flagged deprecated (not unknown)', (name, eventType) => {
    const parsed = parseEvent(JSON.stringify({ event: name, data: {} }));
    expect(parsed.eventName).toBe(name);
    expect(parsed.eventType).toBe(eventType);
    expect(parsed.deprecated).toBe(true);
    expect(parsed.flags).toEqual([]);
  });

  it('the list is exactly docs/architecture.md §2', () => {
    expect([...DEPRECATED_EVENT_NAMES].sort()).toEqual([
      'channel.created',
      'channel.joined',
      'channel.membersAdded',
      'message.created',
      'v3.video-streaming.didRecord',
      'v3.video-streaming.didStart',
      'v3.video-streaming.didStop',
    ]);
  });

  it.each(['video-streaming.didRecord', 'v5.message.created', 'message.didCreate'])('%s is not deprecated', (name) => {
    expect(parseEvent(JSON.stringify({ event: name, data: {} })).deprecated).toBe(false);
  });

  it('a push-notification named message.created is not the deprecated chat event', () => {
    const parsed = parseEvent(sampleBody('push-notification.message.created'));
    expect(parsed.deprecated).toBe(false);
  });
});

describe('parseEvent: flagged bodies are kept, never thrown on', () => {
  it.each([
    ['truncated JSON', '{"event":"message.didCreate","data":{'],
    ['not JSON at all', 'hello'],
    ['empty string', ''],
    ['JSON with a trailing comma', '{"event":"message.didCreate",}'],
    ['two JSON documents', '{"event":"a.b"}{"event":"c.d"}'],
  ])('%s → invalid-json', (_label, body) => {
    expect(parseEvent(body)).toEqual({
      envelope: 'unknown',
      eventName: null,
      eventType: UNKNOWN_EVENT_TYPE,
      deprecated: false,
      flags: ['invalid-json'],
      payload: undefined,
      entities: {},
    });
  });

  it.each([
    ['an array', '[{"event":"message.didCreate"}]'],
    ['a string', '"message.didCreate"'],
    ['a number', '42'],
    ['null', 'null'],
    ['an empty object', '{}'],
    ['an empty event name', '{"event":"","data":{}}'],
    ['a non-string event', '{"event":42,"data":{}}'],
    ['an eventType that is not a push notification', '{"eventType":"message.didCreate","data":{}}'],
    ['a bare push-notification eventType', '{"eventType":"push-notification","data":{"eventName":"message.created"}}'],
  ])('%s → unknown-envelope, payload kept', (_label, body) => {
    const parsed = parseEvent(body);
    expect(parsed.envelope).toBe('unknown');
    expect(parsed.eventName).toBeNull();
    expect(parsed.eventType).toBe(UNKNOWN_EVENT_TYPE);
    expect(parsed.flags).toEqual(['unknown-envelope']);
    expect(parsed.payload).toEqual(JSON.parse(body));
    expect(parsed.entities).toEqual({});
  });

  it.each([
    ['a name not in the catalog', { event: 'v3.story.didCreate', data: {} }, 'story.didCreate', 'v3.story.didCreate'],
    ['a typo', { event: 'message.didCreated', data: {} }, 'message.didCreated', 'message.didCreated'],
    [
      'a push notification with an unknown name',
      { eventType: 'push-notification.created', data: { eventName: 'story.created' } },
      'push-notification.story.created',
      'push-notification.story.created',
    ],
    [
      'a push notification with no name',
      { eventType: 'push-notification.created', data: {} },
      'push-notification.unknown',
      'push-notification.unknown',
    ],
  ])('%s → unknown-event-type, still routed by its name', (_label, payload, eventType, eventName) => {
    const parsed = parseEvent(JSON.stringify(payload));
    expect(parsed.envelope).not.toBe('unknown');
    expect(parsed.eventType).toBe(eventType);
    expect(parsed.eventName).toBe(eventName);
    expect(parsed.flags).toEqual(['unknown-event-type']);
  });

  it('every catalog name is known, with or without a version prefix', () => {
    for (const name of KNOWN_EVENT_TYPES) {
      expect(parseEvent(JSON.stringify({ event: name, data: {} })).flags).toEqual([]);
      expect(parseEvent(JSON.stringify({ event: `v3.${name}`, data: {} })).flags).toEqual([]);
    }
  });

  it('parsePayload reads an already parsed body the same way', () => {
    const raw = sampleBody('v3.post.didCreate');
    expect(parsePayload(JSON.parse(raw))).toEqual(parseEvent(raw));
  });

  it('a missing or odd data object yields no entities, not an error', () => {
    expect(parseEvent('{"event":"message.didCreate"}').entities).toEqual({});
    expect(parseEvent('{"event":"message.didCreate","data":[1,2]}').entities).toEqual({});
    expect(parseEvent('{"event":"message.didCreate","data":{"messages":"nope"}}').entities).toEqual({});
  });
});

describe('parseEvent: the verification marker', () => {
  /** A sample's body with the marker added as its last top-level key. */
  const marked = (name: string, marker: unknown = { runId: 'run-1', seq: 1 }) =>
    JSON.stringify({ ...(JSON.parse(sampleBody(name)) as Record<string, unknown>), [VERIFICATION_MARKER_KEY]: marker });

  it('flags an event whose body has the top-level key, and parses it otherwise as without it', () => {
    const name = SAMPLE_NAMES[0] as string;
    const plain = parseEvent(sampleBody(name));
    const parsed = parseEvent(marked(name));
    expect(parsed.flags).toEqual([...plain.flags, 'verification']);
    expect({
      envelope: parsed.envelope,
      eventName: parsed.eventName,
      eventType: parsed.eventType,
      deprecated: parsed.deprecated,
      entities: parsed.entities,
    }).toEqual({
      envelope: plain.envelope,
      eventName: plain.eventName,
      eventType: plain.eventType,
      deprecated: plain.deprecated,
      entities: plain.entities,
    });
    expect((parsed.payload as Record<string, unknown>)[VERIFICATION_MARKER_KEY]).toEqual({ runId: 'run-1', seq: 1 });
  });

  it('is added after what parsing found, in every kind of envelope', () => {
    expect(parseEvent(`{"event":"v3.story.didCreate","data":{},"${VERIFICATION_MARKER_KEY}":{}}`).flags).toEqual([
      'unknown-event-type',
      'verification',
    ]);
    expect(parseEvent(`{"hello":"world","${VERIFICATION_MARKER_KEY}":{"runId":"r","seq":2}}`).flags).toEqual(['unknown-envelope', 'verification']);
    expect(parseEvent(`{"eventType":"push-notification.created","data":{},"${VERIFICATION_MARKER_KEY}":null}`).flags).toEqual([
      'unknown-event-type',
      'verification',
    ]);
  });

  it.each([
    ['no marker', sampleBody(SAMPLE_NAMES[0] as string)],
    ['the key nested under data', `{"event":"message.didCreate","data":{"${VERIFICATION_MARKER_KEY}":{"runId":"r","seq":1}}}`],
    ['the key as a string value', `{"event":"message.didCreate","data":{},"note":"${VERIFICATION_MARKER_KEY}"}`],
    ['an array holding a marked object', `[{"${VERIFICATION_MARKER_KEY}":{"runId":"r","seq":1}}]`],
    ['not JSON', `{"${VERIFICATION_MARKER_KEY}":`],
  ])('%s → not flagged verification', (_label, body) => {
    expect(parseEvent(body).flags).not.toContain('verification');
  });

  it('only an own key counts, not one inherited through the prototype', () => {
    const inherited = Object.create({ [VERIFICATION_MARKER_KEY]: { runId: 'r', seq: 1 } }) as Record<string, unknown>;
    inherited.event = 'message.didCreate';
    expect(isVerificationMarked(inherited)).toBe(false);
    expect(parsePayload(inherited).flags).not.toContain('verification');
    expect(isVerificationMarked({ [VERIFICATION_MARKER_KEY]: { runId: 'r', seq: 1 } })).toBe(true);
  });
});
