/**
 * Local mode's console logger writes attacker-controlled text (request paths, payload fields) to a
 * terminal: control characters that a terminal acts on are printed escaped, never raw.
 */
import { describe, expect, it } from 'vitest';
import { createConsoleLogger, escapeControls } from '../../local/console-logger.js';

function capture() {
  const lines: string[] = [];
  const logger = createConsoleLogger({ level: 'DEBUG', write: (line) => lines.push(line), now: () => new Date('2026-12-02T08:00:00.000Z') });
  return { logger, lines };
}

/** Every character a terminal may act on: C0, DEL, C1, bidi controls, line and paragraph separators. */
const ACTIVE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/; // eslint-disable-line no-control-regex

describe('console logger', () => {
  it('escapes an OSC 52 clipboard sequence, C1 controls, bidi overrides and U+2028 in messages, string fields and object fields', () => {
    const { logger, lines } = capture();
    const osc52 = '\u001b]52;c;ZXZpbA==\u0007';
    logger.warn(`rejected ${osc52}`, {
      path: `/webhook/${osc52}`,
      plain: 'ok',
      c1: 'a\u009bb',
      bidi: 'x\u202ey',
      sep: 'p\u2028q',
      nested: { s: `\u001b[2J${osc52}` },
    });
    expect(lines).toHaveLength(1);
    const line = lines[0] as string;
    expect(line).not.toMatch(ACTIVE);
    expect(line).toContain('rejected \\u001b]52;c;ZXZpbA==\\u0007');
    expect(line).toContain('plain=ok');
    expect(line).toContain('c1="a\\u009bb"');
    expect(line).toContain('bidi="x\\u202ey"');
    expect(line).toContain('sep="p\\u2028q"');
  });

  it('leaves ordinary text, including non-ASCII letters and emoji, as it is', () => {
    const { logger, lines } = capture();
    logger.info('accepted', { user: 'mika.tan', text: 'héllo 日本語 👋' });
    expect(lines[0]).toBe('08:00:00.000 INFO  accepted user=mika.tan text="héllo 日本語 👋"');
    expect(escapeControls('a\tb')).toBe('a\\u0009b');
  });
});
