import { isUtf8 } from 'node:buffer';
import { planAnswer, spillBudgetMs, withDeadline, type AnswerPlan } from './deadline.js';
import { eventIdOf } from './event-id.js';
import { parseEvent } from './envelope.js';
import { DeadlineExceededError, errorMessage, SecretNotConfiguredError, UnknownSourceError } from './errors.js';
import { attributeSafe, claimCheckKey, claimCheckMessage, queueMessageBytes, spillKey, toBlobMetadata } from './inbox.js';
import { QUEUE_MESSAGE_MARGIN_BYTES, SQS_MAX_MESSAGE_BYTES } from './limits.js';
import type { BlobStore, EventQueue, QueueMessage, SecretLookupOptions, SecretSource } from './ports.js';
import { emit, logFieldsOf, OK, refusalOf, reply, type WebhookResponse } from './precheck.js';
import { SIGNATURE_HEADER, verifySignature, type SignatureForm } from './signature.js';
import type { Logger, MetricName, Metrics } from './telemetry.js';

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
  /**
   * How many `x-amity-signature` header lines the request carried, in any letter case. More than
   * one is refused: which one a proxy or API Gateway keeps differs, so no rule would be safe.
   * @default 1 when the header is present
   */
  readonly signatureHeaderCount?: number;
}

export interface ReceiveDeps {
  readonly queue: EventQueue;
  readonly secrets: SecretSource;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * The archive bucket's inbox: bodies too large for a queue message go to `inbox/large/` with a
   * pointer on the queue (claim check), and a verified body the queue failed to take in time goes
   * to `inbox/spill/` (docs/architecture.md §2). Without it every body is enqueued inline and a queue failure
   * answers 503, as a queue with no size limit and no fallback (local mode) wants.
   */
  readonly blobs?: BlobStore;
  /**
   * Internal deadline for the queue work (claim-check put and send, SDK retries included), in ms;
   * shortened further so the answer is never due later than 1.5 s after the request arrived.
   * @default 1000
   */
  readonly deadlineMs?: number;
  /**
   * Largest queue message, body plus attributes, in bytes; larger ones are claim-checked (with
   * `blobs` only). @default SQS_MAX_MESSAGE_BYTES - QUEUE_MESSAGE_MARGIN_BYTES
   */
  readonly maxMessageBytes?: number;
  /** Clock in epoch ms, compared with the request's arrival time. @default Date.now */
  readonly now?: () => number;
  /**
   * The signature forms accepted (configuration key `signatureForms`, `SIGNATURE_FORMS`).
   * @default DEFAULT_SIGNATURE_FORMS: all of them
   */
  readonly signatureForms?: readonly SignatureForm[];
}

/** The metric each accepted signature form is counted under (a name each, so no extra EMF line per request). */
export const SIGNATURE_FORM_METRICS = {
  base64: 'SignatureFormBase64',
  hex: 'SignatureFormHex',
  'json-base64': 'SignatureFormJsonBase64',
  'json-hex': 'SignatureFormJsonHex',
} as const satisfies Record<SignatureForm, MetricName>;

