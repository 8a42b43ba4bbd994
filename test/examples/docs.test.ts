/**
 * The guides' code is the code that is tested: every ```ts block of docs/extending.md marked with
 * `file=<path>` is that file, byte for byte, so the handler and test the guide shows type-check and
 * pass (test/examples/link-spam.test.ts runs them; test/examples/guide.test.ts follows the guide in
 * a copy of the project). The README's handler snippet and the guide import `defineHandler` from
 * the same place, the kit.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const GUIDE = readFileSync(new URL('../../docs/extending.md', import.meta.url), 'utf8');
const README = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const BLOCKS = [...GUIDE.matchAll(/^```ts file=(\S+)\n([\s\S]*?)^```$/gm)].map((m) => [m[1] as string, m[2] as string] as const);

describe('docs/extending.md', () => {
  it('shows the example handler and its test', () => {
    expect(BLOCKS.map(([path]) => path)).toEqual(['lambda/fanout/handlers/link-spam.ts', 'test/examples/link-spam.test.ts']);
  });

  it.each(BLOCKS)('its %s block is that file exactly', (path, code) => {
    expect(code).toBe(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'));
  });
});

describe('where handlers import defineHandler from', () => {
  /** The module each ```ts block of `doc` imports `defineHandler` from. */
  const importsOf = (doc: string): string[] =>
    [...doc.matchAll(/^```ts[^\n]*\n([\s\S]*?)^```$/gm)].flatMap((m) =>
      [...(m[1] as string).matchAll(/import\s*\{[^}]*\bdefineHandler\b[^}]*\}\s*from\s*'([^']+)'/g)].map((i) => i[1] as string),
    );

  it.each([
    ['README.md', README],
    ['docs/extending.md', GUIDE],
  ])('%s: from the kit (lambda/fanout/kit/index.ts), as a handler module under lambda/fanout/handlers/ writes it', (_doc, text) => {
    const sources = importsOf(text);
    expect(sources.length).toBeGreaterThan(0);
    expect(new Set(sources)).toEqual(new Set(['../kit/index.js']));
  });
});
