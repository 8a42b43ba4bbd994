/**
 * In-memory stand-ins for the erasure runner's receipt store and target (cli/erase/target.ts), for
 * the runner's tests that need no S3 and no emulator.
 */
import type { ErasureStore, ErasureTarget, ReceiptStore } from '../../cli/erase/target.js';

/** A receipt store in a map (`docs`, open to the test); reads and writes copy, as a real store would. */
export function memoryReceipts(): ReceiptStore & { docs: Map<string, unknown> } {
  const docs = new Map<string, unknown>();
  return {
    docs,
    read: async (key) => structuredClone(docs.get(key)),
    write: async (key, doc) => void docs.set(key, structuredClone(doc)),
    remove: async (key) => void docs.delete(key),
    describe: (key) => `memory:${key}`,
  };
}

/** A target described as `memory`, over these stores and receipts, whose close does nothing. */
export const memoryTarget = (stores: ErasureStore[], receipts: ReceiptStore): ErasureTarget => ({
  description: 'memory',
  stores,
  receipts,
  close: async () => undefined,
});
