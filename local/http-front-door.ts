/**
 * Local mode's front door: an HTTP server that plays API Gateway (REST, proxy integration) for the
 * receiver. Each `POST /webhook[/{source}]` becomes the proxy event the receiver gets on AWS (raw
 * body bytes, base64-flagged when not UTF-8; headers; path parameter; request id and time), and the
 * handler's result becomes the HTTP answer. `GET /healthz` reports readiness.
 *
 * A webhook request is first checked on its head alone (the receiver's precheck: signature header,
 * source), so one the receiver would refuse anyway is answered before its body is read: a stranger
 * who found the tunnel's address cannot make local mode buffer 10 MiB per connection for nothing.
 *
 * `/admin/…` routes let the CLI (`redrive`, `replay`) reach the running pipeline's queue, which only
 * this process may open: they answer only requests from this machine that carry no `Origin` header
 * (no web page) and carry the admin token local mode writes to its state folder (`dev.json`,
 * readable by its owner only).
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DEFAULT_SOURCE } from '../lambda/core/receive.js';
import { SIGNATURE_HEADER } from '../lambda/core/signature.js';
import { silentLogger, type Logger } from '../lambda/core/telemetry.js';

/** API Gateway's payload limit. */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/**
 * Most connections the front door keeps open at once per address: far above what Social Plus and
 * the CLI open, low enough that a flood of idle sockets cannot exhaust the process.
 */
export const MAX_CONNECTIONS = 256;

/** A request must send its headers within this (Social Plus gives up on its own after 1.5 s). */
export const HEADERS_TIMEOUT_MS = 10_000;

/** A request must be wholly received within this; a body trickled slower is cut off. */
export const REQUEST_TIMEOUT_MS = 30_000;

/**
 * A request answered from its head alone has its body read and discarded when it declares at most
 * this many bytes, so the connection can serve the next request; a larger body, or one of unknown
 * length, is not read: the answer closes the connection.
 */
export const DRAIN_MAX_BYTES = 64 * 1024;

export type ReceiverHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** A webhook request's head: what the front door knows of it before reading the body. */
export interface WebhookRequestHead {
  /** Always `POST`: other methods are answered 405 before. */
  readonly method: string;
  /** The path, without the query string. */
  readonly path: string;
  /** The path's source segment, percent-decoded (as API Gateway's path parameter), or `default` for `POST /webhook`; not yet checked. */
  readonly source: string;
  /** Header names in lower case, each with the value the receiver's handler would see (API Gateway keeps a name's last line). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** How many `x-amity-signature` lines the request carried, in any letter case. */
  readonly signatureHeaderCount: number;
  /** Node's `rawHeaders`: names in the case sent, repeats kept. */
  readonly rawHeaders: readonly string[];
  /** The id the request gets (its proxy event's `requestContext.requestId` when it goes on). */
  readonly requestId: string;
  /** The declared `content-length`, when there is one. */
  readonly bodyBytes?: number;
}

/** An answer given from the head alone; `headers` default to `content-type: application/json`. */
export interface EarlyAnswer {
  readonly statusCode: number;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * Decides from the head whether the receiver would refuse a request whatever its body: returns
 * that answer (the body is then never read), or `undefined` to read the body and call the receiver.
 * It must not block: it runs on the request's path.
 */
export type WebhookPrecheck = (head: WebhookRequestHead) => EarlyAnswer | undefined;

/** What `/healthz` and the webhook routes answer while the pipeline is not serving. */
export type FrontDoorState = 'starting' | 'ready' | 'stopping';

export interface FrontDoorOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @default '127.0.0.1' (also listens on ::1 when the host is a loopback name, so `localhost` works either way) */
  readonly host?: string;
  /** @default MAX_BODY_BYTES */
  readonly maxBodyBytes?: number;
  /**
   * Most connections open at once, per listening address; more are closed as they arrive.
   * @default MAX_CONNECTIONS
   */
  readonly maxConnections?: number;
  readonly logger?: Logger;
  /**
   * Told of each webhook request that reached the receiver or its precheck, once answered (for
   * `dev --capture`). Runs on the request's path: it must return at once; what it throws is
   * logged, not answered.
   */
  readonly onWebhook?: (exchange: WebhookExchange) => void;
}

