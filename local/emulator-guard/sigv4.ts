/**
 * SigV4 as the emulator guard checks it: the request's Authorization header, date, credential scope
 * and signed headers read and checked against this installation's credentials, then the signature
 * recomputed with `@smithy/signature-v4` and compared in constant time. Presigned URLs and session
 * tokens are refused.
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { printable, Refusal, refusal, type GuardedService, type ServiceCodes } from './refusals.js';

/** SigV4's allowed clock difference, as on AWS. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const HEX_SHA256 = /^[0-9a-f]{64}$/;
/** x-amz-content-sha256 values an S3 request may carry besides a hex hash: the emulator reads the body itself. */
const S3_UNSIGNED_PAYLOADS = new Set(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const PRESIGN_PARAMS = new Set(['x-amz-algorithm', 'x-amz-credential', 'x-amz-signature', 'x-amz-signedheaders']);

/** What the guard checks a request's SigV4 against, and says in its refusals. */
export interface SigV4Context {
  readonly service: GuardedService;
  readonly accessKeyId: string;
  readonly now: () => number;
  readonly codes: ServiceCodes;
  /** Where the credentials live, for the refusals' messages. */
  readonly credentialsFile: string;
  /** `use the credentials in <credentialsFile>`, for the refusals' messages. */
  readonly useCredentials: string;
}

/** A request's SigV4 parts, read and checked (all but the signature itself). */
export interface SignedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Record<string, string | string[]>;
  /** The signed headers only, lower-case names. */
  readonly headers: Record<string, string>;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  readonly region: string;
  readonly signingDate: Date;
}

/**
 * Reads the request's target, Authorization, X-Amz-Date and signed headers, and checks all but the
 * signature itself: this installation's access key, no session token, the clock skew, the credential
 * scope and (for S3) the payload hash. Throws a Refusal.
 */
export function readSignedRequest(req: IncomingMessage, ctx: SigV4Context): SignedRequest {
  const url = req.url ?? '';
  if (!url.startsWith('/')) throw new Refusal(400, ctx.codes.malformed, 'the request target must be a path starting with /');
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = parseQuery(q === -1 ? '' : url.slice(q + 1), ctx.codes.malformed);
  if (Object.keys(query).some((k) => PRESIGN_PARAMS.has(k.toLowerCase()))) {
    throw refusal(
      ctx.codes.forbidden,
      `presigned URLs (query-string authentication) are not accepted by local mode's emulators: sign requests with an Authorization header (${ctx.useCredentials})`,
    );
  }
  const authorization = req.headers.authorization;
  if (authorization === undefined) {
    throw refusal(
      ctx.codes.missingAuth,
      `the request is not signed: local mode's emulators accept only SigV4-signed requests (Authorization: AWS4-HMAC-SHA256 ...); ${ctx.useCredentials}`,
    );
  }
  const auth = parseAuthorization(authorization, ctx.codes.malformed);
  if (!constantTimeEqual(auth.accessKeyId, ctx.accessKeyId)) {
    throw refusal(ctx.codes.badKey, `the access key id is not this installation's: ${ctx.useCredentials}`);
  }
  if (req.headers['x-amz-security-token'] !== undefined) {
    throw refusal(ctx.codes.badKey, `session tokens are not accepted by local mode's emulators: ${ctx.useCredentials}, without a session token`);
  }
  const amzDate = req.headers['x-amz-date'];
  const dateMatch = typeof amzDate === 'string' ? AMZ_DATE.exec(amzDate) : null;
  if (!dateMatch || typeof amzDate !== 'string') {
    throw new Refusal(400, ctx.codes.malformed, 'a signed request needs an X-Amz-Date header in ISO 8601 basic format (YYYYMMDDTHHMMSSZ)');
  }
  const [, y, mo, d, h, mi, s] = dateMatch.map(Number);
  const signingDate = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
  if (Number.isNaN(signingDate.getTime())) throw new Refusal(400, ctx.codes.malformed, `X-Amz-Date '${amzDate}' is not a valid date`);
  const skew = signingDate.getTime() - ctx.now();
  if (Math.abs(skew) > MAX_CLOCK_SKEW_MS) {
    throw refusal(
      ctx.codes.skewed,
      `the request's X-Amz-Date ${amzDate} is more than 15 minutes ${skew < 0 ? 'behind' : 'ahead of'} the emulator's clock (${new Date(ctx.now()).toISOString()}): check the system clock`,
    );
  }
  if (auth.date !== amzDate.slice(0, 8)) {
    throw refusal(ctx.codes.badSignature, `the credential scope's date ${auth.date} does not match X-Amz-Date ${amzDate}`);
  }
  if (auth.service !== ctx.service) {
    throw refusal(ctx.codes.badSignature, `the credential is scoped to service '${printable(auth.service)}', but this emulator is '${ctx.service}'`);
  }
  for (const required of ['host', 'x-amz-date', ...(ctx.service === 's3' ? ['x-amz-content-sha256'] : [])]) {
    if (!auth.signedHeaders.includes(required)) {
      throw refusal(ctx.codes.badSignature, `'${required}' must be one of the request's SignedHeaders`);
    }
  }
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const values = req.headersDistinct[name];
    if (values === undefined) {
      throw refusal(ctx.codes.badSignature, `the signed header '${printable(name)}' is not in the request`);
    }
    headers[name] = values.map((v) => v.trim()).join(',');
  }
  if (ctx.service === 's3') {
    const payloadHash = headers['x-amz-content-sha256']!;
    if (payloadHash.startsWith('STREAMING-') && !S3_UNSIGNED_PAYLOADS.has(payloadHash)) {
      throw refusal(
        ctx.codes.badSignature,
        `chunk-signed uploads (x-amz-content-sha256: ${printable(payloadHash)}) are not supported by local mode's S3 emulator: ` +
          "send UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or the body's SHA-256",
      );
    }
    if (!S3_UNSIGNED_PAYLOADS.has(payloadHash) && !HEX_SHA256.test(payloadHash)) {
      throw new Refusal(
        400,
        ctx.codes.malformed,
        `x-amz-content-sha256 must be a lower-case hex SHA-256, UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER, not '${printable(payloadHash)}'`,
      );
    }
  }
  return {
    method: req.method ?? 'GET',
    path,
    query,
    headers,
    signedHeaders: auth.signedHeaders,
    signature: auth.signature,
    region: auth.region,
    signingDate,
  };
}

