/** The events page: the filter form, the chart, and the rows (each also what the live stream pushes). */
import type { HandlerRunRecord } from '../../../lambda/core/ports.js';
import { html, type SafeHtml } from '../html.js';
import { displayFlags, outcomeOf, type InspectorRow } from '../ledger.js';
import { FILTER_FLAGS, OUTCOMES, SINCE_CHOICES, filterParams, isFiltered, type Filter, type PerMinute } from '../query.js';
import { chartFigure } from './chart.js';
import { dataTable, eventHref, layout, target, timeCell, type InspectorStats } from './page.js';

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
