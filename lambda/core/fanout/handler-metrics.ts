import { PIPELINE_METRIC_NAMES, silentLogger, type HandlerMetrics, type Logger, type MetricName, type Metrics } from '../telemetry.js';

/** Names a handler may not count under: the pipeline's own (its alarms read them). */
const RESERVED_METRIC_NAMES: ReadonlySet<string> = new Set(PIPELINE_METRIC_NAMES);
/** CloudWatch's metric name rules: 1 to 255 characters, not starting with a colon, ASCII printable. */
const METRIC_NAME = /^[\x20-\x7e]{1,255}$/;

/**
 * `ctx.metrics` of a handler: its own metric names, published under its `handler` dimension. A
 * name that is one of the pipeline's (its alarms read those) or not a CloudWatch metric name, or a
 * value that is not a finite number, is not published and is logged at ERROR instead: metrics
 * never fail a run whose work may be done.
 */
export function handlerMetrics(handler: string, metrics: Metrics, logger: Logger = silentLogger): HandlerMetrics & Metrics {
  return {
    count(name: string, value = 1) {
      const problem =
        !METRIC_NAME.test(name) || name.startsWith(':')
          ? `${JSON.stringify(name)} is not a CloudWatch metric name (1-255 printable ASCII characters, not starting with ':')`
          : RESERVED_METRIC_NAMES.has(name)
            ? `'${name}' is a metric of the pipeline itself; give your metric another name`
            : !Number.isFinite(value)
              ? `metric '${name}' was given ${value}, not a finite number`
              : undefined;
      if (problem !== undefined) {
        logger.error('handler metric not published', { handler, metric: name, problem });
        return;
      }
      // The port's names are the pipeline's, checked at compile time; a handler's own are checked above.
      metrics.count(name as MetricName, value, { handler });
    },
  };
}
