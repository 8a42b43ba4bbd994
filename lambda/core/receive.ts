import { isUtf8 } from 'node:buffer';
import { eventIdOf } from './event-id.js';
import { parseEvent } from './envelope.js';
import { SecretNotConfiguredError, UnknownSourceError } from './errors.js';
import type { EventQueue, QueueMessage, SecretSource } from './ports.js';
import { LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER, verifySignature } from './signature.js';
import type { Logger, Metrics } from './telemetry.js';

/** A webhook request as the receiver sees it, whatever carried it (API Gateway, local HTTP). */
export interface WebhookRequest {
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The exact bytes received. */
  readonly body: Buffer;
  /** Webhook source name from the path (`default` for `POST /webhook`). */
  readonly source: string;
  readonly requestId: string;
  readonly receivedAt: Date;
}

export interface WebhookResponse {
  readonly statusCode: number;
  readonly body: string;
}

export interface ReceiveDeps {
  readonly queue: EventQueue;
  readonly secrets: SecretSource;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Source name used for `POST /webhook`. */
export const DEFAULT_SOURCE = 'default';
/** Allowed webhook source names (path segment and config). */
export const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,63}$/;

const OK: WebhookResponse = { statusCode: 200, body: '{}' };
const reply = (statusCode: number, message: string): WebhookResponse => ({ statusCode, body: JSON.stringify({ message }) });

/** Lower-cases header names; the first value wins when a name repeats in different cases. */
export function lowerCaseHeaders(headers: Readonly<Record<string, string | undefined>> | null | undefined): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  if (!headers) return out;
  for (const [k, v] of Object.entries(headers)) {
    const key = k.toLowerCase();
    if (out[key] === undefined) out[key] = v;
  }
  return out;
}

/** Characters an SQS message body may not carry (outside XML 1.0's character range). */
const NOT_SQS_SAFE = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/** Whether the body can travel as text: valid UTF-8 and only characters SQS accepts. */
function travelsAsText(body: Buffer, text: string): boolean {
  return isUtf8(body) && !NOT_SQS_SAFE.test(text);
}

/**
 * DESIGN §2: verifies, buffers and answers. Rows needing failure handling (deadline, spill,
 * claim check) come with the failure-path work; today an enqueue failure answers 503.
 */
export async function receiveWebhook(req: WebhookRequest, deps: ReceiveDeps): Promise<WebhookResponse> {
  const { logger, metrics } = deps;
  const log = { source: req.source, requestId: req.requestId, bodyBytes: req.body.length };
  metrics.count('Received');

  const signature = req.headers[SIGNATURE_HEADER];
  if (signature === undefined && req.headers[LEGACY_SIGNATURE_HEADER] !== undefined) {
    metrics.count('LegacyDropped');
    logger.debug('legacy x-eko-signature duplicate acknowledged and dropped', log);
    return OK;
  }
  if (req.body.length === 0) {
    metrics.count('EmptyBody');
    logger.warn('rejected: empty body', log);
    return reply(400, 'empty body');
  }
  if (signature === undefined || signature.trim() === '') {
    metrics.count('SignatureMissing');
    logger.warn(`rejected: no ${SIGNATURE_HEADER} header`, { ...log, reason: 'missing' });
    return reply(401, `missing ${SIGNATURE_HEADER}`);
  }
  if (!SOURCE_NAME.test(req.source)) {
    metrics.count('UnknownSource');
    logger.warn('rejected: invalid webhook source name in path', log);
    return reply(404, `unknown webhook source '${req.source.slice(0, 64)}'`);
  }

  let secrets: readonly string[];
  try {
    secrets = await deps.secrets.secretsFor(req.source);
  } catch (err) {
    if (err instanceof UnknownSourceError) {
      metrics.count('UnknownSource');
      logger.warn('rejected: unknown webhook source', log);
      return reply(404, err.message);
    }
    if (err instanceof SecretNotConfiguredError) {
      metrics.count('SecretNotConfigured');
      logger.error('webhook secret not configured', { ...log, error: err.message });
      return reply(503, 'webhook secret not configured');
    }
    throw err;
  }

  const verdict = verifySignature(req.body, signature, secrets);
  if (!verdict.ok) {
    metrics.count('SignatureInvalid');
    logger.warn('rejected: invalid signature', { ...log, reason: verdict.reason, secretsTried: secrets.length });
    return reply(401, 'invalid signature');
  }

  const eventId = eventIdOf(req.body);
  const text = req.body.toString('utf8');
  const utf8 = travelsAsText(req.body, text);
  const parsed = utf8 || isUtf8(req.body) ? parseEvent(text) : undefined;
  const message: QueueMessage = {
    body: utf8 ? text : req.body.toString('base64'),
    attributes: {
      eventId,
      eventType: parsed?.eventType ?? 'unknown',
      receivedAt: req.receivedAt.toISOString(),
      source: req.source,
      requestId: req.requestId,
      ...(utf8 ? {} : { bodyEncoding: 'base64' as const }),
    },
  };

  try {
    await deps.queue.send(message);
  } catch (err) {
    metrics.count('EnqueueFailed');
    logger.error('could not buffer a verified event', { ...log, eventId, error: (err as Error).message });
    return reply(503, 'temporarily unavailable');
  }
  metrics.count('Accepted');
  logger.info('accepted', { ...log, eventId, eventType: message.attributes.eventType, secretIndex: verdict.secretIndex });
  return OK;
}
