/**
 * Stage 4 of a batch: what the archive lacks, in one put; the adapter retries the lines it
 * rejects. An event whose line was not taken waits: the copy that archives it is retried, and
 * nothing is dispatched for it.
 */
import { errorMessage } from '../errors.js';
import type { PreparedEvent } from './prepare-stage.js';
import type { FanoutDeps, StageResult } from './stage.js';
import type { StoredGroup } from './store-stage.js';

/** A stored event whose archive line, if it needed one, the archive has. */
export interface ArchivedGroup extends StoredGroup {
  /** The archive took the event's line in this batch (the store's `archivePending` is then cleared). */
  readonly archived: boolean;
}

/** The groups that may be dispatched, in order: those that needed no line, and those whose line was taken. */
export async function archiveStage(groups: readonly StoredGroup[], deps: FanoutDeps): Promise<StageResult<ArchivedGroup>> {
  const { logger, metrics } = deps;
  const toArchive = groups.filter((g) => g.archiveBy !== undefined);
  // Counted every batch, 0 included, as a batch with nothing to archive always was.
  if (toArchive.length === 0) {
    metrics.count('Archived', 0);
    return { passed: groups.map((g) => ({ ...g, archived: false })), failed: [] };
  }
  let taken: ReadonlySet<StoredGroup>;
  try {
    const { failedIndexes } = await deps.archive.putLines(toArchive.map((g) => (g.archiveBy as PreparedEvent).line));
    const rejected = new Set(failedIndexes);
    taken = new Set(toArchive.filter((_, i) => !rejected.has(i)));
    metrics.count('Archived', toArchive.length - rejected.size);
    if (rejected.size > 0) {
      metrics.count('ArchiveFailed', rejected.size);
      logger.error('archive rejected records after retries', { count: rejected.size });
    }
  } catch (err) {
    metrics.count('ArchiveFailed', toArchive.length);
    logger.error('archive unavailable; the events it lacks will be retried', { error: errorMessage(err), count: toArchive.length });
    taken = new Set();
  }
  // The copy that archives is the one retried; the event waits for it.
  const waiting = new Set(toArchive.filter((g) => !taken.has(g)));
  return {
    passed: groups.filter((g) => !waiting.has(g)).map((g) => ({ ...g, archived: taken.has(g) })),
    failed: [...waiting].map((g) => (g.archiveBy as PreparedEvent).event.messageId),
  };
}
