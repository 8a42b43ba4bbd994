/**
 * What `socialplus-webhooks erase` works on (docs/privacy.md): a target (local mode's folder, or the
 * deployed stack) is a list of stores, each of which finds what it holds of one user and erases it
 * one unit at a time. The runner (cli/erase/run.ts) drives them in order, records progress after
 * each unit so an interrupted run resumes, and writes the receipt when every store is done.
 *
 * Every method must be idempotent: `find` returns only what is still there, and `erase` of a unit
 * that is already gone removes nothing and succeeds. That is what makes a second run a no-op and a
 * run after a crash finish the job.
 */

/** One unit of work: an item key, an archive object, a queue message. Never personal data in `id`. */
export interface ErasureUnit {
  /** Stable within its store (an object key, an event id, a message id). */
  readonly id: string;
  /** How many of the user's records the unit holds (events in an object, items in a partition). */
  readonly records: number;
}

/** What erasing one unit did. */
export interface UnitResult {
  /** Records removed (0 when the unit was already gone). */
  readonly removed: number;
  /** Keys of archive objects written back without the user's lines. */
  readonly objectsRewritten?: readonly string[];
  /** Keys of archive objects (or object versions, as `key#versionId`) deleted. */
  readonly objectsDeleted?: readonly string[];
}

export interface ErasureStore {
  /**
   * Its name in progress lines, counts and the receipt: `event-store`, `handler-state`, `archive`,
   * `dead-letter-queue`, `local-queue`, `local-stream`… (a store's name, never a person's).
   */
  readonly name: string;
  /** What this store still holds of `userId`. */
  find(userId: string): Promise<readonly ErasureUnit[]>;
  /** Erases `unit`'s records of `userId`; a unit already gone succeeds with `removed: 0`. */
  erase(unit: ErasureUnit, userId: string): Promise<UnitResult>;
}

/** Where the runner keeps its progress and writes the receipt: the archive bucket, locally or on AWS. */
export interface ReceiptStore {
  /** Reads a JSON document, undefined when absent. */
  read(key: string): Promise<unknown>;
  write(key: string, document: unknown): Promise<void>;
  remove(key: string): Promise<void>;
  /** Where `key` is, for the user (`s3://bucket/key`, or a local path). */
  describe(key: string): string;
}

/** A target: its stores in the order they are erased, and its receipt store. */
export interface ErasureTarget {
  /** `local mode in <dir>` or `stack <name> in <region>`, for messages. */
  readonly description: string;
  readonly stores: readonly ErasureStore[];
  readonly receipts: ReceiptStore;
  /** Releases what the target opened (emulators, clients, locks). */
  close(): Promise<void>;
}
