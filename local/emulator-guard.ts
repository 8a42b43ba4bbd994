/**
 * A guard in front of an emulator's request listener (dynalite, the S3 emulator). The emulators
 * themselves trust every caller: dynalite answers any Origin with `Access-Control-Allow-Origin: *`
 * and accepts any signature, and an S3 emulator takes unauthenticated writes, including the
 * multipart POST a web page may send cross-origin without a preflight. So the guard passes a request
 * on only when it is SigV4-signed with this installation's credentials
 * (`.local/emulator-credentials.json`), names the emulator's own loopback address in `Host` (no DNS
 * rebinding) and comes from no browser (no `Origin`, no preflight). Every refusal answers in the
 * service's own error shape, so the SDK raises a named error with a message that says what to do.
 *
 * Neither the secret nor the signature the guard expected ever appears in a response or a log.
 */
import { createHash, createHmac, timingSafeEqual, type Hash, type Hmac } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { PassThrough } from 'node:stream';
import { SignatureV4 } from '@smithy/signature-v4';

export interface EmulatorGuardOptions {
  readonly service: 'dynamodb' | 's3';
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** The port the guard's server listens on: the Host header must name it. */
  readonly port: () => number;
  /** The largest DynamoDB request body read (the guard hashes it); larger ones get 413. Default 16 MiB, dynalite's own limit. */
  readonly maxBodyBytes?: number;
  /** For the clock-skew check. */
  readonly now?: () => number;
  /** Where the credentials live, for the refusals' messages. Default `.local/emulator-credentials.json`. */
  readonly credentialsFile?: string;
  /** Told of every refusal (for a log line); never given the secret or an expected signature. */
  readonly onRefuse?: (refusal: EmulatorRefusal) => void;
}

export interface EmulatorRefusal {
  readonly service: 'dynamodb' | 's3';
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly method: string;
}

export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** SigV4's allowed clock difference, as on AWS. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

const HEX_SHA256 = /^[0-9a-f]{64}$/;
/** x-amz-content-sha256 values an S3 request may carry besides a hex hash: the emulator reads the body itself. */
const S3_UNSIGNED_PAYLOADS = new Set(['UNSIGNED-PAYLOAD', 'STREAMING-UNSIGNED-PAYLOAD-TRAILER']);
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const SIGNATURE = /^[0-9a-f]{64}$/;
const PRESIGN_PARAMS = new Set(['x-amz-algorithm', 'x-amz-credential', 'x-amz-signature', 'x-amz-signedheaders']);

/** A refusal: the service's error code and message, and the HTTP status it answers with. */
class Refusal {
  constructor(readonly status: number, readonly code: string, readonly message: string) {}
}

