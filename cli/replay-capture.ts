/**
 * `send --replay-capture`: posts a request captured by `dev --capture` (`local/capture.ts`) again,
 * byte for byte: the same body bytes and the same header lines (names in their case, repeats and
 * order kept), less the hop-by-hop ones, which describe the captured connection rather than the
 * delivery. With `resign`, the signature headers are computed again over the body to send, in the
 * encoding the capture used, for a capture whose body was redacted by hand.
 *
 * Knows nothing of the command line: `cli/commands/send.ts` turns options into a plan and prints.
 */
import { readFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { eventIdOf } from '../lambda/core/event-id.js';
import { LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER, signAs } from '../lambda/core/signature.js';
import { captureBody, CaptureFormatError, parseCapture, type CaptureFile } from '../local/capture.js';
import { CliError } from './errors.js';
import { REQUEST_TIMEOUT_MS, type PostOutcome } from './sign-and-post.js';

/** Headers not sent again: they belong to the captured connection, or are recomputed (host, content-length). */
export const HOP_BY_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'expect',
  'host',
  'content-length',
]);

const WEBHOOK_PATH = /^\/webhook(?:\/([^/]*))?\/?$/;
const HEX_DIGEST = /^[0-9a-fA-F]{64}$/;

/** Reads and checks a capture file; every failure is a {@link CliError} naming the file. */
export async function readCaptureFile(file: string): Promise<CaptureFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a folder, give one capture file in it' : e.message;
    throw new CliError(`cannot read the capture file ${file}: ${why}`);
  }
  try {
    return parseCapture(text);
  } catch (err) {
    if (err instanceof CaptureFormatError) throw new CliError(`${file}: ${err.message}`);
    throw err;
  }
}

/** A signature header re-signed for the body sent. */
export interface Resigned {
  /** The header's name as captured. */
  readonly header: string;
  readonly encoding: 'hex' | 'base64';
}

/** What to send and what to say about it. */
export interface ReplayPlan {
  readonly url: string;
  /** Header lines in order, `host` and `content-length` set for this request. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: Buffer;
  readonly eventId: string;
  /** Which field the body came from, and whether it differs from the captured bytes. */
  readonly bodyFrom: 'bodyText' | 'bodyBase64';
  readonly edited: boolean;
  /** Empty unless re-signed. */
  readonly resigned: readonly Resigned[];
  /** Header lines of the capture left out (hop-by-hop), by lower-case name. */
  readonly dropped: readonly string[];
  /** The status local mode answered when it captured the request. */
  readonly capturedStatus: number;
}

export interface ReplayOptions {
  /** The webhook URL without a source (`--url`, or local mode's); the captured source segment is added. */
  readonly baseUrl: string;
  /** Re-sign the signature headers with this secret. */
  readonly resignWith?: string;
}

/** The request that replays `capture` to `opts.baseUrl`. Throws a {@link CliError} when it cannot. */
export function planReplay(capture: CaptureFile, opts: ReplayOptions): ReplayPlan {
  if (capture.method !== 'POST') throw new CliError(`the capture is a ${capture.method} request: only POST webhook deliveries can be replayed`);
  const captured = new URL(capture.path, 'http://capture.invalid');
  const match = WEBHOOK_PATH.exec(captured.pathname);
  if (!match) throw new CliError(`the capture's path '${capture.path}' is not a webhook route (/webhook or /webhook/{source})`);
  const url = new URL(opts.baseUrl);
  const segment = match[1] ?? '';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}${segment === '' ? '' : `/${segment}`}`;
  if (captured.search !== '') url.search = captured.search;

  const { bytes: body, from: bodyFrom, edited } = captureBody(capture);
  const headers: Array<readonly [string, string]> = [];
  const dropped: string[] = [];
  const resigned: Resigned[] = [];
  let host = false;
  let length = false;
  for (const [name, value] of capture.headers) {
    const lower = name.toLowerCase();
    if (lower === 'host' && !host) {
      host = true;
      headers.push([name, url.host]);
    } else if (lower === 'content-length' && !length) {
      length = true;
      headers.push([name, String(body.length)]);
    } else if (HOP_BY_HOP_HEADERS.has(lower)) {
      dropped.push(lower);
    } else if (opts.resignWith !== undefined && (lower === SIGNATURE_HEADER || lower === LEGACY_SIGNATURE_HEADER)) {
      const encoding = HEX_DIGEST.test(value.trim()) ? 'hex' : 'base64';
      headers.push([name, signAs(body, opts.resignWith, encoding)]);
      resigned.push({ header: name, encoding });
    } else {
      headers.push([name, value]);
    }
  }
  if (opts.resignWith !== undefined && resigned.length === 0) {
    throw new CliError(`the capture has no ${SIGNATURE_HEADER} or ${LEGACY_SIGNATURE_HEADER} header to re-sign: replay it without --resign`);
  }
  if (!host) headers.unshift(['Host', url.host]);
  if (!length) headers.push(['Content-Length', String(body.length)]);
  return { url: url.toString(), headers, body, eventId: eventIdOf(body), bodyFrom, edited, resigned, dropped, capturedStatus: capture.answer.status };
}

/**
 * Posts `plan` with Node's HTTP client, which sends header lines exactly as listed (fetch would
 * lower-case names and merge repeats). Never throws for network failures: they come back as
 * `kind: 'error'` with a code such as `ECONNREFUSED`.
 */
export function postReplay(plan: ReplayPlan, timeoutMs = REQUEST_TIMEOUT_MS): Promise<PostOutcome> {
  const started = performance.now();
  const url = new URL(plan.url);
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostOutcome>((resolve) => {
    const fail = (error: string, message: string) => resolve({ kind: 'error', error, message, latencyMs: performance.now() - started });
    const req = request(
      {
        method: 'POST',
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port,
        path: `${url.pathname}${url.search}`,
        // A flat [name, value, …] list is written as given: case, order and repeats kept.
        headers: plan.headers.flat() as unknown as Record<string, string>,
        agent: false,
      },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            kind: 'response',
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            latencyMs: performance.now() - started,
          }),
        );
        res.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? 'NETWORK', err.message));
      },
    );
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      fail('TIMEOUT', `no answer within ${timeoutMs} ms`);
    });
    req.on('error', (err: NodeJS.ErrnoException & { errors?: Array<{ code?: string }> }) => {
      const code = err.code ?? err.errors?.find((e) => e.code)?.code ?? 'NETWORK';
      fail(code, err.message || code);
    });
    req.end(plan.body);
  });
}
