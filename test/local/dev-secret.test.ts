import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveDevSecret } from '../../local/dev-secret.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dev-secret-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('resolveDevSecret', () => {
  it('generates a random secret into the file (mode 0600) once, then reads it back', async () => {
    const secretFile = join(dir, 'nested', 'secret');
    const first = await resolveDevSecret({ secretFile, env: {} });
    expect(first).toMatchObject({ origin: 'generated', file: secretFile });
    expect(first.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(secretFile, 'utf8').trim()).toBe(first.value);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(await resolveDevSecret({ secretFile, env: {} })).toEqual({ value: first.value, origin: 'file', file: secretFile });
  });

  it('prefers SOCIALPLUS_WEBHOOK_SECRET, then an explicit value, over the file', async () => {
    const secretFile = join(dir, 'secret');
    await resolveDevSecret({ secretFile, env: {} });
    expect(await resolveDevSecret({ secretFile, env: { SOCIALPLUS_WEBHOOK_SECRET: 'from-env' } })).toEqual({ value: 'from-env', origin: 'env' });
    expect(await resolveDevSecret({ secretFile, explicit: 'given', env: { SOCIALPLUS_WEBHOOK_SECRET: 'from-env' } })).toEqual({ value: 'given', origin: 'option' });
  });

  it('rejects an empty explicit secret', async () => {
    await expect(resolveDevSecret({ secretFile: join(dir, 'secret'), explicit: '  ' })).rejects.toThrow(/secret given is empty/);
  });
});
