/**
 * X-Ray tracing with Powertools Tracer, kept apart from `./telemetry.ts` because the X-Ray SDK it
 * loads is large: only functions that import this module pay for it at cold start (the fan-out;
 * the receiver does not, see the figures in the telemetry report). Active tracing itself is
 * switched on by the stack; outside Lambda the Tracer disables itself and these are no-ops.
 */
import type { Context } from 'aws-lambda';
import { Tracer } from '@aws-lambda-powertools/tracer';
import type { FunctionService } from './powertools.js';

/** Builds the function's tracer. Call once, at module scope. */
export function createTracer(service: FunctionService): Tracer {
  return new Tracer({ serviceName: service });
}

/**
 * Wraps a handler in a `## <handler>` subsegment annotated with `ColdStart` and `Service`, the
 * way Powertools' own middleware does (middy is not a dependency here), so the handler's time and
 * the AWS SDK calls under it (clients wrapped with `tracer.captureAWSv3Client`) show in the trace.
 */
export function traceHandler<E, R>(
  tracer: Tracer,
  handler: (event: E, context?: Context) => Promise<R>,
): (event: E, context?: Context) => Promise<R> {
  return async (event, context) => {
    if (!tracer.isTracingEnabled()) return handler(event, context);
    const segment = tracer.getSegment();
    const subsegment = segment?.addNewSubsegment(`## ${process.env._HANDLER ?? 'handler'}`);
    if (subsegment) tracer.setSegment(subsegment);
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    try {
      return await handler(event, context);
    } catch (err) {
      tracer.addErrorAsMetadata(err as Error);
      throw err;
    } finally {
      if (segment && subsegment) {
        subsegment.close();
        tracer.setSegment(segment);
      }
    }
  };
}
