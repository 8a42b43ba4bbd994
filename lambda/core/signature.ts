import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header that carries the current signature (an HMAC-SHA256 of the body; see {@link SIGNATURE_FORMS}). */
export const SIGNATURE_HEADER = 'x-amity-signature';
/** Header of the legacy duplicate deliveries, which we acknowledge and drop. */
export const LEGACY_SIGNATURE_HEADER = 'x-eko-signature';

const DIGEST_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

/**
 * The forms of the one MAC the receiver accepts, HMAC-SHA256 keyed with the source's secret,
 * which differ in what was signed and how the digest is written:
 * - `base64`: over the exact bytes received, base64 (Social Plus's webhook reference);
 * - `hex`: over the exact bytes received, hex (two of its use-case pages, and the Eko docs' text);
 * - `json-base64`, `json-hex`: over the body parsed and serialized again
 *   (`JSON.stringify(JSON.parse(body))`, as the reference page's own sample computes it), for a
 *   sender whose bytes differ from that serialization (spacing, escapes, key order kept).
 *
 * Every form is a MAC made with the secret: none lets in anything the secret's holder did not
 * sign. The `json-*` forms authenticate the parsed content rather than the bytes, so byte variants
 * of one signed body (escaped characters, other spacing, a duplicated key that another JSON reader
 * resolves differently) would verify too, each with its own event id; README, "Signature forms",
 * gives the reasoning for accepting them only when configured.
 */
export const SIGNATURE_FORMS = ['base64', 'hex', 'json-base64', 'json-hex'] as const;
export type SignatureForm = (typeof SIGNATURE_FORMS)[number];

/**
 * The forms accepted unless configured otherwise: the MAC over the exact bytes, in either
 * encoding. A `json-*` match is still recognised, refused and named (`form-not-accepted`).
 */
export const DEFAULT_SIGNATURE_FORMS: readonly SignatureForm[] = ['base64', 'hex'];

/** Why a signature check failed; logged at WARN so misconfigurations are easy to diagnose. */
export type SignatureFailure = 'missing' | 'not-base64-or-hex' | 'wrong-length' | 'no-secret-matched' | 'no-secrets' | 'form-not-accepted';

/** What a failed check tried, for the WARN line: never a secret, a digest or the body. */
export interface SignatureDiagnosis {
  /** How the header's digest was written. */
  readonly encoding: 'base64' | 'hex' | 'unreadable';
  /** The forms compared with the header, in order. */
  readonly formsTried: readonly SignatureForm[];
  /** Whether the body parsed as JSON (the `json-*` forms need it). */
  readonly bodyIsJson: boolean;
  /** A form that matched but is not accepted by the configuration (`signatureForms`). */
  readonly matchedForm?: SignatureForm;
}

export type SignatureResult =
  { ok: true; secretIndex: number; form: SignatureForm } | { ok: false; reason: SignatureFailure; diagnosis: SignatureDiagnosis };

/** Options of {@link verifySignature}. */
export interface VerifyOptions {
  /** Forms to accept. @default DEFAULT_SIGNATURE_FORMS */
  readonly forms?: readonly SignatureForm[];
  /** The body already decoded as UTF-8, when the caller has it (saves decoding it for the `json-*` forms). */
  readonly bodyText?: string;
}

