/** Structured fields attached to a log line. Never put a secret or a whole payload here at INFO. */
export type LogFields = Record<string, unknown>;

/** The logging port the core writes to; adapters decide where lines go. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Counters for the outcomes of docs/architecture.md §2 and §4, with low-cardinality dimensions only. */
export interface Metrics {
  count(name: MetricName, value?: number, dimensions?: Record<string, string>): void;
}

/** The pipeline's own metric names, for code that needs them at run time (a handler may not reuse one). */
export const PIPELINE_METRIC_NAMES = [
  'Received',
  'Accepted',
  'LegacyDropped',
  'SignatureMissing',
  'SignatureInvalid',
  'SignatureRejected',
  'EmptyBody',
  'SignatureFormBase64',
  'SignatureFormHex',
  'SignatureFormJsonBase64',
  'SignatureFormJsonHex',
  'UnknownSource',
  'SecretNotConfigured',
  'EnqueueFailed',
  'ClaimChecked',
  'Spilled',
  'SpillFailed',
  'RecordsReceived',
  'Archived',
  'ArchiveFailed',
  'Stored',
  'Duplicate',
  'StoreFailed',
  'Flagged',
  'HandlerSucceeded',
  'HandlerFailed',
  'Undecodable',
  'BlobFetchFailed',
  'PayloadCopied',
  'SpillDrained',
  'Suppressed',
] as const;

/** A metric the pipeline publishes: a closed set, so a typo in the pipeline's code fails to compile. */
export type MetricName = (typeof PIPELINE_METRIC_NAMES)[number];

/**
 * The counters a handler gets as `ctx.metrics`: any name it chooses (a CloudWatch metric name, not
 * one of the pipeline's own), published in the pipeline's namespace under the handler's dimension
 * (`{ service: 'fanout', handler: <name> }`), as `HandlerSucceeded` is.
 */
export interface HandlerMetrics {
  /** Adds `value` (default 1) to the handler's metric `name`; a name that is not allowed is logged at ERROR and not published. */
  count(name: string, value?: number): void;
}

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
