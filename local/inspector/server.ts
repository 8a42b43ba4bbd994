/**
 * The inspector's HTTP side, served by local mode's front door at every path that is not a
 * webhook, `/healthz` or `/admin/…` (docs/inspector.md):
 *
 * - `GET /` the events (filters in the query), `GET /events/{id}` one event, `GET /dlq` the
 *   dead-letter queue, `GET /chart.svg` the chart, `GET /stream` the live stream (server-sent
 *   events: rows matching the page's filter, and the numbers), `GET /assets/…` the style sheet
 *   and the script;
 * - `POST /events/{id}/replay` (form field `force`, repeated) and `POST /dlq/redrive`.
 *
 * Who may use it: a browser on this machine, at a loopback address (the `Host` header too, so a
 * DNS-rebinding page cannot reach it), not through a proxy or tunnel, from no other origin, and
 * holding the session cookie, which the inspector sets when it is opened with the admin token in
 * the URL (`?token=…`, the link `npm start` prints) and which is never the token itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readFileSync } from 'node:fs';
import { isEventId } from '../../lambda/core/event-id.js';
import { errorMessage } from '../../lambda/core/errors.js';
import type { Logger } from '../../lambda/core/telemetry.js';
import { inspectorAccess } from './access.js';
import { discard, readBody } from '../front-door/request-body.js';
import type { EventDetailView, EventSourcesView, DeadLetterView, InspectorStats, Notice } from './views.js';
import { chartAlt, chartLegend, chartSvg, deadLettersPage, eventPage, eventRow, eventsPage, eventHref, refusalPage, statValues } from './views.js';
import { dropOldest, type Ledger } from './ledger.js';
import { filterParams, parseFilter, perMinute, select, matches, type Filter } from './query.js';

/** What the inspector reads and does; local mode (`pipeline.ts`) provides it. */
export interface InspectorSources {
  readonly ledger: Ledger;
  stats(): InspectorStats;
  /** Whether the rows of earlier runs are still being read from the store. */
  seeding(): boolean;
  /** Starts reading them, once (the first request that passes the checks calls it); resolves when they are read. */
  warm?(): Promise<void>;
  /** The event page's payload, archive line and store item, and the handlers a replay may force. */
  detail(eventId: string): Promise<EventSourcesView>;
  deadLetters(): Promise<readonly DeadLetterView[]>;
  /** Moves the DLQ back to the queue; resolves with how many moved. */
  redrive(): Promise<number>;
  /** Sends the event from the archive to the queue again, forcing the handlers named. */
  replay(eventId: string, force: readonly string[]): Promise<{ readonly sent: number; readonly message: string }>;
  now(): Date;
}

export interface InspectorOptions {
  /** The admin token (`dev.json`): the inspector's link carries it once, the session cookie is derived from it. */
  readonly token: string;
  /** The front door's port: the only one the `Host` header may name. */
  readonly port: number;
  readonly sources: InspectorSources;
  readonly logger: Logger;
  /** Most live streams open at once. @default 16 */
  readonly maxStreams?: number;
  /** Rows changed within this are pushed together. @default 250 */
  readonly pushDelayMs?: number;
  /** How often the numbers are pushed while a stream is open. @default 2000 */
  readonly statsIntervalMs?: number;
}

export interface Inspector {
  /** Answers a request to one of the inspector's paths. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void>;
  /** Tells open streams that this event's row changed. */
  changed(eventId: string): void;
  /** The link to open: the inspector with the token, which it trades for the session cookie. */
  link(baseUrl: string): string;
  /** Ends every open stream (before the front door closes, which waits for open requests). */
  close(): void;
}

/** Largest form body taken (a replay's forced handler names). */
const MAX_FORM_BYTES = 16 * 1024;
/** How long the first list page waits for the store's earlier events before it renders without them. */
const SEED_WAIT_MS = 3000;
/** Rows pushed at most per live message; a page that missed more is told to reload. */
const MAX_PUSHED_ROWS = 200;

const ASSETS: Readonly<Record<string, { readonly type: string; readonly file: string }>> = {
  '/assets/inspector.js': { type: 'text/javascript; charset=utf-8', file: 'inspector.js' },
  '/assets/inspector.css': { type: 'text/css; charset=utf-8', file: 'inspector.css' },
};

