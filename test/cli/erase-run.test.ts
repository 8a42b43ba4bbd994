/**
 * The erasure runner (cli/erase/run.ts) over in-memory stores: a run that stops half way is finished
 * by the next one with the counts of both in one receipt, a run that finds nothing writes nothing, a
 * dry run changes nothing; and the command's flags are checked before anything is opened.
 */
import { describe, expect, it } from 'vitest';
import { checkEraseOptions } from '../../cli/commands/erase.js';
import { progressKey, runErasure } from '../../cli/erase/run.js';
import type { ErasureStore } from '../../cli/erase/target.js';
import { userIdHash } from '../../lambda/core/privacy/receipt.js';
import { memoryReceipts, memoryTarget as target } from '../support/erasure.js';

const USER = 'u-17';

/** A store holding `records` of the user in units `a`, `b`, `c`…; `failOn` makes erasing that unit throw once. */
function memoryStore(name: string, units: Record<string, number>, failOn?: string): ErasureStore & { held: Record<string, number> } {
  const held = { ...units };
  let failed = false;
  return {
    name,
    held,
    find: async () =>
      Object.entries(held)
        .filter(([, n]) => n > 0)
        .map(([id, records]) => ({ id, records })),
    erase: async (unit) => {
      if (unit.id === failOn && !failed) {
        failed = true;
        throw new Error('the machine went away');
      }
      const removed = held[unit.id] ?? 0;
      held[unit.id] = 0;
      return removed > 0 ? { removed, objectsRewritten: [`events/${unit.id}.gz`] } : { removed: 0 };
    },
  };
}

const clock = (...isoTimes: string[]) => {
  const times = isoTimes.map((t) => new Date(t));
  return () => times.shift() ?? new Date('2026-01-01T00:10:00.000Z');
};

describe('runErasure', () => {
  it('resumes after a crash: the second run finishes, and one receipt has the counts of both', async () => {
    const receipts = memoryReceipts();
    const store = memoryStore('archive', { a: 2, b: 3, c: 1 }, 'b');
    const state = memoryStore('handler-state', { x: 4 });
    const t = target([store, state], receipts);
    await expect(runErasure(t, { userId: USER, now: clock('2026-01-01T00:00:00.000Z') })).rejects.toThrow('the machine went away');
    // What the first run did is saved, without the user's id.
    const saved = receipts.docs.get(progressKey(userIdHash(USER)));
    expect(saved).toMatchObject({ userIdHash: userIdHash(USER), startedAt: '2026-01-01T00:00:00.000Z', counts: { archive: 2 } });
    expect(JSON.stringify(saved)).not.toContain(USER);

    const lines: string[] = [];
    const done = await runErasure(t, { userId: USER, now: clock('2026-01-01T00:05:00.000Z'), progress: (l) => lines.push(l) });
    expect(done.resumed).toBe(true);
    expect(done.counts).toEqual({ archive: 6, 'handler-state': 4 });
    expect(done.receipt).toMatchObject({ startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:05:00.000Z' });
    expect(done.objectsRewritten).toEqual(['events/a.gz', 'events/b.gz', 'events/c.gz', 'events/x.gz']);
    expect(lines[0]).toBe('resuming the erasure started at 2026-01-01T00:00:00.000Z');
    expect(receipts.docs.has(progressKey(userIdHash(USER)))).toBe(false);
    expect(receipts.docs.get(done.receiptKey as string)).toEqual(done.receipt);
    expect(store.held).toEqual({ a: 0, b: 0, c: 0 });

    // A third run finds nothing and writes nothing.
    const before = [...receipts.docs.keys()];
    const again = await runErasure(t, { userId: USER });
    expect(again).toMatchObject({ counts: {}, resumed: false });
    expect(again.receiptKey).toBeUndefined();
    expect([...receipts.docs.keys()]).toEqual(before);
  });

  it('a dry run reports what each store holds and changes nothing', async () => {
    const receipts = memoryReceipts();
    const store = memoryStore('event-store', { a: 1, b: 1 });
    const dry = await runErasure(target([store], receipts), { userId: USER, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, counts: { 'event-store': 2 }, units: { 'event-store': 2 } });
    expect(store.held).toEqual({ a: 1, b: 1 });
    expect(receipts.docs.size).toBe(0);
  });
});

describe('erase flags', () => {
  it.each([
    [{}, 'erase needs --user <userId>'],
    [{ user: '  ' }, 'erase needs --user <userId>'],
    [{ user: ' u1' }, '--user has spaces around it'],
    [{ user: 'u1', from: '2026-13-01', aws: true }, "--from must be a date YYYY-MM-DD, got '2026-13-01'"],
    [{ user: 'u1', from: '2026-02-30', aws: true }, "--from must be a date YYYY-MM-DD, got '2026-02-30'"],
    [{ user: 'u1', from: '2026-02-02', to: '2026-02-01', aws: true }, '--from 2026-02-02 is after --to 2026-02-01'],
    [{ user: 'u1', stack: 'S' }, '--stack only apply with --aws'],
    [{ user: 'u1', aws: true, dir: '.local' }, "--dir names local mode's folder"],
  ])('refuses %j, naming the problem', (opts, message) => {
    expect(() => checkEraseOptions(opts)).toThrow(message);
  });

  it('returns the user id as given', () => {
    expect(checkEraseOptions({ user: 'Nok.S', aws: true, from: '2026-01-01', to: '2026-01-31' })).toBe('Nok.S');
  });
});
