/**
 * The inspector's ledger (local/inspector/ledger.ts): how each of the fan-out's notes changes what
 * the inspector lists, the rows read from the store at start, and its bounds.
 */
import { describe, expect, it } from 'vitest';
import type { HandlerRunRecord } from '../../lambda/core/ports.js';
import { Ledger, displayFlags, outcomeOf, type EventSummary, type InspectorNote, type InspectorRow } from '../../local/inspector/ledger.js';
import { eventSummary } from '../support/inspector-rows.js';

/** A 32-character event id from a short tag. */
const id = (tag: string): string => tag.padEnd(32, '0');

function summary(tag: string, over: Partial<EventSummary> = {}): EventSummary {
  return eventSummary({ eventId: id(tag), ...over });
}

const run = (outcome: HandlerRunRecord['outcome'], attempts = 1, error?: string): HandlerRunRecord => ({
  outcome,
  attempts,
  lastAt: '2026-12-02T10:00:01.000Z',
  durationMs: 4,
  ...(error !== undefined ? { error } : {}),
});

const stored = (tag: string, over: Partial<EventSummary> = {}, handlerRuns?: Record<string, HandlerRunRecord>): InspectorNote => ({
  kind: 'stored',
  event: summary(tag, over),
  created: handlerRuns === undefined,
  ...(handlerRuns ? { handlerRuns } : {}),
});

const attempt = (tag: string, handler: string, startedAt: string): InspectorNote => ({
  kind: 'attempt',
  eventId: id(tag),
  handler,
  startedAt,
  durationMs: 2,
  outcome: 'succeeded',
});

const seedRow = (tag: string, receivedAt: string, handlers: Record<string, HandlerRunRecord> = {}): InspectorRow => ({
  ...summary(tag, { receivedAt }),
  handlers,
});

describe('Ledger.apply', () => {
  it('stored: adds the event row without handler runs when the store created it', () => {
    const ledger = new Ledger();
    expect(ledger.apply(stored('a'))).toBe(id('a'));
    expect(ledger.row(id('a'))).toEqual({ ...summary('a'), handlers: {} });
    expect(ledger.size).toBe(1);
  });

  it('stored: an event the store already had comes with its handler runs', () => {
    const ledger = new Ledger();
    ledger.apply(stored('a', {}, { mailer: run('failed', 2, 'boom') }));
    expect(ledger.row(id('a'))?.handlers).toEqual({ mailer: run('failed', 2, 'boom') });
  });

  it('stored again: keeps the runs the ledger already has over the store read older, and adds the others', () => {
    const ledger = new Ledger();
    ledger.apply(stored('a'));
    ledger.apply({ kind: 'runs', eventId: id('a'), runs: { mailer: run('succeeded', 3) } });
    ledger.apply(stored('a', {}, { mailer: run('failed', 2), audit: run('succeeded') }));
    expect(ledger.row(id('a'))?.handlers).toEqual({ mailer: run('succeeded', 3), audit: run('succeeded') });
    expect(ledger.size).toBe(1);
  });

  it('runs: merges each handler last run into the row', () => {
    const ledger = new Ledger();
    ledger.apply(stored('a'));
    expect(ledger.apply({ kind: 'runs', eventId: id('a'), runs: { mailer: run('failed', 1, 'down') } })).toBe(id('a'));
    expect(ledger.apply({ kind: 'runs', eventId: id('a'), runs: { audit: run('succeeded') } })).toBe(id('a'));
    expect(ledger.apply({ kind: 'runs', eventId: id('a'), runs: { mailer: run('succeeded', 2) } })).toBe(id('a'));
    expect(ledger.row(id('a'))?.handlers).toEqual({ mailer: run('succeeded', 2), audit: run('succeeded') });
    expect(outcomeOf(ledger.row(id('a')) as InspectorRow)).toBe('succeeded');
  });

  it('runs: for an event without a row changes nothing', () => {
    const ledger = new Ledger();
    expect(ledger.apply({ kind: 'runs', eventId: id('b'), runs: { mailer: run('succeeded') } })).toBeUndefined();
    expect(ledger.row(id('b'))).toBeUndefined();
    expect(ledger.size).toBe(0);
  });

  it('attempt: keeps each run with its error, in order, without changing the row', () => {
    const ledger = new Ledger();
    ledger.apply(stored('a'));
    const failed: InspectorNote = {
      kind: 'attempt',
      eventId: id('a'),
      handler: 'mailer',
      startedAt: '2026-12-02T10:00:01.000Z',
      durationMs: 7,
      outcome: 'failed',
      error: { name: 'TypeError', message: 'x is undefined', stack: 'TypeError: x is undefined\n    at mailer.ts:3' },
    };
    expect(ledger.apply(failed)).toBeUndefined();
    expect(ledger.apply(attempt('a', 'mailer', '2026-12-02T10:00:02.000Z'))).toBeUndefined();
    const { kind: _kind, eventId: _eventId, ...first } = failed as Extract<InspectorNote, { kind: 'attempt' }>;
    expect(ledger.attemptsOf(id('a'))).toEqual([
      first,
      { handler: 'mailer', startedAt: '2026-12-02T10:00:02.000Z', durationMs: 2, outcome: 'succeeded' },
    ]);
    expect(ledger.row(id('a'))?.handlers).toEqual({});
    expect(ledger.attemptsOf(id('z'))).toEqual([]);
  });

  it('delivery: marks the row with how the event arrived', () => {
    const ledger = new Ledger();
    ledger.apply(stored('a'));
    expect(ledger.apply({ kind: 'delivery', eventId: id('a'), via: 'spill' })).toBe(id('a'));
    expect(ledger.row(id('a'))?.via).toBe('spill');
    expect(displayFlags(ledger.row(id('a')) as InspectorRow)).toEqual(['spill']);
  });

  it('delivery before the event is stored: kept, and applied when it is', () => {
    const ledger = new Ledger();
    expect(ledger.apply({ kind: 'delivery', eventId: id('a'), via: 'claim-check' })).toBeUndefined();
    expect(ledger.row(id('a'))).toBeUndefined();
    ledger.apply(stored('a'));
    expect(ledger.row(id('a'))?.via).toBe('claim-check');
    // Stored again (a redelivery): still the way it first arrived.
    ledger.apply(stored('a', {}, {}));
    expect(ledger.row(id('a'))?.via).toBe('claim-check');
    // Another event is not marked.
    ledger.apply(stored('b'));
    expect(ledger.row(id('b'))?.via).toBeUndefined();
  });
});