/**
 * Every answer's headers: no script but the inspector's own file, nothing framed, nothing sent
 * elsewhere (no referrer to another origin, no external request of any kind), never cached. The
 * referrer policy is `same-origin`, not `no-referrer`: under `no-referrer` Chromium sends the
 * inspector's own form posts with `Origin: null`, which the origin check must refuse.
 */
const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** The inspector's paths, but for those under {@link PATH_PREFIXES}. */
const PATHS: ReadonlySet<string> = new Set(['/', '/dlq', '/dlq/redrive', '/stream', '/chart.svg', '/favicon.ico']);
const PATH_PREFIXES = ['/events/', '/assets/'] as const;

/** Whether the front door should hand this path to the inspector. */
export function isInspectorPath(pathname: string): boolean {
  return PATHS.has(pathname) || PATH_PREFIXES.some((p) => pathname.startsWith(p));
}

export function createInspector(opts: InspectorOptions): Inspector {
  const { sources, logger } = opts;
  const access = inspectorAccess(opts.token, opts.port);
  const assets = new Map<string, { type: string; body: Buffer }>();
  for (const [path, a] of Object.entries(ASSETS))
    assets.set(path, { type: a.type, body: readFileSync(new URL(`./assets/${a.file}`, import.meta.url)) });
  const notices = new Map<string, Notice>();
  let noticeSeq = 0;
  const streams = new Set<Stream>();
  const pending = new Set<string>();
  let pushTimer: NodeJS.Timeout | undefined;
  let statsTimer: NodeJS.Timeout | undefined;
  let chartVersion = 0;
  let closed = false;

  interface Stream {
    readonly res: ServerResponse;
    /** Undefined: numbers only (pages other than the list). */
    readonly filter: Filter | undefined;
  }

  function headers(extra: Record<string, string>): Record<string, string> {
    return { ...SECURITY_HEADERS, ...extra };
  }

  function page(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
    const bytes = Buffer.from(body, 'utf8');
    res.writeHead(status, headers({ 'content-type': 'text/html; charset=utf-8', 'content-length': String(bytes.length), ...extra }));
    res.end(bytes);
  }

  function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string): void {
    discard(req, res);
    page(res, status, refusalPage(status, message));
  }

  function redirect(res: ServerResponse, location: string, extra: Record<string, string> = {}): void {
    res.writeHead(303, headers({ location, 'content-length': '0', ...extra }));
    res.end();
  }

  function notice(n: Notice): string {
    const id = `n${++noticeSeq}`;
    notices.set(id, n);
    dropOldest(notices, 50);
    return id;
  }

  async function handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    if (url.pathname === '/favicon.ico') {
      discard(req, res);
      res.writeHead(204, headers({}));
      res.end();
      return;
    }
    const refusal = access.refusalOf(req);
    if (refusal) return refuse(req, res, refusal.status, refusal.message);
    const given = url.searchParams.get('token');
    if (given !== null) {
      if (method !== 'GET' || !access.tokenMatches(given)) {
        return refuse(req, res, 401, 'This link carries a wrong or old token: open the link local mode printed when it started (npm start).');
      }
      // Trade the token for the session cookie, and take the token out of the address bar and history.
      url.searchParams.delete('token');
      discard(req, res);
      return redirect(res, `${url.pathname}${url.search}`, {
        'set-cookie': access.setCookie,
      });
    }
    if (!access.hasSession(req)) {
      return refuse(
        req,
        res,
        401,
        'Open the inspector from the link local mode printed when it started (npm start prints "inspector: http://127.0.0.1:…/?token=…"); the token is also in dev.json in the local state folder.',
      );
    }
    // The store's earlier events are read when someone first uses the inspector, not at every start.
    const warming = sources.warm?.();
    try {
      await route(req, res, url, method, warming);
    } catch (err) {
      logger.error('inspector: request failed', { error: errorMessage(err), method, route: url.pathname.replace(/\/events\/[^/]+/, '/events/{id}') });
      if (!res.headersSent) page(res, 500, refusalPage(500, `The inspector could not answer: ${errorMessage(err)}`));
      else res.destroy();
    }
  }

  async function route(req: IncomingMessage, res: ServerResponse, url: URL, method: string, warming: Promise<void> | undefined): Promise<void> {
    const path = url.pathname;
    const asset = assets.get(path);
    if (asset) {
      if (method !== 'GET') return refuse(req, res, 405, `Use GET for ${path}.`);
      discard(req, res);
      res.writeHead(200, headers({ 'content-type': asset.type, 'content-length': String(asset.body.length) }));
      res.end(asset.body);
      return;
    }
    if (path === '/' && method === 'GET') return listPage(req, res, url, warming);
    if (path === '/stream' && method === 'GET') return openStream(req, res, url);
    if (path === '/chart.svg' && method === 'GET') {
      discard(req, res);
      const svg = Buffer.from(chartSvg(perMinute(sources.ledger.values(), sources.now())), 'utf8');
      res.writeHead(200, headers({ 'content-type': 'image/svg+xml; charset=utf-8', 'content-length': String(svg.length) }));
      res.end(svg);
      return;
    }
    if (path === '/dlq' && method === 'GET') {
      discard(req, res);
      const n = notices.get(url.searchParams.get('notice') ?? '');
      return page(res, 200, deadLettersPage(sources.stats(), await sources.deadLetters(), n).text);
    }
    if (path === '/dlq/redrive' && method === 'POST') {
      discard(req, res);
      try {
        const moved = await sources.redrive();
        return redirect(res, `/dlq?notice=${notice({ kind: 'ok', text: `Moved ${moved} message${moved === 1 ? '' : 's'} back to the queue.` })}`);
      } catch (err) {
        return redirect(res, `/dlq?notice=${notice({ kind: 'error', text: `The redrive failed: ${errorMessage(err)}` })}`);
      }
    }
    const ev = /^\/events\/([^/]+)(\/replay)?$/.exec(path);
    if (ev) {
      let eventId: string;
      try {
        eventId = decodeURIComponent(ev[1] as string);
      } catch {
        eventId = ev[1] as string; // Malformed escapes: not an event id, answered 404 below.
      }
      if (!isEventId(eventId)) return refuse(req, res, 404, `'${eventId}' is not an event id (32 hexadecimal characters).`);
      if (!ev[2] && method === 'GET') {
        discard(req, res);
        const detail = await sources.detail(eventId);
        const n = notices.get(url.searchParams.get('notice') ?? '');
        const view: EventDetailView = {
          ...detail,
          row: sources.ledger.row(eventId),
          eventId,
          attempts: sources.ledger.attemptsOf(eventId),
          problems: sources.ledger.problemsOf(eventId),
          ...(n ? { notice: n } : {}),
        };
        return page(res, 200, eventPage(sources.stats(), view).text);
      }
      if (ev[2] && method === 'POST') return replay(req, res, eventId);
    }
    const known = PATHS.has(path) || ev !== null;
    return refuse(req, res, known ? 405 : 404, known ? `${method} is not served at ${path}.` : `The inspector has no page at ${path}.`);
  }

  async function listPage(req: IncomingMessage, res: ServerResponse, url: URL, warming: Promise<void> | undefined): Promise<void> {
    discard(req, res);
    const { filter, problems } = parseFilter(url.searchParams);
    // A whole event id in the search box opens its page.
    if (filter.id !== undefined && isEventId(filter.id)) return redirect(res, eventHref(filter.id));
    // The form sends every field, empty ones too: the address keeps only what filters.
    const canonical = filterParams(filter).toString();
    if (problems.length === 0 && url.search !== '' && url.searchParams.toString() !== canonical)
      return redirect(res, canonical === '' ? '/' : `/?${canonical}`);
    // The first page after a start lists the earlier runs' events too, when the store is read in time.
    if (warming) await Promise.race([warming, new Promise((resolve) => setTimeout(resolve, SEED_WAIT_MS).unref())]);
    const now = sources.now();
    const all = sources.ledger.all();
    const { rows, total } = select(all, filter, now);
    const body = eventsPage({
      stats: sources.stats(),
      filter,
      raw: url.searchParams,
      problems,
      rows,
      total,
      chart: perMinute(all, now),
      chartVersion,
      seeding: sources.seeding(),
    });
    page(res, 200, body.text);
  }

  async function replay(req: IncomingMessage, res: ServerResponse, eventId: string): Promise<void> {
    const body = await readBody(req, res, MAX_FORM_BYTES);
    if (body === 'too-large') return refuse(req, res, 413, `The form is larger than ${MAX_FORM_BYTES} bytes.`);
    const force = new URLSearchParams(body.toString('utf8')).getAll('force');
    const bad = force.find((n) => !/^[a-z0-9][a-z0-9-]{0,62}$/.test(n));
    if (bad !== undefined) {
      return redirect(
        res,
        `${eventHref(eventId)}?notice=${notice({ kind: 'error', text: `'${bad}' is not a handler name: nothing was replayed.` })}`,
      );
    }
    try {
      const out = await sources.replay(eventId, force);
      return redirect(res, `${eventHref(eventId)}?notice=${notice({ kind: out.sent > 0 ? 'ok' : 'error', text: out.message })}`);
    } catch (err) {
      return redirect(res, `${eventHref(eventId)}?notice=${notice({ kind: 'error', text: `The replay failed: ${errorMessage(err)}` })}`);
    }
  }

  function openStream(req: IncomingMessage, res: ServerResponse, url: URL): void {
    discard(req, res);
    if (closed) return page(res, 503, refusalPage(503, 'Local mode is stopping.'));
    if (streams.size >= (opts.maxStreams ?? 16)) {
      return page(res, 503, refusalPage(503, 'Too many inspector pages are open: close some.'), { 'retry-after': '10' });
    }
    const stream: Stream = { res, filter: url.searchParams.get('rows') === '1' ? parseFilter(url.searchParams).filter : undefined };
    res.writeHead(200, headers({ 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' }));
    res.write(`retry: 2000\n\n`);
    write(stream, 'stats', statValues(sources.stats()));
    streams.add(stream);
    statsTimer ??= setInterval(() => {
      const values = statValues(sources.stats());
      for (const s of streams) write(s, 'stats', values);
    }, opts.statsIntervalMs ?? 2000);
    statsTimer.unref();
    const done = () => {
      streams.delete(stream);
      if (streams.size === 0 && statsTimer) {
        clearInterval(statsTimer);
        statsTimer = undefined;
      }
    };
    res.on('close', done);
  }

  function listPageOpen(): boolean {
    for (const s of streams) if (s.filter !== undefined) return true;
    return false;
  }

  function write(s: Stream, event: string, data: unknown): void {
    if (s.res.writableEnded || s.res.destroyed) return;
    s.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  function push(): void {
    pushTimer = undefined;
    const ids = [...pending];
    pending.clear();
    chartVersion++;
    const now = sources.now();
    const rows = ids.map((id) => sources.ledger.row(id)).filter((r) => r !== undefined);
    const chart = perMinute(sources.ledger.values(), now);
    for (const s of streams) {
      if (!s.filter) continue;
      const f = s.filter;
      const mine = rows.filter((r) => matches(f, r, now));
      if (mine.length === 0) continue;
      if (mine.length > MAX_PUSHED_ROWS) {
        write(s, 'reload', { reason: `${mine.length} events changed at once` });
        continue;
      }
      write(s, 'rows', {
        chart: { version: chartVersion, alt: chartAlt(chart), legend: chartLegend(chart).text },
        rows: mine
          .sort((a, b) => a.receivedAt.localeCompare(b.receivedAt))
          .map((r) => ({ id: r.eventId, receivedAt: r.receivedAt, html: eventRow(r).text })),
      });
    }
  }

  return {
    handle,
    changed(eventId) {
      // With no list page open there is no one to tell: nothing is kept, no timer runs.
      if (!listPageOpen()) return;
      pending.add(eventId);
      if (!pushTimer && !closed) {
        pushTimer = setTimeout(push, opts.pushDelayMs ?? 250);
        pushTimer.unref();
      }
    },
    link(baseUrl) {
      return `${baseUrl}/?token=${encodeURIComponent(opts.token)}`;
    },
    close() {
      closed = true;
      if (pushTimer) clearTimeout(pushTimer);
      if (statsTimer) clearInterval(statsTimer);
      for (const s of streams) s.res.end();
      streams.clear();
    },
  };
}
