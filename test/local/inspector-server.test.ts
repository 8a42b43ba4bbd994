/**
 * The inspector as a running local mode serves it (local/inspector/server.ts, over the front door):
 * who it answers (the session cookie traded for the banner's token, loopback `Host`, no other
 * origin or site, no proxy), its security headers, that what an event's sender chose is shown only
 * escaped, the live stream, replay, the DLQ and its redrive, and the answers to wrong paths and methods.
 */
import { request, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineHandler } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import type { LocalPipeline } from '../../local/pipeline.js';
import { postSignedWebhook, startTempPipeline, stopTempPipeline } from '../support/local-pipeline.js';
import { sampleBody } from '../support/samples.js';

const SECRET = 'inspector-server-secret';
const RECORDER = 'inspector-recorder';
const FLAKY = 'inspector-flaky';
/** Text that makes the flaky handler fail while `flakyFails` is set. */
const MARKER = 'FAIL-UNTIL-REDRIVE';
const FLAKY_ERROR = 'flaky refused the event on purpose';
const XSS_SCRIPT = '<script>alert(1)</script>';
const XSS_ATTR = '"><img src=x onerror=alert(1)>';

let dir: string | undefined;
let pipeline: LocalPipeline | undefined;
let port: number;
let cookie: string;
/** The event id of each invocation of the recording handler, in order. */
const recorded: string[] = [];
const flakyRuns: string[] = [];
let flakyFails = true;

function running(): LocalPipeline {
  if (pipeline === undefined) throw new Error('local mode is not running');
  return pipeline;
}

/** A distinct message.didCreate body: the sample with its sender, text and a copy tag changed. */
function messageEvent(copy: string, fields: { userId?: string; text?: string } = {}): string {
  const o = JSON.parse(sampleBody('message.didCreate')) as { copy?: string; data: { messages: Array<{ userId: string; data: { text: string } }> } };
  const m = o.data.messages[0] as { userId: string; data: { text: string } };
  if (fields.userId !== undefined) m.userId = fields.userId;
  if (fields.text !== undefined) m.data.text = fields.text;
  o.copy = copy;
  return JSON.stringify(o);
}

async function post(body: string): Promise<string> {
  const res = await postSignedWebhook(running().url, body, SECRET);
  expect(res.status).toBe(200);
  await res.arrayBuffer();
  return eventIdOf(body);
}

interface Answer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

interface SendOptions {
  readonly method?: string;
  /** Sent as given; `host` is 127.0.0.1:<port> and `cookie` the session unless given here (`null` leaves it out). */
  readonly headers?: Record<string, string | null>;
  readonly body?: string;
}

/** One request with exactly these headers (fetch would not send a `Host` of the test's choosing). */
function send(path: string, opts: SendOptions = {}): Promise<Answer> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries({ host: `127.0.0.1:${port}`, cookie, ...opts.headers })) if (v !== null && v !== undefined) headers[k] = v;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(opts.body));
  }
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Follows a 303 of the inspector (with the session) and returns the page it names. */
async function follow(a: Answer): Promise<Answer> {
  expect(a.status).toBe(303);
  return send(a.headers.location as string);
}

async function waitFor(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The server-sent events of one open stream, read with fetch's reader. */
class EventStream {
  private buffer = '';
  private readonly decoder = new TextDecoder();
  readonly seen: Array<{ event: string; data: unknown }> = [];

  private constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly abort: AbortController,
  ) {}

  static async open(path: string): Promise<{ stream: EventStream; response: Response }> {
    const abort = new AbortController();
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: { cookie }, signal: abort.signal });
    if (!response.body) throw new Error('no body');
    return { stream: new EventStream(response.body.getReader(), abort), response };
  }

  /** Reads until an event passes `pick` (events before it are kept in `seen`). */
  async until(what: string, pick: (e: { event: string; data: unknown }) => boolean, timeoutMs = 10_000): Promise<{ event: string; data: unknown }> {
    const timer = setTimeout(() => this.abort.abort(new Error(`timed out waiting for ${what}`)), timeoutMs);
    try {
      for (;;) {
        let cut: number;
        while ((cut = this.buffer.indexOf('\n\n')) >= 0) {
          const block = this.buffer.slice(0, cut);
          this.buffer = this.buffer.slice(cut + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === undefined || data === undefined) continue;
          const e = { event, data: JSON.parse(data) as unknown };
          this.seen.push(e);
          if (pick(e)) return e;
        }
        const { value, done } = await this.reader.read();
        if (done) throw new Error(`the stream ended before ${what}`);
        this.buffer += this.decoder.decode(value, { stream: true });
      }
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.abort.abort();
  }
}

