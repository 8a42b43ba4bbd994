/**
 * Reading the project's own docs, for tests that hold the code to what a doc states (the doc is the
 * independent statement; the test does not restate it).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The text of the section of `file` (relative to the repository) whose heading starts with
 * `heading` (`'## 6.'`, `'### 5.1 '`), up to the next heading of the same or a higher level.
 */
export function docSection(file: string, heading: string): string {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const start = lines.findIndex((l) => l.startsWith(heading));
  if (start < 0) throw new Error(`${file} has no heading starting '${heading}'`);
  const level = /^#+/.exec(heading)?.[0].length ?? 0;
  const end = lines.findIndex((l, i) => i > start && /^#+ /.test(l) && (/^#+/.exec(l)?.[0].length ?? 0) <= level);
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** The code spans (`…`) of `text`, in order, without their backticks. */
export function codeSpans(text: string): string[] {
  return [...text.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] as string);
}

/** The body rows of the first table after the line `lead` in `text`, each as its trimmed cells. */
export function tableAfter(text: string, lead: string): string[][] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => l.trim() === lead);
  if (at < 0) throw new Error(`no line '${lead}'`);
  const first = lines.findIndex((l, i) => i > at && l.startsWith('|'));
  const end = lines.findIndex((l, i) => i > first && !l.startsWith('|'));
  return lines.slice(first + 2, end < 0 ? undefined : end).map((row) =>
    row
      .split('|')
      .slice(1, -1)
      .map((cell) => cell.trim()),
  );
}