/** A webhook request as received, and the status it was answered with. */
export interface WebhookExchange {
  /** When the front door began reading the body (or, for one answered from its head, checked the head). */
  readonly receivedAt: Date;
  readonly method: string;
  /** The request target as received: path and query string. */
  readonly target: string;
  /** Node's `rawHeaders`: names in the case sent, repeats kept, `[name, value, name, value, …]`. */
  readonly rawHeaders: readonly string[];
  /** The exact body bytes; empty when `bodyNotRead`. */
  readonly body: Buffer;
  /** The status answered (500 when the receiver threw). */
  readonly status: number;
  /** The request was answered from its head (the precheck): its body, whatever it was, was never read. */
  readonly bodyNotRead?: boolean;
}

/** A request to an `/admin/…` route, once it passed the origin, address and token checks. */
export interface AdminRequest {
  readonly method: string;
  /** The path after `/admin` (e.g. `/redrive`). */
  readonly path: string;
  readonly body: Buffer;
}

/** The answer to an admin request; `body` is sent as JSON. */
export interface AdminResponse {
  readonly statusCode: number;
  readonly body: unknown;
}

export type AdminHandler = (req: AdminRequest) => Promise<AdminResponse>;

/** Header carrying the admin token: `authorization: Bearer <token>`. */
export const ADMIN_AUTH_HEADER = 'authorization';

export interface FrontDoor {
  readonly port: number;
  /** `http://<host>:<port>` */
  readonly url: string;
  /**
   * Set once the receiver is ready; until then webhook routes answer 503. `precheck` answers from
   * the head, before the body is read, what the receiver would refuse anyway (`precheckWebhook`).
   */
  serve(handler: ReceiverHandler, precheck?: WebhookPrecheck): void;
  /** Enables the `/admin/…` routes for requests from this machine bearing `token`. */
  serveAdmin(token: string, handler: AdminHandler): void;
  state(): FrontDoorState;
  /** Stops accepting requests and waits for those in progress. */
  close(): Promise<void>;
}

/** Thrown when the port cannot be used, naming it and what to do. */
export class PortUnavailableError extends Error {
  constructor(readonly port: number, host: string, cause: NodeJS.ErrnoException) {
    super(cause.code === 'EADDRINUSE'
      ? `port ${port} on ${host} is already in use: stop what listens there, or pick another port (PORT=3001 or --port 3001)`
      : `cannot listen on ${host}:${port}: ${cause.message}`, { cause });
    this.name = 'PortUnavailableError';
  }
}

const JSON_TYPE = { 'content-type': 'application/json' };

