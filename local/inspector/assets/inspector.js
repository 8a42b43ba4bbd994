// The inspector's only script: live updates over server-sent events. The pages work without it.
// Rows arrive as markup the server rendered with every value escaped (local/inspector/views.ts);
// this script never builds markup from event data itself.
'use strict';

(function () {
  const body = document.body;
  const streamUrl = body.dataset.stream;
  const status = document.getElementById('live-status');
  const table = document.getElementById('events');
  const tbody = table ? table.tBodies[0] : null;
  const chart = document.querySelector('img[data-chart]');
  const limit = table ? Number(table.dataset.limit) || 200 : 200;
  let latestChart = null;
  let chartTimer = null;
  let lastChart = 0;

  function say(text) {
    if (status) status.textContent = text;
  }

  function setStats(values) {
    for (const [key, value] of Object.entries(values)) {
      for (const el of document.querySelectorAll('[data-stat="' + CSS.escape(key) + '"]')) {
        if (el.textContent !== value) el.textContent = value;
      }
    }
  }

  function rowFrom(markup) {
    const t = document.createElement('template');
    t.innerHTML = '<table><tbody>' + markup + '</tbody></table>';
    return t.content.querySelector('tr');
  }

  function timeOf(tr) {
    const t = tr.querySelector('time');
    return t ? t.getAttribute('datetime') || '' : '';
  }

  function placeRow(tr, receivedAt) {
    const id = tr.dataset.eventId;
    const old = tbody.querySelector('tr[data-event-id="' + CSS.escape(id) + '"]');
    if (old) {
      old.replaceWith(tr);
      return false;
    }
    // Newest first: before the first row received earlier than this one.
    let before = null;
    for (const r of tbody.rows) {
      if (timeOf(r) < receivedAt) {
        before = r;
        break;
      }
    }
    tbody.insertBefore(tr, before);
    tr.classList.add('new');
    setTimeout(() => tr.classList.remove('new'), 4000);
    return true;
  }

  // The chart (image, text alternative, legend) is redrawn at most every 5 s.
  function refreshChart(next) {
    if (!chart) return;
    if (next) latestChart = next;
    const wait = Math.max(0, lastChart + 5000 - Date.now());
    if (chartTimer) return;
    chartTimer = setTimeout(() => {
      chartTimer = null;
      lastChart = Date.now();
      const version = latestChart ? latestChart.version : 0;
      chart.src = '/chart.svg?v=' + encodeURIComponent(String(version)) + '&t=' + lastChart;
      if (latestChart) {
        chart.alt = latestChart.alt;
        const legend = document.getElementById('chart-legend');
        const t = document.createElement('template');
        t.innerHTML = latestChart.legend;
        const fresh = t.content.firstElementChild;
        if (legend && fresh) legend.replaceWith(fresh);
      }
    }, wait);
  }

  function onRows(data) {
    if (!tbody) return;
    let added = 0;
    for (const row of data.rows) {
      const tr = rowFrom(row.html);
      if (tr && placeRow(tr, row.receivedAt)) added++;
    }
    while (tbody.rows.length > limit) tbody.deleteRow(tbody.rows.length - 1);
    if (added > 0) {
      const empty = document.getElementById('empty');
      if (empty) empty.remove();
      const shown = document.getElementById('shown');
      if (shown) {
        const total = Number(table.dataset.total || tbody.rows.length - added) + added;
        table.dataset.total = String(total);
        shown.textContent =
          tbody.rows.length < total
            ? 'Showing the newest ' + tbody.rows.length + ' of ' + total + ' events'
            : total + ' event' + (total === 1 ? '' : 's');
      }
    }
    if (data.chart !== undefined) refreshChart(data.chart);
  }

  if (!streamUrl || typeof EventSource === 'undefined') return;
  const source = new EventSource(streamUrl);
  source.addEventListener('open', () => say('live'));
  source.addEventListener('error', () => say('reconnecting… (if local mode was restarted, open the new link it printed)'));
  source.addEventListener('stats', (e) => setStats(JSON.parse(e.data)));
  source.addEventListener('rows', (e) => onRows(JSON.parse(e.data)));
  source.addEventListener('reload', () => say('many events changed at once: reload the page to see them all'));
  // The chart's window slides even when nothing arrives.
  if (chart) setInterval(() => refreshChart(null), 60000);
})();
