/**
 * The erasure runner (docs/privacy.md): drives a target's stores in order, one unit at a time,
 * records its progress in the archive bucket after each unit, and writes the receipt once every
 * store is done. A run interrupted at any point is finished by the next one (the progress document
 * keeps the counts and keys of what was already erased); a run that finds nothing writes nothing.
 * A dry run only finds, and reports what a run would remove. With `--also-future` the user's id
 * hash also goes on the suppression list, whose users' events the fan-out drops on arrival.
 */
import { ERASURES_PREFIX, erasureReceipt, receiptKey, userIdHash, type ErasureReceipt } from '../../lambda/core/privacy/receipt.js';
import { SUPPRESSION_LIST_KEY, suppressionListFrom, withUserIdHash } from '../../lambda/core/privacy/suppression.js';
import type { ErasureTarget, ErasureUnit, ReceiptStore } from './target.js';

/** Where an unfinished erasure keeps its progress: no personal data, the user named by the hash only. */
export function progressKey(hash: string): string {
  return `${ERASURES_PREFIX}in-progress/${hash}.json`;
}

/** What a run did, or (dry run) would do. */
export interface ErasureOutcome {
  readonly userIdHash: string;
  readonly dryRun: boolean;
  /** Records removed (or to remove) per store. */
  readonly counts: Readonly<Record<string, number>>;
  readonly objectsRewritten: readonly string[];
  readonly objectsDeleted: readonly string[];
  /** Units found per store (dry run: what a run would work through). */
  readonly units: Readonly<Record<string, number>>;
  /** The receipt written (not on a dry run, nor when nothing was found). */
  readonly receiptKey?: string;
  readonly receipt?: ErasureReceipt;
  /** Whether this run finished one a previous run had started. */
  readonly resumed: boolean;
  /** With `--also-future`: what became of the user on the suppression list (`would-add`: a dry run's). */
  readonly suppression?: 'added' | 'already-listed' | 'would-add';
}

/** The suppression list as `erase --also-future` changes it (docs/privacy.md). */
export interface SuppressionListUpdate {
  /** Whether the hash is on the list (all a dry run asks). */
  has(hash: string): Promise<boolean>;
  /** Puts the hash on the list, keeping every other entry, also one another operator adds meanwhile. */
  add(hash: string): Promise<'added' | 'already-listed'>;
  /** Where the list is, for messages. */
  readonly where: string;
}

/**
 * The suppression list through a target's receipt store (`erase` on local mode): a plain read and
 * write, which is safe because erase holds local mode's folder, so nobody else writes meanwhile.
 */
export function receiptStoreSuppressionList(receipts: ReceiptStore): SuppressionListUpdate {
  const read = async () => {
    const stored = await receipts.read(SUPPRESSION_LIST_KEY);
    return stored === undefined ? new Set<string>() : suppressionListFrom(stored);
  };
  return {
    has: async (hash) => (await read()).has(hash),
    async add(hash) {
      const { document, added } = withUserIdHash(await read(), hash);
      if (added) await receipts.write(SUPPRESSION_LIST_KEY, document);
      return added ? 'added' : 'already-listed';
    },
    where: receipts.describe(SUPPRESSION_LIST_KEY),
  };
}

export interface RunOptions {
  readonly userId: string;
  readonly dryRun?: boolean;
  /** Progress lines, e.g. to stderr. */
  readonly progress?: (line: string) => void;
  /** @default () => new Date() */
  readonly now?: () => Date;
  readonly toolVersion?: string;
  /**
   * `--also-future`: the list to put the user on. Done before anything is erased, so that no event
   * of the user's stored while the run works escapes both (docs/privacy.md); a dry run only checks it.
   */
  readonly alsoFuture?: SuppressionListUpdate;
}

interface Progress {
  readonly format: 'socialplus-webhooks/erasure-progress/v1';
  readonly userIdHash: string;
  readonly startedAt: string;
  counts: Record<string, number>;
  objectsRewritten: string[];
  objectsDeleted: string[];
}

