/**
 * Who the inspector answers (docs/inspector.md, "Who can reach it"): a browser on this machine, at
 * a loopback `Host` (a DNS-rebinding page names its own), not through a proxy or tunnel, from no
 * other site or origin, holding the session cookie the inspector sets in exchange for the admin
 * token in its link. The cookie is derived from the token, never the token itself: a cookie read
 * off a browser cannot drive the admin routes the CLI uses.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { fromThisMachine } from '../front-door/admin-routes.js';

export interface InspectorAccess {
  /** Why a request is refused, checked in this order; undefined when it may go on. */
  refusalOf(req: IncomingMessage): { readonly status: number; readonly message: string } | undefined;
  /** Whether the request carries the session cookie. */
  hasSession(req: IncomingMessage): boolean;
  /** Whether `given` is the admin token (compared in constant time). */
  tokenMatches(given: string): boolean;
  /** The `Set-Cookie` value that hands the session to a browser that showed the token. */
  readonly setCookie: string;
}

export function inspectorAccess(adminToken: string, port: number): InspectorAccess {
  const token = Buffer.from(adminToken, 'utf8');
  const cookieName = `spw_inspector_${port}`;
  const session = Buffer.from(createHmac('sha256', token).update(`inspector-session:${port}`).digest('base64url'), 'utf8');
  const allowedHosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
  const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
  return {
    refusalOf(req) {
      if (!fromThisMachine(req)) return { status: 403, message: 'The inspector answers only this machine.' };
      if (req.headers['x-forwarded-for'] !== undefined || req.headers.forwarded !== undefined || req.headers['x-forwarded-host'] !== undefined) {
        return { status: 403, message: 'The inspector does not answer requests that came through a proxy or a tunnel: open it on this machine.' };
      }
      const host = req.headers.host ?? '';
      if (!allowedHosts.has(host.toLowerCase())) {
        return {
          status: 403,
          message: `The inspector answers only at http://127.0.0.1:${port}/ or http://localhost:${port}/ (this request named host '${host}').`,
        };
      }
      const site = req.headers['sec-fetch-site'];
      if (site !== undefined && site !== 'same-origin' && site !== 'none') {
        return { status: 403, message: `The inspector answers no other site or origin (Sec-Fetch-Site: ${site}).` };
      }
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== `http://${host.toLowerCase()}`) {
        return { status: 403, message: `The inspector answers no other origin (Origin: ${origin}).` };
      }
      return undefined;
    },
    hasSession(req) {
      for (const part of (req.headers.cookie ?? '').split(';')) {
        const eq = part.indexOf('=');
        if (eq >= 0 && part.slice(0, eq).trim() === cookieName && same(Buffer.from(part.slice(eq + 1).trim(), 'utf8'), session)) return true;
      }
      return false;
    },
    tokenMatches: (given) => same(Buffer.from(given, 'utf8'), token),
    setCookie: `${cookieName}=${session.toString('utf8')}; HttpOnly; SameSite=Strict; Path=/`,
  };
}
