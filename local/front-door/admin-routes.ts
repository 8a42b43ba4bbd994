/**
 * The front door's `/admin/…` routes, through which the CLI (`redrive`, `replay`) reaches the
 * running pipeline's queue, which only this process may open. They answer only requests from this
 * machine that carry no `Origin` header (no web page) and carry the admin token local mode writes
 * to its state folder (`dev.json`, readable by its owner only).
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { discardAndSend, send } from './answers.js';
import { readBody } from './request-body.js';

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

/** The admin routes once enabled: the token they require and what answers them. */
export interface AdminRoutes {
  readonly token: Buffer;
  readonly handler: AdminHandler;
}

export function isAdminPath(pathname: string): boolean {
  return pathname === '/admin' || pathname.startsWith('/admin/');
}

/** Answers a request to an `/admin/…` route: refused unless every check passes, else `admin.handler`'s answer. */
export async function routeAdmin(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  admin: AdminRoutes | undefined,
  opts: { readonly stopping: boolean; readonly maxBodyBytes: number },
): Promise<void> {
  const method = req.method ?? 'GET';
  if (!admin) return discardAndSend(req, res, 404, { message: `no route for ${method} ${url.pathname}: admin routes are not enabled` });
  const refusal = refusalOf(req, admin.token, opts.stopping);
  if (refusal) return discardAndSend(req, res, refusal.status, { message: refusal.message });
  const body = await readBody(req, res, opts.maxBodyBytes);
  if (body === 'too-large') return send(res, 413, { message: `request body is larger than ${opts.maxBodyBytes} bytes` }, { connection: 'close' });
  const answer = await admin.handler({ method, path: url.pathname.slice('/admin'.length) || '/', body });
  return send(res, answer.statusCode, answer.body);
}

/** Why an admin request is refused, checked in this order; undefined when it may go on. */
function refusalOf(req: IncomingMessage, token: Buffer, stopping: boolean): { status: number; message: string } | undefined {
  // Browsers send `Origin` with every cross-site POST: a web page open on this machine must not
  // reach the queue through the user's loopback, token or not. The CLI sends none.
  if (req.headers.origin !== undefined) {
    return {
      status: 403,
      message: 'admin routes answer no web pages: a request with an Origin header is refused (the socialplus-webhooks CLI sends none)',
    };
  }
  if (!fromThisMachine(req)) return { status: 403, message: 'admin routes answer only requests from this machine' };
  if (!tokenMatches(req.headers[ADMIN_AUTH_HEADER], token)) {
    return { status: 401, message: 'missing or wrong admin token: the socialplus-webhooks CLI reads it from dev.json in the local state folder' };
  }
  if (stopping) return { status: 503, message: 'local mode is stopping' };
  return undefined;
}

/** A loopback client, or one connecting from an address of this machine to itself. */
export function fromThisMachine(req: IncomingMessage): boolean {
  const remote = req.socket.remoteAddress ?? '';
  return remote === '::1' || remote.startsWith('127.') || remote.startsWith('::ffff:127.') || remote === req.socket.localAddress;
}

function tokenMatches(header: string | undefined, token: Buffer): boolean {
  const m = /^Bearer (\S+)$/.exec(header ?? '');
  if (!m) return false;
  const given = Buffer.from(m[1] as string, 'utf8');
  return given.length === token.length && timingSafeEqual(given, token);
}
