/**
 * The inspector's pages, rendered on the server with the {@link html} tag (every value escaped).
 * The same row markup serves the first render and the rows the live stream pushes, so the page
 * and its updates cannot drift apart. Plain HTML: links, forms and buttons that work from the
 * keyboard and without the script; the script (`assets/inspector.js`) only adds live updates.
 */
import type { HandlerRunRecord } from '../../lambda/core/ports.js';
import type { MetricName } from '../../lambda/core/telemetry.js';
import { html, joinHtml, type HtmlValue, type SafeHtml } from './html.js';
import { displayFlags, outcomeOf, type HandlerAttempt, type InspectorRow, type Problem } from './ledger.js';
import { FILTER_FLAGS, OUTCOMES, SINCE_CHOICES, filterParams, isFiltered, type Filter, type PerMinute } from './query.js';

/** The live numbers: the queue's counts and the pipeline's since start (what `status` prints). */
export interface InspectorStats {
  readonly queue: { readonly visible: number; readonly inFlight: number; readonly delayed: number; readonly deadLetters: number };
  /** Seconds since the oldest dead letter was first accepted; null when the DLQ is empty. */
  readonly oldestDeadLetterAgeSeconds: number | null;
  readonly counts: Readonly<Partial<Record<MetricName, number>>>;
  readonly fanoutRestarts: number;
  /** Events the inspector holds. */
  readonly events: number;
}

/** The numbers shown, in order: label, the stat's key (as the live stream sends it), and how to read it from the stats. */
export const STAT_FIELDS: ReadonlyArray<{ readonly key: string; readonly label: string; readonly of: (s: InspectorStats) => number | string }> = [
  { key: 'queue.visible', label: 'waiting', of: (s) => s.queue.visible },
  { key: 'queue.inFlight', label: 'in a batch', of: (s) => s.queue.inFlight },
  { key: 'queue.delayed', label: 'waiting to retry', of: (s) => s.queue.delayed },
  { key: 'queue.deadLetters', label: 'dead letters', of: (s) => s.queue.deadLetters },
  { key: 'accepted', label: 'accepted', of: (s) => s.counts.Accepted ?? 0 },
  {
    key: 'refused',
    label: 'refused (signature)',
    of: (s) => (s.counts.SignatureInvalid ?? 0) + (s.counts.SignatureMissing ?? 0) + (s.counts.SignatureRejected ?? 0),
  },
  { key: 'stored', label: 'stored', of: (s) => s.counts.Stored ?? 0 },
  { key: 'duplicates', label: 'duplicates', of: (s) => s.counts.Duplicate ?? 0 },
  { key: 'archived', label: 'archived', of: (s) => s.counts.Archived ?? 0 },
  { key: 'handlerSucceeded', label: 'handler runs ok', of: (s) => s.counts.HandlerSucceeded ?? 0 },
  { key: 'handlerFailed', label: 'handler runs failed', of: (s) => s.counts.HandlerFailed ?? 0 },
  { key: 'fanoutRestarts', label: 'fan-out restarts', of: (s) => s.fanoutRestarts },
];

/** The stats as the live stream sends them: key → shown value. */
export function statValues(s: InspectorStats): Record<string, string> {
  return Object.fromEntries(STAT_FIELDS.map((f) => [f.key, String(f.of(s))]));
}

const utc = (iso: string): string => (iso.length >= 19 ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso);

function timeCell(iso: string): SafeHtml {
  return html`<time datetime="${iso}">${utc(iso)}</time>`;
}

export function eventHref(eventId: string): string {
  return `/events/${encodeURIComponent(eventId)}`;
}

function target(row: Pick<InspectorRow, 'targetType' | 'targetId'>): string {
  if (row.targetId === null) return '';
  return row.targetType ? `${row.targetType}:${row.targetId}` : row.targetId;
}

function runLabel(name: string, run: HandlerRunRecord): string {
  return `${name}: ${run.outcome}${run.attempts > 1 ? ` (${run.attempts} runs)` : ''}`;
}

