/**
 * Capture of deliveries in local mode (`dev --capture <dir>`): every request that reaches the
 * receiver, or its precheck, through a webhook route (`POST /webhook[/{source}]`), verified or not,
 * is written after it was answered to one JSON file of its own, so a real delivery seen through a
 * tunnel can be kept as a regression fixture and posted again byte for byte (`send --replay-capture`).
 *
 * A capture holds personal data (the body) and the signature: the folder is created mode 0700 and
 * each file is written mode 0600. Writing never delays or fails the answer: it starts after the
 * answer was sent, and a failure is logged once (naming the file, never the body), not thrown.
 *
 * The file format, `socialplus-webhooks-capture/1` (one JSON object, indented for hand edits):
 *
 * ```json
 * {
 *   "format": "socialplus-webhooks-capture/1",
 *   "receivedAt": "2025-06-01T12:34:56.789Z",
 *   "method": "POST",
 *   "path": "/webhook/partner",
 *   "headers": [["Host", "abc.example"], ["X-Amity-Signature", "…"], ["Content-Type", "application/json"]],
 *   "bodyText": "{\"event\":\"message.didCreate\",…}",
 *   "bodyBase64": "eyJldmVudCI6…",
 *   "answer": { "status": 200 }
 * }
 * ```
 *
 * `headers` lists every header line in the order received, names in the case sent, repeats kept.
 * `bodyText` is present when the body is valid UTF-8; `bodyBase64` always holds the exact bytes. A
 * reader takes `bodyText` when present (it is where a user redacts by hand), else `bodyBase64`.
 * A request answered from its head alone (refused, or a legacy duplicate dropped, before its body
 * was read) is captured with `"bodyNotRead": true` and no body: there is none to replay.
 * File names sort by time: `<receivedAt, ':' as '-'>-<event id>.json`.
 */
import { isUtf8 } from 'node:buffer';
import { access, chmod, constants, mkdir, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SocialPlusWebhooksError, errorMessage } from '../lambda/core/errors.js';
import { eventIdOf } from '../lambda/core/event-id.js';
import { silentLogger, type Logger } from '../lambda/core/telemetry.js';
import type { WebhookExchange } from './http-front-door.js';

/** The `format` of the capture files this version writes and reads. */
export const CAPTURE_FORMAT = 'socialplus-webhooks-capture/1';
const FORMAT_FAMILY = 'socialplus-webhooks-capture/';
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** One captured request, as stored in its file. */
export interface CaptureFile {
  readonly format: typeof CAPTURE_FORMAT;
  /** When the front door began reading the body (ISO 8601, UTC, milliseconds). */
  readonly receivedAt: string;
  readonly method: string;
  /** The request target as received: path and query string (e.g. `/webhook/partner`). */
  readonly path: string;
  /** Every header line in the order received, names in the case sent, repeats kept. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  /** The body as text when its bytes are valid UTF-8; a reader prefers it to `bodyBase64`. */
  readonly bodyText?: string;
  /** The exact body bytes. Written unless `bodyNotRead`; a capture redacted through `bodyText` may drop it. */
  readonly bodyBase64?: string;
  /** Local mode answered from the request's head and never read its body: the capture holds none. */
  readonly bodyNotRead?: true;
  /** What local mode answered. */
  readonly answer: { readonly status: number };
}

/** A file that is not a capture, or a capture this version cannot read; the message says which. */
export class CaptureFormatError extends SocialPlusWebhooksError {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureFormatError';
  }
}

/** The capture folder cannot be created or written to; thrown at start-up, before any request. */
export class CaptureDirError extends SocialPlusWebhooksError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CaptureDirError';
  }
}

/** The capture of one answered request. */
export function captureOf(exchange: WebhookExchange): CaptureFile {
  const headers: Array<readonly [string, string]> = [];
  for (let i = 0; i + 1 < exchange.rawHeaders.length; i += 2) headers.push([exchange.rawHeaders[i] as string, exchange.rawHeaders[i + 1] as string]);
  return {
    format: CAPTURE_FORMAT,
    receivedAt: exchange.receivedAt.toISOString(),
    method: exchange.method,
    path: exchange.target,
    headers,
    ...(exchange.bodyNotRead
      ? { bodyNotRead: true as const }
      : { ...(isUtf8(exchange.body) ? { bodyText: exchange.body.toString('utf8') } : {}), bodyBase64: exchange.body.toString('base64') }),
    answer: { status: exchange.status },
  };
}

