/**
 * The fan-out's core: a batch of queue records in, the records to retry out. Each stage is its
 * own module under `./fanout/` and returns what went on and what is to be retried; this module
 * composes them and is the public face of the fan-out (its exports are what adapters, local mode,
 * tools and tests use).
 */
import { archiveStage } from './fanout/archive-stage.js';
import { decodeStage } from './fanout/decode-stage.js';
import { dispatchStage } from './fanout/dispatch-stage.js';
import { prepareStage } from './fanout/prepare-stage.js';
import type { IncomingRecord } from './fanout/record.js';
import type { BatchResult, FanoutDeps } from './fanout/stage.js';
import { groupCopies, storeStage } from './fanout/store-stage.js';

export { headerOf, toArchiveRecord, toStoredEvent } from './fanout/event-records.js';
export { handlerMetrics } from './fanout/handler-metrics.js';
export {
  decodeBody,
  decodeRecord,
  deliveryKey,
  isReplay,
  parseReplayForce,
  planRecord,
  undecodableEvent,
  type DecodedEvent,
  type IncomingRecord,
  type RecordPlan,
  type UndecodableReason,
} from './fanout/record.js';
export type { BatchResult, FanoutDeps } from './fanout/stage.js';

/**
 * docs/architecture.md §4: decode each record (fetching claim-checked and spilled bodies); store each event
 * once (conditional put); archive, in one put for the batch, each event the archive does not have
 * yet; dispatch it to the handlers that have not yet succeeded for it and record their runs (an
 * event flagged `verification` goes to none); delete the spills that are done. Returns the
 * records to retry: those any stage gave up on.
 *
 * The archive holds each event once: a new event is archived by the delivery that stored it, and
 * only by that one (its retries, redeliveries and redrives keep its request id); the item says so
 * (`archivePending`) until the write that records the event's handler runs clears it. Other
 * deliveries of the same body, retries of a failing handler and replays (which come from the
 * archive) add no line. A crash after the archive took a line and before that write lands may
 * repeat the line when the record is retried.
 */
export async function processBatch(records: readonly IncomingRecord[], deps: FanoutDeps): Promise<BatchResult> {
  const now = (deps.now ?? (() => new Date()))();
  deps.metrics.count('RecordsReceived', records.length);
  const decoded = await decodeStage(records, deps, now);
  const prepared = await prepareStage(decoded.passed, deps);
  const stored = await storeStage(groupCopies(prepared.passed), deps, now);
  const archived = await archiveStage(stored.passed, deps);
  const dispatched = await dispatchStage(archived.passed, deps);
  const failed = new Set([decoded, prepared, stored, archived, dispatched].flatMap((stage) => stage.failed));
  return { failedMessageIds: records.map((r) => r.messageId).filter((id) => failed.has(id)) };
}
