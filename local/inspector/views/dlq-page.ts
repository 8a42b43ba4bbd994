/** The dead-letter queue's page: each message, why it failed, and the redrive button. */
import { html, type SafeHtml } from '../html.js';
import { dataTable, eventHref, layout, noticeBlock, timeCell, type InspectorStats, type Notice } from './page.js';

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
export function deadLettersPage(stats: InspectorStats, letters: readonly DeadLetterView[], notice?: Notice): SafeHtml {
  const main = html`<h1>Dead letters</h1>
    ${noticeBlock(notice)}
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
