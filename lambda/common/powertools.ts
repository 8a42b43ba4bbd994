/**
 * The functions' telemetry, built once per function at cold start: a Powertools Logger (JSON lines,
 * level from `LOG_LEVEL`, no debug sampling) and Powertools Metrics (CloudWatch embedded metric
 * format; `service` dimension from the metrics contract; namespace from `METRICS_NAMESPACE`, else
 * the contract's), adapted to the core's `Logger` and `Metrics` ports, and `instrument()`, which
 * wraps a Lambda handler so every invocation carries the Lambda context in its log lines and
 * flushes its metrics at the end.
 *
 * Tracing is not here on purpose: the X-Ray SDK behind Powertools Tracer is large, and only the
 * fan-out pays for it (`./tracing.ts`); the receiver's cold start stays small.
 */
import type { Context } from 'aws-lambda';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { MetricUnit, Metrics as PowertoolsMetrics } from '@aws-lambda-powertools/metrics';
import type { LogFields, Logger, MetricName, Metrics } from '../core/telemetry.js';
import { ENV, optionalEnv } from './env.js';
import type { LogLevel } from './logger.js';
import { METRICS_DIMENSIONS, METRICS_NAMESPACE, METRICS_SERVICE } from './metrics-contract.js';

/** Which function: also the value of the `service` dimension and of the log lines' `service` key. */
export type FunctionService = keyof typeof METRICS_SERVICE;

/**
 * Powertools names the default dimension `service`; the contract must agree, or the alarms would
 * look for metrics that never arrive. This fails to compile if the contract's name changes.
 */
const SERVICE_DIMENSION: 'service' = METRICS_DIMENSIONS.service;

/** Keys Powertools reserves for its own use; a field with one of these names is renamed, not dropped. */
const RESERVED_KEYS = new Set(['level', 'message', 'sampling_rate', 'service', 'timestamp']);

