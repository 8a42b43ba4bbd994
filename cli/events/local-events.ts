/**
 * `events` in local mode: the store is dynalite's folder under local mode's state, read through
 * the running local mode's admin route, else opened directly while it is stopped
 * (`cli/state/local-store.ts`); `--type --day` reads the local archive with DuckDB.
 */
import { localPaths } from '../../local/paths.js';
import { locateArchive, QueryError, runArchiveQuery } from '../archive-query.js';
import { CliError } from '../errors.js';
import { openLocalStore, type LocalStore } from '../state/local-store.js';
import {
  notStored,
  queryIndex,
  readEvent,
  withHandlerRuns,
  withoutHandlerRuns,
  type EventDetail,
  type EventRow,
  type ListedEvent,
} from './event-store.js';
import { typeOnDayParams, typeOnDaySql, type EventsQuestion, type ListQuestion } from './question.js';
import { errorMessage } from '../../lambda/core/errors.js';

/** Runs `fn` on local mode's tables; a missing table reads as empty (`onMissingTable`). */
async function withLocalStore<T>(dir: string, fn: (store: LocalStore) => Promise<T>, onMissingTable: () => T): Promise<T> {
  const store = await openLocalStore(dir);
  try {
    return await fn(store);
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return onMissingTable();
    if (err instanceof CliError) throw err;
    throw new CliError(
      `cannot read local mode's event store (${store.via === 'dev' ? 'through the running dev' : `in ${localPaths(dir).dynamodb}`}): ${errorMessage(err)}`,
    );
  } finally {
    await store.close();
  }
}

/** Answers a listing question from local mode's folder `dir`. */
export async function localEvents(question: ListQuestion, limit: number, dir: string): Promise<EventRow[]> {
  if (question.kind !== 'type')
    return withLocalStore(
      dir,
      (store) => queryIndex(store.dynamodb, store.tables.events, question, limit),
      () => [],
    );
  const rows = await archiveEvents(question, limit, dir);
  if (rows.length === 0) return [];
  try {
    return await withLocalStore(
      dir,
      (store) => withHandlerRuns(store.dynamodb, store.tables.events, rows),
      () => withoutHandlerRuns(rows),
    );
  } catch (err) {
    // The archive answered; without the store the events are listed without their handlers.
    if (!(err instanceof CliError)) throw err;
    process.stderr.write(`note: handler runs not shown: ${err.message}\n`);
    return withoutHandlerRuns(rows);
  }
}

/** One event from local mode's store (`--id`). */
export async function localEvent(eventId: string, dir: string): Promise<EventDetail> {
  const found = await withLocalStore(
    dir,
    (store) => readEvent(store.dynamodb, store.tables.events, eventId),
    () => undefined,
  );
  if (!found) throw notStored(eventId, `local mode's store (${localPaths(dir).root})`);
  return found;
}

async function archiveEvents(question: Extract<EventsQuestion, { kind: 'type' }>, limit: number, dir: string): Promise<ListedEvent[]> {
  const archive = locateArchive(dir);
  if (archive.objects.length === 0) process.stderr.write(`note: no archive objects under ${archive.eventsDir} yet\n`);
  try {
    const result = await runArchiveQuery(typeOnDaySql(limit), archive.objects, typeOnDayParams(question));
    return result.rows as unknown as ListedEvent[];
  } catch (err) {
    if (err instanceof QueryError) throw new CliError(`reading the archive failed: ${err.message}`);
    throw err;
  }
}
