/**
 * The inspector's filters (local/inspector/query.ts): what the query string says, how a bad field
 * is reported and left out while the rest applies, which rows pass, and the chart's per-minute counts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { HandlerRunRecord } from '../../lambda/core/ports.js';
import type { InspectorRow } from '../../local/inspector/ledger.js';
import { DEFAULT_LIMIT, globMatches, matches, parseFilter, perMinute, select, type Filter } from '../../local/inspector/query.js';
import { inspectorRow } from '../support/inspector-rows.js';

const NOW = new Date('2026-12-02T10:30:20.000Z');

const row = inspectorRow;

const run = (outcome: HandlerRunRecord['outcome']): HandlerRunRecord => ({ outcome, attempts: 1, lastAt: '2026-12-02T10:00:01.000Z', durationMs: 3 });

const filter = (over: Partial<Filter> = {}): Filter => ({ outcome: 'any', limit: DEFAULT_LIMIT, ...over });

const parse = (query: Record<string, string>) => parseFilter(new URLSearchParams(query));

describe('parseFilter', () => {
  const GOOD: Record<string, string> = {
    type: 'message.*',
    user: 'mika.tan',
    target: 'post:p1',
    since: '1h',
    flag: 'spill',
    outcome: 'failed',
    id: 'abcd',
    limit: '50',
    from: '2026-12-02T10:00',
    to: '2026-12-02T11:00',
  };
  const GOOD_FILTER: Filter = {
    type: 'message.*',
    user: 'mika.tan',
    target: 'post:p1',
    since: '1h',
    flag: 'spill',
    outcome: 'failed',
    id: 'abcd',
    limit: 50,
    from: new Date('2026-12-02T10:00:00.000Z'),
    to: new Date('2026-12-02T11:00:00.000Z'),
  };

  it('reads every field, and an empty query as no filter', () => {
    expect(parse(GOOD)).toEqual({ filter: GOOD_FILTER, problems: [] });
    expect(parse({})).toEqual({ filter: { outcome: 'any', limit: DEFAULT_LIMIT }, problems: [] });
    // Blank fields are no filter; values are trimmed.
    expect(parse({ type: '  ', user: ' mika.tan ', outcome: '' })).toEqual({
      filter: { user: 'mika.tan', outcome: 'any', limit: DEFAULT_LIMIT },
      problems: [],
    });
  });

  const fallback: Partial<Record<keyof Filter, unknown>> = { outcome: 'any', limit: DEFAULT_LIMIT };
  it.each<[keyof Filter, string, string]>([
    ['type', 'message didCreate', "type: 'message didCreate' has a space; use a name or a pattern such as message.* or *.didFlag"],
    ['user', 'u'.repeat(257), 'user: longer than 256 characters'],
    ['target', 't'.repeat(257), 'target: longer than 256 characters'],
    ['since', '2h', "since: '2h' is not one of 5m, 15m, 1h, 24h"],
    [
      'flag',
      'invalid-json',
      "flag: 'invalid-json' is not one of deprecated, not-json, claim-check, spill, payload-in-s3, body-base64, undecodable, unknown-event-type, unknown-envelope, verification",
    ],
    ['outcome', 'broken', "outcome: 'broken' is not one of any, failed, succeeded, none"],
    ['id', 'abc', "id: 'abc' is not an event id or the start of one (4 or more letters, digits, - or _)"],
    ['id', '<script>', "id: '<script>' is not an event id or the start of one (4 or more letters, digits, - or _)"],
    ['limit', '0', "limit: '0' is not a whole number from 1 to 2000"],
    ['limit', '2001', "limit: '2001' is not a whole number from 1 to 2000"],
    ['limit', '1.5', "limit: '1.5' is not a whole number from 1 to 2000"],
    ['limit', 'ten', "limit: 'ten' is not a whole number from 1 to 2000"],
    ['limit', '1234567', 'limit: longer than 6 characters'],
    ['from', 'yesterday', "from: 'yesterday' is not a time; use UTC as 2026-12-02T10:00 (or add an offset, +01:00)"],
    ['from', '2026-02-30T10:00', "from: '2026-02-30T10:00' is not a time; use UTC as 2026-12-02T10:00 (or add an offset, +01:00)"],
    ['to', '2026-12-02T25:00', "to: '2026-12-02T25:00' is not a time; use UTC as 2026-12-02T10:00 (or add an offset, +01:00)"],
    ['to', '2026-04-31', "to: '2026-04-31' is not a time; use UTC as 2026-12-02T10:00 (or add an offset, +01:00)"],
    ['to', '2026-12-02T11:00 CET', "to: '2026-12-02T11:00 CET' is not a time; use UTC as 2026-12-02T10:00 (or add an offset, +01:00)"],
  ])('names the field of a bad %s (%j) and applies the others', (field, value, message) => {
    const { filter: f, problems } = parse({ ...GOOD, [field]: value });
    expect(problems).toEqual([message]);
    const { [field]: _left, ...rest } = GOOD_FILTER;
    expect(f).toEqual({ ...rest, ...(field in fallback ? { [field]: fallback[field] } : {}) });
  });

  it('reports from after (or at) to, and applies neither', () => {
    for (const [from, to] of [
      ['2026-12-02T11:00', '2026-12-02T10:00'],
      ['2026-12-02T10:00', '2026-12-02T10:00:00.000Z'],
    ]) {
      const { filter: f, problems } = parse({ ...GOOD, from: from as string, to: to as string });
      expect(problems).toEqual(['from: must be before to']);
      const { from: _f, to: _t, ...rest } = GOOD_FILTER;
      expect(f).toEqual(rest);
    }
  });

  it('reports each bad field at once', () => {
    const { filter: f, problems } = parse({ since: 'never', outcome: 'x', user: 'mika.tan' });
    expect(problems).toEqual(["since: 'never' is not one of 5m, 15m, 1h, 24h", "outcome: 'x' is not one of any, failed, succeeded, none"]);
    expect(f).toEqual({ user: 'mika.tan', outcome: 'any', limit: DEFAULT_LIMIT });
  });

  describe('times', () => {
    const saved = process.env.TZ;
    afterEach(() => {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    });

    it.each([
      ['2026-12-02', '2026-12-02T00:00:00.000Z'],
      ['2026-12-02T10:00', '2026-12-02T10:00:00.000Z'],
      ['2026-12-02 10:00', '2026-12-02T10:00:00.000Z'],
      ['2026-12-02T10:00:30.5', '2026-12-02T10:00:30.500Z'],
      ['2026-12-02T10:00Z', '2026-12-02T10:00:00.000Z'],
      ['2026-12-02T10:00+01:00', '2026-12-02T09:00:00.000Z'],
      ['2026-12-02T01:30+0200', '2026-12-01T23:30:00.000Z'],
      ['2026-12-02T20:30-05:00', '2026-12-03T01:30:00.000Z'],
      ['2024-02-29T12:00', '2024-02-29T12:00:00.000Z'],
    ])('reads %s as %s (UTC unless an offset is given), whatever the process time zone', (text, iso) => {
      for (const tz of ['UTC', 'America/Los_Angeles', 'Asia/Kolkata']) {
        process.env.TZ = tz;
        const { filter: f, problems } = parse({ from: text });
        expect(problems).toEqual([]);
        expect(f.from?.toISOString()).toBe(iso);
      }
    });
  });
});

describe('globMatches', () => {
  it.each<[string, string, boolean]>([
    ['message.*', 'message.didCreate', true],
    ['message.*', 'message.', true],
    ['message.*', 'messageXdidCreate', false],
    ['message.*', 'v3.message.didCreate', false],
    ['*.didFlag', 'post.didFlag', true],
    ['*.didFlag', 'v3.comment.didFlag', true],
    ['*.didFlag', 'post.didFlagged', false],
    ['*.didFlag', 'postXdidFlag', false],
    ['*', 'anything.at.all', true],
    ['*', '', true],
    ['post.didCreate', 'post.didCreate', true],
    ['post.didCreate', 'post.didCreated', false],
    ['post.didCreate', 'v3.post.didCreate', false],
    ['m*.did*', 'message.didAddReaction', true],
    ['Message.*', 'message.didCreate', false],
  ])('%s against %s: %s', (pattern, value, expected) => {
    expect(globMatches(pattern, value)).toBe(expected);
  });

  it.each<[string, string, string]>([
    ['a+b', 'a+b', 'aab'],
    ['(x)', '(x)', 'x'],
    ['[ab]', '[ab]', 'a'],
    ['a?', 'a?', 'a'],
    ['a|b', 'a|b', 'a'],
    ['^a$', '^a$', 'a'],
    ['a{2}', 'a{2}', 'aa'],
    ['\\d', '\\d', '1'],
    ['$x', '$x', 'x'],
  ])('takes the regular expression character in %s as itself', (pattern, itself, asRegExp) => {
    expect(globMatches(pattern, itself)).toBe(true);
    expect(globMatches(pattern, asRegExp)).toBe(false);
  });
});

describe('matches and select', () => {
  const m = (f: Partial<Filter>, r: InspectorRow, now = NOW) => matches(filter(f), r, now);

  it('type: a pattern against the routing name or the raw name', () => {
    const v3 = row({ eventType: 'post.didCreate', eventName: 'v3.post.didCreate' });
    expect(m({ type: 'post.*' }, v3)).toBe(true);
    expect(m({ type: 'v3.*' }, v3)).toBe(true);
    expect(m({ type: 'v3.post.didCreate' }, v3)).toBe(true);
    expect(m({ type: 'comment.*' }, v3)).toBe(false);
    // No raw name: only the routing name is matched.
    expect(m({ type: 'v3.*' }, row({ eventType: 'post.didCreate', eventName: null }))).toBe(false);
    expect(m({ type: 'post.*' }, row({ eventType: 'post.didCreate', eventName: null }))).toBe(true);
  });

  it('user: the actor id exactly', () => {
    expect(m({ user: 'mika.tan' }, row())).toBe(true);
    expect(m({ user: 'mika' }, row())).toBe(false);
    expect(m({ user: 'mika.tan' }, row({ actorId: null }))).toBe(false);
  });

  it('target: an id of any type, or type:id', () => {
    const r = row({ targetType: 'post', targetId: 'p1' });
    expect(m({ target: 'p1' }, r)).toBe(true);
    expect(m({ target: 'post:p1' }, r)).toBe(true);
    expect(m({ target: 'comment:p1' }, r)).toBe(false);
    expect(m({ target: 'p2' }, r)).toBe(false);
    expect(m({ target: 'p1' }, row({ targetType: null, targetId: null }))).toBe(false);
    // The type ends at the first colon: the id may hold more.
    expect(m({ target: 'channel:a:b' }, row({ targetType: 'channel', targetId: 'a:b' }))).toBe(true);
  });

  it('from (inclusive) and to (exclusive), in UTC or with an offset', () => {
    const r = row({ receivedAt: '2026-12-02T10:00:00.000Z' });
    const at = (query: Record<string, string>) => matches(parse(query).filter, r, NOW);
    expect(at({ from: '2026-12-02T10:00' })).toBe(true);
    expect(at({ from: '2026-12-02T10:00:00.001' })).toBe(false);
    expect(at({ to: '2026-12-02T10:00' })).toBe(false);
    expect(at({ to: '2026-12-02T10:00:00.001' })).toBe(true);
    // 11:00 at +01:00 is 10:00 UTC.
    expect(at({ from: '2026-12-02T11:00+01:00' })).toBe(true);
    expect(at({ to: '2026-12-02T11:00+01:00' })).toBe(false);
    expect(at({ from: '2026-12-02T05:00-05:00', to: '2026-12-02T05:01-05:00' })).toBe(true);
    expect(at({ from: '2026-12-02T09:59', to: '2026-12-02T10:00' })).toBe(false);
  });

  it('since: minutes back from the given now', () => {
    const now = new Date('2026-12-02T10:05:00.000Z');
    expect(m({ since: '5m' }, row({ receivedAt: '2026-12-02T10:00:00.000Z' }), now)).toBe(true);
    expect(m({ since: '5m' }, row({ receivedAt: '2026-12-02T09:59:59.999Z' }), now)).toBe(false);
    expect(m({ since: '15m' }, row({ receivedAt: '2026-12-02T09:59:59.999Z' }), now)).toBe(true);
    expect(m({ since: '1h' }, row({ receivedAt: '2026-12-02T09:05:00.000Z' }), now)).toBe(true);
    expect(m({ since: '1h' }, row({ receivedAt: '2026-12-02T09:04:59.999Z' }), now)).toBe(false);
    expect(m({ since: '24h' }, row({ receivedAt: '2026-12-01T10:05:00.000Z' }), now)).toBe(true);
    // The same row, a minute later, is out.
    expect(m({ since: '5m' }, row({ receivedAt: '2026-12-02T10:00:00.000Z' }), new Date('2026-12-02T10:06:00.000Z'))).toBe(false);
  });

  it.each<[string, Partial<InspectorRow>]>([
    ['deprecated', { deprecated: true }],
    ['not-json', { flags: ['invalid-json'] }],
    ['not-json', { flags: ['body-base64'] }],
    ['body-base64', { flags: ['body-base64'] }],
    ['claim-check', { via: 'claim-check' }],
    ['claim-check', { payloadRef: 'inbox/large/2026-12-02/0123456789abcdef0123456789abcdef' }],
    ['spill', { via: 'spill' }],
    ['payload-in-s3', { flags: ['payload-in-s3'], payloadRef: 'payloads/x' }],
    ['unknown-event-type', { flags: ['unknown-event-type'] }],
  ])('flag %s: a row shown with it', (flag, over) => {
    expect(m({ flag }, row(over))).toBe(true);
    expect(m({ flag }, row())).toBe(false);
  });

  it('flag: a row is not shown with flags it does not have', () => {
    expect(m({ flag: 'spill' }, row({ via: 'claim-check' }))).toBe(false);
    expect(m({ flag: 'claim-check' }, row({ via: 'spill', payloadRef: 'payloads/x' }))).toBe(false);
    expect(m({ flag: 'not-json' }, row({ flags: ['payload-in-s3'] }))).toBe(false);
    expect(m({ flag: 'deprecated' }, row({ flags: ['invalid-json'] }))).toBe(false);
  });

  it('outcome: failed if any handler failed, succeeded if all did, none if none ran', () => {
    const failed = row({ handlers: { a: run('succeeded'), b: run('failed') } });
    const succeeded = row({ handlers: { a: run('succeeded'), b: run('succeeded') } });
    const none = row({ handlers: {} });
    const pass = (outcome: Filter['outcome']) => [failed, succeeded, none].map((r) => m({ outcome }, r));
    expect(pass('failed')).toEqual([true, false, false]);
    expect(pass('succeeded')).toEqual([false, true, false]);
    expect(pass('none')).toEqual([false, false, true]);
    expect(pass('any')).toEqual([true, true, true]);
  });

  it('id: the start of the event id', () => {
    const r = row({ eventId: 'abcdef0123456789abcdef0123456789' });
    expect(m({ id: 'abcd' }, r)).toBe(true);
    expect(m({ id: 'abcdef0123456789abcdef0123456789' }, r)).toBe(true);
    expect(m({ id: 'bcde' }, r)).toBe(false);
  });

  it('every field must pass', () => {
    const r = row({ eventType: 'post.didFlag', actorId: 'u1', targetType: 'post', targetId: 'p1', handlers: { a: run('failed') } });
    expect(m({ type: '*.didFlag', user: 'u1', target: 'post:p1', outcome: 'failed' }, r)).toBe(true);
    expect(m({ type: '*.didFlag', user: 'u1', target: 'post:p1', outcome: 'succeeded' }, r)).toBe(false);
    expect(m({ type: '*.didFlag', user: 'u2', target: 'post:p1', outcome: 'failed' }, r)).toBe(false);
  });

  it('select keeps the rows in order, at most limit of them, and counts all that passed', () => {
    const rows = Array.from({ length: 7 }, (_, i) =>
      row({ eventId: `${String(i).repeat(4)}${'0'.repeat(28)}`, eventType: i % 2 === 0 ? 'post.didCreate' : 'message.didCreate' }),
    );
    const out = select(rows, filter({ type: 'post.*', limit: 2 }), NOW);
    expect(out.total).toBe(4);
    expect(out.rows.map((r) => r.eventId.slice(0, 4))).toEqual(['0000', '2222']);
    expect(select(rows, filter({ limit: 200 }), NOW)).toEqual({ rows, total: 7 });
    expect(select(rows, filter({ type: 'comment.*' }), NOW)).toEqual({ rows: [], total: 0 });
  });
});

describe('perMinute', () => {
  const at = (receivedAt: string, eventType = 'message.didCreate') => row({ receivedAt, eventType });

  it('has one bucket per minute, oldest first, the current minute last', () => {
    const out = perMinute([], NOW, 60);
    expect(out.minutes).toHaveLength(60);
    expect(out.minutes[0]?.toISOString()).toBe('2026-12-02T09:31:00.000Z');
    expect(out.minutes[59]?.toISOString()).toBe('2026-12-02T10:30:00.000Z');
    expect(out).toMatchObject({ series: [], max: 0 });
  });

  it('puts events at a minute edge in the minute they start, and leaves out those before the window and after now', () => {
    const out = perMinute(
      [
        at('2026-12-02T10:26:00.000Z'), // first minute of five
        at('2026-12-02T10:25:59.999Z'), // before the window
        at('2026-12-02T10:26:59.999Z'),
        at('2026-12-02T10:27:00.000Z'),
        at('2026-12-02T10:30:59.999Z'), // the current minute
        at('2026-12-02T10:31:00.000Z'), // the next minute: not yet
      ],
      NOW,
      5,
    );
    expect(out.minutes.map((d) => d.toISOString().slice(11, 16))).toEqual(['10:26', '10:27', '10:28', '10:29', '10:30']);
    expect(out.series).toEqual([{ type: 'message.didCreate', counts: [2, 1, 0, 0, 1], total: 4 }]);
    expect(out.max).toBe(2);
  });

  it('gives the busiest types a series each and sums the rest under other; max is the tallest stacked minute', () => {
    const rows = [
      ...['10:26', '10:26', '10:27'].map((t) => at(`2026-12-02T${t}:10.000Z`, 'a.x')),
      ...['10:26', '10:28'].map((t) => at(`2026-12-02T${t}:10.000Z`, 'b.x')),
      at('2026-12-02T10:26:10.000Z', 'd.x'),
      at('2026-12-02T10:30:10.000Z', 'c.x'),
    ];
    const out = perMinute(rows, NOW, 5, 3);
    expect(out.series).toEqual([
      { type: 'a.x', counts: [2, 1, 0, 0, 0], total: 3 },
      { type: 'b.x', counts: [1, 0, 1, 0, 0], total: 2 },
      // c.x and d.x tie on one each: under other together.
      { type: 'other (2 types)', counts: [1, 0, 0, 0, 1], total: 2 },
    ]);
    expect(out.max).toBe(4);
    // As many types as series: no other.
    expect(perMinute(rows, NOW, 5, 4).series.map((s) => s.type)).toEqual(['a.x', 'b.x', 'c.x', 'd.x']);
  });
});