function handlerList(handlers: Readonly<Record<string, HandlerRunRecord>>): SafeHtml {
  const entries = Object.entries(handlers).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return html`<span class="muted">none ran</span>`;
  return html`<ul class="runs">
    ${entries.map(([name, run]) => html`<li class="${run.outcome}" title="${run.error ?? ''}">${runLabel(name, run)}</li>`)}
  </ul>`;
}

/** One row of the events table (also what the live stream pushes). */
export function eventRow(row: InspectorRow): SafeHtml {
  const flags = displayFlags(row);
  return html`<tr data-event-id="${row.eventId}" data-outcome="${outcomeOf(row)}">
    <td>${timeCell(row.receivedAt)}</td>
    <td><a href="${eventHref(row.eventId)}">${row.eventType}</a><br /><code class="id">${row.eventId.slice(0, 12)}</code></td>
    <td>${row.actorId ?? ''}</td>
    <td>${target(row)}</td>
    <td>
      ${
        flags.length === 0
          ? ''
          : html`<ul class="flags">
              ${flags.map((f) => html`<li>${f}</li>`)}
            </ul>`
      }
    </td>
    <td>${handlerList(row.handlers)}</td>
  </tr>`;
}

function statsPanel(stats: InspectorStats): SafeHtml {
  return html`<section class="stats" aria-label="Queue and pipeline numbers">
    <dl>
      ${STAT_FIELDS.map(
        (f) =>
          html`<div>
            <dt>${f.label}</dt>
            <dd data-stat="${f.key}">${String(f.of(stats))}</dd>
          </div>`,
      )}
    </dl>
  </section>`;
}

/** A table in a box that scrolls sideways on a narrow window, its caption for screen readers only. */
function dataTable(t: { id: string; caption: string; columns: readonly string[]; rows: readonly SafeHtml[]; attributes?: SafeHtml }): SafeHtml {
  return html`<div class="table-wrap">
    <table id="${t.id}" ${t.attributes ?? ''}>
      <caption class="visually-hidden">
        ${t.caption}
      </caption>
      <thead>
        <tr>
          ${t.columns.map((c) => html`<th scope="col">${c}</th>`)}
        </tr>
      </thead>
      <tbody>
        ${t.rows}
      </tbody>
    </table>
  </div>`;
}

/** The page around every view; `live` is the query of its live stream's rows (the events page's filter), none for stats alone. */
export function layout(opts: { title: string; current: 'events' | 'dlq' | 'event'; stats: InspectorStats; main: SafeHtml; live?: string }): SafeHtml {
  const nav = (href: string, label: HtmlValue, here: boolean) => html`<a href="${href}" ${here ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>${opts.title} · socialplus-webhooks inspector</title>
        <link rel="stylesheet" href="/assets/inspector.css" />
        <script src="/assets/inspector.js" defer></script>
      </head>
      <body data-stream="${opts.live === undefined ? '/stream' : `/stream?${opts.live}`}">
        <a class="skip" href="#main">Skip to content</a>
        <header>
          <p class="brand">socialplus-webhooks <span>local inspector</span></p>
          <nav aria-label="Inspector">
            ${nav('/', 'Events', opts.current === 'events')}${nav(
              '/dlq',
              html`Dead letters <span class="count" data-stat="queue.deadLetters">${opts.stats.queue.deadLetters}</span>`,
              opts.current === 'dlq',
            )}
          </nav>
          ${statsPanel(opts.stats)}
        </header>
        <main id="main" tabindex="-1">${opts.main}</main>
      </body>
    </html> `;
}

function option(value: string, label: string, selected: boolean): SafeHtml {
  return html`<option value="${value}" ${selected ? html` selected` : ''}>${label}</option>`;
}

