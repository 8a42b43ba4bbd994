/**
 * Stage 1 of a batch: each record back into its events, fetching what claim checks and S3
 * notifications point at. A fetch that fails retries only its record; a record that cannot be
 * decoded is kept, flagged. Then the events of users on the suppression list are dropped
 * (docs/privacy.md), before anything of them is stored, archived or dispatched.
 */
import { BlobNotFoundError, errorMessage, NoBlobStoreError } from '../errors.js';
import { fromBlobMetadata, parseInboxKey, type S3Notification } from '../inbox.js';
import { isSuppressed } from '../privacy/suppression.js';
import { toArchiveRecord } from './event-records.js';
import { decodeBody, decodeWithClaimCheck, planRecord, undecodableEvent, type DecodedEvent, type IncomingRecord } from './record.js';
import { DEFAULT_CONCURRENCY, mapLimited, type FanoutDeps, type StageResult } from './stage.js';

/** The events of the batch's records, in record order (a notification may name several, a test one none). */
export async function decodeStage(records: readonly IncomingRecord[], deps: FanoutDeps, now: Date): Promise<StageResult<DecodedEvent>> {
  const { logger, metrics } = deps;
  const perRecord = await mapLimited(records, deps.concurrency ?? DEFAULT_CONCURRENCY, async (r) => {
    try {
      return await resolveRecord(r, deps, now);
    } catch (err) {
      metrics.count('BlobFetchFailed');
      logger.error("could not read the record's body from the inbox; will retry", {
        messageId: r.messageId,
        eventId: r.attributes.eventId,
        error: errorMessage(err),
      });
      return undefined;
    }
  });
  const decoded = perRecord.flatMap((events) => events ?? []);
  for (const e of decoded) {
    if (!e.flags.includes('undecodable')) continue;
    metrics.count('Undecodable');
    logger.warn('record could not be decoded; it is kept flagged', { messageId: e.messageId, eventId: e.eventId, flags: e.flags });
  }
  return dropSuppressed({ passed: decoded, failed: records.filter((_, i) => perRecord[i] === undefined).map((r) => r.messageId) }, deps);
}

/**
 * Drops the events that name a user on the suppression list: acknowledged, and nothing of them
 * kept (storing them flagged would keep the very data the erasure removed); a spill they came from
 * is deleted, as a handled event's is. A list that cannot be read retries every record that
 * brought an event: failing closed, so a listed user's event never gets through for want of it.
 */
async function dropSuppressed(decoded: StageResult<DecodedEvent>, deps: FanoutDeps): Promise<StageResult<DecodedEvent>> {
  const { logger, metrics } = deps;
  if (deps.suppression === undefined || decoded.passed.length === 0) return decoded;
  let hashes: ReadonlySet<string>;
  try {
    hashes = await deps.suppression.userIdHashes();
  } catch (err) {
    const retried = [...new Set(decoded.passed.map((e) => e.messageId))];
    logger.error('could not read the suppression list; the records will be retried', { records: retried.length, error: errorMessage(err) });
    return { passed: [], failed: [...decoded.failed, ...retried] };
  }
  // The common case: nobody is listed, and nothing of the events is read.
  if (hashes.size === 0) return decoded;
  const kept: DecodedEvent[] = [];
  for (const e of decoded.passed) {
    // The body as parsing left it; where there is none (not JSON, not UTF-8, undecodable) the record's
    // payload is parsed as the erasure parses it, so what is dropped is what an erasure would remove.
    if (!isSuppressed(toArchiveRecord(e), hashes, e.parsed.payload)) {
      kept.push(e);
      continue;
    }
    metrics.count('Suppressed');
    // The event id only: the line must not say whose event it was.
    logger.info('event dropped: it names a user on the suppression list', { eventId: e.eventId });
    if (e.spillKey === undefined) continue;
    try {
      await deps.blobs?.delete(e.spillKey);
    } catch (err) {
      // Left for the spill lifecycle rule; a repeated notification finds it and drops it again.
      logger.warn('could not delete the spill of a dropped event', { eventId: e.eventId, spillKey: e.spillKey, error: errorMessage(err) });
    }
  }
  return { passed: kept, failed: decoded.failed };
}

/** Fetches what a record points at and decodes it; throws only for what a retry may fix. */
async function resolveRecord(record: IncomingRecord, deps: FanoutDeps, now: Date): Promise<DecodedEvent[]> {
  const plan = planRecord(record);
  if (plan.kind === 's3-notification') return resolveNotification(record, plan.notification, deps, now);
  return decodeWithClaimCheck(record, plan, now, async (key) => {
    if (!deps.blobs) throw new NoBlobStoreError(`record ${record.messageId} is a claim check`);
    try {
      return await deps.blobs.get(key);
    } catch (err) {
      if (err instanceof BlobNotFoundError) return undefined;
      throw err;
    }
  });
}

async function resolveNotification(record: IncomingRecord, n: S3Notification, deps: FanoutDeps, now: Date): Promise<DecodedEvent[]> {
  const { logger } = deps;
  if (n.kind === 'test') {
    logger.info('S3 test notification acknowledged', { messageId: record.messageId });
    return [];
  }
  const out: DecodedEvent[] = [];
  let malformed = false;
  for (const o of n.objects) {
    if (!o.eventName.startsWith('ObjectCreated:')) {
      logger.debug('S3 notification that creates nothing ignored', { messageId: record.messageId, s3Event: o.eventName });
      continue;
    }
    const ref = parseInboxKey(o.key);
    if (ref?.kind !== 'spill' || (deps.blobs?.bucket !== undefined && o.bucket !== deps.blobs.bucket)) {
      malformed = true;
      continue;
    }
    if (!deps.blobs) throw new NoBlobStoreError(`record ${record.messageId} announces a spilled event`);
    let blob;
    try {
      blob = await deps.blobs.get(o.key);
    } catch (err) {
      if (!(err instanceof BlobNotFoundError)) throw err;
      // Spills are deleted only after the event was stored and handled: a repeated notification
      // (S3 delivers at least once) finds it gone, and there is nothing left to do.
      logger.warn('spilled object already processed (or removed); nothing to do', {
        messageId: record.messageId,
        spillKey: o.key,
        eventId: ref.eventId,
      });
      continue;
    }
    out.push(
      decodeBody(
        blob.body,
        { messageId: record.messageId, attributes: fromBlobMetadata(blob.metadata), ...(record.sentAt ? { sentAt: record.sentAt } : {}) },
        now,
        { spillKey: o.key },
      ),
    );
  }
  // A notification naming objects that are not our spills is kept whole, flagged, once.
  if (malformed) out.push(undecodableEvent(record, 'pointer-malformed', now));
  return out;
}
