/**
 * A raw HTTP request for the tests of local mode's front door: header names' case, order and
 * repeats, and the body bytes, are exactly what the test gives (fetch would normalise them).
 */
import { request, type IncomingHttpHeaders } from 'node:http';

/** What {@link rawRequest} sends. */
export interface RawRequestOptions {
  /** `POST` unless given. */
  readonly method?: string;
  /** The path and query, resolved against the server's URL. */
  readonly path: string;
  /** Header lines after `Host`, in order; `Content-Length` follows unless a `Transfer-Encoding` is given. */
  readonly headers?: Array<[string, string]>;
  readonly body?: Buffer;
  /** `false`: a connection of its own, closed after the answer (Node's shared agent otherwise). */
  readonly agent?: false;
}

/** The answer to a {@link rawRequest}: its status, headers and body as UTF-8 text. */
export interface RawResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Sends one request to the server at `url` exactly as `opts` says and reads the whole answer. */
export function rawRequest(url: string, opts: RawRequestOptions): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const u = new URL(opts.path, url);
    const headers: Array<[string, string]> = [['Host', u.host], ...(opts.headers ?? [])];
    if (!headers.some(([k]) => k.toLowerCase() === 'transfer-encoding')) headers.push(['Content-Length', String(opts.body?.length ?? 0)]);
    // A flat [name, value, …] array keeps names' case and repeats exactly as given.
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: `${u.pathname}${u.search}`,
        method: opts.method ?? 'POST',
        headers: headers.flat() as unknown as Record<string, string>,
        ...(opts.agent === false ? { agent: false } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}
