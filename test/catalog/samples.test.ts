/**
 * Every event name of the catalog can be simulated: the generator (`lambda/core/catalog/sample.ts`)
 * builds a payload for each name the catalog exports, that payload passes its own schema with no
 * issue, and the envelope parser and the router give it its normalised name, known, and deliver it
 * to a handler subscribed to that name. The names come from the catalog's exported lists, never
 * from a list written here.
 */
import { describe, expect, it } from 'vitest';
import { DEPRECATED_EVENT_NAMES, KNOWN_EVENT_TYPES, PUSH_NOTIFICATION_NAMES, PUSH_NOTIFICATION_PREFIX } from '../../lambda/core/event-names.js';
import { EVENT_SCHEMAS, readTypedPayload, schemaFor } from '../../lambda/core/catalog/index.js';
import { findSampleName, generateSample, catalogSampleNames } from '../../lambda/core/catalog/sample.js';
import { normaliseEventType, parseEvent } from '../../lambda/core/envelope.js';
import { matchesPattern, route } from '../../lambda/core/routing.js';
import { sampleEvent } from '../../lambda/fanout/kit/testing.js';

/** Every name the catalog exports: its typed names (routing, raw `v3.`, push), its routing names, its deprecated raw names. */
const CATALOG_NAMES = [
  ...new Set([
    ...Object.keys(EVENT_SCHEMAS),
    ...KNOWN_EVENT_TYPES,
    ...DEPRECATED_EVENT_NAMES,
    ...PUSH_NOTIFICATION_NAMES.map((n) => `${PUSH_NOTIFICATION_PREFIX}.${n}`),
  ]),
].sort();

/** The routing name a name stands for: a push-notification name is its own; else without the version prefix. */
const routingName = (name: string): string => (name.startsWith(`${PUSH_NOTIFICATION_PREFIX}.`) ? name : normaliseEventType(name));

describe(`every event name of the catalog (${CATALOG_NAMES.length} names) has a generated sample`, () => {
  it.each(CATALOG_NAMES)('%s: passes its schema and is routed to its normalised name', (name) => {
    const sample = generateSample(name);
    const body = JSON.stringify(sample);
    const parsed = parseEvent(body);
    const eventType = routingName(name);

    // The real envelope parsing: the normalised name, known, deprecated exactly when the raw name is.
    expect(parsed.eventType).toBe(eventType);
    expect(parsed.flags).toEqual([]);
    expect(parsed.deprecated).toBe(parsed.eventName !== null && DEPRECATED_EVENT_NAMES.has(parsed.eventName));
    // A raw or deprecated spelling is sent as given; a routing name as Social Plus sends it.
    if (name !== eventType || DEPRECATED_EVENT_NAMES.has(name)) expect(parsed.eventName).toBe(name);
    expect(parsed.entities.occurredAt).toMatch(/^\d{4}-\d\d-\d\dT/);

    // Its own schema (the name's, and the routing name's the fan-out reads with), no issue, nothing lost.
    const own = (EVENT_SCHEMAS as unknown as Record<string, { safeParse(v: unknown): { success: boolean } }>)[name];
    if (own) expect(own.safeParse(sample).success).toBe(true);
    const read = readTypedPayload(parsed.eventType, parsed.payload);
    expect(schemaFor(parsed.eventType)).toBeDefined();
    expect(read).toMatchObject({ typed: true, issues: [] });
    expect(read.payload).toEqual(sample);

    // The real routing: a handler naming the event (by routing name and by the name given) gets it.
    expect(route([{ events: [eventType] }], parsed)).toHaveLength(1);
    expect(matchesPattern(name, parsed)).toBe(true);
    // Wildcards reach current events only.
    expect(matchesPattern('*', parsed)).toBe(!parsed.deprecated);
  });

  it('is deterministic for a seed, and another seed gives another sample of the same event', () => {
    for (const name of CATALOG_NAMES) {
      expect(generateSample(name, 42)).toEqual(generateSample(name, 42));
      const other = generateSample(name, 43);
      expect(other).not.toEqual(generateSample(name, 42));
      expect(parseEvent(JSON.stringify(other)).eventType).toBe(routingName(name));
    }
  });

  it('lists each routing name and each deprecated spelling once, for send --list', () => {
    const listed = catalogSampleNames();
    expect(new Set(listed.map((n) => n.name)).size).toBe(listed.length);
    expect(new Set(listed.map((n) => n.eventType))).toEqual(new Set(CATALOG_NAMES.map(routingName)));
    for (const deprecated of DEPRECATED_EVENT_NAMES) expect(listed.find((n) => n.name === deprecated)?.deprecated).toBe(true);
    for (const name of CATALOG_NAMES) expect(findSampleName(name)?.eventType).toBe(routingName(name));
  });

  it('keeps the ids of one sample consistent: the author is a user of the payload, a message path names its channel', () => {
    const post = generateSample('post.didFlag') as {
      data: {
        posts: Array<{ postedUserId: string; targetId: string }>;
        users: Array<{ userId: string }>;
        communities: Array<{ communityId: string }>;
      };
    };
    expect(post.data.users.map((u) => u.userId)).toContain(post.data.posts[0]?.postedUserId);
    expect(post.data.posts[0]?.targetId).toBe(post.data.communities[0]?.communityId);
    const message = generateSample('message.didCreate', 9) as {
      data: { messages: Array<{ channelId: string; path: string; messageId: string; userId: string }>; users: Array<{ userId: string }> };
    };
    const m = message.data.messages[0];
    expect(m?.path).toBe(`64e0aa11bb22cc33dd44ee55/chat/${m?.channelId}/${m?.messageId}`);
    expect(message.data.users[0]?.userId).toBe(m?.userId);
  });

  it('refuses a name outside the catalog and a bad seed', () => {
    expect(() => generateSample('message.didExplode')).toThrow("'message.didExplode' is not an event name of the catalog");
    expect(() => generateSample('message.didCreate', -1)).toThrow(RangeError);
  });
});

describe('sampleEvent (handler kit)', () => {
  it('still reads a shipped sample by its file name', () => {
    expect(sampleEvent('v5.message.didCreate').data.messages?.[0]?.creatorId).toBe('raj.p');
  });

  it('generates a sample for a catalog name with none shipped, typed by its name', () => {
    const event = sampleEvent('v3.post.didApprove', (e) => {
      e.data.posts![0]!.flagCount = 2;
    });
    expect(event.event).toBe('v3.post.didApprove');
    expect(event.data.posts?.[0]?.flagCount).toBe(2);
    expect(sampleEvent('follow.didAcceptRequest').data.status).toBe('accepted');
  });
});