/** Checks a request's signature (for DynamoDB, over `body`; for S3, over its signed payload hash); throws a Refusal. */
export function signatureVerifier(ctx: SigV4Context, secretAccessKey: string): (signed: SignedRequest, body: Buffer | undefined) => Promise<void> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: ctx.accessKeyId, secretAccessKey },
    region: 'us-east-1',
    service: ctx.service,
    sha256: NodeSha256,
    // S3 signs the path exactly as sent (already escaped once); other services escape it again.
    uriEscapePath: ctx.service !== 's3',
    // Never add an x-amz-content-sha256 the client did not send: the canonical request is the client's.
    applyChecksum: false,
  });
  return async (signed, body) => {
    const result = await signer.sign(
      {
        method: signed.method,
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: signed.path,
        query: signed.query,
        headers: signed.headers,
        // For S3 the signed x-amz-content-sha256 header is the payload hash; for DynamoDB the body is hashed.
        body: body ?? undefined,
      },
      {
        signingDate: signed.signingDate,
        signingRegion: signed.region,
        signingService: ctx.service,
        signableHeaders: new Set(signed.signedHeaders),
      },
    );
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(result.headers.authorization ?? ''))?.[1] ?? '';
    if (!constantTimeEqual(signed.signature, expected)) {
      throw refusal(ctx.codes.badSignature, `the request signature does not match: sign with the secret access key in ${ctx.credentialsFile}`);
    }
  };
}

/** Equal strings, compared in time that does not depend on where they differ. */
function constantTimeEqual(a: string, b: string): boolean {
  // Both sides are hashed first, so lengths never differ and the comparison leaks nothing about b.
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb) && a.length === b.length;
}

interface Authorization {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=<id>/<date>/<region>/<service>/aws4_request, SignedHeaders=a;b, Signature=<hex>`. */
function parseAuthorization(header: string, malformed: string): Authorization {
  const bad = (why: string) => new Refusal(400, malformed, `malformed Authorization header: ${why}`);
  const match = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(header.trim());
  if (!match) throw bad('only AWS4-HMAC-SHA256 (SigV4) signatures are accepted');
  const params: Record<string, string> = {};
  for (const part of match[1]!.split(',')) {
    const eq = part.indexOf('=');
    if (eq === -1) throw bad('every part must be key=value');
    params[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const { Credential: credential, SignedHeaders: signedHeaders, Signature: signature } = params;
  if (!credential || !signedHeaders || !signature) throw bad('it needs Credential, SignedHeaders and Signature');
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request' || !/^\d{8}$/.test(scope[1]!) || !/^[a-z0-9-]{1,32}$/.test(scope[2]!)) {
    throw bad('Credential must be <access key id>/<YYYYMMDD>/<region>/<service>/aws4_request');
  }
  if (!SIGNATURE.test(signature)) throw bad('Signature must be 64 lower-case hex digits');
  const names = signedHeaders.split(';');
  if (names.some((n) => !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(n))) throw bad('SignedHeaders must be lower-case header names separated by ;');
  return { accessKeyId: scope[0]!, date: scope[1]!, region: scope[2]!, service: scope[3]!, signedHeaders: names, signature };
}

/** The query as the signer saw it: names and values percent-decoded, `+` left as `+` (SigV4 encodes a space as %20). */
function parseQuery(raw: string, malformed: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = Object.create(null) as Record<string, string | string[]>;
  if (raw === '') return query;
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(eq === -1 ? piece : piece.slice(0, eq));
      value = eq === -1 ? '' : decodeURIComponent(piece.slice(eq + 1));
    } catch {
      throw new Refusal(400, malformed, 'the query string has a malformed percent-encoding');
    }
    const prior = query[key];
    query[key] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [prior, value];
  }
  return query;
}

/** SHA-256 (and HMAC-SHA-256 with a key) over node:crypto, in the shape `SignatureV4` wants. */
class NodeSha256 {
  private hash: Hash | Hmac;
  private readonly key: Buffer | undefined;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.key = secret === undefined ? undefined : toBuffer(secret);
    this.hash = this.fresh();
  }

  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(toBuffer(data));
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()));
  }

  reset(): void {
    this.hash = this.fresh();
  }

  private fresh(): Hash | Hmac {
    return this.key === undefined ? createHash('sha256') : createHmac('sha256', this.key);
  }
}

function toBuffer(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}
