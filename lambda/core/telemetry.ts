/** Structured fields attached to a log line. Never put a secret or a whole payload here at INFO. */
export type LogFields = Record<string, unknown>;

/** The logging port the core writes to; adapters decide where lines go. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Counters for the outcomes of DESIGN §2 and §4, with low-cardinality dimensions only. */
export interface Metrics {
  count(name: MetricName, value?: number, dimensions?: Record<string, string>): void;
}

export type MetricName =
  | 'Received' | 'Accepted' | 'LegacyDropped' | 'SignatureMissing' | 'SignatureInvalid' | 'SignatureRejected' | 'EmptyBody'
  | 'SignatureFormBase64' | 'SignatureFormHex' | 'SignatureFormJsonBase64' | 'SignatureFormJsonHex'
  | 'UnknownSource' | 'SecretNotConfigured' | 'EnqueueFailed' | 'ClaimChecked' | 'Spilled' | 'SpillFailed'
  | 'RecordsReceived' | 'Archived' | 'ArchiveFailed' | 'Stored' | 'Duplicate' | 'StoreFailed'
  | 'Flagged' | 'HandlerSucceeded' | 'HandlerFailed'
  | 'Undecodable' | 'BlobFetchFailed' | 'PayloadCopied' | 'SpillDrained';

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
export const noMetrics: Metrics = { count() {} };

/**
 * A logger that adds `fields` to every line it writes: how one event's correlation id (its event
 * id, plus the API Gateway request id that brought it) reaches every line logged for it, the
 * lines of the handlers it is dispatched to included. A line's own fields win over these, so a
 * handler may still log about another event by naming its id.
 */
export function withLogFields(logger: Logger, fields: LogFields): Logger {
  const merge = (own: LogFields | undefined): LogFields => (own === undefined ? fields : { ...fields, ...own });
  return {
    debug: (message, own) => logger.debug(message, merge(own)),
    info: (message, own) => logger.info(message, merge(own)),
    warn: (message, own) => logger.warn(message, merge(own)),
    error: (message, own) => logger.error(message, merge(own)),
  };
}
