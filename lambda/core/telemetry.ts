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
  | 'Received' | 'Accepted' | 'LegacyDropped' | 'SignatureMissing' | 'SignatureInvalid' | 'EmptyBody'
  | 'UnknownSource' | 'SecretNotConfigured' | 'EnqueueFailed' | 'ClaimChecked' | 'Spilled' | 'SpillFailed'
  | 'RecordsReceived' | 'Archived' | 'ArchiveFailed' | 'Stored' | 'Duplicate' | 'StoreFailed'
  | 'Flagged' | 'HandlerSucceeded' | 'HandlerFailed'
  | 'Undecodable' | 'BlobFetchFailed' | 'PayloadCopied' | 'SpillDrained';

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
export const noMetrics: Metrics = { count() {} };
