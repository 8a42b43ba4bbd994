import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEvent } from '../../lambda/core/envelope.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { COPY_FIELD, findSample, listSamples, resolvePayload, SAMPLES_DIR, varyBody } from '../../cli/fixtures.js';

const SAMPLE_FILES = readdirSync(SAMPLES_DIR).filter((f) => f.endsWith('.json')).sort();

describe('samples', () => {
  it('lists every fixture file by name', () => {
    expect(listSamples()).toEqual(SAMPLE_FILES.map((f) => f.slice(0, -'.json'.length)));
    expect(listSamples()).toContain('push-notification.message.created');
  });

  it.each([
    ['message.didCreate', 'message.didCreate'],
    ['v5.message.didCreate', 'v5.message.didCreate'],
    ['post.didCreate', 'v3.post.didCreate'],
    ['v3.comment.didCreate', 'v3.comment.didCreate'],
    ['community.didCreate', 'v3.community.didCreate'],
    ['user.didBan', 'user.didBan.inferred'],
    ['push-notification.message.created', 'push-notification.message.created'],
  ])('%s resolves to the sample %s', (name, sample) => {
    expect(findSample(name)).toBe(sample);
    const payload = resolvePayload(name);
    expect(payload.label).toBe(sample);
    expect(payload.body.equals(readFileSync(join(SAMPLES_DIR, `${sample}.json`)))).toBe(true);
  });

  it('finds nothing for an unknown name and says what exists', () => {
    expect(findSample('post.didExplode')).toBeUndefined();
    expect(() => resolvePayload('post.didExplode')).toThrow(/unknown sample 'post\.didExplode'; available samples: .*channel\.didBan/);
  });

  it('names a missing file', () => {
    expect(() => resolvePayload('./nowhere/event.json')).toThrow('file not found: ./nowhere/event.json');
  });
});

describe('varyBody', () => {
  it.each(SAMPLE_FILES)('copies of %s are distinct events of the same kind, copy 1 untouched', (file) => {
    const original = readFileSync(join(SAMPLES_DIR, file));
    const copies = [1, 2, 3, 50].map((n) => varyBody(original, n));

    expect(copies[0]).toBe(original);
    expect(new Set(copies.map((c) => eventIdOf(c))).size).toBe(copies.length);
    const before = parseEvent(original.toString('utf8'));
    for (const copy of copies) {
      const after = parseEvent(copy.toString('utf8'));
      expect(after.flags).toEqual(before.flags);
      expect(after.eventType).toBe(before.eventType);
      expect(after.entities.actorId).toBe(before.entities.actorId);
      expect(after.entities.targetId).toBe(before.entities.targetId);
    }
  });

  it('moves the occurred_at timestamp by copy - 1 ms, keeping the layout of the original', () => {
    const original = readFileSync(join(SAMPLES_DIR, 'message.didCreate.json'));
    const occurredAt = parseEvent(original.toString('utf8')).entities.occurredAt as string;
    const copy = varyBody(original, 5).toString('utf8');

    expect(parseEvent(copy).entities.occurredAt).toBe(new Date(Date.parse(occurredAt) + 4).toISOString());
    expect(copy.split('\n')).toHaveLength(original.toString('utf8').split('\n').length);
  });

  it('moves sentTime of a push notification', () => {
    const original = readFileSync(join(SAMPLES_DIR, 'push-notification.message.created.json'));
    const copy = JSON.parse(varyBody(original, 2).toString('utf8')) as { sentTime: string };
    const sentTime = (JSON.parse(original.toString('utf8')) as { sentTime: string }).sentTime;

    expect(Date.parse(copy.sentTime) - Date.parse(sentTime)).toBe(1);
  });

  it('adds a copy number when the body has no timestamp', () => {
    const body = Buffer.from('{"event":"tag.didCreate","data":{"tagId":"t1"}}');

    expect(JSON.parse(varyBody(body, 3).toString('utf8'))).toEqual({ event: 'tag.didCreate', data: { tagId: 't1' }, [COPY_FIELD]: 3 });
  });

  it('keeps bodies that are not JSON objects distinct too', () => {
    for (const raw of ['not json', '[1,2]']) {
      const body = Buffer.from(raw);
      const ids = [1, 2, 3].map((n) => eventIdOf(varyBody(body, n)));
      expect(new Set(ids).size).toBe(3);
    }
  });
});