/** Starts listening at once (so a busy port fails fast); webhook routes answer 503 until `serve`. */
export async function startFrontDoor(opts: FrontDoorOptions): Promise<FrontDoor> {
  const host = opts.host ?? '127.0.0.1';
  const maxBodyBytes = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const logger = opts.logger ?? silentLogger;
  let handler: ReceiverHandler | undefined;
  let precheck: WebhookPrecheck | undefined;
  let admin: { readonly token: Buffer; readonly handler: AdminHandler } | undefined;
  let state: FrontDoorState = 'starting';
  const inFlight = new Set<Promise<void>>();

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const work = route(req, res).catch((err: Error) => {
      // The route, never the path: it is the caller's text (a source may carry terminal escapes).
      logger.error('local front door: request failed', { error: err.message, method: req.method, route: routeOf(req.url) });
      if (!res.headersSent) send(res, 500, { message: 'internal error in the local receiver; see the dev log' });
      else res.destroy();
    }).finally(() => inFlight.delete(work));
    inFlight.add(work);
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    if (url.pathname === '/healthz') {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(req, res, 'GET');
      discard(req, res);
      return send(res, state === 'ready' ? 200 : 503, { status: state === 'ready' ? 'ok' : state });
    }
    if (url.pathname === '/admin' || url.pathname.startsWith('/admin/')) return routeAdmin(req, res, url, method);
    const match = /^\/webhook(?:\/([^/]*))?\/?$/.exec(url.pathname);
    if (!match) {
      discard(req, res);
      return send(res, 404, { message: `no route for ${method} ${url.pathname}: use POST /webhook, POST /webhook/{source} or GET /healthz` });
    }
    if (method !== 'POST') return methodNotAllowed(req, res, 'POST');
    if (state !== 'ready' || !handler) {
      discard(req, res);
      return send(res, 503, { message: 'temporarily unavailable' }, { 'retry-after': '1' });
    }
    const tooLarge = () => send(res, 413, { message: `request body is larger than ${maxBodyBytes} bytes (API Gateway's payload limit)` }, { connection: 'close' });
    // API Gateway refuses a payload over its limit before the receiver sees anything.
    if ((declaredLength(req) ?? 0) > maxBodyBytes) return tooLarge();
    let source: string | undefined;
    if (match[1] !== undefined && match[1] !== '') {
      try {
        source = decodeURIComponent(match[1]);
      } catch {
        source = match[1];
      }
    }
    const requestId = randomUUID();
    const receivedAt = new Date();
    if (precheck) {
      const head = headOf(req, url.pathname, source, requestId);
      const early = precheck(head);
      if (early) {
        answerUnread(req, res, early);
        tell({ receivedAt, method, target: req.url ?? url.pathname, rawHeaders: req.rawHeaders, body: Buffer.alloc(0), status: early.statusCode, bodyNotRead: true });
        return;
      }
    }
    const body = await readBody(req, res, maxBodyBytes);
    if (body === 'too-large') return tooLarge();
    const event = toProxyEvent(req, url, body, source, requestId);
    let status = 500;
    try {
      const result = await handler(event);
      status = result.statusCode;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
      res.writeHead(result.statusCode, headers);
      res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
    } finally {
      tell({ receivedAt, method, target: req.url ?? url.pathname, rawHeaders: req.rawHeaders, body, status });
    }
  }

  function tell(exchange: WebhookExchange): void {
    if (!opts.onWebhook) return;
    try {
      opts.onWebhook(exchange);
    } catch (err) {
      logger.error('local front door: onWebhook failed', { error: (err as Error).message });
    }
  }

  async function routeAdmin(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    if (!admin) {
      discard(req, res);
      return send(res, 404, { message: `no route for ${method} ${url.pathname}: admin routes are not enabled` });
    }
    // Browsers send `Origin` with every cross-site POST: a web page open on this machine must not
    // reach the queue through the user's loopback, token or not. The CLI sends none.
    if (req.headers.origin !== undefined) {
      discard(req, res);
      return send(res, 403, { message: 'admin routes answer no web pages: a request with an Origin header is refused (the socialplus-webhooks CLI sends none)' });
    }
    if (!fromThisMachine(req)) {
      discard(req, res);
      return send(res, 403, { message: 'admin routes answer only requests from this machine' });
    }
    if (!tokenMatches(req.headers[ADMIN_AUTH_HEADER], admin.token)) {
      discard(req, res);
      return send(res, 401, { message: 'missing or wrong admin token: the socialplus-webhooks CLI reads it from dev.json in the local state folder' });
    }
    if (state === 'stopping') {
      discard(req, res);
      return send(res, 503, { message: 'local mode is stopping' });
    }
    const body = await readBody(req, res, maxBodyBytes);
    if (body === 'too-large') return send(res, 413, { message: `request body is larger than ${maxBodyBytes} bytes` }, { connection: 'close' });
    const answer = await admin.handler({ method, path: url.pathname.slice('/admin'.length) || '/', body });
    return send(res, answer.statusCode, answer.body);
  }

  /** A server with the front door's limits: connection cap, header and request timeouts. */
  const limitedServer = (): Server => {
    const server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, onRequest);
    server.maxConnections = opts.maxConnections ?? MAX_CONNECTIONS;
    // `Expect: 100-continue` (curl sends it for large bodies): the client waits for leave to send
    // the body, given only when the body is read, so a request refused from its head never sends it.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      awaitingContinue.add(req);
      onRequest(req, res);
    });
    return server;
  };
  const servers = [limitedServer()];
  const first = servers[0] as Server;
  await listen(first, opts.port, host);
  const port = (first.address() as AddressInfo).port;
  // `localhost` may resolve to ::1 first: listen there too, so `send`'s default URL always connects.
  if (host === '127.0.0.1' || host === 'localhost') {
    const v6 = limitedServer();
    try {
      await listen(v6, port, '::1');
      servers.push(v6);
    } catch {
      // No IPv6 loopback here (or the port is taken on it): 127.0.0.1 alone serves.
    }
  }

  return {
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    serve(h, p) {
      handler = h;
      precheck = p;
      state = 'ready';
    },
    serveAdmin(token, h) {
      if (token.length < 16) throw new RangeError('the admin token must be at least 16 characters');
      admin = { token: Buffer.from(token, 'utf8'), handler: h };
    },
    state: () => state,
    async close() {
      state = 'stopping';
      const closed = servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const s of servers) s.closeIdleConnections();
      await Promise.allSettled([...inFlight]);
      for (const s of servers) s.closeAllConnections();
      await Promise.all(closed);
    },
  };
}