/** base64(HMAC-SHA256(secret, body)): what Social Plus puts in `x-amity-signature`. */
export function sign(body: Uint8Array | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

/** The signature of `body` in a given form (for tests and `send --form`). */
export function signAs(body: Uint8Array | string, secret: string, form: SignatureForm): string {
  const signed = form.startsWith('json-') ? JSON.stringify(JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'))) : body;
  return createHmac('sha256', secret)
    .update(signed)
    .digest(form.endsWith('hex') ? 'hex' : 'base64');
}

/** The digest written in the header, or why it cannot be one. */
function readDigest(signature: string): { bytes: Buffer; encoding: 'base64' | 'hex' } | { reason: 'not-base64-or-hex' | 'wrong-length' } {
  // 64 hex characters cannot be a base64 digest: those are 44 characters ending in '='.
  if (HEX_DIGEST.test(signature)) return { bytes: Buffer.from(signature, 'hex'), encoding: 'hex' };
  if (!BASE64.test(signature) || signature.length % 4 !== 0) return { reason: 'not-base64-or-hex' };
  const bytes = Buffer.from(signature, 'base64');
  return bytes.length === DIGEST_BYTES ? { bytes, encoding: 'base64' } : { reason: 'wrong-length' };
}

/** Index of the first secret whose MAC of `signed` equals `given`; every secret is checked, in constant time each. */
function matchingSecret(signed: Uint8Array | string, given: Buffer, secrets: readonly string[]): number {
  let matched = -1;
  // Check every secret, so the time taken does not depend on which one matched.
  for (let i = 0; i < secrets.length; i++) {
    const expected = createHmac('sha256', secrets[i] as string)
      .update(signed)
      .digest();
    if (timingSafeEqual(expected, given) && matched < 0) matched = i;
  }
  return matched;
}

/** `JSON.stringify(JSON.parse(text))`, or undefined when the text is not JSON. */
function reserialized(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return undefined;
  }
}

/**
 * Verifies `signature` against each acceptable secret (current first, then previous during a
 * rotation), in the forms of {@link SIGNATURE_FORMS}: the MAC over the exact bytes first, in the
 * encoding the header is written in; only when that does not match, the MAC over the body's JSON
 * serialized again. Each comparison is constant-time. A form that matches but is not in
 * `opts.forms` is refused and named in the diagnosis.
 */
export function verifySignature(
  body: Uint8Array,
  signature: string | undefined,
  secrets: readonly string[],
  opts: VerifyOptions = {},
): SignatureResult {
  const forms = opts.forms ?? DEFAULT_SIGNATURE_FORMS;
  const unread = (reason: SignatureFailure): SignatureResult => ({
    ok: false,
    reason,
    diagnosis: { encoding: 'unreadable', formsTried: [], bodyIsJson: false },
  });
  if (signature === undefined || signature.trim() === '') return unread('missing');
  const digest = readDigest(signature.trim());
  if ('reason' in digest) return unread(digest.reason);
  const raw: SignatureForm = digest.encoding;
  const json: SignatureForm = digest.encoding === 'hex' ? 'json-hex' : 'json-base64';
  if (secrets.length === 0) return { ok: false, reason: 'no-secrets', diagnosis: { encoding: digest.encoding, formsTried: [], bodyIsJson: false } };

  const rawMatch = matchingSecret(body, digest.bytes, secrets);
  if (rawMatch >= 0 && forms.includes(raw)) return { ok: true, secretIndex: rawMatch, form: raw };

  const text = opts.bodyText ?? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  const again = reserialized(text);
  const tried: SignatureForm[] = [raw];
  let jsonMatch = -1;
  // Bytes that already are their own serialization were covered by the raw form, and a MAC that
  // matched the bytes cannot also match another serialization.
  if (rawMatch < 0 && again !== undefined && again !== text) {
    tried.push(json);
    jsonMatch = matchingSecret(again, digest.bytes, secrets);
    if (jsonMatch >= 0 && forms.includes(json)) return { ok: true, secretIndex: jsonMatch, form: json };
  }
  const matchedForm = rawMatch >= 0 ? raw : jsonMatch >= 0 ? json : undefined;
  return {
    ok: false,
    reason: matchedForm ? 'form-not-accepted' : 'no-secret-matched',
    diagnosis: { encoding: digest.encoding, formsTried: tried, bodyIsJson: again !== undefined, ...(matchedForm ? { matchedForm } : {}) },
  };
}

/** Parses a list of forms (configuration, `SIGNATURE_FORMS`): names separated by commas; throws naming a bad one. */
export function parseSignatureForms(raw: string): SignatureForm[] {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const bad = names.filter((n) => !(SIGNATURE_FORMS as readonly string[]).includes(n));
  if (names.length === 0 || bad.length > 0) {
    throw new Error(`'${raw}' is not a list of signature forms: give one or more of ${SIGNATURE_FORMS.join(', ')}, separated by commas`);
  }
  return [...new Set(names as SignatureForm[])];
}
