/** The CLI piped into a reader that stops early (`socialplus-webhooks --help | head -1`) ends quietly. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/socialplus-webhooks.mjs', import.meta.url));

it('ends with no EPIPE crash when the reader of its output has gone', async () => {
  const child = spawn(process.execPath, [BIN, 'erase', '--help'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // The reader is gone before the CLI writes, as after `head -1` has read its line.
  child.stdout.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  expect(stderr).not.toMatch(/EPIPE|Unhandled 'error' event/);
  expect(code).toBe(0);
}, 30_000);
