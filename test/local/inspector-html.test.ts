/**
 * The inspector's `html` tag (local/inspector/html.ts): every interpolated string is escaped, so
 * text an event's sender chose (payload fields, types, handler errors) is never read as markup.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SafeHtml, escapeHtml, html, joinHtml, type HtmlValue } from '../../local/inspector/html.js';

/** Reads the entities the tag writes back into characters (one pass, so `&amp;lt;` stays `&lt;`). */
function decode(text: string): string {
  const named: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' };
  return text.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_m, name: string) => named[name] as string);
}

describe('the html tag', () => {
  it.each([
    ['<script>alert(1)</script>', '&lt;script&gt;alert(1)&lt;/script&gt;'],
    ['"><img src=x onerror=alert(1)>', '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;'],
    ["it's", 'it&#39;s'],
    ['`${x}`', '&#96;${x}&#96;'],
    ['a & b', 'a &amp; b'],
    ['&lt; is already an entity', '&amp;lt; is already an entity'],
  ])('escapes %j in text and in an attribute', (value, escaped) => {
    expect(html`<td title="${value}">${value}</td>`.text).toBe(`<td title="${escaped}">${escaped}</td>`);
    expect(escapeHtml(value)).toBe(escaped);
  });

  it('passes markup made by the tag (and joinHtml) through as it is, and escapes a look-alike string', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}</p>`.text).toBe('<p><b>&lt;i&gt;</b></p>');
    expect(html`<p>${joinHtml([html`<br />`, '<hr>'], html`<wbr />`.text)}</p>`.text).toBe('<p><br /><wbr />&lt;hr&gt;</p>');
    // A plain string that looks like markup is text, whatever it looks like.
    expect(html`<p>${'<b>bold</b>'}</p>`.text).toBe('<p>&lt;b&gt;bold&lt;/b&gt;</p>');
    expect(html`<p>${new SafeHtml('<b>trusted</b>')}</p>`.text).toBe('<p><b>trusted</b></p>');
  });

  it('renders arrays (nested too) item by item, each escaped', () => {
    const items: HtmlValue = ['<a>', html`<li>${'&'}</li>`, ['"', 2, null]];
    // Prettier would lay the template out over lines (it formats html`` as HTML), which changes its text.
    // prettier-ignore
    expect(html`<ul>${items}</ul>`.text).toBe('<ul>&lt;a&gt;<li>&amp;</li>&quot;2</ul>');
  });

  it('renders nothing for null, undefined and false, and numbers and true as text', () => {
    expect(html`[${null}|${undefined}|${false}]`.text).toBe('[||]');
    expect(html`[${0}|${-1.5}|${true}]`.text).toBe('[0|-1.5|true]');
  });

  it('is SafeHtml whose string form is its text', () => {
    const out = html`<p>${'x'}</p>`;
    expect(out).toBeInstanceOf(SafeHtml);
    expect(String(out)).toBe('<p>x</p>');
  });

  it('keeps any string inside its text node and its quoted attribute, and gives it back decoded', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = html`<p title="${s}">${s}</p>`.text;
        // The template's own `<`, `>` and `"` are the only ones: none comes from s.
        const m = /^<p title="([^"<>]*)">([^"<>]*)<\/p>$/.exec(out);
        expect(m).not.toBeNull();
        expect(decode((m as RegExpExecArray)[1] as string)).toBe(s);
        expect(decode((m as RegExpExecArray)[2] as string)).toBe(s);
        // And no quote of either kind or backtick survives to end an unquoted or single-quoted attribute.
        expect(out.slice('<p title="'.length, -'</p>'.length).replace('">', '')).not.toMatch(/['`]/);
      }),
      { numRuns: 300 },
    );
  });

  it('escapes strings made of the characters markup is made of, whatever their order', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('<', '>', '"', "'", '`', '&', ';', 'a', '#', '='), { maxLength: 40 }), (chars) => {
        const s = chars.join('');
        const out = html`<td data-x="${s}">${s}</td>`.text;
        expect(decode(out)).toBe(`<td data-x="${s}">${s}</td>`);
        expect(out.match(/[<>"]/g)).toEqual(['<', '"', '"', '>', '<', '>']);
      }),
      { numRuns: 300 },
    );
  });
});
