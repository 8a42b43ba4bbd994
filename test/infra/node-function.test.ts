/**
 * WebhooksFunction's bundling step on its own: local esbuild only, and a bundling failure that
 * names the entry point instead of falling back to Docker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { afterEach, describe, expect, it } from 'vitest';
import { ESBUILD_OPTIONS, WebhooksFunction, esbuildBuildOptions } from '../../lib/constructs/node-function.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const props = {
  description: 'test',
  memorySize: 128,
  timeout: Duration.seconds(3),
  logLevel: 'INFO',
  logRetention: logs.RetentionDays.ONE_DAY,
  invocation: 'tests only',
} as const;

describe('WebhooksFunction bundling', () => {
  it('fails synthesis with an error naming the entry point when esbuild cannot bundle it, never trying Docker', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'spw-node-function-'));
    dirs.push(outdir);
    const stack = new Stack(new App({ outdir }), 'Bundling');
    expect(() => new WebhooksFunction(stack, 'Missing', { ...props, entry: 'lambda/no-such-entry.ts' })).toThrow(
      /esbuild could not bundle the Lambda entry point lambda\/no-such-entry\.ts: .*no-such-entry/s,
    );
  });

  it('builds an index.mjs entry module with its chunks under chunks/, from the shared options', () => {
    const options = esbuildBuildOptions('/abs/entry.ts', '/abs/out');
    expect(options).toMatchObject({ ...ESBUILD_OPTIONS, entryPoints: { index: '/abs/entry.ts' }, outdir: '/abs/out' });
    expect(options).toMatchObject({
      splitting: true,
      format: 'esm',
      outExtension: { '.js': '.mjs' },
      chunkNames: 'chunks/[name]-[hash]',
      external: [],
    });
  });
});