describe('Ledger.seed', () => {
  it('adds the rows the store holds and never replaces a row the fan-out noted', () => {
    const ledger = new Ledger();
    ledger.apply(stored('live', { receivedAt: '2026-12-02T10:00:00.000Z' }));
    ledger.apply({ kind: 'runs', eventId: id('live'), runs: { mailer: run('failed', 1, 'now') } });
    ledger.seed([
      seedRow('live', '2026-12-02T10:00:00.000Z', { mailer: run('succeeded', 1) }),
      seedRow('old', '2026-12-01T09:00:00.000Z', { mailer: run('succeeded', 1) }),
    ]);
    expect(ledger.row(id('live'))?.handlers).toEqual({ mailer: run('failed', 1, 'now') });
    expect(ledger.row(id('old'))).toEqual(seedRow('old', '2026-12-01T09:00:00.000Z', { mailer: run('succeeded', 1) }));
    expect(ledger.size).toBe(2);
  });

  it('a note about a seeded row applies to it', () => {
    const ledger = new Ledger();
    ledger.seed([seedRow('old', '2026-12-01T09:00:00.000Z', { mailer: run('failed', 2, 'x') })]);
    ledger.apply({ kind: 'runs', eventId: id('old'), runs: { mailer: run('succeeded', 3) } });
    expect(ledger.row(id('old'))?.handlers).toEqual({ mailer: run('succeeded', 3) });
  });

  it('when there are more than it keeps, the oldest seeded rows go, not the rows noted since start', () => {
    const ledger = new Ledger({ maxRows: 3 });
    ledger.apply(stored('live', { receivedAt: '2026-12-02T10:00:00.000Z' }));
    ledger.seed([seedRow('s2', '2026-12-01T02:00:00.000Z'), seedRow('s1', '2026-12-01T01:00:00.000Z'), seedRow('s3', '2026-12-01T03:00:00.000Z')]);
    expect(ledger.all().map((r) => r.eventId)).toEqual([id('live'), id('s3'), id('s2')]);
    // And the next live row pushes out the oldest left.
    ledger.apply(stored('next', { receivedAt: '2026-12-02T10:01:00.000Z' }));
    expect(ledger.all().map((r) => r.eventId)).toEqual([id('next'), id('live'), id('s3')]);
  });
});

