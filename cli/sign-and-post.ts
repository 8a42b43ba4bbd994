/**
 * Signs a body the way Social Plus does and posts it: base64 HMAC-SHA256 of the exact bytes sent, in
 * `x-amity-signature` (or, for a legacy duplicate, only in `x-eko-signature`); another of the
 * signature forms the receiver knows (`hex`, `json-base64`, `json-hex`) when asked.
 */
import { performance } from 'node:perf_hooks';
import { LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER, signAs, type SignatureForm } from '../lambda/core/signature.js';

/** How long one request may take before it counts as failed. */
export const REQUEST_TIMEOUT_MS = 10_000;

export interface SignedPost {
  readonly url: string;
  readonly body: Uint8Array;
  readonly secret: string;
  /** Sign into `x-eko-signature` only, like Social Plus's legacy duplicate deliveries. */
  readonly legacy?: boolean;
  /** @default 'base64' */
  readonly form?: SignatureForm;
  readonly timeoutMs?: number;
}

/** What came back: an HTTP answer, or no answer at all (`error` is a code such as `ECONNREFUSED`). */
export type PostOutcome =
  | { readonly kind: 'response'; readonly status: number; readonly body: string; readonly latencyMs: number }
  | { readonly kind: 'error'; readonly error: string; readonly message: string; readonly latencyMs: number };

/** The headers of a signed delivery for `body`. */
export function signedHeaders(body: Uint8Array, secret: string, legacy = false, form: SignatureForm = 'base64'): Record<string, string> {
  return {
    'content-type': 'application/json',
    [legacy ? LEGACY_SIGNATURE_HEADER : SIGNATURE_HEADER]: signAs(body, secret, form),
  };
}

/** Posts one signed body; never throws for network failures, which come back as `kind: 'error'`. */
export async function postSigned(req: SignedPost): Promise<PostOutcome> {
  const started = performance.now();
  try {
    const res = await fetch(req.url, {
      method: 'POST',
      headers: signedHeaders(req.body, req.secret, req.legacy, req.form),
      body: req.body,
      signal: AbortSignal.timeout(req.timeoutMs ?? REQUEST_TIMEOUT_MS),
    });
    const body = await res.text();
    return { kind: 'response', status: res.status, body, latencyMs: performance.now() - started };
  } catch (err) {
    return { kind: 'error', ...describeNetworkError(err, req.timeoutMs ?? REQUEST_TIMEOUT_MS), latencyMs: performance.now() - started };
  }
}

/** fetch reports every network failure as `TypeError: fetch failed`; the useful part is its cause. */
export function describeNetworkError(err: unknown, timeoutMs: number): { error: string; message: string } {
  const e = err as Error & { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return { error: 'TIMEOUT', message: `no answer within ${timeoutMs} ms` };
  // A host with several addresses (localhost: ::1 and 127.0.0.1) fails with an AggregateError.
  const code = e.cause?.code ?? e.cause?.errors?.find((x) => x.code)?.code;
  if (code) return { error: code, message: e.cause?.message || code };
  return { error: 'NETWORK', message: e.cause?.message ?? e.message };
}
