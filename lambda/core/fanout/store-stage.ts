/**
 * Stage 3 of a batch: each event stored once (conditional put). The store's answer says whether
 * the event is new, which handlers are done for it, and whether the archive still lacks it.
 */
import { errorMessage } from '../errors.js';
import type { PutResult } from '../ports.js';
import { toStoredEvent } from './event-records.js';
import type { PreparedEvent } from './prepare-stage.js';
import { deliveryKey, isReplay, type DecodedEvent } from './record.js';
import { DEFAULT_CONCURRENCY, eventLog, loggerFor, mapLimited, type FanoutDeps, type StageResult } from './stage.js';

/** The copies of one event in a batch (the same body in several records). */
export interface EventCopies {
  /** The copies, in record order; the first is stored, and is the one retried when handling fails. */
  readonly copies: readonly PreparedEvent[];
}

/** An event the store has, and what the store said. */
export interface StoredGroup extends EventCopies {
  readonly stored: PutResult;
  /** The copy whose line goes to the archive in this batch; undefined when the archive needs none. */
  readonly archiveBy?: PreparedEvent;
}

/** The event of a group: its first copy. */
export function firstEvent(g: EventCopies): DecodedEvent {
  return (g.copies[0] as PreparedEvent).event;
}

/** Copies of one event in the batch are stored, archived and dispatched once, and share the outcome. */
export function groupCopies(prepared: readonly PreparedEvent[]): EventCopies[] {
  const byId = new Map<string, PreparedEvent[]>();
  for (const p of prepared) {
    const copies = byId.get(p.event.eventId);
    if (copies) copies.push(p);
    else byId.set(p.event.eventId, [p]);
  }
  return [...byId.values()].map((copies) => ({ copies }));
}

/** The stored groups, in order; a put that fails retries the group's first copy. */
export async function storeStage(groups: readonly EventCopies[], deps: FanoutDeps, now: Date): Promise<StageResult<StoredGroup>> {
  const { logger, metrics } = deps;
  const stored = await mapLimited(groups, deps.concurrency ?? DEFAULT_CONCURRENCY, async (g): Promise<StoredGroup | undefined> => {
    const first = g.copies[0] as PreparedEvent;
    const e = first.event;
    const log = eventLog(e);
    let result: PutResult;
    try {
      result = await deps.store.putIfAbsent(toStoredEvent(e, deps.eventRetentionDays, now, first.record));
    } catch (err) {
      metrics.count('StoreFailed');
      logger.error('could not store event; will retry', { ...log, error: errorMessage(err) });
      return undefined;
    }
    const eventLogger = loggerFor(logger, e);
    if (result.created) {
      metrics.count('Stored');
      // One line per stored event, the fan-out's counterpart of the receiver's `accepted`.
      eventLogger.info('stored', { eventType: e.parsed.eventType, source: e.source });
      // `verification` labels a verify run's event; only the other flags make it unusual.
      if (e.flags.some((f) => f !== 'verification')) {
        metrics.count('Flagged');
        logger.warn('stored a flagged event', { ...log, flags: e.flags });
      }
    } else {
      metrics.count('Duplicate');
      eventLogger.info('duplicate: already stored; only handlers not yet done run', { handlersDone: [...result.handlersDone] });
    }
    const archiveBy = archiveCopy(g, result);
    return { ...g, stored: result, ...(archiveBy ? { archiveBy } : {}) };
  });
  return {
    passed: stored.filter((g): g is StoredGroup => g !== undefined),
    failed: groups
      .filter((_, i) => stored[i] === undefined)
      .map(firstEvent)
      .map((e) => e.messageId),
  };
}

/**
 * The copy whose line the archive needs, if it needs one: the stored copy of a new event; for an
 * event stored before, the copy of the delivery named in `archivePending` (that delivery stored it
 * and may have stopped before the archive took its line). Never a replay's copy: it came from the
 * archive.
 */
function archiveCopy(g: EventCopies, stored: PutResult): PreparedEvent | undefined {
  if (stored.created) {
    const p = g.copies[0] as PreparedEvent;
    return isReplay(p.event) ? undefined : p;
  }
  if (stored.archivePending === undefined) return undefined;
  return g.copies.find((c) => !isReplay(c.event) && deliveryKey(c.event) === stored.archivePending);
}
