/**
 * Local mode's front door: an HTTP server that plays API Gateway (REST, proxy integration) for the
 * receiver. Each `POST /webhook[/{source}]` becomes the proxy event the receiver gets on AWS
 * (`front-door/proxy-event.ts`), and the handler's result becomes the HTTP answer. `GET /healthz`
 * reports readiness.
 *
 * A webhook request is first checked on its head alone (the receiver's precheck: signature header,
 * source), so one the receiver would refuse anyway is answered before its body is read: a stranger
 * who found the tunnel's address cannot make local mode buffer 10 MiB per connection for nothing.
 *
 * `/admin/…` routes let the CLI (`redrive`, `replay`) reach the running pipeline's queue; who may
 * use them is in `front-door/admin-routes.ts`.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { SocialPlusWebhooksError, errorMessage } from '../lambda/core/errors.js';
import { silentLogger, type Logger } from '../lambda/core/telemetry.js';
import { isAdminPath, routeAdmin, type AdminHandler, type AdminRoutes } from './front-door/admin-routes.js';
import { answerUnread, discardAndSend, methodNotAllowed, send, type EarlyAnswer } from './front-door/answers.js';
import { headOf, toProxyEvent, type WebhookRequestHead } from './front-door/proxy-event.js';
import { declaredLength, expectsContinue, readBody } from './front-door/request-body.js';
import { listen } from './listen.js';
import { isInspectorPath } from './inspector/server.js';

export { ADMIN_AUTH_HEADER, type AdminHandler, type AdminRequest, type AdminResponse } from './front-door/admin-routes.js';
export type { EarlyAnswer } from './front-door/answers.js';
export { toProxyEvent, type WebhookRequestHead } from './front-door/proxy-event.js';
export { DRAIN_MAX_BYTES } from './front-door/request-body.js';

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

/** Answers a request to one of the inspector's paths. */
export type InspectorHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

export type ReceiverHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

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
  /** Hands the inspector's paths (`/`, `/events/…`, `/dlq`, …: `inspector/server.ts`) to `handler`, which checks who asks. */
  serveInspector(handler: InspectorHandler): void;
  state(): FrontDoorState;
  /** Stops accepting requests and waits for those in progress. */
  close(): Promise<void>;
}

/** Thrown when the port cannot be used, naming it and what to do. */
export class PortUnavailableError extends SocialPlusWebhooksError {
  constructor(
    readonly port: number,
    host: string,
    cause: NodeJS.ErrnoException,
  ) {
    super(
      cause.code === 'EADDRINUSE'
        ? `port ${port} on ${host} is already in use: stop what listens there, or pick another port (PORT=3001 or --port 3001)`
        : `cannot listen on ${host}:${port}: ${cause.message}`,
      { cause },
    );
    this.name = 'PortUnavailableError';
  }
}

/** `/webhook` or `/webhook/{source}` (the source is group 1), with or without a trailing slash. */
const WEBHOOK_PATH = /^\/webhook(?:\/([^/]*))?\/?$/;

/** Starts listening at once (so a busy port fails fast); webhook routes answer 503 until `serve`. */
export async function startFrontDoor(opts: FrontDoorOptions): Promise<FrontDoor> {
  const host = opts.host ?? '127.0.0.1';
  const maxBodyBytes = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const logger = opts.logger ?? silentLogger;
  let handler: ReceiverHandler | undefined;
  let precheck: WebhookPrecheck | undefined;
  let admin: AdminRoutes | undefined;
  let inspector: InspectorHandler | undefined;
  let state: FrontDoorState = 'starting';
  const inFlight = new Set<Promise<void>>();

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const work = route(req, res)
      .catch((err: Error) => {
        // The route, never the path: it is the caller's text (a source may carry terminal escapes).
        logger.error('local front door: request failed', { error: err.message, method: req.method, route: routeOf(req.url) });
        if (!res.headersSent) send(res, 500, { message: 'internal error in the local receiver; see the dev log' });
        else res.destroy();
      })
      .finally(() => inFlight.delete(work));
    inFlight.add(work);
  };

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = req.method ?? 'GET';
    if (url.pathname === '/healthz') {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(req, res, 'GET');
      return discardAndSend(req, res, state === 'ready' ? 200 : 503, { status: state === 'ready' ? 'ok' : state });
    }
    if (isAdminPath(url.pathname)) return routeAdmin(req, res, url, admin, { stopping: state === 'stopping', maxBodyBytes });
    if (inspector && isInspectorPath(url.pathname)) return inspector(req, res, url);
    const match = WEBHOOK_PATH.exec(url.pathname);
    if (!match)
      return discardAndSend(req, res, 404, {
        message: `no route for ${method} ${url.pathname}: use POST /webhook, POST /webhook/{source} or GET /healthz`,
      });
    if (method !== 'POST') return methodNotAllowed(req, res, 'POST');
    if (state !== 'ready' || !handler) return discardAndSend(req, res, 503, { message: 'temporarily unavailable' }, { 'retry-after': '1' });
    const tooLarge = () =>
      send(res, 413, { message: `request body is larger than ${maxBodyBytes} bytes (API Gateway's payload limit)` }, { connection: 'close' });
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
        tell({
          receivedAt,
          method,
          target: req.url ?? url.pathname,
          rawHeaders: req.rawHeaders,
          body: Buffer.alloc(0),
          status: early.statusCode,
          bodyNotRead: true,
        });
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
      logger.error('local front door: onWebhook failed', { error: errorMessage(err) });
    }
  }

  /** A server with the front door's limits: connection cap, header and request timeouts. */
  const limitedServer = (): Server => {
    const server = createServer({ headersTimeout: HEADERS_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, onRequest);
    server.maxConnections = opts.maxConnections ?? MAX_CONNECTIONS;
    // `Expect: 100-continue` (curl sends it for large bodies): the client waits for leave to send
    // the body, given only when the body is read, so a request refused from its head never sends it.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      expectsContinue(req);
      onRequest(req, res);
    });
    return server;
  };
  const servers = [limitedServer()];
  const first = servers[0] as Server;
  await listenOrExplain(first, opts.port, host);
  const port = (first.address() as AddressInfo).port;
  // `localhost` may resolve to ::1 first: listen there too, so `send`'s default URL always connects.
  if (host === '127.0.0.1' || host === 'localhost') {
    const v6 = limitedServer();
    try {
      await listenOrExplain(v6, port, '::1');
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
    serveInspector(h) {
      inspector = h;
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

/** Listens on `host:port`, or rejects with a PortUnavailableError naming them. */
function listenOrExplain(server: Server, port: number, host: string): Promise<void> {
  return listen(server, port, host).catch((err: NodeJS.ErrnoException) => {
    throw new PortUnavailableError(port, host, err);
  });
}

/** The route a request target falls under, for logs: never the caller's path itself. */
function routeOf(target: string | undefined): string {
  const pathname = new URL(target ?? '/', 'http://local').pathname;
  if (pathname === '/healthz') return '/healthz';
  if (isAdminPath(pathname)) return '/admin/…';
  const match = WEBHOOK_PATH.exec(pathname);
  if (match) return match[1] ? '/webhook/{source}' : '/webhook';
  return '(no route)';
}
