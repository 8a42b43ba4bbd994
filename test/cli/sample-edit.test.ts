/**
 * The edits `send` makes before signing: `--set path=value` (paths, values, errors that name the
 * problem) and `--user` / `--channel`, which must change the id everywhere the payload names it, for
 * every generated sample of the catalog and for the shipped ones.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyEdits, formatPath, parseAssignment, parsePath, primaryChannelId, primaryUserId } from '../../cli/sample-edit.js';
import { SAMPLES_DIR, listSamples } from '../../cli/fixtures.js';
import { generateSample, catalogSampleNames } from '../../lambda/core/catalog/sample.js';
import { parsePayload } from '../../lambda/core/envelope.js';

type Json = Record<string, unknown>;

/** Every string of a payload, and every `/`-separated segment of one. */
function strings(node: unknown): string[] {
  if (typeof node === 'string') return [node, ...(node.includes('/') ? node.split('/') : [])];
  if (Array.isArray(node)) return node.flatMap(strings);
  if (typeof node === 'object' && node !== null) return Object.values(node).flatMap(strings);
  return [];
}

const shipped = (name: string): Json => JSON.parse(readFileSync(join(SAMPLES_DIR, `${name}.json`), 'utf8')) as Json;

describe('--set paths and values', () => {
  it.each([
    ['event', ['event']],
    ['data.messages[0].data.text', ['data', 'messages', 0, 'data', 'text']],
    ['data.users[10].roles[0]', ['data', 'users', 10, 'roles', 0]],
    ['data.metadata["a.b"]["x]y"].c', ['data', 'metadata', 'a.b', 'x]y', 'c']],
    ['["event"]', ['event']],
  ])('%s parses to %j and back', (text, path) => {
    expect(parsePath(text)).toEqual(path);
    expect(parsePath(formatPath(path))).toEqual(path);
  });

  it.each([
    ['', 'the path is empty'],
    ['data.', "it ends with '.'"],
    ['data..x', "'.' at 5 is not followed by a key"],
    ['data.[0]', "'.' at 5 is not followed by a key"],
    ['data.messages[0', "'[' at 14 is never closed"],
    ['data.messages[x]', '[x] is neither a list index nor a quoted key'],
    ['data.messages[0]x', "'x' after ']' at 17"],
    ['data]', "']' without '['"],
  ])('refuses the path %j: %s', (text, why) => {
    expect(() => parsePath(text)).toThrow(why);
  });

  it('reads the value as JSON when it parses, else as text', () => {
    expect(parseAssignment('a=9').value).toBe(9);
    expect(parseAssignment('a="9"').value).toBe('9');
    expect(parseAssignment('a=true').value).toBe(true);
    expect(parseAssignment('a=null').value).toBeNull();
    expect(parseAssignment('a={"b":[1]}').value).toEqual({ b: [1] });
    expect(parseAssignment('a=hello world').value).toBe('hello world');
    expect(parseAssignment('a=x=y').value).toBe('x=y');
    expect(parseAssignment('a=').value).toBe('');
    expect(() => parseAssignment('data.messages')).toThrow("--set takes path=value, got 'data.messages'");
  });

  it('sets existing and new fields and appends a list item, leaving the input alone', () => {
    const original = shipped('message.didFlag');
    const before = JSON.stringify(original);
    const edited = applyEdits(
      original,
      {
        set: ['data.messages[0].flagCount=9', 'data.messages[0].data.text=new text', 'data.reason="spam"', 'data.users[1]={"userId":"b"}'].map(
          parseAssignment,
        ),
      },
      'message.didFlag',
    ) as { data: { messages: Array<{ flagCount: number; data: { text: string } }>; reason: string; users: Json[] } };

    expect(edited.data.messages[0]?.flagCount).toBe(9);
    expect(edited.data.messages[0]?.data.text).toBe('new text');
    expect(edited.data.reason).toBe('spam');
    expect(edited.data.users[1]).toEqual({ userId: 'b' });
    expect(JSON.stringify(original)).toBe(before);
  });

  it.each([
    ['data.mesages[0].flagCount=1', 'data.mesages does not exist (did you mean data.messages?); data has messages, users'],
    ['data.messages[3].flagCount=1', 'data.messages[3] does not exist: data.messages has 1 item'],
    ['data.messages[2]=1', 'data.messages[2] does not exist: data.messages has 1 item (index 1 adds one)'],
    ['data.messages.flagCount=1', 'data.messages is a list: index it, e.g. data.messages[0]'],
    ['data[0]=1', 'data is an object, not a list: use a key, e.g. data.key'],
    ['event.name=1', "event is a string, so it has no key 'name'"],
  ])('names the problem with %s', (assignment, message) => {
    expect(() => applyEdits(shipped('message.didFlag'), { set: [parseAssignment(assignment)] }, 'message.didFlag')).toThrow(
      `--set ${assignment}: ${message}`,
    );
  });
});