export interface TelemetryOptions {
  readonly service: FunctionService;
  /** @default `LOG_LEVEL` from `env`, else INFO */
  readonly logLevel?: LogLevel;
  /** @default `METRICS_NAMESPACE` from `env`, else the contract's METRICS_NAMESPACE */
  readonly namespace?: string;
  /** Where `LOG_LEVEL` and `METRICS_NAMESPACE` are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** Metrics port that buffers counts for the invocation; `flush` publishes them. */
export interface FlushableMetrics extends Metrics {
  /**
   * Publishes what was counted since the last flush as EMF lines on stdout and clears it. Writes
   * nothing when nothing was counted, and never throws (a failure is logged).
   */
  flush(): void;
}

export interface InstrumentOptions<E> {
  /**
   * Fields added to every log line of the invocation, from its event (the receiver's API Gateway
   * request id), so even lines the core writes before it knows the event id can be correlated.
   */
  readonly keys?: (event: E) => LogFields | undefined;
}

/** A function's telemetry: the ports the core writes to, and the wrapper for its handler. */
export interface FunctionTelemetry {
  readonly service: FunctionService;
  readonly logger: Logger;
  readonly metrics: FlushableMetrics;
  /** The Powertools instances underneath, for what the ports do not cover. */
  readonly powertools: { readonly logger: PowertoolsLogger; readonly metrics: PowertoolsMetrics };
  /**
   * Wraps a handler: adds the Lambda request id (`function_request_id`) and `cold_start` to the
   * log lines, adds `keys(event)` to them, logs an invocation that throws at ERROR, and flushes
   * the metrics when the invocation ends, however it ends.
   */
  instrument<E, R>(handler: (event: E) => Promise<R>, opts?: InstrumentOptions<E>): (event: E, context?: Context) => Promise<R>;
}

/** Reads `LOG_LEVEL`; an unknown value falls back to INFO and is reported in `invalid`. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv): { level: LogLevel; invalid?: string } {
  const raw = env[ENV.LOG_LEVEL]?.trim();
  if (raw === undefined || raw === '') return { level: 'INFO' };
  const upper = raw.toUpperCase();
  if (upper === 'DEBUG' || upper === 'INFO' || upper === 'WARN' || upper === 'ERROR') return { level: upper };
  return { level: 'INFO', invalid: raw };
}

/**
 * The receiver's per-invocation log keys: the API Gateway request id, which the queue message
 * carries on as the `requestId` attribute, so a line written before the event id is known (a
 * rejection) still correlates with API Gateway's access log.
 */
export function requestIdKeys(event: { readonly requestContext?: { readonly requestId?: string } | null }): LogFields | undefined {
  const requestId = event.requestContext?.requestId;
  return requestId ? { requestId } : undefined;
}

/** Builds a function's telemetry. Call once, at module scope (cold start). */
export function createTelemetry(opts: TelemetryOptions): FunctionTelemetry {
  const service = METRICS_SERVICE[opts.service];
  const env = opts.env ?? process.env;
  const fromEnv = logLevelFromEnv(env);
  const logLevel = opts.logLevel ?? fromEnv.level;
  const ptLogger = new PowertoolsLogger({ serviceName: service, logLevel, sampleRateValue: 0 });
  if (opts.logLevel === undefined && fromEnv.invalid !== undefined) {
    ptLogger.warn(`environment variable ${ENV.LOG_LEVEL} is '${fromEnv.invalid}', not one of DEBUG, INFO, WARN, ERROR: logging at INFO`);
  }
  // The stack may set another namespace (config `metricsNamespace`); its alarms read the same one.
  const namespace = opts.namespace ?? optionalEnv(env, ENV.METRICS_NAMESPACE) ?? METRICS_NAMESPACE;
  const ptMetrics = new PowertoolsMetrics({ namespace, serviceName: service, logger: ptLogger });
  const logger = toLoggerPort(ptLogger);
  const metrics = new EmfMetrics(ptMetrics, logger);
  // As Powertools counts it: the first invocation of an on-demand environment (Lambda's own
  // variable; provisioned concurrency and SnapStart initialise before any request waits).
  let coldStart = process.env.AWS_LAMBDA_INITIALIZATION_TYPE === 'on-demand';
  const takeColdStart = (): boolean => {
    const was = coldStart;
    coldStart = false;
    return was;
  };

  return {
    service: opts.service,
    logger,
    metrics,
    powertools: { logger: ptLogger, metrics: ptMetrics },
    instrument<E, R>(handler: (event: E) => Promise<R>, instrumentOpts: InstrumentOptions<E> = {}) {
      return async (event: E, context?: Context): Promise<R> => {
        // Only the request id and cold start, not Powertools' whole `addContext` (function name,
        // ARN, memory, version): the log group already names the function, and those ~250 bytes
        // on every line would be most of the log ingestion cost per event.
        if (context) ptLogger.appendKeys({ function_request_id: context.awsRequestId, cold_start: takeColdStart() });
        const keys = instrumentOpts.keys?.(event);
        if (keys) ptLogger.appendKeys(renameReserved(keys));
        try {
          return await handler(event);
        } catch (err) {
          logger.error('invocation failed', { error: describe(err) });
          throw err;
        } finally {
          metrics.flush();
          // Keys of this invocation must not label the next one's lines.
          ptLogger.resetKeys();
        }
      };
    },
  };
}

/** The core's logging port over a Powertools Logger. */
export function toLoggerPort(pt: PowertoolsLogger): Logger {
  const log = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string, fields?: LogFields) => {
    if (fields === undefined) pt[level](message);
    else pt[level](message, renameReserved(fields));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/**
 * Powertools drops a field named like one of its own keys and logs a warning each time; keep the
 * value under `field_<name>` instead. Allocates only when such a key is present.
 */
function renameReserved(fields: LogFields): LogFields {
  let out: LogFields | undefined;
  for (const key of Object.keys(fields)) {
    if (!RESERVED_KEYS.has(key)) continue;
    out ??= { ...fields };
    out[`field_${key}`] = out[key];
    delete out[key];
  }
  return out ?? fields;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

interface DimensionedCount {
  readonly name: MetricName;
  readonly dimensions: Readonly<Record<string, string>>;
  value: number;
}

/**
 * Sums counts during an invocation and publishes them at its end: one EMF line with every
 * undimensioned metric (dimension `service` only), and one single-metric EMF line per metric and
 * extra dimension set (`HandlerSucceeded` with `{ service, handler }`, and the metrics a handler
 * counts itself through `ctx.metrics`, which reach here with the same `handler` dimension), so a
 * handler's dimension never lands on the other metrics. Summing first keeps a 100-record batch to
 * a few lines. Names are typed as the pipeline's; a handler's own names are checked where they are
 * counted (`handlerMetrics` in `../core/fanout.ts`), and pass through here unchanged.
 */
class EmfMetrics implements FlushableMetrics {
  private readonly plain = new Map<MetricName, number>();
  private readonly dimensioned = new Map<string, DimensionedCount>();

  constructor(
    private readonly pt: PowertoolsMetrics,
    private readonly logger: Logger,
  ) {}

  count(name: MetricName, value = 1, dimensions?: Record<string, string>): void {
    if (!Number.isFinite(value)) return;
    const extra = dimensions === undefined ? [] : Object.entries(dimensions).filter(([k]) => k !== SERVICE_DIMENSION);
    if (extra.length === 0) {
      this.plain.set(name, (this.plain.get(name) ?? 0) + value);
      return;
    }
    extra.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const key = `${name}\u0000${JSON.stringify(extra)}`;
    const entry = this.dimensioned.get(key);
    if (entry) entry.value += value;
    else this.dimensioned.set(key, { name, dimensions: Object.fromEntries(extra), value });
  }

  flush(): void {
    if (this.plain.size === 0 && this.dimensioned.size === 0) return;
    try {
      for (const [name, value] of this.plain) this.pt.addMetric(name, MetricUnit.Count, value);
      if (this.pt.hasStoredMetrics()) this.pt.publishStoredMetrics();
      for (const { name, dimensions, value } of this.dimensioned.values()) {
        const single = this.pt.singleMetric();
        for (const [k, v] of Object.entries(dimensions)) single.addDimension(k, v);
        // A single-metric instance publishes as soon as its metric is added.
        single.addMetric(name, MetricUnit.Count, value);
      }
    } catch (err) {
      // Metrics must never fail an invocation whose work is done.
      this.logger.error('could not publish metrics', { error: describe(err) });
      try {
        this.pt.clearMetrics();
      } catch {
        // Nothing more to do: the buffer is dropped below either way.
      }
    } finally {
      this.plain.clear();
      this.dimensioned.clear();
    }
  }
}
