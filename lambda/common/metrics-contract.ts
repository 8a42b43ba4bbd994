/**
 * How the functions publish metrics (CloudWatch embedded metric format) and how the stack's
 * alarms and dashboard find them: one namespace, and a fixed, low-cardinality dimension set.
 */

/** Every custom metric of the pipeline lives in this namespace. */
export const METRICS_NAMESPACE = 'SocialPlusWebhooks';

/** Value of the `service` dimension for each function. */
export const METRICS_SERVICE = { receiver: 'receiver', fanout: 'fanout' } as const;

/**
 * Dimensions: every metric carries exactly `{ service }`; the per-handler metrics
 * (`HandlerSucceeded`, `HandlerFailed`, and whatever a handler counts itself with `ctx.metrics`,
 * under names of its own that may not be the pipeline's) carry `{ service, handler }` instead, and
 * the receiver's `SignatureRejected` carries `{ service, source }` (refusals are rare, so the
 * source's own EMF line costs nothing on the accepted path).
 */
export const METRICS_DIMENSIONS = { service: 'service', handler: 'handler', source: 'source' } as const;
