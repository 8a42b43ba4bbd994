/**
 * The receiver's checks on a request's head (signature header lines, source name), which decide
 * some answers before the body is read; and the answers themselves. Shared by `receiveWebhook`
 * (`./receive.ts`) and carriers that can answer from the head alone (local mode's front door).
 */
import { UnknownSourceError } from './errors.js';
import { LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER } from './signature.js';
import { INVALID_SOURCE, SOURCE_NAME } from './sources.js';
import type { Logger, MetricName, Metrics } from './telemetry.js';

/** The receiver's answer to a webhook request. */
export interface WebhookResponse {
  readonly statusCode: number;
  readonly body: string;
}

/** The answer to an accepted (or knowingly dropped) request. */
export const OK: WebhookResponse = { statusCode: 200, body: '{}' };
/** An answer with a JSON `{ message }` body. */
export const reply = (statusCode: number, message: string): WebhookResponse => ({ statusCode, body: JSON.stringify({ message }) });

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

/**
 * What a webhook request's head (method and path already routed, headers) tells before its body
 * is read: all {@link precheckWebhook} looks at.
 */
export interface WebhookHead {
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Webhook source name from the path (`default` for `POST /webhook`); the caller's text, not yet checked. */
  readonly source: string;
  readonly requestId: string;
  /**
   * How many `x-amity-signature` header lines the request carried, in any letter case (more than
   * one is refused). @default 1 when the header is present
   */
  readonly signatureHeaderCount?: number;
  /** The body's length, when known before reading it (a declared `content-length`): logged as `bodyBytes`. */
  readonly bodyBytes?: number;
}

export interface PrecheckDeps {
  readonly logger: Logger;
  readonly metrics: Metrics;
  /**
   * The configured sources, when the caller knows them (local mode does): another source is then
   * answered 404 from the head, as the secret lookup answers it. Without it only a source that is
   * not a source name is refused here, and an unknown one when its secrets are looked up.
   */
  readonly knownSources?: readonly string[];
}

/** A refusal decided from the head: the answer, and the metric and log line that go with it. */
interface HeadRefusal {
  readonly response: WebhookResponse;
  readonly metric: MetricName;
  readonly level: 'debug' | 'warn';
  readonly message: string;
  readonly fields?: Record<string, unknown>;
}

/**
 * docs/architecture.md §2's checks on the head, in order: a legacy-only duplicate is dropped (200); more than
 * one signature line, or none, is refused (401); a source that is no source name, or not a known
 * one, is refused (404). The body is checked after these, wherever the checks run.
 */
export function refusalOf(head: WebhookHead, knownSources: readonly string[] | undefined): HeadRefusal | undefined {
  const signature = head.headers[SIGNATURE_HEADER];
  if (signature === undefined && head.headers[LEGACY_SIGNATURE_HEADER] !== undefined) {
    return { response: OK, metric: 'LegacyDropped', level: 'debug', message: 'legacy x-eko-signature duplicate acknowledged and dropped' };
  }
  if ((head.signatureHeaderCount ?? 0) > 1) {
    return {
      response: reply(401, `more than one ${SIGNATURE_HEADER} header`),
      metric: 'SignatureInvalid',
      level: 'warn',
      message: 'rejected: more than one x-amity-signature header',
      fields: { reason: 'duplicate-header', headerLines: head.signatureHeaderCount },
    };
  }
  if (signature === undefined || signature.trim() === '') {
    return {
      response: reply(401, `missing ${SIGNATURE_HEADER}`),
      metric: 'SignatureMissing',
      level: 'warn',
      message: `rejected: no ${SIGNATURE_HEADER} header`,
      fields: { reason: 'missing' },
    };
  }
  if (!SOURCE_NAME.test(head.source)) {
    return {
      response: reply(404, `unknown webhook source '${head.source.slice(0, 64)}'`),
      metric: 'UnknownSource',
      level: 'warn',
      message: 'rejected: invalid webhook source name in path',
    };
  }
  if (knownSources !== undefined && !knownSources.includes(head.source)) {
    // The very answer the secret lookup gives for a source it does not know (lookUpSecrets).
    return {
      response: reply(404, new UnknownSourceError(head.source).message),
      metric: 'UnknownSource',
      level: 'warn',
      message: 'rejected: unknown webhook source',
    };
  }
  return undefined;
}

/** The fields every line about a request starts with; the path's source only once it is a source name. */
export function logFieldsOf(source: string, requestId: string, bodyBytes: number | undefined): Record<string, unknown> {
  return { source: SOURCE_NAME.test(source) ? source : INVALID_SOURCE, requestId, ...(bodyBytes === undefined ? {} : { bodyBytes }) };
}

export function emit(refusal: HeadRefusal, deps: PrecheckDeps, log: Record<string, unknown>): WebhookResponse {
  deps.metrics.count(refusal.metric);
  deps.logger[refusal.level](refusal.message, refusal.fields ? { ...log, ...refusal.fields } : log);
  return refusal.response;
}

/**
 * The receiver's checks on a request's head alone, for a carrier that can answer before reading
 * the body (local mode's front door). Returns the answer `receiveWebhook` would give, with
 * the same metrics (`Received` included) and log line, or `undefined` when the request must go on
 * to the receiver (which then checks the head again: it counts nothing twice, as a request either
 * is answered here or goes on).
 */
export function precheckWebhook(head: WebhookHead, deps: PrecheckDeps): WebhookResponse | undefined {
  const refusal = refusalOf(head, deps.knownSources);
  if (!refusal) return undefined;
  deps.metrics.count('Received');
  return emit(refusal, deps, logFieldsOf(head.source, head.requestId, head.bodyBytes));
}
