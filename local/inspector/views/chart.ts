/** The chart of events per minute by type: the image (SVG), its text alternative and its legend. */
import { html, type SafeHtml } from '../html.js';
import type { PerMinute } from '../query.js';

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

export function chartFigure(data: PerMinute, version: number): SafeHtml {
  return html`<figure class="chart" id="chart">
    <img src="/chart.svg?v=${version}" alt="${chartAlt(data)}" width="720" height="160" data-chart />
    <figcaption>Events per minute by type, last hour: ${chartLegend(data)}</figcaption>
  </figure>`;
}
