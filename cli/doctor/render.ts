/**
 * The doctor's report as text: one line per check (a status marker, the title, the detail), a
 * `fix:` line under each warning and failure, and a summary line; or as one JSON object.
 */
import { clean, type CheckStatus, type DoctorReport } from './check.js';

/** The marker that starts each line, the same width for every status. */
export const MARKER: Readonly<Record<CheckStatus, string>> = { pass: 'pass', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** Widest title column before long titles push their detail right. */
const TITLE_WIDTH = 34;

/** Human lines, without trailing newlines. */
export function renderHuman(r: DoctorReport, opts: { readonly aws: boolean }): string[] {
  const width = Math.min(TITLE_WIDTH, Math.max(0, ...r.checks.map((c) => c.title.length)));
  const indent = ' '.repeat(MARKER.pass.length + 2 + width + 2);
  const lines: string[] = [];
  for (const c of r.checks) {
    const [first = '', ...more] = c.detail.split('\n');
    lines.push(`${MARKER[c.status]}  ${clean(c.title).padEnd(width)}  ${clean(first)}`.trimEnd());
    for (const line of more) lines.push(`${indent}${clean(line)}`);
    if (c.fix !== undefined && (c.status === 'fail' || c.status === 'warn')) lines.push(`${' '.repeat(MARKER.pass.length + 2)}fix: ${clean(c.fix)}`);
  }
  lines.push('');
  lines.push(summaryLine(r));
  if (!opts.aws) lines.push('(local checks only: add --aws to check the AWS account and the deployed stack)');
  return lines;
}

/** `9 passed, 2 warnings, 1 failed, 4 skipped`: every count, so a script can rely on the wording. */
export function summaryLine(r: DoctorReport): string {
  const s = r.summary;
  return `${s.pass} passed, ${s.warn} ${s.warn === 1 ? 'warning' : 'warnings'}, ${s.fail} failed, ${s.skip} skipped`;
}

/** The `--json` object: `{ checks: [{ id, title, status, detail, fix? }], summary }`. */
export function renderJson(r: DoctorReport): string {
  return JSON.stringify({ checks: r.checks, summary: r.summary });
}
