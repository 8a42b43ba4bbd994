/** The inspector's rows as its tests build them: one event's header, stored flags and handler runs, each field overridable. */
import type { EventSummary, InspectorRow } from '../../local/inspector/ledger.js';

/** The summary of a plain `message.didCreate` from mika.tan, received 2026-12-02 10:00 UTC. */
export function eventSummary(over: Partial<EventSummary> = {}): EventSummary {
  return {
    eventId: '0123456789abcdef0123456789abcdef',
    eventType: 'message.didCreate',
    eventName: 'message.didCreate',
    receivedAt: '2026-12-02T10:00:00.000Z',
    source: 'default',
    deprecated: false,
    actorId: 'mika.tan',
    targetType: 'message',
    targetId: 'm1',
    flags: [],
    payloadRef: null,
    ...over,
  };
}

/** {@link eventSummary} as a listed row, no handler run yet unless given. */
export function inspectorRow(over: Partial<InspectorRow> = {}): InspectorRow {
  return { ...eventSummary(over), handlers: {}, ...over };
}