function filterForm(f: Filter, raw: URLSearchParams): SafeHtml {
  const field = (name: string, label: string, hint: string, value: string | undefined, attrs: SafeHtml = html``) =>
    html`<label
      >${label} <input name="${name}" value="${value ?? ''}" placeholder="${hint}" autocomplete="off" spellcheck="false" ${attrs}
    /></label>`;
  // A field the filter did not take keeps what was typed, so it can be corrected.
  const typed = (name: string, taken: string | undefined) => taken ?? raw.get(name) ?? undefined;
  return html`<form class="filters" method="get" action="/" role="search" aria-label="Filter events">
    ${field('type', 'Type', 'message.* or *.didFlag', typed('type', f.type))} ${field('user', 'User', 'actor id', typed('user', f.user))}
    ${field('target', 'Target', 'id or type:id', typed('target', f.target))}
    <label
      >Time
      <select name="since">
        ${option('', 'any time', !f.since)}${SINCE_CHOICES.map((c) => option(c.value, c.label, f.since === c.value))}
      </select></label
    >
    ${field('from', 'From (UTC)', '2026-12-02T10:00', typed('from', f.from?.toISOString()))}
    ${field('to', 'To (UTC)', '2026-12-02T11:00', typed('to', f.to?.toISOString()))}
    <label
      >Flag
      <select name="flag">
        ${option('', 'any', !f.flag)}${FILTER_FLAGS.map((x) => option(x, x, f.flag === x))}
      </select></label
    >
    <label
      >Outcome
      <select name="outcome">
        ${OUTCOMES.map((o) => option(o, o === 'none' ? 'no handler ran' : o, f.outcome === o))}
      </select></label
    >
    ${field('id', 'Event id', 'id or its start', typed('id', f.id), html` type="search"`)}
    <div class="actions"><button type="submit">Apply</button> <a href="/">Clear</a></div>
  </form>`;
}

const PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#6b7280'];

/** The chart's image: stacked bars of events per minute by type. Text in it is escaped like the rest. */
export function chartSvg(data: PerMinute): string {
  const w = 720;
  const h = 160;
  const pad = { left: 36, right: 8, top: 8, bottom: 22 };
  const plotW = w - pad.left - pad.right;
  const plotH = h - pad.top - pad.bottom;
  const n = data.minutes.length;
  const bw = plotW / Math.max(1, n);
  const scale = data.max === 0 ? 0 : plotH / data.max;
  const bars: SafeHtml[] = [];
  for (let i = 0; i < n; i++) {
    let y = pad.top + plotH;
    data.series.forEach((s, k) => {
      const c = s.counts[i] as number;
      if (c === 0) return;
      const bh = c * scale;
      y -= bh;
      const at = (data.minutes[i] as Date).toISOString().slice(11, 16);
      bars.push(
        html`<rect
          x="${(pad.left + i * bw + 1).toFixed(1)}"
          y="${y.toFixed(1)}"
          width="${Math.max(1, bw - 2).toFixed(1)}"
          height="${bh.toFixed(1)}"
          fill="${PALETTE[k % PALETTE.length] as string}"
          ><title>${at} UTC ${s.type}: ${c}</title></rect
        >`,
      );
    });
  }
  const first = data.minutes[0]?.toISOString().slice(11, 16) ?? '';
  const last = data.minutes[n - 1]?.toISOString().slice(11, 16) ?? '';
  return html`<svg
    xmlns="http://www.w3.org/2000/svg"
    viewBox="0 0 ${w} ${h}"
    width="${w}"
    height="${h}"
    role="img"
    font-family="system-ui, sans-serif"
    font-size="11"
  >
    <rect x="0" y="0" width="${w}" height="${h}" fill="#ffffff" />
    <line x1="${pad.left}" y1="${pad.top + plotH}" x2="${w - pad.right}" y2="${pad.top + plotH}" stroke="#9ca3af" />
    <text x="${pad.left - 4}" y="${pad.top + 9}" text-anchor="end" fill="#374151">${data.max}</text>
    <text x="${pad.left - 4}" y="${pad.top + plotH}" text-anchor="end" fill="#374151">0</text>
    <text x="${pad.left}" y="${h - 6}" fill="#374151">${first} UTC</text>
    <text x="${w - pad.right}" y="${h - 6}" text-anchor="end" fill="#374151">${last}</text>
    ${bars}
  </svg>`.text;
}

