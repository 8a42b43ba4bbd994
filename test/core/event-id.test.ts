import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EVENT_ID_LENGTH, eventIdOf, isEventId } from '../../lambda/core/event-id.js';
import { SAMPLE_NAMES, sampleBody } from '../support/samples.js';

describe('eventIdOf', () => {
  it.each([
    // Computed outside Node (Python hashlib) over the same literal bytes.
    ['ASCII', Buffer.from('what do ya want for nothing?', 'utf8'), 'b381e7fec653fc3ab9b178272366b8ac'],
    [
      'multi-byte UTF-8',
      Buffer.from('{"event":"message.didCreate","data":{"messages":[{"messageId":"m2","data":{"text":"สวัสดี 👋🏽 日本語"}}]}}', 'utf8'),
      '5486a0dccf5161fa392f2b94f9cd8519',
    ],
    ['whitespace kept', Buffer.from('{ "event" : "post.didCreate",\n  "data": {"b":1,"a":2} }\n', 'utf8'), '3d5533c01db41ed489e79c75b5583a08'],
  ])('%s: the first 32 hex characters of SHA-256 of the raw bytes', (_label, bytes, id) => {
    expect(eventIdOf(bytes)).toBe(id);
    expect(eventIdOf(bytes.toString('utf8'))).toBe(id);
  });

  it.each(SAMPLE_NAMES)('sample %s: 32 lower-case hex characters, a prefix of the full digest', (name) => {
    const raw = sampleBody(name);
    const id = eventIdOf(raw);
    expect(id).toMatch(/^[0-9a-f]{32}$/);
    expect(id).toHaveLength(EVENT_ID_LENGTH);
    expect(createHash('sha256').update(raw, 'utf8').digest('hex').startsWith(id)).toBe(true);
    expect(isEventId(id)).toBe(true);
  });

  it('same bytes → same id; bytes that parse to the same JSON but differ → different ids', () => {
    const raw = sampleBody('message.didFlag');
    expect(eventIdOf(raw)).toBe(eventIdOf(Buffer.from(raw, 'utf8')));
    expect(eventIdOf(JSON.stringify(JSON.parse(raw)))).not.toBe(eventIdOf(raw));
  });

  it('samples all have distinct ids', () => {
    const ids = new Set(SAMPLE_NAMES.map((n) => eventIdOf(sampleBody(n))));
    expect(ids.size).toBe(SAMPLE_NAMES.length);
  });

  it('one byte changed → another id (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2048 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, delta) => {
        const changed = Uint8Array.from(bytes);
        const i = at % changed.length;
        changed[i] = ((changed[i] as number) + delta) % 256;
        expect(eventIdOf(changed)).not.toBe(eventIdOf(bytes));
        expect(eventIdOf(Uint8Array.from(bytes))).toBe(eventIdOf(bytes));
      }),
    );
  });
});

describe('isEventId', () => {
  it.each([
    ['b381e7fec653fc3ab9b178272366b8ac', true],
    ['B381E7FEC653FC3AB9B178272366B8AC', false],
    ['b381e7fec653fc3ab9b178272366b8a', false],
    ['b381e7fec653fc3ab9b178272366b8acd', false],
    ['g381e7fec653fc3ab9b178272366b8ac', false],
    [42, false],
    [undefined, false],
  ])('%s → %s', (value, expected) => {
    expect(isEventId(value)).toBe(expected);
  });
});
