import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseEvent } from '../../lambda/core/envelope.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { generateSample, catalogSampleNames } from '../../lambda/core/catalog/sample.js';
import { COPY_FIELD, editPayload, findSample, listSamples, resolvePayload, SAMPLES_DIR, sendableNames, varyBody } from '../../cli/fixtures.js';
import { parseAssignment } from '../../cli/sample-edit.js';

const SAMPLE_FILES = readdirSync(SAMPLES_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort();

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

  it("finds no shipped sample for an unknown name and lists the family's names", () => {
    expect(findSample('post.didExplode')).toBeUndefined();
    expect(() => resolvePayload('post.didExplode')).toThrow(
      /unknown event name 'post\.didExplode'; the post events are v3\.post\.didCreate, .*v3\.post\.didApprove/,
    );
  });

  it.each([
    ['message.didCreat', 'message.didCreate'],
    ['mesage.didFlag', 'message.didFlag'],
    ['v3.post.didAprove', 'v3.post.didApprove'],
    ['Follow.DidAcceptRequest', 'follow.didAcceptRequest'],
    ['didRoleChange', 'v3.community.didRoleChange'],
  ])('suggests the nearest name for %s', (typo, meant) => {
    expect(() => resolvePayload(typo)).toThrow(`unknown event name '${typo}': did you mean ${meant}?`);
  });

  it('sends a shipped sample for each name that has one, and generates the rest', () => {
    const names = sendableNames();
    expect(names.map((n) => n.name)).toEqual(catalogSampleNames().map((n) => n.name));
    for (const n of names) {
      const payload = resolvePayload(n.name);
      expect(payload.origin).toBe(n.shipped === undefined ? 'generated' : 'shipped');
      expect(parseEvent(payload.body.toString('utf8')).eventType).toBe(n.eventType);
      if (n.shipped === undefined) {
        expect(payload).toMatchObject({ label: n.name, seed: 1 });
        expect(JSON.parse(payload.body.toString('utf8'))).toEqual(generateSample(n.name, 1));
      }
    }
    // Every shipped sample but the v5 variant (message.didCreate has its own file) is what its name sends.
    expect(listSamples().filter((s) => !names.some((n) => n.shipped === s))).toEqual(['v5.message.didCreate']);
  });

  it.each([
    ['post.didApprove', 'v3.post.didApprove', false],
    ['v3.community.didRoleChange', 'v3.community.didRoleChange', false],
    ['channel.didRemoveUsers', 'channel.didRemoveUsers', false],
    ['user.didClearFlag', 'user.didClearFlag', false],
    ['message.didDelete', 'message.didDelete', false],
    ['v3.video-streaming.didStart', 'v3.video-streaming.didStart', true],
    ['message.created', 'message.created', true],
    ['push-notification.post.created', 'push-notification.created', false],
  ])('generates %s, sent as %s (deprecated: %s)', (name, sentAs, deprecated) => {
    const payload = resolvePayload(name);
    const parsed = parseEvent(payload.body.toString('utf8'));
    expect(payload.origin).toBe('generated');
    expect(parsed.flags).toEqual([]);
    expect(parsed.deprecated).toBe(deprecated);
    expect(
      parsed.envelope === 'push-notification' ? (JSON.parse(payload.body.toString('utf8')) as { eventType: string }).eventType : parsed.eventName,
    ).toBe(sentAs);
  });

  it('generates from --seed even where a sample is shipped, and refuses --seed for a shipped-only name', () => {
    const seeded = resolvePayload('message.didCreate', { seed: 5 });
    expect(seeded).toMatchObject({ origin: 'generated', seed: 5, label: 'message.didCreate' });
    expect(seeded.body.equals(resolvePayload('message.didCreate', { seed: 5 }).body)).toBe(true);
    expect(seeded.body.equals(resolvePayload('message.didCreate', { seed: 6 }).body)).toBe(false);
    expect(() => resolvePayload('v5.message.didCreate', { seed: 5 })).toThrow("'v5.message.didCreate' is a shipped sample only");
  });

  it('names a missing file', () => {
    expect(() => resolvePayload('./nowhere/event.json')).toThrow('file not found: ./nowhere/event.json');
  });
});

describe("a file of the user's own", () => {
  const dir = mkdtempSync(join(tmpdir(), 'fixtures-test-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is refused when it is not JSON, unless raw', () => {
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{"event":"message.didCreate",');

    expect(() => resolvePayload(file)).toThrow(`${file} is not JSON (`);
    expect(() => resolvePayload(file)).toThrow('not sent; to test how the receiver stores such a body (flagged invalid-json), send it with --raw');
    const raw = resolvePayload(file, { raw: true });
    expect(raw).toMatchObject({ origin: 'file', warnings: [] });
    expect(raw.body.toString('utf8')).toBe('{"event":"message.didCreate",');
  });

  it('is sent with a warning when it is JSON with no event name', () => {
    const file = join(dir, 'no-name.json');
    writeFileSync(file, '{"data":{}}');
    expect(resolvePayload(file).warnings).toEqual([
      `${file} has no "event" name; sending it anyway (the receiver archives it flagged unknown-envelope)`,
    ]);
  });
});

describe('editPayload', () => {
  it('leaves the bytes alone without edits', async () => {
    const payload = resolvePayload('message.didFlag');
    expect(await editPayload(payload, { set: [] })).toBe(payload);
  });

  it('re-serialises in the layout of the original and warns of values the catalog types otherwise', async () => {
    const payload = resolvePayload('message.didFlag');
    const edited = await editPayload(payload, { user: 'zed', set: [parseAssignment('data.messages[0].flagCount=lots')] });
    const text = edited.body.toString('utf8');

    expect(text.split('\n')).toHaveLength(payload.body.toString('utf8').split('\n').length);
    expect(parseEvent(text).entities.actorId).toBe('zed');
    expect(edited.warnings).toEqual([
      'after the edits data.messages.0.flagCount is not what the catalog types (invalid_type, expected number): the fan-out leaves that value out before handlers see it',
    ]);
  });

  it('warns when the edited name is outside the catalog', async () => {
    const edited = await editPayload(resolvePayload('message.didFlag'), { set: [parseAssignment('event=message.didFlagg')] });
    expect(edited.warnings).toEqual([
      "after the edits the event name 'message.didFlagg' is not in the catalog: the receiver stores it flagged unknown-event-type",
    ]);
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