/** Wraps `inner` so that it sees only requests that pass every check above. */
export function guardEmulator(inner: RequestListener, opts: EmulatorGuardOptions): RequestListener {
  const service = opts.service;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const now = opts.now ?? Date.now;
  const credentialsFile = opts.credentialsFile ?? '.local/emulator-credentials.json';
  const useCredentials = `use the credentials in ${credentialsFile}`;
  const signer = new SignatureV4({
    credentials: { accessKeyId: opts.credentials.accessKeyId, secretAccessKey: opts.credentials.secretAccessKey },
    region: 'us-east-1',
    service,
    sha256: NodeSha256,
    // S3 signs the path exactly as sent (already escaped once); other services escape it again.
    uriEscapePath: service !== 's3',
    // Never add an x-amz-content-sha256 the client did not send: the canonical request is the client's.
    applyChecksum: false,
  });
  const codes = service === 's3' ? S3_CODES : DYNAMODB_CODES;

  /** The checks that need no body; returns the parsed request or throws a Refusal. */
  const inspect = (req: IncomingMessage): SignedRequest => {
    if (req.headers.origin !== undefined) {
      throw new Refusal(codes.forbidden.status, codes.forbidden.code,
        'local mode\'s emulators answer no web pages: a request with an Origin header (browsers send one on cross-origin requests) is refused');
    }
    if (req.headers['sec-fetch-site'] !== undefined || req.headers['sec-fetch-mode'] !== undefined) {
      throw new Refusal(codes.forbidden.status, codes.forbidden.code,
        'local mode\'s emulators answer no web pages: a request with Sec-Fetch-* headers (sent by browsers) is refused');
    }
    if (req.method === 'OPTIONS') {
      throw new Refusal(codes.forbidden.status, codes.forbidden.code,
        'local mode\'s emulators answer no web pages: CORS preflight (OPTIONS) requests are refused');
    }
    const port = opts.port();
    const host = req.headers.host;
    if (host === undefined || !loopbackHost(host, port)) {
      throw new Refusal(codes.forbidden.status, codes.forbidden.code,
        `the Host header must be 127.0.0.1:${port}, localhost:${port} or [::1]:${port}, not ${host === undefined ? 'missing' : `'${printable(host)}'`}: `
        + 'local mode\'s emulators refuse other host names, which a DNS-rebinding web page would send');
    }
    const url = req.url ?? '';
    if (!url.startsWith('/')) throw new Refusal(400, codes.malformed, 'the request target must be a path starting with /');
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const query = parseQuery(q === -1 ? '' : url.slice(q + 1), codes.malformed);
    if (Object.keys(query).some((k) => PRESIGN_PARAMS.has(k.toLowerCase()))) {
      throw new Refusal(codes.forbidden.status, codes.forbidden.code,
        `presigned URLs (query-string authentication) are not accepted by local mode's emulators: sign requests with an Authorization header (${useCredentials})`);
    }
    const authorization = req.headers.authorization;
    if (authorization === undefined) {
      throw new Refusal(codes.missingAuth.status, codes.missingAuth.code,
        `the request is not signed: local mode's emulators accept only SigV4-signed requests (Authorization: AWS4-HMAC-SHA256 ...); ${useCredentials}`);
    }
    const auth = parseAuthorization(authorization, codes.malformed);
    if (!constantTimeEqual(auth.accessKeyId, opts.credentials.accessKeyId)) {
      throw new Refusal(codes.badKey.status, codes.badKey.code,
        `the access key id is not this installation's: ${useCredentials}`);
    }
    if (req.headers['x-amz-security-token'] !== undefined) {
      throw new Refusal(codes.badKey.status, codes.badKey.code,
        `session tokens are not accepted by local mode's emulators: ${useCredentials}, without a session token`);
    }
    const amzDate = req.headers['x-amz-date'];
    const dateMatch = typeof amzDate === 'string' ? AMZ_DATE.exec(amzDate) : null;
    if (!dateMatch || typeof amzDate !== 'string') {
      throw new Refusal(400, codes.malformed, 'a signed request needs an X-Amz-Date header in ISO 8601 basic format (YYYYMMDDTHHMMSSZ)');
    }
    const [, y, mo, d, h, mi, s] = dateMatch.map(Number);
    const signingDate = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
    if (Number.isNaN(signingDate.getTime())) throw new Refusal(400, codes.malformed, `X-Amz-Date '${amzDate}' is not a valid date`);
    const skew = signingDate.getTime() - now();
    if (Math.abs(skew) > MAX_CLOCK_SKEW_MS) {
      throw new Refusal(codes.skewed.status, codes.skewed.code,
        `the request's X-Amz-Date ${amzDate} is more than 15 minutes ${skew < 0 ? 'behind' : 'ahead of'} the emulator's clock (${new Date(now()).toISOString()}): check the system clock`);
    }
    if (auth.date !== amzDate.slice(0, 8)) {
      throw new Refusal(codes.badSignature.status, codes.badSignature.code,
        `the credential scope's date ${auth.date} does not match X-Amz-Date ${amzDate}`);
    }
    if (auth.service !== service) {
      throw new Refusal(codes.badSignature.status, codes.badSignature.code,
        `the credential is scoped to service '${printable(auth.service)}', but this emulator is '${service}'`);
    }
    for (const required of ['host', 'x-amz-date', ...(service === 's3' ? ['x-amz-content-sha256'] : [])]) {
      if (!auth.signedHeaders.includes(required)) {
        throw new Refusal(codes.badSignature.status, codes.badSignature.code, `'${required}' must be one of the request's SignedHeaders`);
      }
    }
    const headers: Record<string, string> = {};
    for (const name of auth.signedHeaders) {
      const values = req.headersDistinct[name];
      if (values === undefined) {
        throw new Refusal(codes.badSignature.status, codes.badSignature.code, `the signed header '${printable(name)}' is not in the request`);
      }
      headers[name] = values.map((v) => v.trim()).join(',');
    }
    if (service === 's3') {
      const payloadHash = headers['x-amz-content-sha256']!;
      if (payloadHash.startsWith('STREAMING-') && !S3_UNSIGNED_PAYLOADS.has(payloadHash)) {
        throw new Refusal(codes.badSignature.status, codes.badSignature.code,
          `chunk-signed uploads (x-amz-content-sha256: ${printable(payloadHash)}) are not supported by local mode's S3 emulator: `
          + 'send UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER or the body\'s SHA-256');
      }
      if (!S3_UNSIGNED_PAYLOADS.has(payloadHash) && !HEX_SHA256.test(payloadHash)) {
        throw new Refusal(400, codes.malformed, `x-amz-content-sha256 must be a lower-case hex SHA-256, UNSIGNED-PAYLOAD or STREAMING-UNSIGNED-PAYLOAD-TRAILER, not '${printable(payloadHash)}'`);
      }
    }
    return { method: req.method ?? 'GET', path, query, headers, signedHeaders: auth.signedHeaders, signature: auth.signature, region: auth.region, signingDate };
  };

  const verify = async (signed: SignedRequest, body: Buffer | undefined): Promise<void> => {
    const result = await signer.sign({
      method: signed.method,
      protocol: 'http:',
      hostname: '127.0.0.1',
      path: signed.path,
      query: signed.query,
      headers: signed.headers,
      // For S3 the signed x-amz-content-sha256 header is the payload hash; for DynamoDB the body is hashed.
      body: body ?? undefined,
    }, {
      signingDate: signed.signingDate,
      signingRegion: signed.region,
      signingService: service,
      signableHeaders: new Set(signed.signedHeaders),
    });
    const expected = /Signature=([0-9a-f]{64})$/.exec(String(result.headers.authorization ?? ''))?.[1] ?? '';
    if (!constantTimeEqual(signed.signature, expected)) {
      throw new Refusal(codes.badSignature.status, codes.badSignature.code,
        `the request signature does not match: sign with the secret access key in ${credentialsFile}`);
    }
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, refusal: Refusal, bodyConsumed: boolean): void => {
    opts.onRefuse?.({ service, status: refusal.status, code: refusal.code, message: refusal.message, method: req.method ?? '' });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const { contentType, body } = service === 's3' ? s3Error(refusal) : dynamoDbError(refusal);
    res.statusCode = refusal.status;
    res.setHeader('Content-Type', contentType);
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.setHeader(service === 's3' ? 'x-amz-request-id' : 'x-amzn-RequestId', requestId());
    // A refused request's body is not read: close the connection rather than read it to its end.
    if (!bodyConsumed) res.setHeader('Connection', 'close');
    res.end(body);
  };

  return (req, res) => {
    let signed: SignedRequest;
    try {
      signed = inspect(req);
    } catch (err) {
      refuse(req, res, asRefusal(err, codes), false);
      return;
    }
    if (service === 's3') {
      // The S3 emulator reads the body itself and checks it against the signed x-amz-content-sha256.
      verify(signed, undefined).then(
        () => inner(req, res),
        (err: unknown) => refuse(req, res, asRefusal(err, codes), false),
      );
      return;
    }
    readBody(req, maxBodyBytes).then(async (body) => {
      const bodyHash = createHash('sha256').update(body).digest('hex');
      const claimed = signed.headers['x-amz-content-sha256'];
      if (claimed !== undefined && claimed !== bodyHash) {
        throw new Refusal(codes.badSignature.status, codes.badSignature.code, 'the x-amz-content-sha256 header does not match the request body');
      }
      await verify(signed, body);
      inner(replayRequest(req, body), res);
    }).catch((err: unknown) => {
      if (err instanceof BodyTooLarge) {
        refuse(req, res, new Refusal(413, codes.tooLarge, `the request body is larger than ${maxBodyBytes} bytes`), false);
      } else if (err instanceof BodyAborted) {
        res.destroy();
      } else {
        refuse(req, res, asRefusal(err, codes), true);
      }
    });
  };
}

