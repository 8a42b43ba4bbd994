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
 *
 * This module holds the browser and host checks and the order of the checks; the SigV4 checks are
 * in `emulator-guard/sigv4.ts`, the refusals' shapes in `emulator-guard/refusals.ts`.
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { answerRefusal, asRefusal, printable, Refusal, refusal, serviceCodes, type ServiceCodes } from './emulator-guard/refusals.js';
import { BodyAborted, BodyTooLarge, readBody, replayRequest } from './emulator-guard/request-body.js';
import { readSignedRequest, signatureVerifier, type SignedRequest, type SigV4Context } from './emulator-guard/sigv4.js';

export { MAX_CLOCK_SKEW_MS } from './emulator-guard/sigv4.js';

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

/** Wraps `inner` so that it sees only requests that pass every check above. */
export function guardEmulator(inner: RequestListener, opts: EmulatorGuardOptions): RequestListener {
  const service = opts.service;
  const maxBodyBytes = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const codes = serviceCodes(service);
  const credentialsFile = opts.credentialsFile ?? '.local/emulator-credentials.json';
  const sigv4: SigV4Context = {
    service,
    accessKeyId: opts.credentials.accessKeyId,
    now: opts.now ?? Date.now,
    codes,
    credentialsFile,
    useCredentials: `use the credentials in ${credentialsFile}`,
  };
  const verify = signatureVerifier(sigv4, opts.credentials.secretAccessKey);

  /** The checks that need no body; returns the parsed request or throws a Refusal. */
  const inspect = (req: IncomingMessage): SignedRequest => {
    checkNotFromBrowser(req, codes);
    const port = opts.port();
    const host = req.headers.host;
    if (host === undefined || !loopbackHost(host, port)) {
      throw refusal(
        codes.forbidden,
        `the Host header must be 127.0.0.1:${port}, localhost:${port} or [::1]:${port}, not ${host === undefined ? 'missing' : `'${printable(host)}'`}: ` +
          "local mode's emulators refuse other host names, which a DNS-rebinding web page would send",
      );
    }
    return readSignedRequest(req, sigv4);
  };

  const refuse = (req: IncomingMessage, res: ServerResponse, r: Refusal, bodyConsumed: boolean): void => {
    opts.onRefuse?.({ service, status: r.status, code: r.code, message: r.message, method: req.method ?? '' });
    answerRefusal(res, service, r, bodyConsumed);
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
    readBody(req, maxBodyBytes)
      .then(async (body) => {
        const bodyHash = createHash('sha256').update(body).digest('hex');
        const claimed = signed.headers['x-amz-content-sha256'];
        if (claimed !== undefined && claimed !== bodyHash) {
          throw refusal(codes.badSignature, 'the x-amz-content-sha256 header does not match the request body');
        }
        await verify(signed, body);
        inner(replayRequest(req, body), res);
      })
      .catch((err: unknown) => {
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

/** Refuses what only a browser sends: an Origin, Sec-Fetch-* headers, a CORS preflight. */
function checkNotFromBrowser(req: IncomingMessage, codes: ServiceCodes): void {
  if (req.headers.origin !== undefined) {
    throw refusal(
      codes.forbidden,
      "local mode's emulators answer no web pages: a request with an Origin header (browsers send one on cross-origin requests) is refused",
    );
  }
  if (req.headers['sec-fetch-site'] !== undefined || req.headers['sec-fetch-mode'] !== undefined) {
    throw refusal(codes.forbidden, "local mode's emulators answer no web pages: a request with Sec-Fetch-* headers (sent by browsers) is refused");
  }
  if (req.method === 'OPTIONS') {
    throw refusal(codes.forbidden, "local mode's emulators answer no web pages: CORS preflight (OPTIONS) requests are refused");
  }
}

/** `127.0.0.1:<port>`, `localhost:<port>` or `[::1]:<port>` (clients leave out port 80). */
function loopbackHost(host: string, port: number): boolean {
  const names = ['127.0.0.1', 'localhost', '[::1]'];
  return names.some((name) => host === `${name}:${port}` || (port === 80 && host === name));
}
