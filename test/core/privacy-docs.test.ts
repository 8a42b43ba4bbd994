/**
 * docs/privacy.md's "Which fields identify a user" is the published statement of what an erasure
 * searches: its tables must say exactly what `USER_FIELDS` and `RECORD_USER_FIELDS` hold, so the
 * two cannot drift apart.
 */
import { describe, expect, it } from 'vitest';
import { RECORD_USER_FIELDS, USER_FIELDS, type UserField } from '../../lambda/core/privacy/user-match.js';
import { codeSpans, docSection } from '../support/docs.js';

const SECTION = docSection('docs/privacy.md', '## Which fields identify a user');
const RECORD_HEADING = 'Every event';

/** The `###` subsections: heading → the rows of its table (none when it has no table). */
function subsections(text: string): Map<string, UserField[]> {
  const out = new Map<string, UserField[]>();
  const parts = text.split(/^### /m).slice(1);
  for (const part of parts) {
    const [heading = '', ...body] = part.split('\n');
    const rows = body.filter((l) => l.startsWith('|'));
    if (rows.length > 0) {
      expect(
        rows[0]?.split('|').map((c) => c.trim()),
        heading,
      ).toEqual(['', 'Field', 'What it is', '']);
      expect(rows[1], heading).toMatch(/^\|\s*-+\s*\|\s*-+\s*\|$/);
    }
    const fields = rows.slice(2).map((row) => {
      const cells = row.split('|').slice(1, -1);
      expect(cells, `${heading}: ${row}`).toHaveLength(2);
      const [field = '', reason = ''] = cells.map((c) => c.trim());
      const spans = codeSpans(field);
      expect(spans.length === 1 && field === `\`${spans[0]}\``, `${heading}: the field cell holds one path in backticks: ${field}`).toBe(true);
      return { path: spans[0] as string, reason };
    });
    expect(out.has(heading.trim()), `heading ${heading} appears once`).toBe(false);
    out.set(heading.trim(), fields);
  }
  return out;
}

const tables = subsections(SECTION);

/** Family → its table: a heading names one or more families, each in backticks. */
function familyTables(): Map<string, UserField[]> {
  const out = new Map<string, UserField[]>();
  for (const [heading, fields] of tables) {
    if (heading === RECORD_HEADING) continue;
    const families = codeSpans(heading);
    expect(families.length, `heading '${heading}' names families in backticks`).toBeGreaterThan(0);
    expect(heading, 'a heading holds only the family names').toBe(families.map((f) => `\`${f}\``).join(', '));
    for (const family of families) {
      expect(out.has(family), `${family} has one table`).toBe(false);
      out.set(family, fields);
    }
  }
  return out;
}

describe('docs/privacy.md: which fields identify a user', () => {
  it('the table for every event is RECORD_USER_FIELDS', () => {
    expect(tables.get(RECORD_HEADING)).toEqual(RECORD_USER_FIELDS.map(({ path, reason }) => ({ path, reason })));
  });

  it('has a table for each family of USER_FIELDS and no other', () => {
    expect([...familyTables().keys()].sort()).toEqual(Object.keys(USER_FIELDS).sort());
  });

  it.each(Object.keys(USER_FIELDS))('%s: the table lists exactly USER_FIELDS, in order, with the same reasons', (family) => {
    const documented = familyTables().get(family);
    expect(documented).toEqual((USER_FIELDS[family] ?? []).map(({ path, reason }) => ({ path, reason })));
  });

  it('a family with no user field says so rather than showing an empty table', () => {
    for (const [heading, fields] of tables) {
      if (fields.length === 0) expect(SECTION.split(`### ${heading}`)[1]?.split('###')[0], heading).toContain('No payload field names a user.');
    }
  });
});