/** The chart's text alternative: the counts it draws. */
export function chartAlt(data: PerMinute): string {
  const total = data.series.reduce((a, s) => a + s.total, 0);
  return total === 0
    ? 'Events per minute by type, last hour: none'
    : `Events per minute by type, last hour: ${total} in all; ${data.series.map((s) => `${s.type} ${s.total}`).join(', ')}`;
}

/** The chart's legend (replaced live with the image). */
export function chartLegend(data: PerMinute): SafeHtml {
  return html`<span class="legend" id="chart-legend"
    >${
      data.series.length === 0
        ? ' (none yet)'
        : data.series.map(
            (s, k) =>
              html`<span class="item"
                ><span class="swatch c${k % PALETTE.length}" aria-hidden="true"></span>${s.type} <span class="muted">${s.total}</span></span
              > `,
          )
    }</span
  >`;
}

function chartFigure(data: PerMinute, version: number): SafeHtml {
  return html`<figure class="chart" id="chart">
    <img src="/chart.svg?v=${version}" alt="${chartAlt(data)}" width="720" height="160" data-chart />
    <figcaption>Events per minute by type, last hour: ${chartLegend(data)}</figcaption>
  </figure>`;
}

/** The events page. */
export function eventsPage(opts: {
  stats: InspectorStats;
  filter: Filter;
  raw: URLSearchParams;
  problems: readonly string[];
  rows: readonly InspectorRow[];
  total: number;
  chart: PerMinute;
  chartVersion: number;
  seeding: boolean;
}): SafeHtml {
  const { filter } = opts;
  const live = new URLSearchParams([['rows', '1'], ...filterParams(filter)]).toString();
  const main = html`<h1>Events</h1>
    ${filterForm(filter, opts.raw)}
    ${
      opts.problems.length > 0
        ? html`<div class="problems" role="alert">
            <p>Some filters were not applied:</p>
            <ul>
              ${opts.problems.map((p) => html`<li>${p}</li>`)}
            </ul>
          </div>`
        : ''
    }
    ${chartFigure(opts.chart, opts.chartVersion)}
    <p class="summary">
      <span id="shown">${summary(opts.rows.length, opts.total, isFiltered(filter))}</span>${
        opts.seeding ? html` <span class="muted">(reading earlier events from the store…)</span>` : ''
      } <span id="live-status" role="status" class="muted">live updates need the page's script</span>
    </p>
    ${dataTable({
      id: 'events',
      caption: 'Events, newest first',
      columns: ['Received (UTC)', 'Type', 'Actor', 'Target', 'Flags', 'Handlers'],
      attributes: html` data-limit="${filter.limit}"`,
      rows: opts.rows.map(eventRow),
    })}
    ${opts.rows.length === 0 ? html`<p class="empty" id="empty">No events${isFiltered(filter) ? ' match these filters' : ' yet: send one with npx socialplus-webhooks send message.didCreate'}.</p>` : ''}`;
  return layout({ title: 'Events', current: 'events', stats: opts.stats, main, live });
}

function summary(shown: number, total: number, filtered: boolean): string {
  const what = `${total} event${total === 1 ? '' : 's'}${filtered ? ' match' : ''}`;
  return shown < total ? `Showing the newest ${shown} of ${what}` : `${what}${filtered ? '' : ' held'}`;
}

/** What the event page shows besides the row. */
export interface EventDetailView {
  readonly row: InspectorRow | undefined;
  readonly eventId: string;
  /** The payload: pretty-printed JSON, the text, or why it cannot be shown. */
  readonly payload: { readonly text: string; readonly note?: string } | { readonly missing: string };
  readonly archive: { readonly line: string; readonly where: string } | { readonly missing: string };
  readonly storeItem: string | { readonly missing: string };
  readonly attempts: readonly HandlerAttempt[];
  readonly problems: readonly Problem[];
  /** Handler names the replay form offers to force: the handlers subscribed to the event's type. */
  readonly forcible: readonly string[];
  readonly notice?: { readonly kind: 'ok' | 'error'; readonly text: string };
}

