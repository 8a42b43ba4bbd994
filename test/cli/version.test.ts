/** `--version` prints the package's version and exits 0, like every CLI users know. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('--version', () => {
  it.each(['--version', '-V'])('%s prints the package version', async (flag) => {
    const run = await runCli([flag]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${VERSION}\n`);
    expect(run.stderr).toBe('');
  });
});