interface SignedRequest {
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

interface ServiceCodes {
  readonly forbidden: { status: number; code: string };
  readonly missingAuth: { status: number; code: string };
  readonly badKey: { status: number; code: string };
  readonly badSignature: { status: number; code: string };
  readonly skewed: { status: number; code: string };
  readonly malformed: string;
  readonly tooLarge: string;
  readonly internal: string;
}

// DynamoDB answers its client errors with 400 and a coral type.
const coral = (name: string) => `com.amazon.coral.service#${name}`;
const DYNAMODB_CODES: ServiceCodes = {
  forbidden: { status: 400, code: coral('AccessDeniedException') },
  missingAuth: { status: 400, code: coral('MissingAuthenticationTokenException') },
  badKey: { status: 400, code: coral('UnrecognizedClientException') },
  badSignature: { status: 400, code: coral('InvalidSignatureException') },
  skewed: { status: 400, code: coral('InvalidSignatureException') },
  malformed: coral('IncompleteSignatureException'),
  tooLarge: coral('RequestEntityTooLargeException'),
  internal: coral('InternalFailure'),
};
const S3_CODES: ServiceCodes = {
  forbidden: { status: 403, code: 'AccessDenied' },
  missingAuth: { status: 403, code: 'AccessDenied' },
  badKey: { status: 403, code: 'InvalidAccessKeyId' },
  badSignature: { status: 403, code: 'SignatureDoesNotMatch' },
  skewed: { status: 403, code: 'RequestTimeTooSkewed' },
  malformed: 'InvalidRequest',
  tooLarge: 'EntityTooLarge',
  internal: 'InternalError',
};

/** `127.0.0.1:<port>`, `localhost:<port>` or `[::1]:<port>` (clients leave out port 80). */
function loopbackHost(host: string, port: number): boolean {
  const names = ['127.0.0.1', 'localhost', '[::1]'];
  return names.some((name) => host === `${name}:${port}` || (port === 80 && host === name));
}

function asRefusal(err: unknown, codes: ServiceCodes): Refusal {
  if (err instanceof Refusal) return err;
  // Not the error's text: it could come from anywhere, and the caller is not trusted yet.
  return new Refusal(500, codes.internal, 'the emulator guard failed to check the request');
}

function dynamoDbError(r: Refusal): { contentType: string; body: string } {
  return { contentType: 'application/x-amz-json-1.0', body: JSON.stringify({ __type: r.code, message: r.message }) };
}

function s3Error(r: Refusal): { contentType: string; body: string } {
  return {
    contentType: 'application/xml',
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(r.code)}</Code><Message>${xmlEscape(r.message)}</Message></Error>`,
  };
}

function xmlEscape(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '\'': '&apos;', '"': '&quot;' })[c]!);
}

/** Caller-supplied text for a message: printable ASCII, at most 100 characters. */
function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 100 ? `${clean.slice(0, 100)}...` : clean;
}

function requestId(): string {
  return createHash('sha256').update(`${process.hrtime.bigint()}:${Math.random()}`).digest('hex').slice(0, 16).toUpperCase();
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

class BodyTooLarge extends Error {}
class BodyAborted extends Error {}

/** Reads the whole body, refusing more than `max` bytes (before reading any, when Content-Length says so). */
function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (fn: () => void) => {
      if (done) return;
      done = true;
      req.off('data', onData).off('end', onEnd).off('error', onError).off('aborted', onAborted);
      fn();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        finish(() => reject(new BodyTooLarge()));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(() => resolve(Buffer.concat(chunks, size)));
    const onError = () => finish(() => reject(new BodyAborted()));
    const onAborted = () => finish(() => reject(new BodyAborted()));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('aborted', onAborted);
  });
}

/**
 * A request that yields `body` again, for a listener that reads it with `on('data')`/`on('end')`
 * (dynalite does) after the guard has read and hashed it. Headers, method and URL are the original's.
 */
function replayRequest(req: IncomingMessage, body: Buffer): IncomingMessage {
  const replay = new PassThrough();
  Object.assign(replay, {
    headers: req.headers,
    headersDistinct: req.headersDistinct,
    rawHeaders: req.rawHeaders,
    trailers: req.trailers,
    method: req.method,
    url: req.url,
    httpVersion: req.httpVersion,
    httpVersionMajor: req.httpVersionMajor,
    httpVersionMinor: req.httpVersionMinor,
    socket: req.socket,
    connection: req.socket,
    complete: true,
    aborted: false,
  });
  replay.end(body);
  return replay as unknown as IncomingMessage;
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
