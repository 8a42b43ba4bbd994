/**
 * Webhook source names: one per Social Plus network sending to the receiver, each with its own
 * secret and its own path (`POST /webhook/{source}`). Shared by the receiver, the fan-out and the
 * configuration, so none of them imports another for a name.
 */

/** Source name used for `POST /webhook`. */
export const DEFAULT_SOURCE = 'default';
/** Allowed webhook source names (path segment and config). */
export const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;
/** What the logs say for a path's source that is not a source name (the text itself is never logged). */
export const INVALID_SOURCE = '(not a source name)';
