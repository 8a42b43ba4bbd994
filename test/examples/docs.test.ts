/**
 * The guides' code is the code that is tested: every ```ts block of docs/extending.md marked with
 * `file=<path>` is that file, byte for byte, so the handler and test the guide shows type-check and
 * pass (test/examples/link-spam.test.ts runs them).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const GUIDE = readFileSync(new URL('../../docs/extending.md', import.meta.url), 'utf8');
const BLOCKS = [...GUIDE.matchAll(/^```ts file=(\S+)\n([\s\S]*?)^```$/gm)].map((m) => [m[1] as string, m[2] as string] as const);

describe('docs/extending.md', () => {
  it('shows the example handler and its test', () => {
    expect(BLOCKS.map(([path]) => path)).toEqual(['lambda/fanout/handlers/link-spam.ts', 'test/examples/link-spam.test.ts']);
  });

  it.each(BLOCKS)('its %s block is that file exactly', (path, code) => {
    expect(code).toBe(readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8'));
  });
});
