import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';

let dir: string;
let blocker: Server | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dev-command-'));
});

afterEach(async () => {
  if (blocker) await new Promise((r) => blocker?.close(r));
  blocker = undefined;
  await rm(dir, { recursive: true, force: true });
});

describe('socialplus-webhooks dev: errors the user can fix', () => {
  it.each([
    [['--port', '70000'], {}, /--port must be a port number from 0 to 65535 \(0 = any free port\), got '70000'/],
    [['--port', 'abc'], {}, /--port must be a port number/],
    [[], { PORT: '3k' }, /PORT must be a port number from 0 to 65535 \(0 = any free port\), got '3k'/],
    [['--dir', ' '], {}, /--dir is empty/],
  ])('dev %j with env %j fails naming the problem', async (args, env, message) => {
    const run = await runCli(['dev', ...args], { SOCIALPLUS_LOCAL_DIR: dir, ...env });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('fails fast, naming the port, when the port is taken', async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker?.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as AddressInfo).port;
    const run = await runCli(['dev', '--port', String(port), '--dir', dir], { SOCIALPLUS_WEBHOOK_SECRET: 'x' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`port ${port} on 127.0.0.1 is already in use`));
  });

  it('refuses a folder another running process holds', async () => {
    writeFileSync(join(dir, 'dev.pid'), `${process.ppid}\n`);
    const run = await runCli(['dev', '--port', '0', '--dir', dir], { SOCIALPLUS_WEBHOOK_SECRET: 'x' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`local mode is already running on .* \\(process ${process.ppid}\\)`));
  });

  it('refuses an empty dev secret file, saying how to fix it', async () => {
    writeFileSync(join(dir, 'secret'), '\n');
    const run = await runCli(['dev', '--port', '0', '--dir', dir], { SOCIALPLUS_WEBHOOK_SECRET: undefined });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/dev secret file .*secret is empty: delete it to generate a new secret, or set SOCIALPLUS_WEBHOOK_SECRET/);
  });
});