/** The file's text: indented JSON with one header pair per line, ending in a newline. */
export function serializeCapture(capture: CaptureFile): string {
  // Spreading keeps the key order; `headers` is laid out by hand, one compact pair per line.
  const text = JSON.stringify({ ...capture, headers: [] }, null, 2);
  const pairs = capture.headers.map((h) => `    ${JSON.stringify(h)}`).join(',\n');
  // The first `"headers": []` is the key: quotes inside string values are escaped.
  return `${text.replace('"headers": []', () => (pairs === '' ? '"headers": []' : `"headers": [\n${pairs}\n  ]`))}\n`;
}

/** `2025-06-01T12-34-56.789Z-<event id>.json`: sorts by time, names the event. */
export function captureFileName(receivedAt: Date, body: Uint8Array): string {
  return `${receivedAt.toISOString().replace(/:/g, '-')}-${eventIdOf(body)}.json`;
}

/** The body to send again: `bodyText` when present (edits win), else the bytes of `bodyBase64`. */
export interface CaptureBody {
  readonly bytes: Buffer;
  readonly from: 'bodyText' | 'bodyBase64';
  /** Both are present and `bodyText` is not the text of `bodyBase64`: the body was edited. */
  readonly edited: boolean;
}

/** Which bytes a capture stands for; see {@link CaptureBody}. */
export function captureBody(capture: CaptureFile): CaptureBody {
  const original = capture.bodyBase64 === undefined ? undefined : Buffer.from(capture.bodyBase64, 'base64');
  if (capture.bodyText === undefined) return { bytes: original as Buffer, from: 'bodyBase64', edited: false };
  const bytes = Buffer.from(capture.bodyText, 'utf8');
  return { bytes, from: 'bodyText', edited: original !== undefined && !original.equals(bytes) };
}

/** Reads a capture file's text; throws {@link CaptureFormatError} naming what is wrong. */
export function parseCapture(text: string): CaptureFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new CaptureFormatError(`not a capture file: not JSON (${errorMessage(err)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CaptureFormatError('not a capture file: not a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v.format !== 'string' || !v.format.startsWith(FORMAT_FAMILY)) {
    throw new CaptureFormatError(
      `not a capture file: it has no "format": "${CAPTURE_FORMAT}" (captures are written by socialplus-webhooks dev --capture <dir>)`,
    );
  }
  if (v.format !== CAPTURE_FORMAT) {
    throw new CaptureFormatError(`capture format '${v.format}' is not supported: this version reads ${CAPTURE_FORMAT} only`);
  }
  const bad = (field: string, expected: string) => new CaptureFormatError(`invalid capture: "${field}" must be ${expected}`);
  if (typeof v.receivedAt !== 'string' || Number.isNaN(Date.parse(v.receivedAt))) throw bad('receivedAt', 'an ISO 8601 time');
  if (typeof v.method !== 'string' || v.method === '') throw bad('method', 'an HTTP method');
  if (typeof v.path !== 'string' || !v.path.startsWith('/')) throw bad('path', 'a path starting with /');
  if (
    !Array.isArray(v.headers) ||
    !v.headers.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && h[0] !== '' && typeof h[1] === 'string')
  ) {
    throw bad('headers', 'a list of [name, value] pairs of strings');
  }
  if (v.bodyText !== undefined && typeof v.bodyText !== 'string') throw bad('bodyText', 'a string');
  if (v.bodyBase64 !== undefined && (typeof v.bodyBase64 !== 'string' || !BASE64.test(v.bodyBase64) || v.bodyBase64.length % 4 !== 0))
    throw bad('bodyBase64', 'base64');
  if (v.bodyNotRead !== undefined && v.bodyNotRead !== true) throw bad('bodyNotRead', 'true when present');
  const answer = v.answer as Record<string, unknown> | undefined;
  if (typeof answer !== 'object' || answer === null || !Number.isInteger(answer.status)) throw bad('answer', 'an object with an integer "status"');
  if (v.bodyText === undefined && v.bodyBase64 === undefined) {
    throw new CaptureFormatError(
      v.bodyNotRead
        ? `this capture holds no body: local mode answered ${answer.status as number} from the request's headers and never read its body, so there is nothing to replay (add a "bodyText" by hand to send one)`
        : 'invalid capture: it has neither "bodyText" nor "bodyBase64"',
    );
  }
  return {
    format: CAPTURE_FORMAT,
    receivedAt: v.receivedAt,
    method: v.method,
    path: v.path,
    headers: (v.headers as Array<[string, string]>).map(([k, val]) => [k, val] as const),
    ...(v.bodyText !== undefined ? { bodyText: v.bodyText as string } : {}),
    ...(v.bodyBase64 !== undefined ? { bodyBase64: v.bodyBase64 as string } : {}),
    ...(v.bodyNotRead === true ? { bodyNotRead: true as const } : {}),
    answer: { status: answer.status as number },
  };
}

