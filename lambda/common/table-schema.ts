/** The event store's key and index names (docs/architecture.md §5), shared by the stack and the adapter. */
export const TABLE = {
  partitionKey: 'PK',
  sortKey: 'SK',
  ttlAttribute: 'expiresAt',
  /** Sparse GSI: a user's activity in time order. */
  byActor: { indexName: 'byActor', partitionKey: 'actorPK', sortKey: 'actorSK' },
  /** Sparse GSI: a channel's, community's, post's or message's activity in time order. */
  byTarget: { indexName: 'byTarget', partitionKey: 'targetPK', sortKey: 'targetSK' },
  /** Attributes the GSIs project besides the keys (small, so index writes stay cheap). */
  projectedAttributes: ['eventType', 'receivedAt', 'source', 'actorId', 'targetType', 'targetId'],
} as const;

export const eventKey = (eventId: string) => ({ PK: `EVENT#${eventId}`, SK: 'EVENT' });
export const actorKey = (actorId: string) => `ACTOR#${actorId}`;
export const targetKey = (targetType: string, targetId: string) => `TARGET#${targetType}#${targetId}`;

/**
 * Key and TTL attribute names of the example handlers' state table (the stack creates the table
 * with these; `lambda/adapters/handler-state-table.ts` re-exports it). Here, free of the SDK, so
 * the stack can import it.
 */
export const HANDLER_STATE_TABLE = {
  partitionKey: 'PK',
  sortKey: 'SK',
  ttlAttribute: 'expiresAt',
} as const;