/** A loopback client, or one connecting from an address of this machine to itself. */
function fromThisMachine(req: IncomingMessage): boolean {
  const remote = req.socket.remoteAddress ?? '';
  return remote === '::1' || remote.startsWith('127.') || remote.startsWith('::ffff:127.') || remote === req.socket.localAddress;
}

function tokenMatches(header: string | undefined, token: Buffer): boolean {
  const m = /^Bearer (\S+)$/.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1] as string, 'utf8');
  return given.length === token.length && timingSafeEqual(given, token);
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => reject(new PortUnavailableError(port, host, err));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/** Requests whose client waits for `100 Continue` before sending the body. */
const awaitingContinue = new WeakSet<IncomingMessage>();

/** Lets a client waiting on `Expect: 100-continue` send its body: only once the body will be read. */
function letBodyCome(req: IncomingMessage, res: ServerResponse): void {
  if (!awaitingContinue.delete(req)) return;
  res.writeContinue();
}

/** Reads and drops the body (as Node does when no `checkContinue` listener is set), so keep-alive goes on. */
function discard(req: IncomingMessage, res: ServerResponse): void {
  letBodyCome(req, res);
  req.resume();
}

/** The declared `content-length`, or undefined when there is none (chunked) or it is not a length. */
function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length'];
  if (header !== undefined) return /^\d+$/.test(header) ? Number(header) : undefined;
  // Neither header: the request has no body at all.
  return req.headers['transfer-encoding'] === undefined ? 0 : undefined;
}

/**
 * Answers from the head alone. A small declared body is read and dropped so the connection can
 * carry the next request; a larger one, one of unknown length, or one the client has not sent yet
 * (`Expect: 100-continue`) is left unread and the connection closed after the answer.
 */
function answerUnread(req: IncomingMessage, res: ServerResponse, answer: EarlyAnswer): void {
  const declared = declaredLength(req);
  const drain = !awaitingContinue.has(req) && declared !== undefined && declared <= DRAIN_MAX_BYTES;
  if (drain) req.resume();
  const body = Buffer.from(answer.body, 'utf8');
  res.writeHead(answer.statusCode, { ...(answer.headers ?? JSON_TYPE), 'content-length': String(body.length), ...(drain ? {} : { connection: 'close' }) });
  res.end(body);
}