function pre(id: string, label: string, content: { text: string; note?: string } | { missing: string }): SafeHtml {
  if ('missing' in content)
    return html`<section aria-labelledby="${id}-h">
      <h2 id="${id}-h">${label}</h2>
      <p class="muted" id="${id}">${content.missing}</p>
    </section>`;
  return html`<section aria-labelledby="${id}-h">
    <h2 id="${id}-h">${label}</h2>
    ${content.note ? html`<p class="muted">${content.note}</p>` : ''}
    <pre id="${id}" tabindex="0">${content.text}</pre>
  </section>`;
}

/** An event's page. */
export function eventPage(stats: InspectorStats, v: EventDetailView): SafeHtml {
  const r = v.row;
  const header = r
    ? html`<dl class="facts">
        <div>
          <dt>Received</dt>
          <dd>${timeCell(r.receivedAt)} UTC</dd>
        </div>
        <div>
          <dt>Name as sent</dt>
          <dd>${r.eventName ?? '(none)'}</dd>
        </div>
        <div>
          <dt>Source</dt>
          <dd>${r.source}</dd>
        </div>
        <div>
          <dt>Actor</dt>
          <dd>${r.actorId ?? ''}</dd>
        </div>
        <div>
          <dt>Target</dt>
          <dd>${target(r)}</dd>
        </div>
        <div>
          <dt>Flags</dt>
          <dd>${displayFlags(r).join(', ') || 'none'}</dd>
        </div>
      </dl>`
    : html`<p class="muted">The inspector has no row for this event; what the store and the archive hold is below.</p>`;
  const runs = r ? Object.entries(r.handlers).sort(([a], [b]) => a.localeCompare(b)) : [];
  const handlersTable =
    runs.length === 0
      ? html`<p class="muted">No handler has run for this event.</p>`
      : dataTable({
          id: 'handler-runs',
          caption: "Each handler's last run, as the store keeps it",
          columns: ['Handler', 'Last outcome', 'Runs', 'Last run (UTC)', 'Took', 'Error'],
          rows: runs.map(
            ([name, run]) =>
              html`<tr data-handler="${name}" class="${run.outcome}">
                <th scope="row">${name}</th>
                <td>${run.outcome}</td>
                <td>${run.attempts}</td>
                <td>${timeCell(run.lastAt)}</td>
                <td>${run.durationMs} ms</td>
                <td>${run.error ?? ''}</td>
              </tr>`,
          ),
        });
  const attempts =
    v.attempts.length === 0
      ? html`<p class="muted">None seen since local mode started (the table above is what the store keeps).</p>`
      : html`<ol class="attempts" id="attempts">
          ${v.attempts.map(
            (a) =>
              html`<li class="${a.outcome}">
                <p><strong>${a.handler}</strong> ${a.outcome} at ${timeCell(a.startedAt)} UTC, took ${a.durationMs} ms</p>
                ${
                  a.error
                    ? html`<p class="error">${a.error.name}: ${a.error.message}</p>
                        ${
                          a.error.stack
                            ? html`<details>
                                <summary>Stack</summary>
                                <pre tabindex="0">${a.error.stack}</pre>
                              </details>`
                            : ''
                        }`
                    : ''
                }
              </li>`,
          )}
        </ol>`;
  const problems =
    v.problems.length === 0
      ? ''
      : html`<section aria-labelledby="problems-h">
          <h2 id="problems-h">What the fan-out logged</h2>
          <ul class="problems">
            ${v.problems.map((p) => html`<li>${timeCell(p.at)} ${p.level}: ${p.message}${p.error ? html` — ${p.error}` : ''}</li>`)}
          </ul>
        </section>`;
  const replay = html`<section aria-labelledby="replay-h">
    <h2 id="replay-h">Replay</h2>
    <form method="post" action="${eventHref(v.eventId)}/replay" class="replay">
      <p>
        Sends the event from the archive to the queue again. Handlers that already succeeded for it are skipped, unless you force them here (their
        side effects happen again).
      </p>
      ${
        v.forcible.length === 0
          ? ''
          : html`<fieldset>
              <legend>Force these handlers to run again</legend>
              ${v.forcible.map((n) => html`<label class="check"><input type="checkbox" name="force" value="${n}" /> ${n}</label>`)}
            </fieldset>`
      }
      <button type="submit">Replay</button>
    </form>
  </section>`;
  const main = html`<p><a href="/">← All events</a></p>
    <h1>${r?.eventType ?? 'Event'} <code class="id">${v.eventId}</code></h1>
    ${v.notice ? html`<p class="notice ${v.notice.kind}" role="${v.notice.kind === 'error' ? 'alert' : 'status'}">${v.notice.text}</p>` : ''}
    ${header}
    <section aria-labelledby="handlers-h">
      <h2 id="handlers-h">Handlers</h2>
      ${handlersTable}
      <h3>Runs seen since local mode started</h3>
      ${attempts}
    </section>
    ${problems} ${replay} ${pre('payload', 'Payload', v.payload)}
    ${pre('archive-line', 'Archive line', 'missing' in v.archive ? v.archive : { text: v.archive.line, note: v.archive.where })}
    ${pre('store-item', 'Store item', typeof v.storeItem === 'string' ? { text: v.storeItem } : v.storeItem)}`;
  return layout({ title: r?.eventType ?? v.eventId, current: 'event', stats, main });
}

