/**
 * The item-compression benchmark's pure parts (bench/lib/item-compression.ts): the leave-one-out
 * dictionary never holds the measured event, the "cut needed" arithmetic on a hand example, and
 * every method gives the payload back.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  catalogNamesDictionary,
  compressionMethods,
  cutNeeded,
  declaredFieldNames,
  leaveOneOutDictionary,
  shareInOneUnit,
  tailBytes,
} from '../../bench/lib/item-compression.js';
import { buildPayloads } from '../../cli/cost/payloads.js';

const SAMPLES = fileURLToPath(new URL('../../fixtures/samples/', import.meta.url));
const fixtures = new Map(
  readdirSync(SAMPLES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f.slice(0, -5), readFileSync(join(SAMPLES, f))] as const),
);
const compact = (body: Buffer) => JSON.stringify(JSON.parse(body.toString('utf8')));

describe('leaveOneOutDictionary', () => {
  it('holds the other samples but not the one left out', () => {
    const samples = new Map([
      ['a', Buffer.from('{"id":"only-in-a-7f3e"}')],
      ['b', Buffer.from('{"id":"only-in-b-91c2"}')],
      ['c', Buffer.from('{ "id": "only-in-c-55aa" }')],
    ]);
    const dict = leaveOneOutDictionary(samples, 'b').toString('utf8');
    expect(dict).not.toContain('only-in-b-91c2');
    expect(dict).toContain('only-in-a-7f3e');
    expect(dict).toContain('{"id":"only-in-c-55aa"}');
  });

  it('never contains a fixture it is built for, verbatim or compact', () => {
    for (const [name, body] of fixtures) {
      const dict = leaveOneOutDictionary(fixtures, name);
      expect(dict.length).toBeLessThanOrEqual(32 * 1024);
      expect(dict.includes(body), name).toBe(false);
      expect(dict.includes(Buffer.from(compact(body))), name).toBe(false);
    }
  });

  it('keeps the tail when over the window', () => {
    expect(tailBytes('abcdef', 4).toString()).toBe('cdef');
    expect(tailBytes('ab', 4).toString()).toBe('ab');
  });
});

describe('cut needed and share in one unit', () => {
  // Over 1,024 B by 0, 0, 76 and 176.
  const items = [900, 1000, 1100, 1200];

  it('counts the items of at most 1,024 B', () => {
    expect(shareInOneUnit(items)).toBe(0.5);
    expect(shareInOneUnit([1024, 1025])).toBe(0.5);
  });

  it('is the smallest cut that brings the share of items to 1 KB', () => {
    expect(cutNeeded(items, 0.5)).toBe(0);
    expect(cutNeeded(items, 0.75)).toBe(76);
    expect(cutNeeded(items, 0.9)).toBe(176);
    expect(cutNeeded(items, 1)).toBe(176);
  });
});

describe('compressionMethods', () => {
  const fieldCounts = declaredFieldNames('const x = {\n  userId: 1, // a comment: no\n  /* hidden: 2 */\n  channelId: 2,\n};\n');
  const catalogNames = catalogNamesDictionary(fieldCounts, ['message.didCreate']);
  const methods = compressionMethods({ fixtures: (sample) => leaveOneOutDictionary(fixtures, sample), catalogNames });

  it('reads declared field names, not commented ones', () => {
    expect([...fieldCounts.keys()].sort()).toEqual(['channelId', 'userId']);
  });

  it('gives every payload back, with and without a dictionary', () => {
    const grown = buildPayloads({ count: 5, secret: 's', minBytes: 2048, maxBytes: 2048, seed: 7 });
    const cases = [...[...fixtures].map(([sample, body]) => ({ sample, body })), ...grown.map((p) => ({ sample: p.sample, body: p.body }))];
    for (const m of methods)
      for (const c of cases) expect(m.decompress(m.compress(c.body, c.sample), c.sample).equals(c.body), `${m.label} on ${c.sample}`).toBe(true);
  });

  it("puts today's gzip first, as toItem writes it", () => {
    expect(methods[0]?.id).toBe('today');
    expect(methods[0]?.markerBytes).toBe(0);
  });
});