interface PushedRows {
  readonly chart: { readonly version: number; readonly alt: string; readonly legend: string };
  readonly rows: ReadonlyArray<{ readonly id: string; readonly receivedAt: string; readonly html: string }>;
}

const rowsOf = (e: { event: string; data: unknown }): PushedRows['rows'] => (e.event === 'rows' ? (e.data as PushedRows).rows : []);

beforeAll(async () => {
  ({ dir, pipeline } = await startTempPipeline('inspector-server-', {
    secret: SECRET,
    handlers: [
      defineHandler({ name: RECORDER, events: ['*'], handle: (_e, ctx) => void recorded.push(ctx.eventId) }),
      defineHandler({
        name: FLAKY,
        events: ['*'],
        handle: (e, ctx) => {
          flakyRuns.push(ctx.eventId);
          if (flakyFails && JSON.stringify(e).includes(MARKER)) throw new Error(FLAKY_ERROR);
        },
      }),
    ],
    queue: { batchingWindowMs: 20, visibilityTimeoutMs: 100, maxReceiveCount: 2 },
    stream: { bufferIntervalMs: 100 },
  }));
  port = pipeline.port;
  const link = new URL(pipeline.inspectorUrl);
  const traded = await send(`${link.pathname}${link.search}`, { headers: { cookie: null } });
  expect(traded.status).toBe(303);
  cookie = String(traded.headers['set-cookie']?.[0]).split(';')[0] as string;
});

afterAll(() => stopTempPipeline(pipeline, dir));