function isProgress(v: unknown, hash: string): v is Progress {
  const p = v as Progress | undefined;
  return (
    typeof p === 'object' &&
    p !== null &&
    p.userIdHash === hash &&
    typeof p.startedAt === 'string' &&
    typeof p.counts === 'object' &&
    Array.isArray(p.objectsRewritten) &&
    Array.isArray(p.objectsDeleted)
  );
}

/** Erases `opts.userId` from every store of `target` (or, dry, says what it would erase). */
export async function runErasure(target: ErasureTarget, opts: RunOptions): Promise<ErasureOutcome> {
  const now = opts.now ?? (() => new Date());
  const say = opts.progress ?? (() => undefined);
  const hash = userIdHash(opts.userId);
  const key = progressKey(hash);
  const saved = await target.receipts.read(key);
  const resumed = isProgress(saved, hash);
  const progress: Progress = resumed
    ? saved
    : {
        format: 'socialplus-webhooks/erasure-progress/v1',
        userIdHash: hash,
        startedAt: now().toISOString(),
        counts: {},
        objectsRewritten: [],
        objectsDeleted: [],
      };
  if (resumed) say(`resuming the erasure started at ${progress.startedAt}`);

  let suppression: ErasureOutcome['suppression'];
  if (opts.alsoFuture !== undefined) {
    const list = opts.alsoFuture;
    suppression = opts.dryRun ? ((await list.has(hash)) ? 'already-listed' : 'would-add') : await list.add(hash);
    say(
      `suppression list (${list.where}): ${suppression === 'would-add' ? 'would add the user' : suppression === 'added' ? 'user added' : 'user already on it'}`,
    );
  }
  const listed = suppression === undefined ? {} : { suppression };

  const units: Record<string, number> = {};
  const found: Record<string, number> = {};
  for (const store of target.stores) {
    const todo: readonly ErasureUnit[] = await store.find(opts.userId);
    units[store.name] = todo.length;
    found[store.name] = todo.reduce((n, u) => n + u.records, 0);
    say(`${store.name}: ${todo.length === 0 ? 'nothing' : `${found[store.name]} record(s) in ${todo.length} unit(s)`}`);
    if (opts.dryRun || todo.length === 0) continue;
    let done = 0;
    for (const unit of todo) {
      const result = await store.erase(unit, opts.userId);
      progress.counts[store.name] = (progress.counts[store.name] ?? 0) + result.removed;
      progress.objectsRewritten.push(...(result.objectsRewritten ?? []));
      progress.objectsDeleted.push(...(result.objectsDeleted ?? []));
      // Saved after each unit: a crash loses at most the counts of the unit in hand, never its erasure.
      await target.receipts.write(key, progress);
      done++;
      if (done === todo.length || done % 25 === 0) say(`${store.name}: ${done}/${todo.length} done`);
    }
  }

  if (opts.dryRun) {
    return { userIdHash: hash, dryRun: true, counts: found, units, objectsRewritten: [], objectsDeleted: [], resumed, ...listed };
  }
  const erasedAnything = Object.values(progress.counts).some((n) => n > 0) || progress.objectsDeleted.length > 0;
  if (!erasedAnything && !resumed) {
    return { userIdHash: hash, dryRun: false, counts: {}, units, objectsRewritten: [], objectsDeleted: [], resumed, ...listed };
  }
  const finishedAt = now();
  const receipt = erasureReceipt({
    userId: opts.userId,
    startedAt: new Date(progress.startedAt),
    finishedAt,
    counts: Object.fromEntries(target.stores.map((s) => [s.name, progress.counts[s.name] ?? 0])),
    objectsRewritten: [...new Set(progress.objectsRewritten)],
    objectsDeleted: progress.objectsDeleted,
    ...(opts.toolVersion ? { toolVersion: opts.toolVersion } : {}),
  });
  const written = receiptKey(hash, finishedAt);
  await target.receipts.write(written, receipt);
  await target.receipts.remove(key);
  say(`receipt: ${target.receipts.describe(written)}`);
  return {
    userIdHash: hash,
    dryRun: false,
    counts: receipt.counts,
    units,
    objectsRewritten: receipt.objectsRewritten,
    objectsDeleted: receipt.objectsDeleted,
    receiptKey: written,
    receipt,
    resumed,
    ...listed,
  };
}
