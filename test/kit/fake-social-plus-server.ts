/**
 * A fake Social Plus REST API on localhost (node:http, port 0) for the client and example-handler
 * tests: it records every request, keeps just enough state to behave like the real one on retries
 * (a deleted message answers 404 the second time; a ban is idempotent) and can be told to fail.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: unknown;
}

/** An answer to force: status, optional JSON body and headers; `hang` never answers. */
export interface ForcedAnswer {
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  readonly hang?: boolean;
}

export class FakeSocialPlusServer {
  readonly requests: RecordedRequest[] = [];
  /** Users globally banned (ban/unban through `/api/v2/users/...`). */
  readonly bannedUsers = new Set<string>();
  /** `channel:<id>` or `community:<id>` → banned user ids. */
  readonly scopedBans = new Map<string, Set<string>>();
  /** Paths of deleted messages, posts and comments (without the query). */
  readonly deleted = new Set<string>();
  /** Tokens the fake accepts; empty accepts any bearer token. */
  readonly validTokens = new Set<string>();
  /** Answers to give before behaving normally, first in first out. */
  readonly forced: ForcedAnswer[] = [];

  private server: Server | undefined;
  private hanging: ServerResponse[] = [];
  url = '';

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.hanging = [];
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Requests whose path starts with `prefix` (method optional). */
  requestsTo(method: string, prefix: string): RecordedRequest[] {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(prefix));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      body = text;
    }
    const path = req.url ?? '/';
    this.requests.push({ method: req.method ?? '', path, headers: req.headers, body });

    const forced = this.forced.shift();
    if (forced?.hang) {
      this.hanging.push(res);
      return;
    }
    if (forced) return send(res, forced.status ?? 200, forced.body ?? {}, forced.headers);

    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (token === undefined || (this.validTokens.size > 0 && !this.validTokens.has(token))) return send(res, 401, { message: 'invalid token' });
    this.answer(req.method ?? '', path, body, res);
  }

  private answer(method: string, path: string, body: unknown, res: ServerResponse): void {
    const bare = path.split('?')[0] ?? path;
    const b = (body ?? {}) as { userId?: unknown; userIds?: unknown };
    if (method === 'POST' && (bare === '/api/v2/users/ban' || bare === '/api/v2/users/unban')) {
      if (typeof b.userId !== 'string') return send(res, 400, { message: 'userId is required' });
      if (bare.endsWith('/ban')) this.bannedUsers.add(b.userId);
      else this.bannedUsers.delete(b.userId);
      return send(res, 200, {});
    }
    const scoped = /^\/api\/v3\/(channels|communities)\/([^/]+)\/users\/(ban|unban)$/.exec(bare);
    if (method === 'PUT' && scoped) {
      if (!Array.isArray(b.userIds) || b.userIds.length === 0 || b.userIds.length > 100)
        return send(res, 400, { message: 'userIds must hold 1 to 100 ids' });
      const key = `${scoped[1] === 'channels' ? 'channel' : 'community'}:${decodeURIComponent(scoped[2] ?? '')}`;
      const set = this.scopedBans.get(key) ?? new Set<string>();
      for (const u of b.userIds as string[]) {
        if (scoped[3] === 'ban') set.add(u);
        else set.delete(u);
      }
      this.scopedBans.set(key, set);
      return send(res, 200, {});
    }
    if (method === 'DELETE' && /^\/api\/v[345]\/(messages|posts|comments)\/[^/]+$/.test(bare)) {
      if (this.deleted.has(bare)) return send(res, 404, { message: 'not found' });
      this.deleted.add(bare);
      return send(res, 200, {});
    }
    if (method === 'DELETE' && /^\/api\/v[35]\/messages\/[^/]+\/(clearFlags|flags\/all)$|^\/api\/v2\/users\/[^/]+\/flags$/.test(bare)) {
      return send(res, 200, {});
    }
    send(res, 404, { message: `no route ${method} ${bare}` });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