/** One dead letter as the DLQ page lists it. */
export interface DeadLetterView {
  readonly messageId: string;
  readonly eventId: string | undefined;
  readonly eventType: string | undefined;
  readonly sentAt: string;
  readonly movedAt: string;
  readonly receiveCount: number;
  /** Why it failed, as far as the store and the fan-out's log tell. */
  readonly why: readonly string[];
}

/** The dead-letter queue's page. */
export function deadLettersPage(
  stats: InspectorStats,
  letters: readonly DeadLetterView[],
  notice?: { kind: 'ok' | 'error'; text: string },
): SafeHtml {
  const main = html`<h1>Dead letters</h1>
    ${notice ? html`<p class="notice ${notice.kind}" role="${notice.kind === 'error' ? 'alert' : 'status'}">${notice.text}</p>` : ''}
    <p>
      Messages the fan-out failed on every receive. Redrive moves them all back to the queue, oldest first; handlers that already succeeded for an
      event are not run again.
    </p>
    <form method="post" action="/dlq/redrive">
      <button type="submit" ${letters.length === 0 ? html` disabled` : ''}>
        Redrive ${letters.length} message${letters.length === 1 ? '' : 's'}
      </button>
    </form>
    ${
      letters.length === 0
        ? html`<p class="empty" id="empty">The dead-letter queue is empty.</p>`
        : dataTable({
            id: 'dead-letters',
            caption: 'Messages in the dead-letter queue, oldest first',
            columns: ['Moved (UTC)', 'Event', 'Receives', 'First accepted (UTC)', 'Why'],
            rows: letters.map(
              (d) =>
                html`<tr data-message-id="${d.messageId}" ${d.eventId ? html` data-event-id="${d.eventId}"` : ''}>
                  <td>${timeCell(d.movedAt)}</td>
                  <td>
                    ${d.eventId ? html`<a href="${eventHref(d.eventId)}">${d.eventType ?? d.eventId}</a><br /><code class="id">${d.eventId.slice(0, 12)}</code>` : html`<code>${d.messageId}</code>`}
                  </td>
                  <td>${d.receiveCount}</td>
                  <td>${timeCell(d.sentAt)}</td>
                  <td>
                    ${
                      d.why.length === 0
                        ? html`<span class="muted">not known: see the dev log</span>`
                        : html`<ul>
                            ${d.why.map((w) => html`<li>${w}</li>`)}
                          </ul>`
                    }
                  </td>
                </tr>`,
            ),
          })
    }`;
  return layout({ title: 'Dead letters', current: 'dlq', stats, main });
}

/** A page that says why the inspector refused a request (no token, another origin, …). */
export function refusalPage(status: number, message: string): string {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${status} · socialplus-webhooks inspector</title>
      </head>
      <body>
        <main>
          <h1>${status === 401 ? 'Open the inspector from its link' : 'Refused'}</h1>
          <p>${message}</p>
        </main>
      </body>
    </html> `.text;
}

export { joinHtml };