export interface CaptureWriterOptions {
  /** The folder; created mode 0700 when missing. */
  readonly dir: string;
  readonly logger?: Logger;
}

/** Writes one capture file per answered webhook request, off the request's path. */
export class CaptureWriter {
  private readonly pending = new Set<Promise<void>>();
  private failed = false;

  private constructor(
    /** The folder, as an absolute path. */
    readonly dir: string,
    private readonly logger: Logger,
  ) {}

  /**
   * Creates the folder (0700) when missing and checks it can be written, so a bad path fails
   * local mode's start rather than every request. Warns when an existing folder is open to others.
   */
  static async open(opts: CaptureWriterOptions): Promise<CaptureWriter> {
    const dir = resolve(opts.dir);
    const logger = opts.logger ?? silentLogger;
    try {
      const existing = await stat(dir).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT') return undefined;
        throw err;
      });
      if (existing && !existing.isDirectory())
        throw new CaptureDirError(`the capture folder ${dir} is not a folder: give the path of a folder (it is created when missing)`);
      if (!existing) {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await chmod(dir, 0o700);
      } else if ((existing.mode & 0o077) !== 0) {
        logger.warn('capture folder is open to other users; captures hold personal data and signatures', {
          dir,
          mode: (existing.mode & 0o777).toString(8),
          fix: `chmod 700 ${dir}`,
        });
      }
      await access(dir, constants.W_OK);
    } catch (err) {
      if (err instanceof CaptureDirError) throw err;
      throw new CaptureDirError(`cannot use the capture folder ${dir}: ${errorMessage(err)}`, { cause: err });
    }
    return new CaptureWriter(dir, logger);
  }

  /** Schedules the capture of an answered request; returns at once and never throws. */
  record(exchange: WebhookExchange): void {
    const work = new Promise<void>((resolveTick) => setImmediate(resolveTick))
      .then(() => this.write(exchange))
      .catch((err: Error) => this.fail(err))
      .finally(() => this.pending.delete(work));
    this.pending.add(work);
  }

  /** Waits for every capture scheduled so far to be written (or to have failed). */
  async flush(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private async write(exchange: WebhookExchange): Promise<void> {
    const text = serializeCapture(captureOf(exchange));
    const name = captureFileName(exchange.receivedAt, exchange.body);
    // Two identical deliveries in the same millisecond: a numbered name rather than an overwrite.
    for (let n = 1; ; n++) {
      const file = join(this.dir, n === 1 ? name : name.replace(/\.json$/, `-${n}.json`));
      try {
        await writeFile(file, text, { mode: 0o600, flag: 'wx' });
        this.logger.debug('captured webhook request', { file, status: exchange.status });
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n >= 100) throw err;
      }
    }
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    this.logger.error('capture: cannot write a capture file; requests are still answered, later capture failures are not logged', {
      dir: this.dir,
      error: err.message,
    });
  }
}
