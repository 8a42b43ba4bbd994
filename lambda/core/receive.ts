import { isUtf8 } from 'node:buffer';
import { eventIdOf } from './event-id.js';
import { parseEvent } from './envelope.js';
import { SecretNotConfiguredError, UnknownSourceError } from './errors.js';
import type { EventQueue, QueueMessage, SecretLookupOptions, SecretSource } from './ports.js';
import { LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER, verifySignature } from './signature.js';
import type { Logger, Metrics } from './telemetry.js';

/** A webhook request as the receiver sees it, whatever carried it (API Gateway, local HTTP). */
export interface WebhookRequest {
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The exact bytes received. */
  readonly body: Buffer;
  /**
   * The same body already decoded as UTF-8, when the carrier has it as text (API Gateway hands
   * a JSON body over as a string); saves decoding it again. Must equal `body.toString('utf8')`.
   */
  readonly bodyText?: string;
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

/** A signature that matches no cached secret re-reads a secret cached longer than this (DESIGN §2). */
export const SECRET_REFRESH_AFTER_MS = 30_000;

type Lookup = { readonly secrets: readonly string[] } | { readonly response: WebhookResponse };

/** The source's secrets, or the answer to give when there are none to check against. */
async function lookUpSecrets(source: string, deps: ReceiveDeps, log: Record<string, unknown>, opts?: SecretLookupOptions): Promise<Lookup> {
  const { logger, metrics } = deps;
  try {
    return { secrets: await deps.secrets.secretsFor(source, opts) };
  } catch (err) {
    if (err instanceof UnknownSourceError) {
      metrics.count('UnknownSource');
      logger.warn('rejected: unknown webhook source', log);
      return { response: reply(404, err.message) };
    }
    if (err instanceof SecretNotConfiguredError) {
      metrics.count('SecretNotConfigured');
      logger.error('webhook secret not configured', { ...log, error: err.message });
      return { response: reply(503, 'webhook secret not configured') };
    }
    // The secret store is unreachable: answer in time with a clear 503 rather than letting the
    // function fail into API Gateway's bare 502.
    logger.error('could not read the webhook secret', { ...log, error: (err as Error).message });
    return { response: reply(503, 'temporarily unavailable') };
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((k, i) => k === b[i]));
}

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

/**
 * Whether decoded UTF-8 text carries only characters SQS accepts. Text that parsed as JSON can
 * hold no raw control characters (JSON forbids them) and, decoded from valid UTF-8, no lone
 * surrogates, so only U+FFFE and U+FFFF remain to look for: a much cheaper scan than the full
 * character class on every body.
 */
function sqsSafe(text: string, validJson: boolean): boolean {
  return validJson ? text.indexOf('\uFFFE') < 0 && text.indexOf('\uFFFF') < 0 : !NOT_SQS_SAFE.test(text);
}

/**
 * DESIGN §2: verifies, buffers and answers. Rows needing failure handling (deadline, spill,
 * claim check) come with the failure-path work; today an enqueue failure, like an unreachable
 * secret store, answers 503 `temporarily unavailable`.
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

  const lookup = await lookUpSecrets(req.source, deps, log);
  if ('response' in lookup) return lookup.response;
  let secrets = lookup.secrets;
  let verdict = verifySignature(req.body, signature, secrets);
  let secretRefreshed = false;
  if (!verdict.ok && verdict.reason === 'no-secret-matched') {
    // The secret may have been rotated since it was cached: re-read it once (when the cached copy
    // is older than SECRET_REFRESH_AFTER_MS) before rejecting what may be a valid event.
    const fresh = await lookUpSecrets(req.source, deps, log, { maxAgeMs: SECRET_REFRESH_AFTER_MS });
    if ('secrets' in fresh && !sameKeys(fresh.secrets, secrets)) {
      secrets = fresh.secrets;
      secretRefreshed = true;
      verdict = verifySignature(req.body, signature, secrets);
    }
  }
  if (!verdict.ok) {
    metrics.count('SignatureInvalid');
    logger.warn('rejected: invalid signature', { ...log, reason: verdict.reason, secretsTried: secrets.length, secretRefreshed });
    return reply(401, 'invalid signature');
  }

  const eventId = eventIdOf(req.body);
  const text = req.bodyText ?? (isUtf8(req.body) ? req.body.toString('utf8') : undefined);
  const parsed = text === undefined ? undefined : parseEvent(text);
  const utf8 = text !== undefined && sqsSafe(text, !parsed?.flags.includes('invalid-json'));
  const message: QueueMessage = {
    body: utf8 ? (text as string) : req.body.toString('base64'),
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
