/**
 * The typed catalog (zod) stays out of the receiver: its cold start is a budget (docs/architecture.md §10), and
 * the receiver only needs the plain name lists of `lambda/core/event-names.ts`. Bundles each function's
 * entry point as esbuild would and looks at what went in.
 */
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

async function bundledInputs(entry: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    logLevel: 'silent',
    // The SDK and Powertools are large and never import zod; leaving them out keeps this fast.
    external: ['@aws-sdk/*', '@smithy/*', '@aws-lambda-powertools/*', 'aws-xray-sdk-core'],
  });
  return Object.keys(result.metafile.inputs);
}

describe('bundles', () => {
  it('the receiver bundles no zod and no catalog schema', async () => {
    const inputs = await bundledInputs('lambda/receiver/index.ts');
    expect(inputs).toContain('lambda/core/event-names.ts');
    expect(inputs.filter((i) => i.includes('node_modules/zod/') || i.startsWith('lambda/core/catalog/'))).toEqual([]);
  });

  it('the fan-out bundles the catalog schemas (so the check above can fail)', async () => {
    const inputs = await bundledInputs('lambda/fanout/index.ts');
    expect(inputs).toContain('lambda/core/catalog/events.ts');
    expect(inputs.some((i) => i.includes('node_modules/zod/'))).toBe(true);
  });
});