/** A signature that matches no cached secret re-reads a secret cached longer than this (docs/architecture.md §2). */
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
    logger.error('could not read the webhook secret', { ...log, error: errorMessage(err) });
    return { response: reply(503, 'temporarily unavailable') };
  }
}

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  return a === b || (a.length === b.length && a.every((k, i) => k === b[i]));
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
 * docs/architecture.md §2: verifies, buffers and answers. A verified body is enqueued (claim-checked first when
 * too large for a message), or spilled to the inbox when the queue fails or is too slow; only
 * when both fail is the answer 503. The queue work is bounded by the internal deadline, so the
 * answer is never later than Social Plus waits.
 *
 * The head is checked first ({@link precheckWebhook}'s rule), then the source's secrets looked up
 * (an unknown source is 404), then the body: so a request gets the same answer whether its carrier
 * checked the head before reading the body (local mode) or not (API Gateway).
 */
export async function receiveWebhook(req: WebhookRequest, deps: ReceiveDeps): Promise<WebhookResponse> {
  const { logger, metrics } = deps;
  const now = deps.now ?? Date.now;
  const startedAtMs = now();
  metrics.count('Received');

  const refusal = refusalOf(req, undefined);
  // The path's source is the caller's text until it passes SOURCE_NAME: never logged before that.
  if (refusal) return emit(refusal, deps, logFieldsOf(req.source, req.requestId, req.body.length));
  // The head passed: the source is a source name, and the signature header is present and not blank.
  const log = { source: req.source, requestId: req.requestId, bodyBytes: req.body.length };
  const signature = req.headers[SIGNATURE_HEADER] as string;

  const lookup = await lookUpSecrets(req.source, deps, log);
  if ('response' in lookup) return lookup.response;
  // Only now the body: whether the source is known is part of the head, which comes first.
  if (req.body.length === 0) {
    metrics.count('EmptyBody');
    logger.warn('rejected: empty body', log);
    return reply(400, 'empty body');
  }
  let secrets = lookup.secrets;
  const verifyOptions = {
    ...(deps.signatureForms ? { forms: deps.signatureForms } : {}),
    ...(req.bodyText !== undefined ? { bodyText: req.bodyText } : {}),
  };
  let verdict = verifySignature(req.body, signature, secrets, verifyOptions);
  let secretRefreshed = false;
  if (!verdict.ok && verdict.reason === 'no-secret-matched') {
    // The secret may have been rotated since it was cached: re-read it once (when the cached copy
    // is older than SECRET_REFRESH_AFTER_MS) before rejecting what may be a valid event.
    const fresh = await lookUpSecrets(req.source, deps, log, { maxAgeMs: SECRET_REFRESH_AFTER_MS });
    if ('secrets' in fresh && !sameKeys(fresh.secrets, secrets)) {
      secrets = fresh.secrets;
      secretRefreshed = true;
      verdict = verifySignature(req.body, signature, secrets, verifyOptions);
    }
  }
  if (!verdict.ok) {
    metrics.count('SignatureInvalid');
    metrics.count('SignatureRejected', 1, { source: req.source });
    // What was tried, never a secret, a digest or the body: enough to tell a wrong key from a form
    // the configuration does not accept, or a header that is no signature at all.
    const { encoding, formsTried, bodyIsJson, matchedForm } = verdict.diagnosis;
    logger.warn('rejected: invalid signature', {
      ...log,
      reason: verdict.reason,
      signatureEncoding: encoding,
      formsTried,
      bodyIsJson,
      ...(matchedForm ? { matchedForm } : {}),
      secretsTried: secrets.length,
      secretRefreshed,
    });
    return reply(401, 'invalid signature');
  }
  metrics.count(SIGNATURE_FORM_METRICS[verdict.form]);

  const eventId = eventIdOf(req.body);
  const text = req.bodyText ?? (isUtf8(req.body) ? req.body.toString('utf8') : undefined);
  const parsed = text === undefined ? undefined : parseEvent(text);
  const utf8 = text !== undefined && sqsSafe(text, !parsed?.flags.includes('invalid-json'));
  const message: QueueMessage = {
    body: utf8 ? (text as string) : req.body.toString('base64'),
    attributes: {
      eventId,
      eventType: parsed ? attributeSafe(parsed.eventType) : 'unknown',
      receivedAt: req.receivedAt.toISOString(),
      source: req.source,
      requestId: req.requestId,
      ...(utf8 ? {} : { bodyEncoding: 'base64' as const }),
    },
  };
  // Text that is well-formed and SQS-safe encodes back to exactly the bytes received.
  const messageBodyBytes = utf8 ? req.body.length : Math.ceil(req.body.length / 3) * 4;
  const ids = { ...log, eventId, eventType: message.attributes.eventType };
  // Before the signature was checked the arrival time decided nothing; from here on it sets the budget.
  const plan = planAnswer({
    arrivedAtMs: arrivalMs(req.receivedAt, startedAtMs),
    nowMs: now(),
    ...(deps.deadlineMs === undefined ? {} : { deadlineMs: deps.deadlineMs }),
  });
  const blobs = deps.blobs;

  let queueError: unknown;
  let claimChecked = false;
  // With nowhere to spill, abandoning a slow send gains nothing but a 503 in place of a late 200
  // (and local mode's journal may just be fsyncing under load): bound it only when asked to.
  const bounded = blobs !== undefined || deps.deadlineMs !== undefined;
  if (plan.queueMs > 0 || !bounded) {
    try {
      await withDeadline('the queue', bounded ? plan.queueMs : Infinity, async (signal) => {
        let toSend = message;
        const maxBytes = deps.maxMessageBytes ?? SQS_MAX_MESSAGE_BYTES - QUEUE_MESSAGE_MARGIN_BYTES;
        if (blobs && queueMessageBytes(messageBodyBytes, message.attributes) > maxBytes) {
          const key = claimCheckKey(req.receivedAt, eventId);
          await blobs.put(key, req.body, { metadata: toBlobMetadata(message.attributes), signal });
          toSend = claimCheckMessage(key, req.body.length, message.attributes);
          claimChecked = true;
        }
        await deps.queue.send(toSend, { signal });
      });
      if (claimChecked) metrics.count('ClaimChecked');
      metrics.count('Accepted');
      logger.info('accepted', { ...ids, secretIndex: verdict.secretIndex, signatureForm: verdict.form, ...(claimChecked ? { claimChecked } : {}) });
      return OK;
    } catch (err) {
      queueError = err;
    }
  } else {
    queueError = new DeadlineExceededError('the queue', 0, 'no time was left for the queue before the answer is due');
  }
  metrics.count('EnqueueFailed');
  const queueReason = describeError(queueError);
  if (!blobs) {
    logger.error('could not buffer a verified event', { ...ids, error: queueReason });
    return reply(503, 'temporarily unavailable');
  }
  return spill(req, message, plan, { ...deps, blobs }, ids, queueReason, now);
}

/** The verified body to `inbox/spill/`, from where an S3 notification brings it to the fan-out. */
async function spill(
  req: WebhookRequest,
  message: QueueMessage,
  plan: AnswerPlan,
  deps: ReceiveDeps & { readonly blobs: BlobStore },
  ids: Record<string, unknown>,
  queueError: string,
  now: () => number,
): Promise<WebhookResponse> {
  const { logger, metrics } = deps;
  const key = spillKey(req.receivedAt, message.attributes.eventId);
  try {
    await withDeadline('the spill', spillBudgetMs(plan, now()), (signal) =>
      deps.blobs.put(key, req.body, { metadata: toBlobMetadata(message.attributes), signal }),
    );
  } catch (err) {
    metrics.count('SpillFailed');
    logger.error('could not buffer or spill a verified event: answered 503', { ...ids, queueError, spillError: describeError(err) });
    return reply(503, 'temporarily unavailable');
  }
  metrics.count('Spilled');
  metrics.count('Accepted');
  logger.warn('the queue failed; the event was spilled to the inbox', { ...ids, queueError, spillKey: key, inTime: plan.inTime });
  return OK;
}

/**
 * When the request arrived: API Gateway's request time when it is a plausible instant before
 * now (a test's fixed date or a clock far off is not), else when the handler started.
 */
function arrivalMs(receivedAt: Date, startedAtMs: number): number {
  const t = receivedAt.getTime();
  return Number.isFinite(t) && t <= startedAtMs + 1000 && t >= startedAtMs - 60_000 ? t : startedAtMs;
}

function describeError(err: unknown): string {
  if (err instanceof Error)
    return err.name && err.name !== 'Error' && !err.message.startsWith(err.name) ? `${err.name}: ${err.message}` : err.message;
  return String(err);
}
