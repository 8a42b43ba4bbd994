/** An event's page: its header, handler runs, what the fan-out logged, replay, payload, archive line and store item. */
import { html, type SafeHtml } from '../html.js';
import { displayFlags, type HandlerAttempt, type InspectorRow, type Problem } from '../ledger.js';
import { dataTable, eventHref, layout, noticeBlock, target, timeCell, type InspectorStats, type Notice } from './page.js';

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
  readonly notice?: Notice;
}

/** What the event page reads from the store, the archive and the handlers' list (the rest is the ledger's). */
export type EventSourcesView = Pick<EventDetailView, 'payload' | 'archive' | 'storeItem' | 'forcible'>;

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
    ${noticeBlock(v.notice)} ${header}
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
