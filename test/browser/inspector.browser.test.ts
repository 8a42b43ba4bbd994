/**
 * The local inspector in a real browser (Chromium from Debian's package, driven by playwright-core):
 * local mode started, events sent with the CLI, and the pages used as a person uses them. Run with
 * `npm run test:browser` (CI runs it after `npm test`); it saves the README's screenshots under
 * docs/images/.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineHandler } from '../../lambda/core/define-handler.js';
import type { LocalPipeline } from '../../local/pipeline.js';
import { startTempPipeline, stopTempPipeline } from '../support/local-pipeline.js';
import { makeTempDir, removeTempDir } from '../support/temp-dir.js';
import { AXE, cli, launchChromium, screenshot, sentEventId, startDev, stopDev, type DevProcess } from './support.js';

/** The little of the DOM the callbacks run in the page read (the project compiles without the DOM library). */
interface PageGlobals {
  readonly document: {
    readonly activeElement: { readonly id: string; readonly textContent: string | null; getAttribute(name: string): string | null } | null;
    readonly documentElement: { readonly scrollWidth: number; readonly clientWidth: number };
  };
}

const WAIT = { timeout: 20_000 };

let browser: Browser;

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
});

describe('the inspector of a local mode', () => {
  let dir: string;
  let pipeline: LocalPipeline;
  let context: BrowserContext;
  let page: Page;
  let origin: string;
  /** Each request the browser made, for the no-external-request check. */
  const requested: string[] = [];
  /** Each handler run, in order. */
  const seen: Array<{ readonly handler: string; readonly eventId: string }> = [];
  const failing = { on: false };
  /** The events sent, by who or what they stand for. */
  const ids = {} as Record<'alice' | 'bob' | 'carol' | 'other' | 'failing' | 'evil', string>;

  /** Sends a sample with the CLI, as the README shows, to this local mode; returns the event id. */
  const send = async (event: string, ...args: string[]) => sentEventId(await cli(dir, ['send', event, '--url', `${pipeline.url}/webhook`, ...args]));
  const runsOf = (eventId: string, handler: string) => seen.filter((c) => c.eventId === eventId && c.handler === handler).length;
  const row = (eventId: string) => page.locator(`#events tr[data-event-id="${eventId}"]`);

  beforeAll(async () => {
    // No secret given: local mode writes its dev secret to its folder, where `send` reads it.
    const started = await startTempPipeline('inspector-browser-', {
      env: {},
      handlers: [
        defineHandler({
          name: 'recorder',
          events: ['*'],
          handle: (_e, ctx) => void seen.push({ handler: 'recorder', eventId: ctx.eventId }),
        }),
        defineHandler({
          name: 'ledger-sync',
          events: ['message.*'],
          handle: (e, ctx) => {
            seen.push({ handler: 'ledger-sync', eventId: ctx.eventId });
            if (failing.on && JSON.stringify(e).includes('FAIL-ME'))
              throw new Error('ledger-sync: the ledger answered 503 (a failure the test switches on)');
          },
        }),
      ],
      // Short batching and retries, so a failing event reaches the DLQ in about a second.
      queue: { batchingWindowMs: 20, visibilityTimeoutMs: 300, maxReceiveCount: 2 },
      stream: { bufferIntervalMs: 100 },
    });
    dir = started.dir;
    pipeline = started.pipeline;
    origin = new URL(pipeline.url).origin;
    context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    context.on('request', (r) => requested.push(r.url()));
    page = await context.newPage();
    page.on('dialog', (d) => void d.dismiss());
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    await stopTempPipeline(pipeline, dir);
  });

  it('opens from the link with the token, then drops the token from the address', async () => {
    await page.goto(pipeline.inspectorUrl);
    expect(page.url()).toBe(`${origin}/`);
    await expect(page.locator('h1').textContent()).resolves.toBe('Events');
    // The live stream is open.
    await page.locator('#live-status', { hasText: 'live' }).waitFor(WAIT);
  });

  it('shows an event sent with the CLI as it arrives, without a reload', async () => {
    await page.evaluate(() => ((globalThis as unknown as { notReloaded: boolean }).notReloaded = true));
    ids.alice = await send('message.didCreate', '--user', 'alice');
    await row(ids.alice).waitFor(WAIT);
    await row(ids.alice).locator('li', { hasText: 'recorder: succeeded' }).waitFor(WAIT);
    const cells = await row(ids.alice).locator('td').allTextContents();
    expect(cells[1]).toContain('message.didCreate');
    expect(cells[2]).toBe('alice');
    expect(await page.evaluate(() => (globalThis as unknown as { notReloaded?: boolean }).notReloaded)).toBe(true);
    // The numbers and the chart follow too.
    await page.locator('dd[data-stat="stored"]', { hasText: /^[1-9]/ }).waitFor(WAIT);
    await page.locator('#chart-legend', { hasText: 'message.didCreate 1' }).waitFor(WAIT);
    await expect(page.locator('img[data-chart]').getAttribute('alt')).resolves.toContain('message.didCreate 1');
  });

  it('filters by type with a wildcard, by user, by target and by event id', async () => {
    ids.bob = await send('post.didCreate', '--user', 'bob');
    ids.carol = await send('message.didFlag', '--user', 'carol');
    await row(ids.carol).waitFor(WAIT);
    await row(ids.bob).waitFor(WAIT);

    await page.fill('input[name="type"]', 'message.*');
    await page.click('button:has-text("Apply")');
    await page.waitForURL(/type=message/);
    const types = await page.locator('#events tbody tr td:nth-child(2) a').allTextContents();
    expect(types.length).toBeGreaterThanOrEqual(2);
    expect(types.every((t) => t.startsWith('message.'))).toBe(true);
    expect(await row(ids.bob).count()).toBe(0);

    // A live row outside the filter stays out of the filtered page.
    const other = await send('post.didCreate', '--user', 'dave');
    ids.other = other;
    await page.goto(`${origin}/?user=bob`);
    await expect(
      page.locator('#events tbody tr').evaluateAll((rs) => rs.map((r) => (r as unknown as { dataset: { eventId?: string } }).dataset.eventId)),
    ).resolves.toEqual([ids.bob]);

    const target = (await page.locator(`#events tr[data-event-id="${ids.bob}"] td:nth-child(4)`).textContent()) ?? '';
    await page.goto(`${origin}/`);
    await page.fill('input[name="target"]', target);
    await page.click('button:has-text("Apply")');
    await page.waitForURL(/target=/);
    // The samples of one type share their target: bob's post and dave's, nothing else.
    await expect(page.locator('#events tbody tr td:nth-child(4)').allTextContents()).resolves.toEqual([target, target]);
    await expect(page.locator(`#events tr[data-event-id="${ids.bob}"]`).count()).resolves.toBe(1);

    await page.goto(`${origin}/`);
    await page.fill('input[name="id"]', ids.carol.slice(0, 8));
    await page.click('button:has-text("Apply")');
    await expect(
      page.locator('#events tbody tr').evaluateAll((rs) => rs.map((r) => (r as unknown as { dataset: { eventId?: string } }).dataset.eventId)),
    ).resolves.toEqual([ids.carol]);
    // A whole id opens the event's page.
    await page.fill('input[name="id"]', ids.carol);
    await page.click('button:has-text("Apply")');
    await page.waitForURL(`${origin}/events/${ids.carol}`);

    // A filter that cannot be read says which and why, and the others still apply.
    await page.goto(`${origin}/?from=yesterday&user=bob`);
    await expect(page.locator('.problems').textContent()).resolves.toContain("from: 'yesterday' is not a time");
    await expect(page.locator('#events tbody tr').count()).resolves.toBe(1);
  });

  it("shows an event's payload, archive line, store item and each handler's outcome", async () => {
    await page.goto(`${origin}/`);
    await row(ids.alice).locator('a').click();
    await page.waitForURL(`${origin}/events/${ids.alice}`);
    await expect(page.locator('#payload').textContent()).resolves.toContain('"event": "message.didCreate"');
    await expect(page.locator('#payload').textContent()).resolves.toContain('"alice"');
    await expect(page.locator('#store-item').textContent()).resolves.toContain(`EVENT#${ids.alice}`);
    for (const handler of ['recorder', 'ledger-sync']) {
      await expect(page.locator(`#handler-runs tr[data-handler="${handler}"] td`).first().textContent()).resolves.toBe('succeeded');
    }
    // The archive line is written within the stream's buffer interval.
    await expect
      .poll(async () => {
        await page.reload();
        return page.locator('#archive-line').textContent();
      }, WAIT)
      .toContain(`"event_id": "${ids.alice}"`);
    await screenshot(page, 'inspector-event');
  });

  it('replays an event from its page, running a forced handler again', async () => {
    await page.goto(`${origin}/events/${ids.alice}`);
    expect(runsOf(ids.alice, 'recorder')).toBe(1);
    await page.check('input[name="force"][value="recorder"]');
    await page.click('button:has-text("Replay")');
    await expect(page.locator('.notice').textContent()).resolves.toContain('Replayed from the archive');
    await expect.poll(() => runsOf(ids.alice, 'recorder'), WAIT).toBe(2);
    // Not forced, and already done: ledger-sync did not run again.
    expect(runsOf(ids.alice, 'ledger-sync')).toBe(1);
    await expect
      .poll(async () => {
        await page.reload();
        return page.locator('#handler-runs tr[data-handler="recorder"] td:nth-child(3)').textContent();
      }, WAIT)
      .toBe('2');
  });

  it('shows a failing handler with its error and stack, the DLQ with why, and redrives it from the page', async () => {
    failing.on = true;
    await page.goto(`${origin}/`);
    ids.failing = await send('message.didCreate', '--user', 'erin', '--set', 'data.messages[0].data.text=FAIL-ME');
    await page.locator(`#events tr[data-event-id="${ids.failing}"][data-outcome="failed"]`).waitFor(WAIT);
    await page.reload();
    await screenshot(page, 'inspector-events');

    await page.goto(`${origin}/events/${ids.failing}`);
    await expect(page.locator('#handler-runs tr[data-handler="ledger-sync"] td').first().textContent()).resolves.toBe('failed');
    const failed = page.locator('#attempts li.failed').first();
    await expect(failed.locator('.error').textContent()).resolves.toContain('ledger-sync: the ledger answered 503');
    await failed.locator('summary').click();
    await expect(failed.locator('details pre').textContent()).resolves.toMatch(/\n\s+at /);

    await expect
      .poll(async () => {
        await page.goto(`${origin}/dlq`);
        return page.locator(`#dead-letters tr[data-event-id="${ids.failing}"]`).count();
      }, WAIT)
      .toBe(1);
    await expect(page.locator(`#dead-letters tr[data-event-id="${ids.failing}"]`).textContent()).resolves.toContain('handler ledger-sync failed');
    await expect(page.locator('.count[data-stat="queue.deadLetters"]').textContent()).resolves.toBe('1');
    await screenshot(page, 'inspector-dlq');

    failing.on = false;
    await page.click('button:has-text("Redrive 1 message")');
    await expect(page.locator('.notice').textContent()).resolves.toBe('Moved 1 message back to the queue.');
    await expect(page.locator('#empty').textContent()).resolves.toContain('empty');
    await expect
      .poll(async () => {
        await page.goto(`${origin}/events/${ids.failing}`);
        return page.locator('#handler-runs tr[data-handler="ledger-sync"] td').first().textContent();
      }, WAIT)
      .toBe('succeeded');
    await page.goto(`${origin}/?outcome=failed`);
    await expect(page.locator(`#events tr[data-event-id="${ids.failing}"]`).count()).resolves.toBe(0);
  });

  it('shows a payload carrying <script> and "><img onerror> as text, live and on its page, and runs none of it', async () => {
    await page.goto(`${origin}/`);
    await page.locator('#live-status', { hasText: 'live' }).waitFor(WAIT);
    const user = '"><img src=x onerror="window.pwned=1">';
    const text = '<script>window.pwned=2</script><img src=x onerror="window.pwned=3">';
    ids.evil = await send('message.didCreate', '--user', user, '--set', `data.messages[0].data.text=${text}`);
    // Pushed live: the row came through the stream.
    await row(ids.evil).waitFor(WAIT);
    await expect(row(ids.evil).locator('td').nth(2).textContent()).resolves.toBe(user);
    expect(await page.locator('#events img').count()).toBe(0);
    await page.reload();
    await expect(row(ids.evil).locator('td').nth(2).textContent()).resolves.toBe(user);

    await row(ids.evil).locator('a').click();
    await page.waitForURL(`${origin}/events/${ids.evil}`);
    await expect(page.locator('#payload').textContent()).resolves.toContain(text.replace(/"/g, '\\"'));
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.locator('script').count()).toBe(1);
    expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
  });

  it('is usable from the keyboard: the skip link first, then every control, and Enter opens an event', async () => {
    await page.goto(`${origin}/`);
    await page.keyboard.press('Tab');
    await expect(page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.textContent)).resolves.toBe('Skip to content');
    await page.keyboard.press('Enter');
    await expect(page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.id)).resolves.toBe('main');
    let reached = '';
    for (let i = 0; i < 40 && !reached.startsWith('/events/'); i++) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.getAttribute('href') ?? '');
    }
    expect(reached).toMatch(/^\/events\/[0-9a-f]{32}$/);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${origin}${reached}`);
    // The replay button is reachable from the keyboard too.
    let onReplay = false;
    for (let i = 0; i < 40 && !onReplay; i++) {
      await page.keyboard.press('Tab');
      onReplay = await page.evaluate(() => (globalThis as unknown as PageGlobals).document.activeElement?.textContent === 'Replay');
    }
    expect(onReplay).toBe(true);
  });

  it('breaks no WCAG 2 A or AA rule axe-core checks, on every page', async () => {
    // Its own context, allowed to inject axe-core: the inspector's policy rightly runs no script but its own.
    const checking = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 860 } });
    try {
      const checker = await checking.newPage();
      await checker.goto(pipeline.inspectorUrl);
      for (const path of ['/', `/events/${ids.alice}`, `/events/${ids.failing}`, '/dlq', '/?from=yesterday']) {
        await checker.goto(`${origin}${path}`);
        await checker.addScriptTag({ path: AXE });
        const violations = await checker.evaluate(async () => {
          const axe = (globalThis as unknown as { axe: { run(o: unknown): Promise<{ violations: Array<{ id: string; nodes: unknown[] }> }> } }).axe;
          const result = await axe.run({ runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
          return result.violations.map((v) => `${v.id} (${v.nodes.length})`);
        });
        expect(violations, path).toEqual([]);
      }
    } finally {
      await checking.close();
    }
  });

  it('fits a narrow window without sideways scrolling', async () => {
    const narrow = await context.newPage();
    await narrow.setViewportSize({ width: 390, height: 844 });
    for (const path of ['/', `/events/${ids.alice}`, '/dlq']) {
      await narrow.goto(`${origin}${path}`);
      const { scroll, width } = await narrow.evaluate(() => ({
        scroll: (globalThis as unknown as PageGlobals).document.documentElement.scrollWidth,
        width: (globalThis as unknown as PageGlobals).document.documentElement.clientWidth,
      }));
      expect(scroll, path).toBeLessThanOrEqual(width);
    }
    await narrow.goto(`${origin}/`);
    await screenshot(narrow, 'inspector-narrow');
    await narrow.close();
  });

  it('refuses another origin on this machine, even one the cookie is sent to', async () => {
    // A page on another port of 127.0.0.1 is the same site: SameSite=Strict sends the cookie, the site and origin checks refuse.
    const evil = await serve(
      `<!doctype html><title>elsewhere</title><form method="post" action="${origin}/events/${ids.bob}/replay">` +
        '<input type="hidden" name="force" value="recorder"><button>Claim your prize</button></form>',
    );
    try {
      const other = await context.newPage();
      await other.goto(`http://127.0.0.1:${port(evil)}/`);
      const before = runsOf(ids.bob, 'recorder');
      // It cannot read the inspector's pages…
      const read = await other.evaluate(async (target) => {
        try {
          await (await fetch(`${target}/`, { credentials: 'include' })).text();
          return 'read';
        } catch {
          return 'blocked';
        }
      }, origin);
      expect(read).toBe('blocked');
      // …nor act through them: its form post is refused, and nothing is replayed.
      await other.click('button:has-text("Claim your prize")');
      await other.waitForURL(`${origin}/events/${ids.bob}/replay`);
      // Chromium marks the post same-site (another port of the same host): refused before its Origin is even read.
      await expect(other.locator('main p').textContent()).resolves.toBe('The inspector answers no other site or origin (Sec-Fetch-Site: same-site).');
      await pipeline.settle();
      expect(runsOf(ids.bob, 'recorder')).toBe(before);
      await other.close();
    } finally {
      await new Promise((resolve) => evil.close(resolve));
    }
  });

  it('made no request to anywhere but local mode', () => {
    expect(requested.length).toBeGreaterThan(10);
    const elsewhere = requested.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('http://127.0.0.1:') && !u.startsWith('about:'));
    expect(elsewhere).toEqual([]);
    // Of the inspector's own requests, none went to another host.
    expect(requested.filter((u) => u.startsWith('http') && new URL(u).hostname !== '127.0.0.1')).toEqual([]);
  });
});

