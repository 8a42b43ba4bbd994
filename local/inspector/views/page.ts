/**
 * What every inspector page shares: the layout (navigation, the live numbers), tables, times and
 * the refusal page. Rendered with the {@link html} tag: every value escaped.
 */
import type { MetricName } from '../../../lambda/core/telemetry.js';
import { formatAge } from '../../../cli/output.js';
import { html, type HtmlValue, type SafeHtml } from '../html.js';
import type { InspectorRow } from '../ledger.js';

/** The live numbers: the queue's counts and the pipeline's since start (what `status` prints). */
export interface InspectorStats {
  readonly queue: { readonly visible: number; readonly inFlight: number; readonly delayed: number; readonly deadLetters: number };
  /** Seconds since the oldest message the queue holds was accepted; null when it holds none. */
  readonly oldestMessageAgeSeconds: number | null;
  /** Seconds since the oldest dead letter was first accepted; null when the DLQ is empty. */
  readonly oldestDeadLetterAgeSeconds: number | null;
  readonly counts: Readonly<Partial<Record<MetricName, number>>>;
  /** The deliveries accepted per signature form since start, and those refused, in words. */
  readonly signatures: string;
  /** Events received today (UTC) among those the inspector holds. */
  readonly today: number;
  readonly fanoutRestarts: number;
}

/** A line at the top of a page saying how an action went (a replay, a redrive). */
export interface Notice {
  readonly kind: 'ok' | 'error';
  readonly text: string;
}

/** The notice as the page shows it: a status, or an alert when the action failed. */
export function noticeBlock(notice: Notice | undefined): SafeHtml | '' {
  return notice ? html`<p class="notice ${notice.kind}" role="${notice.kind === 'error' ? 'alert' : 'status'}">${notice.text}</p>` : '';
}

/** The numbers shown, in order: label, the stat's key (as the live stream sends it), and how to read it from the stats. */
export const STAT_FIELDS: ReadonlyArray<{ readonly key: string; readonly label: string; readonly of: (s: InspectorStats) => number | string }> = [
  { key: 'queue.visible', label: 'waiting', of: (s) => s.queue.visible },
  { key: 'queue.inFlight', label: 'in a batch', of: (s) => s.queue.inFlight },
  { key: 'queue.delayed', label: 'waiting to retry', of: (s) => s.queue.delayed },
  { key: 'queue.oldest', label: 'oldest in the queue', of: (s) => formatAge(s.oldestMessageAgeSeconds) },
  { key: 'queue.deadLetters', label: 'dead letters', of: (s) => s.queue.deadLetters },
  { key: 'queue.oldestDeadLetter', label: 'oldest dead letter', of: (s) => formatAge(s.oldestDeadLetterAgeSeconds) },
  { key: 'today', label: 'received today (UTC)', of: (s) => s.today },
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
  { key: 'signatures', label: 'signatures', of: (s) => s.signatures },
];

/** The stats as the live stream sends them: key → shown value. */
export function statValues(s: InspectorStats): Record<string, string> {
  return Object.fromEntries(STAT_FIELDS.map((f) => [f.key, String(f.of(s))]));
}

export const utc = (iso: string): string => (iso.length >= 19 ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}` : iso);

export function timeCell(iso: string): SafeHtml {
  return html`<time datetime="${iso}">${utc(iso)}</time>`;
}

export function eventHref(eventId: string): string {
  return `/events/${encodeURIComponent(eventId)}`;
}

export function target(row: Pick<InspectorRow, 'targetType' | 'targetId'>): string {
  if (row.targetId === null) return '';
  return row.targetType ? `${row.targetType}:${row.targetId}` : row.targetId;
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
export function dataTable(t: {
  id: string;
  caption: string;
  columns: readonly string[];
  rows: readonly SafeHtml[];
  attributes?: SafeHtml;
}): SafeHtml {
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
