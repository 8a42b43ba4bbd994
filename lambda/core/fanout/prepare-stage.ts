/**
 * Stage 2 of a batch: each event's archive record and line, with a kept S3 copy of a payload too
 * large for an archive record or a store item (a claim check is one already; other bodies are
 * copied to `inbox/large/`). A copy that fails retries its record.
 */
import { archiveLine, type ArchiveRecord } from '../archive-layout.js';
import { errorMessage } from '../errors.js';
import { claimCheckKey } from '../inbox.js';
import { lineTooLong, needsPayloadCopy, pointerLine, toArchiveRecord } from './event-records.js';
import { exactBytes, type DecodedEvent } from './record.js';
import { DEFAULT_CONCURRENCY, mapLimited, type FanoutDeps, type StageResult } from './stage.js';

/** An event ready to store and archive. */
export interface PreparedEvent {
  /** The event, with `payloadRef` when an S3 copy of its payload is kept. */
  readonly event: DecodedEvent;
  /** Its archive record, built once: the store item is made from it too. */
  readonly record: ArchiveRecord;
  /** Its archive line, with the S3 key in place of a payload too large for a record. */
  readonly line: string;
}

/**
 * The prepared events, in order. The events of a record whose copy failed go no further (a
 * notification's other spills included): the record is retried whole.
 */
export async function prepareStage(events: readonly DecodedEvent[], deps: FanoutDeps): Promise<StageResult<PreparedEvent>> {
  const prepared = await mapLimited(events, deps.concurrency ?? DEFAULT_CONCURRENCY, async (e) => {
    try {
      return await prepare(e, deps);
    } catch (err) {
      deps.logger.error('could not keep an S3 copy of a large payload; will retry', {
        messageId: e.messageId,
        eventId: e.eventId,
        error: errorMessage(err),
      });
      return undefined;
    }
  });
  const failed = new Set(events.filter((_, i) => prepared[i] === undefined).map((e) => e.messageId));
  return {
    passed: prepared.filter((p): p is PreparedEvent => p !== undefined && !failed.has(p.event.messageId)),
    failed: [...failed],
  };
}

async function prepare(e: DecodedEvent, deps: FanoutDeps): Promise<PreparedEvent> {
  const record = toArchiveRecord(e);
  const line = archiveLine(record);
  if (!deps.blobs || !needsPayloadCopy(e, line)) return { event: e, record, line };
  let payloadRef = e.payloadRef;
  if (payloadRef === undefined) {
    payloadRef = claimCheckKey(new Date(e.receivedAt), e.eventId);
    await deps.blobs.put(payloadRef, exactBytes(e));
    deps.metrics.count('PayloadCopied');
  }
  return { event: { ...e, payloadRef }, record, line: lineTooLong(line) ? pointerLine(record, payloadRef) : line };
}