describe('who the inspector answers', () => {
  it('without the session: 401, a page naming the link to open', async () => {
    const a = await send('/', { headers: { cookie: null } });
    expect(a.status).toBe(401);
    expect(a.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(a.body).toContain('Open the inspector from its link');
    expect(a.body).toContain('npm start prints &quot;inspector: http://127.0.0.1:…/?token=…&quot;');
    expect(a.headers['set-cookie']).toBeUndefined();
    // A cookie that is not the session is no session.
    expect((await send('/', { headers: { cookie: `${cookie.split('=')[0] as string}=forged` } })).status).toBe(401);
  });

  it('the link with the token: 303 to the same address without it, setting a session cookie that is not the token', async () => {
    const link = new URL(running().inspectorUrl);
    const token = link.searchParams.get('token') as string;
    expect(token.length).toBeGreaterThan(20);
    const a = await send(`/?token=${encodeURIComponent(token)}`, { headers: { cookie: null } });
    expect(a.status).toBe(303);
    expect(a.headers.location).toBe('/');
    const set = a.headers['set-cookie'] as string[];
    expect(set).toHaveLength(1);
    const [pair, ...attrs] = (set[0] as string).split(';').map((s) => s.trim());
    expect(attrs).toEqual(expect.arrayContaining(['HttpOnly', 'SameSite=Strict', 'Path=/']));
    const value = (pair as string).slice((pair as string).indexOf('=') + 1);
    expect(value).not.toBe(token);
    expect(value).not.toContain(token);
    expect(value.length).toBeGreaterThan(20);
    // Other parameters and the path are kept.
    const deeper = await send(`/dlq?token=${encodeURIComponent(token)}&notice=n0`, { headers: { cookie: null } });
    expect(deeper.status).toBe(303);
    expect(deeper.headers.location).toBe('/dlq?notice=n0');
    // The cookie opens the pages.
    const page = await send('/', { headers: { cookie: pair as string } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<h1>Events</h1>');
  });

  it('a wrong token: 401 and no cookie, even with a session; a token on a POST is refused', async () => {
    for (const headers of [{ cookie: null }, {}] as Array<Record<string, string | null>>) {
      const a = await send('/?token=not-the-token', { headers });
      expect(a.status).toBe(401);
      expect(a.body).toContain('wrong or old token');
      expect(a.headers['set-cookie']).toBeUndefined();
    }
    const token = new URL(running().inspectorUrl).searchParams.get('token') as string;
    const posted = await send(`/dlq/redrive?token=${encodeURIComponent(token)}`, { method: 'POST', headers: { cookie: null }, body: '' });
    expect(posted.status).toBe(401);
    expect(posted.headers['set-cookie']).toBeUndefined();
  });

  it('answers at its loopback addresses only: any other Host is refused, session or not', async () => {
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `LOCALHOST:${port}`]) {
      expect((await send('/', { headers: { host } })).status, host).toBe(200);
    }
    for (const host of [
      'evil.example',
      `evil.example:${port}`,
      '127.0.0.1',
      `127.0.0.1:${port + 1}`,
      `localhost.evil.example:${port}`,
      `127.0.0.2:${port}`,
    ]) {
      const a = await send('/', { headers: { host } });
      expect(a.status, host).toBe(403);
      expect(a.body).toContain(`The inspector answers only at http://127.0.0.1:${port}/`);
    }
    // Before the token is taken, too.
    const token = new URL(running().inspectorUrl).searchParams.get('token') as string;
    const rebound = await send(`/?token=${encodeURIComponent(token)}`, { headers: { host: `attacker.example:${port}`, cookie: null } });
    expect(rebound.status).toBe(403);
    expect(rebound.headers['set-cookie']).toBeUndefined();
  });

  it('refuses another origin, on GET and POST; its own origin may POST', async () => {
    for (const origin of ['http://evil.example', `http://localhost:${port}`, `https://127.0.0.1:${port}`, 'null']) {
      for (const method of ['GET', 'POST']) {
        const a = await send(method === 'GET' ? '/' : '/dlq/redrive', { method, headers: { origin }, ...(method === 'POST' ? { body: '' } : {}) });
        expect(a.status, `${method} ${origin}`).toBe(403);
        expect(a.body).toContain('The inspector answers no other origin');
      }
    }
    const own = await send('/dlq/redrive', { method: 'POST', headers: { origin: `http://127.0.0.1:${port}` }, body: '' });
    expect(own.status).toBe(303);
    expect(own.headers.location).toMatch(/^\/dlq\?notice=n\d+$/);
  });

  it('refuses a request another site sent (Sec-Fetch-Site), and takes one from itself or typed in', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const a = await send('/', { headers: { 'sec-fetch-site': site } });
      expect(a.status, site).toBe(403);
      expect(a.body).toContain(`Sec-Fetch-Site: ${site}`);
    }
    for (const site of ['same-origin', 'none']) expect((await send('/', { headers: { 'sec-fetch-site': site } })).status, site).toBe(200);
  });

  it('refuses what came through a proxy or a tunnel', async () => {
    for (const [name, value] of [
      ['x-forwarded-for', '203.0.113.9'],
      ['forwarded', 'for=203.0.113.9'],
      ['x-forwarded-host', `127.0.0.1:${port}`],
    ]) {
      const a = await send('/', { headers: { [name as string]: value as string } });
      expect(a.status, name).toBe(403);
      expect(a.body).toContain('through a proxy or a tunnel');
    }
  });

  it('sends its security headers with every page, refusals included', async () => {
    const id = await post(messageEvent('headers'));
    await running().settle();
    for (const [path, status, headers] of [
      ['/', 200, {}],
      [`/events/${id}`, 200, {}],
      ['/dlq', 200, {}],
      ['/chart.svg', 200, {}],
      ['/assets/inspector.js', 200, {}],
      ['/', 401, { cookie: null }],
      ['/', 403, { host: 'evil.example' }],
    ] as const) {
      const a = await send(path, { headers });
      expect(a.status, path).toBe(status);
      const csp = String(a.headers['content-security-policy']);
      expect(csp.split(';').map((d) => d.trim())).toEqual(
        expect.arrayContaining(["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'"]),
      );
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('unsafe-eval');
      expect(a.headers['x-content-type-options']).toBe('nosniff');
      expect(a.headers['x-frame-options']).toBe('DENY');
      expect(a.headers['cache-control']).toBe('no-store');
      // Either way, no address of the inspector is sent to another origin.
      expect(['no-referrer', 'same-origin']).toContain(a.headers['referrer-policy']);
    }
  });
});

