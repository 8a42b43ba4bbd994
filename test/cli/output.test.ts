import { describe, expect, it } from 'vitest';
import { cellText, percentile, renderTable, truncate } from '../../cli/output.js';

describe('percentile', () => {
  it.each([
    [[], 50, undefined],
    [[7], 99, 7],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 99, 4],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
    [Array.from({ length: 100 }, (_, i) => i + 1), 50, 50],
  ])('nearest rank of %j at p%d is %s', (values, p, expected) => {
    expect(percentile(values, p)).toBe(expected);
  });
});

describe('table output', () => {
  it('keeps multi-line values on one row and marks cut cells', () => {
    expect(cellText('{\n\t"a": 1\r\n}')).toBe('{\\n\\t"a": 1\\r\\n}');
    expect(cellText(null)).toBe('NULL');
    // A payload's terminal escapes are shown, not acted on: OSC 52 (clipboard), CSI, C1, bidi override.
    expect(cellText('\u001b]52;c;ZXZpbA==\u0007 \u001b[2J \u009b \u202e')).toBe('\\u001b]52;c;ZXZpbA==\\u0007 \\u001b[2J \\u009b \\u202e');
    expect(cellText(['x'])).toBe('["x"]');
    expect(truncate('abcdef', 4)).toBe('abc…');
  });

  it('aligns columns, right-aligns numbers and counts rows', () => {
    const text = renderTable(
      ['name', 'n'],
      [
        { name: 'a', n: 10 },
        { name: 'long name', n: 2 },
      ],
      { rightAligned: new Set(['n']) },
    );

    expect(text.split('\n')).toEqual(['name      │  n', '──────────┼───', 'a         │ 10', 'long name │  2', '(2 rows)', '']);
  });
});
