/**
 * The repository explains itself: every relative link in its Markdown resolves (file and heading),
 * every `docs/<file>.md §n` a comment or a doc cites names a numbered section that exists, and no
 * file points outside the repository (a path above it, or a design document that does not ship).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SKIP = new Set(['node_modules', 'cdk.out', '.local', '.git', 'coverage']);
const TEXT = /\.(md|ts|mts|mjs|js|json)$/;

function files(dir = ROOT): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(e.name) || (e.name.startsWith('.') && e.name !== '.ci')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else if (TEXT.test(e.name) || e.name === 'run') out.push(p);
  }
  return out;
}

const all = files();
const markdown = all.filter((f) => f.endsWith('.md'));
const rel = (f: string) => relative(ROOT, f).split(sep).join('/');

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function headings(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return [...text.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => (m[1] as string).trim());
}

function anchors(file: string): Set<string> {
  const seen = new Map<string, number>();
  // Explicit anchors (`<a id="s5-5"></a>`) as well as the headings' own.
  const out = new Set<string>([...readFileSync(file, 'utf8').matchAll(/<a (?:id|name)="([^"]+)"/g)].map((m) => m[1] as string));
  for (const h of headings(file)) {
    const base = slug(h);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe('the repository explains itself', () => {
  it('finds the files it checks', () => {
    expect(markdown.map(rel)).toContain('docs/architecture.md');
    expect(all.length).toBeGreaterThan(100);
  });

  it('every relative link in the Markdown resolves to a file in the repository, and its heading exists', () => {
    const broken: string[] = [];
    for (const file of markdown) {
      const text = readFileSync(file, 'utf8')
        .replace(/```[\s\S]*?```/g, '')
        .replace(/`[^`\n]*`/g, '');
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1] as string;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const to = path === '' ? file : resolve(dirname(file), decodeURIComponent(path));
        if (!to.startsWith(ROOT + sep) && to !== ROOT) {
          broken.push(`${rel(file)}: ${target} points outside the repository`);
          continue;
        }
        let isFile: boolean;
        try {
          isFile = statSync(to).isFile();
        } catch {
          broken.push(`${rel(file)}: ${target} does not exist`);
          continue;
        }
        if (anchor && isFile && to.endsWith('.md') && !anchors(to).has(anchor))
          broken.push(`${rel(file)}: ${target}: no heading with that anchor in ${rel(to)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('every "docs/<file>.md §n" cited names a numbered section that exists', () => {
    const broken: string[] = [];
    let cited = 0;
    for (const file of all) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/docs\/([a-z0-9-]+\.md) §(\d+(?:\.\d+)*)/g)) {
        cited++;
        const doc = join(ROOT, 'docs', m[1] as string);
        let sections: string[];
        try {
          sections = headings(doc);
        } catch {
          broken.push(`${rel(file)}: docs/${m[1]} does not exist`);
          continue;
        }
        const n = m[2] as string;
        if (!sections.some((h) => h.startsWith(`${n}. `) || h.startsWith(`${n} `))) broken.push(`${rel(file)}: docs/${m[1]} has no section ${n}`);
      }
    }
    expect(cited).toBeGreaterThan(0);
    expect(broken).toEqual([]);
  });

  it('no file cites a document that does not ship with the project', () => {
    // Built from parts, so this file does not match itself.
    const outside = new RegExp(['\\bDESIGN ' + '§', '\\bWEBHOOKS ' + '§', 'AWS-' + 'FACTS', 'shared' + '/(DESIGN|socialplus|AWS|STYLE)'].join('|'));
    const found = all.filter((f) => outside.test(readFileSync(f, 'utf8'))).map(rel);
    expect(found).toEqual([]);
  });
});