describe('npm start', () => {
  let dir: string | undefined;
  let dev: DevProcess | undefined;

  afterAll(async () => {
    await stopDev(dev);
    await removeTempDir(dir);
  });

  it("prints the inspector's link, which shows events sent with the CLI as they arrive", async () => {
    dir = await makeTempDir('inspector-dev-');
    dev = await startDev(dir);
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await page.goto(dev.inspectorUrl);
      expect(page.url()).toBe(`${dev.url}/`);
      await page.locator('#live-status', { hasText: 'live' }).waitFor(WAIT);
      const id = sentEventId(await cli(dir, ['send', 'message.didCreate', '--url', `${dev.url}/webhook`]));
      await page.locator(`#events tr[data-event-id="${id}"]`).waitFor(WAIT);
      await page.locator('dd[data-stat="accepted"]', { hasText: '1' }).waitFor(WAIT);
      // Without the link's token, another browser gets nothing.
      const stranger = await browser.newContext();
      const refused = await (await stranger.newPage()).goto(`${dev.url}/`);
      expect(refused?.status()).toBe(401);
      await stranger.close();
    } finally {
      await context.close();
    }
  });
});

function serve(body: string): Promise<Server> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(body);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

function port(server: Server): number {
  return (server.address() as AddressInfo).port;
}
