/** Archive records (docs/architecture.md §6) for tests that write or read the archive. */
import type { ArchiveRecord } from '../../lambda/core/archive-layout.js';
import { parseEvent } from '../../lambda/core/envelope.js';
import { eventIdOf } from '../../lambda/core/event-id.js';

/**
 * The record the fan-out archives for `payload` received at `receivedAt` from the default source:
 * its id, names, flags and entities as parsing the payload finds them.
 */
export function archiveRecordOf(payload: string, receivedAt: Date | string, extra: Partial<ArchiveRecord> = {}): ArchiveRecord {
  const parsed = parseEvent(payload);
  return {
    eventId: eventIdOf(payload),
    eventType: parsed.eventType,
    eventName: parsed.eventName,
    receivedAt: typeof receivedAt === 'string' ? receivedAt : receivedAt.toISOString(),
    source: 'default',
    deprecated: parsed.deprecated,
    flags: parsed.flags,
    payload,
    ...parsed.entities,
    ...extra,
  };
}

/**
 * A record with a fixed header (a `message.didCreate` received at 2025-07-02T09:54:03.221Z from the
 * default source, no flags) whatever `payload` holds, for tests of the archive's format and
 * transport, which never parse the payload.
 */
export function fixedArchiveRecord(payload: string, extra: Partial<ArchiveRecord> = {}): ArchiveRecord {
  return {
    eventId: eventIdOf(payload),
    eventType: 'message.didCreate',
    eventName: 'message.didCreate',
    receivedAt: '2025-07-02T09:54:03.221Z',
    source: 'default',
    deprecated: false,
    flags: [],
    payload,
    ...extra,
  };
}
