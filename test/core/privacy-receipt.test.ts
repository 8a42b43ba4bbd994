import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ERASURES_PREFIX,
  erasureReceipt,
  receiptIsFor,
  receiptKey,
  userIdHash,
  type ErasureReceiptInput,
} from '../../lambda/core/privacy/receipt.js';
import { jsonStrings } from '../support/json-strings.js';

const STARTED = new Date('2025-07-02T09:50:00.000Z');
const FINISHED = new Date('2025-07-02T09:54:03.221Z');
const KEYS = ['events/dt=2025-07-02/hour=09/socialplus-webhooks-archive-stream-1-2025-07-02-09-00-00-1f2e3d4c-aaaa-4bbb-8ccc-0123456789ab.gz'];

const input = (userId: string, extra: Partial<ErasureReceiptInput> = {}): ErasureReceiptInput => ({
  userId,
  startedAt: STARTED,
  finishedAt: FINISHED,
  counts: { archive: 3, store: 2 },
  objectsRewritten: KEYS,
  objectsDeleted: [],
  ...extra,
});

describe('userIdHash', () => {
  it('is hex SHA-256 of the domain-separated id, as the receipt states its scheme', () => {
    const expected = createHash('sha256').update('socialplus-webhooks/erasure/v1:nok.s', 'utf8').digest('hex');
    expect(userIdHash('nok.s')).toBe(expected);
    expect(erasureReceipt(input('nok.s')).userIdHashScheme).toBe('sha256-hex("socialplus-webhooks/erasure/v1:" + userId)');
    // Domain separation: not the bare id's hash.
    expect(userIdHash('nok.s')).not.toBe(createHash('sha256').update('nok.s').digest('hex'));
  });

  it('tells ids apart exactly (no trimming or case folding) and refuses an empty id', () => {
    expect(new Set(['nok.s', 'Nok.s', ' nok.s', 'nok.s '].map(userIdHash)).size).toBe(4);
    expect(() => userIdHash('')).toThrow(RangeError);
  });
});

describe('erasureReceipt', () => {
  it('holds the hash, the times, the counts and the keys, and nothing else', () => {
    const receipt = erasureReceipt(input('nok.s', { toolVersion: '0.1.0', objectsDeleted: ['inbox/large/b', 'inbox/large/a', 'inbox/large/b'] }));
    expect(JSON.parse(JSON.stringify(receipt))).toEqual({
      format: 'socialplus-webhooks/erasure-receipt/v1',
      userIdHash: userIdHash('nok.s'),
      userIdHashScheme: 'sha256-hex("socialplus-webhooks/erasure/v1:" + userId)',
      startedAt: '2025-07-02T09:50:00.000Z',
      finishedAt: '2025-07-02T09:54:03.221Z',
      dryRun: false,
      toolVersion: '0.1.0',
      counts: { archive: 3, store: 2 },
      objectsRewritten: KEYS,
      objectsDeleted: ['inbox/large/a', 'inbox/large/b'],
    });
    expect(receiptIsFor(receipt, 'nok.s')).toBe(true);
    expect(receiptIsFor(receipt, 'ben.w')).toBe(false);
    expect(erasureReceipt(input('nok.s', { dryRun: true })).dryRun).toBe(true);
  });

  it('never holds the user id, whatever it is (unless it is by chance part of a key, a name or its own hash)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 40 }), fc.boolean(), (userId, dryRun) => {
        const receipt = erasureReceipt(input(userId, { dryRun, toolVersion: '0.1.0' }));
        const json = JSON.stringify(receipt);
        const given = [
          ...KEYS,
          'archive',
          'store',
          '0.1.0',
          receipt.userIdHash,
          receipt.userIdHashScheme,
          receipt.format,
          receipt.startedAt,
          receipt.finishedAt,
        ];
        // What the receipt holds is only what it was given and its own constants.
        expect(jsonStrings(JSON.parse(json)).filter((s) => !given.includes(s) && !Object.keys(receipt).includes(s))).toEqual([]);
        fc.pre(![...given, ...Object.keys(receipt)].some((s) => s.includes(userId)));
        expect(json).not.toContain(userId);
        expect(json).not.toContain(JSON.stringify(userId).slice(1, -1));
      }),
    );
  });

  it.each([
    ['an invalid date', { finishedAt: new Date(Number.NaN) }],
    ['a finish before the start', { finishedAt: new Date(STARTED.getTime() - 1) }],
    ['a negative count', { counts: { archive: -1 } }],
    ['a fractional count', { counts: { archive: 1.5 } }],
  ])('refuses %s', (_what, extra) => {
    expect(() => erasureReceipt(input('nok.s', extra))).toThrow(RangeError);
  });
});

describe('receiptKey', () => {
  it('is erasures/<day>/<basic ISO time>-<16 hex of the hash>.json, by UTC', () => {
    const hash = userIdHash('nok.s');
    expect(receiptKey(hash, FINISHED)).toBe(`erasures/2025-07-02/20250702T095403.221Z-${hash.slice(0, 16)}.json`);
    expect(receiptKey(hash, new Date('2025-07-03T01:30:00+02:00'))).toBe(`erasures/2025-07-02/20250702T233000.000Z-${hash.slice(0, 16)}.json`);
  });

  it('names the day and instant it was given, under the receipts prefix, with no colon', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true }),
        fc.string(),
        (at, id) => {
          const key = receiptKey(userIdHash(id === '' ? 'x' : id), at);
          const m = /^erasures\/(\d{4}-\d{2}-\d{2})\/(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})\.(\d{3})Z-[0-9a-f]{16}\.json$/.exec(key);
          expect(m, key).not.toBeNull();
          const [, day, y, mo, d, h, mi, s, ms] = m as unknown as string[];
          expect(day).toBe(`${y}-${mo}-${d}`);
          expect(new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}Z`).getTime()).toBe(at.getTime());
          expect(key.startsWith(ERASURES_PREFIX)).toBe(true);
        },
      ),
    );
  });

  it('refuses what is not a userIdHash', () => {
    expect(() => receiptKey('nok.s', FINISHED)).toThrow(RangeError);
    expect(() => receiptKey(userIdHash('nok.s').toUpperCase(), FINISHED)).toThrow(RangeError);
  });
});