describe('Ledger bounds', () => {
  it('keeps at most maxRows rows: the first noted goes, with its attempts', () => {
    const ledger = new Ledger({ maxRows: 2 });
    for (const [tag, minute] of [
      ['a', '01'],
      ['b', '02'],
    ] as const) {
      ledger.apply(stored(tag, { receivedAt: `2026-12-02T10:${minute}:00.000Z` }));
      ledger.apply(attempt(tag, 'mailer', `2026-12-02T10:${minute}:01.000Z`));
    }
    ledger.apply(stored('c', { receivedAt: '2026-12-02T10:03:00.000Z' }));
    expect(ledger.size).toBe(2);
    expect(ledger.row(id('a'))).toBeUndefined();
    expect(ledger.attemptsOf(id('a'))).toEqual([]);
    expect(ledger.attemptsOf(id('b'))).toHaveLength(1);
    expect(ledger.all().map((r) => r.eventId)).toEqual([id('c'), id('b')]);
  });

  it('keeps the last maxAttemptsPerEvent attempts of an event', () => {
    const ledger = new Ledger({ maxAttemptsPerEvent: 2 });
    ledger.apply(stored('a'));
    for (const s of ['01', '02', '03']) ledger.apply(attempt('a', 'mailer', `2026-12-02T10:00:${s}.000Z`));
    expect(ledger.attemptsOf(id('a')).map((a) => a.startedAt)).toEqual(['2026-12-02T10:00:02.000Z', '2026-12-02T10:00:03.000Z']);
  });

  it('keeps attempts of at most maxRows events that have no row', () => {
    const ledger = new Ledger({ maxRows: 2 });
    for (const tag of ['x', 'y', 'z']) ledger.apply(attempt(tag, 'mailer', '2026-12-02T10:00:01.000Z'));
    expect(ledger.attemptsOf(id('x'))).toEqual([]);
    expect(ledger.attemptsOf(id('y'))).toHaveLength(1);
    expect(ledger.attemptsOf(id('z'))).toHaveLength(1);
  });

  it('keeps deliveries of at most maxRows events not stored yet: the first noted goes', () => {
    const ledger = new Ledger({ maxRows: 2 });
    for (const tag of ['a', 'b', 'c']) ledger.apply({ kind: 'delivery', eventId: id(tag), via: 'spill' });
    for (const tag of ['a', 'b', 'c']) ledger.apply(stored(tag));
    expect(['a', 'b', 'c'].map((tag) => ledger.row(id(tag))?.via)).toEqual([undefined, 'spill', 'spill']);
  });

  it('keeps the last ten problems of a key, and at most maxProblems keys (the one least recently told of goes)', () => {
    const ledger = new Ledger({ maxProblems: 2 });
    const p = (n: number) => ({ at: `2026-12-02T10:00:${String(n).padStart(2, '0')}.000Z`, level: 'warn' as const, message: `problem ${n}` });
    for (let n = 0; n < 12; n++) ledger.problem('k1', p(n));
    expect(ledger.problemsOf('k1').map((x) => x.message)).toEqual(Array.from({ length: 10 }, (_, i) => `problem ${i + 2}`));
    ledger.problem('k2', { ...p(20), level: 'error', error: 'ECONNREFUSED' });
    // k1 is told of again: k2 is now the least recent.
    ledger.problem('k1', p(21));
    ledger.problem('k3', p(22));
    expect(ledger.problemsOf('k2')).toEqual([]);
    expect(ledger.problemsOf('k1')).toHaveLength(10);
    expect(ledger.problemsOf('k3')).toEqual([p(22)]);
  });
});

describe('Ledger.all', () => {
  it('lists the newest received first, and rows received at the same time by event id', () => {
    const ledger = new Ledger();
    ledger.apply(stored('c', { receivedAt: '2026-12-02T10:00:00.000Z' }));
    ledger.apply(stored('a', { receivedAt: '2026-12-02T10:00:00.000Z' }));
    ledger.apply(stored('d', { receivedAt: '2026-12-02T09:00:00.000Z' }));
    ledger.seed([seedRow('b', '2026-12-02T11:00:00.000Z')]);
    expect(ledger.all().map((r) => r.eventId)).toEqual([id('b'), id('a'), id('c'), id('d')]);
  });
});

describe('displayFlags', () => {
  const row = (over: Partial<InspectorRow>): InspectorRow => ({ ...summary('a'), handlers: {}, ...over });

  it('shows not-json for a body that is not JSON, keeps the stored flags and how the event arrived, sorted', () => {
    expect(displayFlags(row({ deprecated: true, flags: ['invalid-json', 'unknown-event-type'], via: 'spill' }))).toEqual([
      'deprecated',
      'not-json',
      'spill',
      'unknown-event-type',
    ]);
    expect(displayFlags(row({ flags: ['body-base64', 'payload-in-s3'], payloadRef: 'inbox/large/2026-12-02/x' }))).toEqual([
      'body-base64',
      'claim-check',
      'not-json',
      'payload-in-s3',
    ]);
    expect(displayFlags(row({}))).toEqual([]);
  });
});