describe('what an event sender chose is shown only escaped', () => {
  it('on the list and on the event page', async () => {
    const body = messageEvent('xss', { userId: XSS_SCRIPT, text: XSS_ATTR });
    const id = await post(body);
    await running().settle();
    const list = await send('/');
    expect(list.status).toBe(200);
    expect(list.body).toContain(`data-event-id="${id}"`);
    expect(list.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const page = await send(`/events/${id}`);
    expect(page.status).toBe(200);
    // The actor in the facts, the text in the payload, the store item and the archive line.
    expect(page.body).toContain('<dd>&lt;script&gt;alert(1)&lt;/script&gt;</dd>');
    expect(page.body).toContain('&quot;\\&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&quot;');
    expect(page.body).toMatch(/<pre id="archive-line" tabindex="0">[^<]*&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    for (const html of [list.body, page.body]) {
      expect(html).not.toContain('<script>alert');
      expect(html).not.toContain('<img src=x');
      expect(html).not.toContain(XSS_ATTR);
      // The only script element is the inspector's own file.
      expect(html.match(/<script\b[^>]*>/g)).toEqual(['<script src="/assets/inspector.js" defer>']);
    }
  });

  it('in the filter form and its problems, which repeat what was typed', async () => {
    const a = await send(`/?user=${encodeURIComponent(XSS_ATTR)}&since=${encodeURIComponent('<b>x')}&target=${encodeURIComponent(XSS_SCRIPT)}`);
    expect(a.status).toBe(200);
    expect(a.body).toContain('value="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"');
    expect(a.body).toContain('since: &#39;&lt;b&gt;x&#39; is not one of 5m, 15m, 1h, 24h');
    expect(a.body).not.toContain('<img src=x');
    expect(a.body).not.toContain('<script>alert');
    expect(a.body).not.toContain('<b>x');
  });

  it('in the refusal of something that is not an event id', async () => {
    const a = await send(`/events/${encodeURIComponent(XSS_SCRIPT)}`);
    expect(a.status).toBe(404);
    expect(a.body).toContain('&#39;&lt;script&gt;alert(1)&lt;/script&gt;&#39; is not an event id (32 hexadecimal characters).');
    expect(a.body).not.toContain('<script>');
  });
});

describe('the live stream', () => {
  it('pushes the numbers, then the row of an event posted after it opened, as escaped markup', async () => {
    const { stream, response } = await EventStream.open('/stream?rows=1');
    try {
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      const stats = await stream.until('the numbers', (e) => e.event === 'stats');
      expect(stats.data).toMatchObject({ 'queue.visible': expect.stringMatching(/^\d+$/), accepted: expect.stringMatching(/^\d+$/) });
      const id = await post(messageEvent('live', { userId: XSS_SCRIPT }));
      const pushed = await stream.until('its row', (e) => rowsOf(e).some((r) => r.id === id));
      const row = rowsOf(pushed).find((r) => r.id === id);
      expect(row?.html).toMatch(new RegExp(`^<tr data-event-id="${id}"`));
      expect(row?.html).toContain('<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>');
      expect(row?.html).not.toContain('<script>');
      const chart = (pushed.data as PushedRows).chart;
      expect(chart.version).toEqual(expect.any(Number));
      // The chart's alternative text and legend follow the row, the type named as text.
      expect(chart.alt).toContain('Events per minute by type, last hour:');
      expect(chart.legend).toMatch(/^<span class="legend" id="chart-legend"/);
      // Its handlers' runs follow as the fan-out records them (in that push already, when they came within its delay).
      const ran = (e: { event: string; data: unknown }) => rowsOf(e).some((r) => r.id === id && r.html.includes(`${RECORDER}: succeeded`));
      if (!stream.seen.some(ran)) await stream.until('its handlers', ran);
      // The numbers follow what happened: counted accepted and stored, its signature form named.
      const before = stats.data as Record<string, string>;
      const after = await stream.until(
        'the numbers after it',
        (e) => e.event === 'stats' && Number((e.data as Record<string, string>).stored) > Number(before.stored),
      );
      const values = after.data as Record<string, string>;
      expect(Number(values.accepted)).toBeGreaterThan(Number(before.accepted));
      expect(values.signatures).toMatch(/^\d+ base64; \d+ refused for their signature \(401\)$/);
      expect(values['queue.oldest']).toMatch(/^(-|\d+ s)$/);
    } finally {
      stream.close();
    }
  });

  it("keeps out the rows the stream's filter does not match", async () => {
    const all = await EventStream.open('/stream?rows=1');
    const mine = await EventStream.open('/stream?rows=1&user=stream-match');
    try {
      await mine.stream.until('the numbers', (e) => e.event === 'stats');
      const other = await post(messageEvent('stream-other', { userId: 'stream-other' }));
      await running().settle();
      await all.stream.until('the other row, handled', (e) => rowsOf(e).some((r) => r.id === other && r.html.includes(`${FLAKY}: succeeded`)));
      const match = await post(messageEvent('stream-match', { userId: 'stream-match' }));
      await mine.stream.until('the matching row', (e) => rowsOf(e).some((r) => r.id === match));
      expect(mine.stream.seen.flatMap(rowsOf).map((r) => r.id)).not.toContain(other);
      expect(mine.stream.seen.flatMap(rowsOf).map((r) => r.id)).toContain(match);
    } finally {
      all.stream.close();
      mine.stream.close();
    }
  });
});

describe('replay', () => {
  it('with force=<handler> runs that handler again, and says so on the event page', async () => {
    const id = await post(messageEvent('replay'));
    await running().settle();
    expect(recorded.filter((e) => e === id)).toHaveLength(1);
    const flakyBefore = flakyRuns.filter((e) => e === id).length;
    const a = await send(`/events/${id}/replay`, { method: 'POST', body: `force=${RECORDER}` });
    expect(a.status).toBe(303);
    expect(a.headers.location).toMatch(new RegExp(`^/events/${id}\\?notice=n\\d+$`));
    const page = await follow(a);
    expect(page.body).toContain(`<p class="notice ok" role="status">Replayed from the archive: sent to the queue, forcing ${RECORDER}.`);
    await running().settle();
    await waitFor('the forced run', () => recorded.filter((e) => e === id).length === 2);
    // The handler that already succeeded and was not forced is skipped.
    expect(flakyRuns.filter((e) => e === id)).toHaveLength(flakyBefore);
  });

  it('an unknown handler name: an error notice and nothing sent', async () => {
    const id = await post(messageEvent('replay-unknown'));
    await running().settle();
    const accepted = running().metrics().Accepted;
    for (const [force, text] of [
      ['no-such-handler', 'No handler is named no-such-handler: nothing was replayed.'],
      ['Not A Name', '&#39;Not A Name&#39; is not a handler name: nothing was replayed.'],
    ] as const) {
      const page = await follow(await send(`/events/${id}/replay`, { method: 'POST', body: new URLSearchParams({ force }).toString() }));
      expect(page.body).toContain(`<p class="notice error" role="alert">${text}</p>`);
    }
    expect(running().queueStats()).toMatchObject({ visible: 0, inFlight: 0, delayed: 0 });
    await running().settle();
    expect(recorded.filter((e) => e === id)).toHaveLength(1);
    expect(running().metrics().Accepted).toBe(accepted);
  });

  it('an event page with a notice id it never gave shows no notice', async () => {
    const id = await post(messageEvent('notice'));
    for (const notice of ['junk', 'n999999', XSS_SCRIPT, '__proto__']) {
      const a = await send(`/events/${id}?notice=${encodeURIComponent(notice)}`);
      expect(a.status).toBe(200);
      expect(a.body).not.toContain('class="notice');
    }
  });
});

describe('the dead-letter queue', () => {
  it('lists a dead letter with the failing handler error as the reason, and a redrive moves it back', async () => {
    const id = await post(messageEvent('dlq', { text: MARKER }));
    await waitFor('the dead letter', () => running().queueStats().deadLetters === 1);
    const dlq = await send('/dlq');
    expect(dlq.status).toBe(200);
    expect(dlq.body).toContain(`data-event-id="${id}"`);
    expect(dlq.body).toMatch(new RegExp(`<li>handler ${FLAKY} failed \\(2 runs\\): ${FLAKY_ERROR}</li>`));
    expect(dlq.body).toContain('Redrive 1 message');

    flakyFails = false;
    const redrive = await send('/dlq/redrive', { method: 'POST', body: '' });
    const after = await follow(redrive);
    expect(after.body).toContain('<p class="notice ok" role="status">Moved 1 message back to the queue.</p>');
    await running().settle();
    expect(running().queueStats().deadLetters).toBe(0);
    await waitFor('the handler to succeed', () => running().queueStats().deadLetters === 0 && flakyRuns.filter((e) => e === id).length === 3);
    const page = await send(`/events/${id}`);
    expect(page.body).toMatch(new RegExp(`<tr data-handler="${FLAKY}" class="succeeded">`));
    expect((await send('/dlq')).body).toContain('The dead-letter queue is empty.');
  });
});

describe('paths and methods', () => {
  it('404 for what it has no page for, and for an id that is not an event id', async () => {
    const id = eventIdOf('never sent');
    for (const path of ['/events/abc', `/events/${id.toUpperCase()}`, `/events/${id}/other`, '/events/', '/assets/nope.js']) {
      const a = await send(path);
      expect(a.status, path).toBe(404);
      expect(a.headers['content-type'], path).toBe('text/html; charset=utf-8');
    }
    // An event it does not know: its page says so.
    const unknown = await send(`/events/${id}`);
    expect(unknown.status).toBe(200);
    expect(unknown.body).toContain('The inspector has no row for this event');
  });

  it('405 for a method a path does not take', async () => {
    const id = eventIdOf('never sent');
    for (const [method, path] of [
      ['POST', '/'],
      ['DELETE', '/dlq'],
      ['GET', '/dlq/redrive'],
      ['GET', `/events/${id}/replay`],
      ['POST', `/events/${id}`],
      ['POST', '/assets/inspector.js'],
      ['PUT', '/stream'],
      ['POST', '/chart.svg'],
    ]) {
      const a = await send(path as string, { method: method as string, ...(method === 'GET' ? {} : { body: '' }) });
      expect(a.status, `${method} ${path}`).toBe(405);
    }
  });

  it("the form's empty fields leave the address: it keeps only what filters", async () => {
    const full = await send('/?type=message.*&user=&target=&since=&from=&to=&flag=&outcome=any&id=');
    expect(full.status).toBe(303);
    expect(full.headers.location).toBe('/?type=message.*');
    const none = await send('/?user=&outcome=any');
    expect(none.headers.location).toBe('/');
    // The kept address is answered as it is; one with a problem is too, so what was typed stays in the form.
    expect((await send('/?type=message.*')).status).toBe(200);
    expect((await send('/?from=yesterday&user=')).status).toBe(200);
  });

  it('a whole event id in the id filter opens its page', async () => {
    const id = eventIdOf('never sent');
    const a = await send(`/?id=${id}`);
    expect(a.status).toBe(303);
    expect(a.headers.location).toBe(`/events/${id}`);
  });
});
