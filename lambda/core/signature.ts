import { createHmac, timingSafeEqual } from 'node:crypto';

/** Header that carries the current signature (base64 HMAC-SHA256 of the raw body). */
export const SIGNATURE_HEADER = 'x-amity-signature';
/** Header of the legacy duplicate deliveries, which we acknowledge and drop. */
export const LEGACY_SIGNATURE_HEADER = 'x-eko-signature';

const DIGEST_BYTES = 32;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Why a signature check failed; logged at WARN so misconfigurations are easy to diagnose. */
export type SignatureFailure = 'missing' | 'not-base64' | 'wrong-length' | 'no-secret-matched' | 'no-secrets';

export type SignatureResult = { ok: true; secretIndex: number } | { ok: false; reason: SignatureFailure };

/** base64(HMAC-SHA256(secret, body)): what Social Plus puts in `x-amity-signature`. */
export function sign(body: Uint8Array | string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64');
}

/**
 * Verifies `signature` over the exact bytes of `body` against each acceptable secret
 * (current first, then previous during a rotation). The comparison is constant-time.
 */
export function verifySignature(
  body: Uint8Array,
  signature: string | undefined,
  secrets: readonly string[],
): SignatureResult {
  if (signature === undefined || signature.trim() === '') return { ok: false, reason: 'missing' };
  const encoded = signature.trim();
  if (!BASE64.test(encoded) || encoded.length % 4 !== 0) return { ok: false, reason: 'not-base64' };
  const given = Buffer.from(encoded, 'base64');
  if (given.length !== DIGEST_BYTES) return { ok: false, reason: 'wrong-length' };
  if (secrets.length === 0) return { ok: false, reason: 'no-secrets' };
  let matched = -1;
  // Check every secret, so the time taken does not depend on which one matched.
  for (let i = 0; i < secrets.length; i++) {
    const expected = createHmac('sha256', secrets[i] as string).update(body).digest();
    if (timingSafeEqual(expected, given) && matched < 0) matched = i;
  }
  return matched >= 0 ? { ok: true, secretIndex: matched } : { ok: false, reason: 'no-secret-matched' };
}
