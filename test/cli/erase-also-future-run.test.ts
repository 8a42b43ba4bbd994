/**
 * `erase --also-future` in the erasure runner (cli/erase/run.ts): the user goes on the suppression
 * list before any store is touched, also when nothing is found; a dry run only asks the list; a
 * list that cannot be written stops the run before it erases anything; and local mode's list,
 * kept through the receipt store, holds the hash once and never the id.
 */
import { describe, expect, it } from 'vitest';
import { receiptStoreSuppressionList, runErasure, type SuppressionListUpdate } from '../../cli/erase/run.js';
import type { ErasureStore } from '../../cli/erase/target.js';
import { userIdHash } from '../../lambda/core/privacy/receipt.js';
import { SUPPRESSION_LIST_FORMAT, SUPPRESSION_LIST_KEY } from '../../lambda/core/privacy/suppression.js';
import { memoryReceipts, memoryTarget as target } from '../support/erasure.js';

const USER = 'u-future-9';
const HASH = userIdHash(USER);

/** A store holding `records` of the user in one unit; each call is logged in `log`. */
function loggingStore(name: string, records: number, log: string[]): ErasureStore {
  let held = records;
  return {
    name,
    find: async () => {
      log.push(`${name}.find`);
      return held > 0 ? [{ id: 'u1', records: held }] : [];
    },
    erase: async () => {
      log.push(`${name}.erase`);
      const removed = held;
      held = 0;
      return { removed };
    },
  };
}

/** A list over `inner` that logs its calls in `log`. */
function loggingList(inner: SuppressionListUpdate, log: string[]): SuppressionListUpdate {
  return {
    has: async (hash) => {
      log.push('list.has');
      return inner.has(hash);
    },
    add: async (hash) => {
      log.push('list.add');
      return inner.add(hash);
    },
    where: inner.where,
  };
}

describe('runErasure with alsoFuture', () => {
  it('puts the user on the list before touching any store, and says so in the outcome', async () => {
    const log: string[] = [];
    const receipts = memoryReceipts();
    const list = loggingList(receiptStoreSuppressionList(receipts), log);
    const outcome = await runErasure(target([loggingStore('archive', 2, log)], receipts), { userId: USER, alsoFuture: list });
    expect(log).toEqual(['list.add', 'archive.find', 'archive.erase']);
    expect(outcome).toMatchObject({ suppression: 'added', counts: { archive: 2 } });
    expect(receipts.docs.get(SUPPRESSION_LIST_KEY)).toEqual({ format: SUPPRESSION_LIST_FORMAT, userIdHashes: [HASH] });
  });

  it('adds the user when nothing is found too, and a second run finds them listed', async () => {
    const receipts = memoryReceipts();
    const list = receiptStoreSuppressionList(receipts);
    const first = await runErasure(target([loggingStore('archive', 0, [])], receipts), { userId: USER, alsoFuture: list });
    expect(first).toMatchObject({ counts: {}, suppression: 'added' });
    expect(first.receiptKey).toBeUndefined();
    const second = await runErasure(target([loggingStore('archive', 0, [])], receipts), { userId: USER, alsoFuture: list });
    expect(second.suppression).toBe('already-listed');
    expect(receipts.docs.get(SUPPRESSION_LIST_KEY)).toEqual({ format: SUPPRESSION_LIST_FORMAT, userIdHashes: [HASH] });
    expect(JSON.stringify([...receipts.docs.values()])).not.toContain(USER);
  });

  it('a dry run only asks the list: would-add, or already-listed; it writes nothing', async () => {
    const log: string[] = [];
    const receipts = memoryReceipts();
    const list = loggingList(receiptStoreSuppressionList(receipts), log);
    const dry = await runErasure(target([loggingStore('archive', 1, log)], receipts), { userId: USER, dryRun: true, alsoFuture: list });
    expect(dry).toMatchObject({ dryRun: true, suppression: 'would-add', counts: { archive: 1 } });
    expect(log).toEqual(['list.has', 'archive.find']);
    expect(receipts.docs.has(SUPPRESSION_LIST_KEY)).toBe(false);

    await receiptStoreSuppressionList(receipts).add(HASH);
    const listed = await runErasure(target([loggingStore('archive', 1, [])], receipts), { userId: USER, dryRun: true, alsoFuture: list });
    expect(listed.suppression).toBe('already-listed');
  });

  it('a list that cannot be written stops the run before anything is erased', async () => {
    const log: string[] = [];
    const failing: SuppressionListUpdate = {
      has: async () => false,
      add: async () => {
        throw new Error('AccessDenied: s3:PutObject');
      },
      where: 'memory:list',
    };
    await expect(runErasure(target([loggingStore('archive', 3, log)], memoryReceipts()), { userId: USER, alsoFuture: failing })).rejects.toThrow(
      'AccessDenied',
    );
    expect(log).toEqual([]);
  });

  it('without alsoFuture, the outcome has no suppression field and no list is written', async () => {
    const receipts = memoryReceipts();
    const outcome = await runErasure(target([loggingStore('archive', 1, [])], receipts), { userId: USER });
    expect(Object.hasOwn(outcome, 'suppression')).toBe(false);
    expect(receipts.docs.has(SUPPRESSION_LIST_KEY)).toBe(false);
  });
});
