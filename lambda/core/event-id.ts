import { createHash } from 'node:crypto';

/** Length of an event id in hex characters (128 bits of SHA-256). */
export const EVENT_ID_LENGTH = 32;

/**
 * The de-duplication key of an event: the first 32 hex characters of SHA-256 of the raw body.
 * Social Plus sends no event id, so the same delivery, a redelivery or a replay all map to one id.
 */
export function eventIdOf(rawBody: Uint8Array | string): string {
  return createHash('sha256').update(rawBody).digest('hex').slice(0, EVENT_ID_LENGTH);
}

export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-f]{32}$/.test(value);
}
