/**
 * Stages 5 and 6 of a batch: each stored (and archived) event to the handlers not yet done for it,
 * their runs recorded in one write; then a spilled event that is done loses its object, so
 * `inbox/spill/` holds only pending work.
 */
import type { HandlerContext, WebhookEnvelope } from '../define-handler.js';
import { UNKNOWN_EVENT_TYPE } from '../envelope.js';
import { errorMessage } from '../errors.js';
import { HANDLER_ERROR_MAX_CHARS, type HandlerRunRecord } from '../ports.js';
import { route } from '../routing.js';
import type { ArchivedGroup } from './archive-stage.js';
import { headerOf } from './event-records.js';
import { handlerMetrics } from './handler-metrics.js';
import { DEFAULT_CONCURRENCY, eventLog, forEachLimited, loggerFor, type FanoutDeps, type StageResult } from './stage.js';
import { firstEvent } from './store-stage.js';

/** The groups done, in order; a group whose handling must be retried retries its first copy. */
export async function dispatchStage(groups: readonly ArchivedGroup[], deps: FanoutDeps): Promise<StageResult<ArchivedGroup>> {
  const { logger, metrics } = deps;
  const ok = new Set<ArchivedGroup>();
  await forEachLimited(groups, deps.concurrency ?? DEFAULT_CONCURRENCY, async (g) => {
    const e = firstEvent(g);
    if (!(await dispatch(g, deps))) return;
    ok.add(g);
    for (const key of new Set(g.copies.map((c) => c.event.spillKey).filter((k): k is string => k !== undefined))) {
      try {
        await deps.blobs?.delete(key);
        metrics.count('SpillDrained');
      } catch (err) {
        // Harmless: a later notification or drain finds a duplicate and tries again.
        logger.warn('could not delete a processed spill object', { eventId: e.eventId, spillKey: key, error: errorMessage(err) });
      }
    }
  });
  return { passed: groups.filter((g) => ok.has(g)), failed: groups.filter((g) => !ok.has(g)).map((g) => firstEvent(g).messageId) };
}

/** Dispatches a stored (and archived) event and records the runs; false when its record must be retried. */
async function dispatch(g: ArchivedGroup, deps: FanoutDeps): Promise<boolean> {
  const e = firstEvent(g);
  const { stored } = g;
  const handlersDone: ReadonlySet<string> = stored.created ? new Set() : stored.handlersDone;
  const previousRuns: Readonly<Record<string, HandlerRunRecord>> = stored.created ? {} : stored.handlerRuns;
  const { logger, metrics } = deps;
  const log = eventLog(e);
  const eventLogger = loggerFor(logger, e);

  // A verification event (`socialplus-webhooks verify`) proves the path up to here: stored and
  // archived; it reaches no handler, so no action is ever taken on a test event.
  if (e.flags.includes('verification')) {
    eventLogger.debug('verification event: stored and archived, dispatched to no handler', { eventType: e.parsed.eventType, source: e.source });
    return true;
  }
  // Handlers get only events with a recognised envelope (or those that name 'unknown' exactly);
  // a body that is not JSON reaches none: it is stored and archived for a person to look at.
  if (e.parsed.payload === undefined) return true;
  const subscribers =
    e.parsed.envelope === 'unknown' ? deps.handlers.filter((h) => h.events.includes(UNKNOWN_EVENT_TYPE)) : route(deps.handlers, e.parsed);
  // Only handlers not yet done for the event run, and those a forced replay names.
  const forced = (name: string) => e.force === 'all' || (e.force !== undefined && e.force.has(name));
  if (e.force !== undefined && e.force !== 'all') {
    const unknown = [...e.force].filter((n) => !deps.handlers.some((h) => h.name === n));
    if (unknown.length > 0) eventLogger.warn('forced replay names handlers the fan-out does not have; ignored', { handlers: unknown });
  }
  const due = subscribers.filter((h) => !handlersDone.has(h.name) || forced(h.name));
  if (due.length === 0) return true;

  const clock = deps.clockMs ?? (() => performance.now());
  const wallClock = deps.now ?? (() => new Date());
  const header = headerOf(e);
  const runs: Record<string, HandlerRunRecord> = { ...previousRuns };
  const done: string[] = [];
  let allOk = true;
  for (const h of due) {
    const ctx: HandlerContext = { ...header, logger: eventLogger, metrics: handlerMetrics(h.name, metrics, eventLogger) };
    const attempts = (previousRuns[h.name]?.attempts ?? 0) + 1;
    const started = clock();
    let error: Error | undefined;
    try {
      await h.handle(e.parsed.payload as WebhookEnvelope, ctx);
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    const durationMs = Math.max(0, Math.round(clock() - started));
    const outcome = error === undefined ? 'succeeded' : 'failed';
    if (outcome === 'succeeded') done.push(h.name);
    runs[h.name] = {
      outcome,
      attempts,
      lastAt: wallClock().toISOString(),
      durationMs,
      ...(error !== undefined ? { error: error.message.slice(0, HANDLER_ERROR_MAX_CHARS) } : {}),
    };
    // One line per run, at DEBUG: which handler, which event (from the event's logger), how it went.
    eventLogger.debug('handler ran', { handler: h.name, outcome, durationMs, attempt: attempts });
    if (error === undefined) {
      metrics.count('HandlerSucceeded', 1, { handler: h.name });
    } else {
      allOk = false;
      metrics.count('HandlerFailed', 1, { handler: h.name });
      logger.error('handler failed; it alone will be retried', {
        ...log,
        handler: h.name,
        error: error.message,
        errorName: error.name,
        stack: error.stack,
        attempt: attempts,
        durationMs,
      });
    }
  }
  try {
    // One write per round: successes marked done, every run recorded, and the archive mark cleared
    // when this round archived the event.
    await deps.store.recordHandlerRuns(e.eventId, { runs, done, archived: g.archived });
  } catch (err) {
    // The handlers ran, but the outcome is not recorded: a retry runs those that succeeded again (at-least-once).
    logger.error('could not record handler outcomes; will retry', { ...log, error: errorMessage(err) });
    return false;
  }
  return allOk;
}