/** What the precheck sees of a webhook request; `headers` as the receiver's handler would lower-case them. */
function headOf(req: IncomingMessage, path: string, source: string | undefined, requestId: string): WebhookRequestHead {
  // API Gateway keeps the last line of each name as sent; the handler then keeps the first name of
  // those that differ in case only (`lowerCaseHeaders`).
  const asSent: Record<string, string> = {};
  let signatureHeaderCount = 0;
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    asSent[name] = req.rawHeaders[i + 1] as string;
    if (name.toLowerCase() === SIGNATURE_HEADER) signatureHeaderCount++;
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(asSent)) {
    const lower = name.toLowerCase();
    if (headers[lower] === undefined) headers[lower] = value;
  }
  const declared = declaredLength(req);
  return {
    method: req.method ?? 'POST',
    path,
    source: source ?? DEFAULT_SOURCE,
    headers,
    signatureHeaderCount,
    rawHeaders: req.rawHeaders,
    requestId,
    ...(declared === undefined ? {} : { bodyBytes: declared }),
  };
}

/** The route a request target falls under, for logs: never the caller's path itself. */
function routeOf(target: string | undefined): string {
  const pathname = new URL(target ?? '/', 'http://local').pathname;
  if (pathname === '/healthz') return '/healthz';
  if (pathname === '/admin' || pathname.startsWith('/admin/')) return '/admin/…';
  const match = /^\/webhook(?:\/([^/]*))?\/?$/.exec(pathname);
  if (match) return match[1] ? '/webhook/{source}' : '/webhook';
  return '(no route)';
}

function send(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...JSON_TYPE, ...extra });
  res.end(JSON.stringify(body));
}

function methodNotAllowed(req: IncomingMessage, res: ServerResponse, allow: string): void {
  discard(req, res);
  send(res, 405, { message: `method ${req.method} not allowed on ${new URL(req.url ?? '/', 'http://local').pathname}: use ${allow}` }, { allow });
}

/**
 * Reads the whole body, or stops at `max` bytes (declared or received) and reports it too large: a
 * body declared too large is not read (the answer closes the connection).
 */
function readBody(req: IncomingMessage, res: ServerResponse, max: number): Promise<Buffer | 'too-large'> {
  if ((declaredLength(req) ?? 0) > max) return Promise.resolve('too-large');
  letBodyCome(req, res);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > max) {
        over = true;
        chunks.length = 0;
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });
}

/** The API Gateway REST proxy event for a webhook request, as the receiver gets it on AWS. */
export function toProxyEvent(req: IncomingMessage, url: URL, body: Buffer, source: string | undefined, requestId: string = randomUUID()): APIGatewayProxyEvent {
  // API Gateway keeps the header names as sent; `headers` holds the last value of a repeated one.
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] as string;
    const value = req.rawHeaders[i + 1] as string;
    headers[name] = value;
    (multiValueHeaders[name] ??= []).push(value);
  }
  const query: Record<string, string> = {};
  const multiQuery: Record<string, string[]> = {};
  for (const [k, v] of url.searchParams) {
    query[k] = v;
    (multiQuery[k] ??= []).push(v);
  }
  const hasQuery = Object.keys(query).length > 0;
  const text = body.length > 0 && isUtf8(body);
  const resourcePath = source === undefined ? '/webhook' : '/webhook/{source}';
  const requestTimeEpoch = Date.now();
  return {
    resource: resourcePath,
    path: url.pathname,
    httpMethod: 'POST',
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? query : null,
    multiValueQueryStringParameters: hasQuery ? multiQuery : null,
    pathParameters: source === undefined ? null : { source },
    stageVariables: null,
    body: body.length === 0 ? null : text ? body.toString('utf8') : body.toString('base64'),
    isBase64Encoded: body.length > 0 && !text,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: undefined,
      protocol: `HTTP/${req.httpVersion}`,
      httpMethod: 'POST',
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
        user: null,
        userAgent: req.headers['user-agent'] ?? null,
        userArn: null,
      },
      path: `/local${url.pathname}`,
      stage: 'local',
      requestId,
      requestTimeEpoch,
      resourceId: 'local',
      resourcePath,
    },
  };
}