describe('--user and --channel', () => {
  const NEW_USER = 'zed.quinn';
  const NEW_CHANNEL = 'brand-new-channel';

  /**
   * `--user` or `--channel` (`option`) set to `to` on the generated sample `name`: when `primaryOf`
   * finds no id to replace, the edit must fail with `none`; otherwise the id is gone, `to` is the
   * primary one, and nothing else changed. Returns the sample and the edited event, or undefined.
   */
  function expectReplacedEverywhere(
    name: string,
    option: 'user' | 'channel',
    to: string,
    primaryOf: (event: unknown) => string | undefined,
    none: string,
  ) {
    const sample = generateSample(name);
    const from = primaryOf(sample);
    if (from === undefined) {
      expect(() => applyEdits(sample, { [option]: to }, name)).toThrow(`--${option}: ${name} ${none}`);
      return undefined;
    }
    const edited = applyEdits(sample, { [option]: to }, name);
    expect(strings(edited)).not.toContain(from);
    expect(primaryOf(edited)).toBe(to);
    expect(JSON.stringify(edited).split(to).join(from)).toBe(JSON.stringify(sample));
    return { sample, edited };
  }

  it.each(catalogSampleNames().map((n) => n.name))('--user replaces the user of %s everywhere, or says there is none', (name) => {
    const replaced = expectReplacedEverywhere(name, 'user', NEW_USER, primaryUserId, 'names no user to replace');
    // The same event, its other people untouched: only the one id changed.
    if (replaced) expect(parsePayload(replaced.edited).eventType).toBe(parsePayload(replaced.sample).eventType);
  });

  it.each(catalogSampleNames().map((n) => n.name))('--channel replaces the chat channel of %s everywhere, or says there is none', (name) => {
    expectReplacedEverywhere(name, 'channel', NEW_CHANNEL, primaryChannelId, 'is about no chat channel');
  });

  it('applies to chat events: channel, message and moderation families have a channel', () => {
    for (const n of catalogSampleNames().filter((s) => ['channel', 'message', 'moderation'].includes(s.family))) {
      expect(primaryChannelId(generateSample(n.name)), n.name).toBeDefined();
    }
  });

  it.each(listSamples())('edits the shipped sample %s consistently too', (name) => {
    const sample = shipped(name);
    const user = primaryUserId(sample);
    const channelId = primaryChannelId(sample);
    const edited = applyEdits(sample, { ...(user ? { user: NEW_USER } : {}), ...(channelId ? { channel: NEW_CHANNEL } : {}) }, name);
    if (user) {
      expect(strings(edited)).not.toContain(user);
      expect(primaryUserId(edited)).toBe(NEW_USER);
    }
    if (channelId) {
      expect(strings(edited)).not.toContain(channelId);
      expect(primaryChannelId(edited)).toBe(NEW_CHANNEL);
    }
  });

  it('makes the user the one the event store indexes the event by (events --user)', () => {
    for (const name of ['message.didFlag', 'v3.post.didApprove', 'follow.didAcceptRequest', 'user.didClearFlag', 'channel.didRemoveUsers']) {
      expect(parsePayload(applyEdits(generateSample(name), { user: NEW_USER }, name)).entities.actorId, name).toBe(NEW_USER);
    }
  });

  it('applies --set after the ids, so --set wins', () => {
    const edited = applyEdits(shipped('message.didFlag'), { user: 'a', set: [parseAssignment('data.messages[0].userId=b')] }, 'message.didFlag') as {
      data: { messages: Array<{ userId: string }>; users: Array<{ userId: string }> };
    };
    expect(edited.data.messages[0]?.userId).toBe('b');
    expect(edited.data.users[0]?.userId).toBe('a');
  });

  it('refuses empty ids and payloads that are not objects', () => {
    expect(() => applyEdits(shipped('message.didFlag'), { user: ' ' }, 'x')).toThrow('--user is empty');
    expect(() => applyEdits(shipped('message.didFlag'), { channel: '' }, 'x')).toThrow('--channel is empty');
    expect(() => applyEdits([1, 2], { user: 'a' }, 'list.json')).toThrow('list.json is not a JSON object');
  });
});
