import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveDevSecret } from '../../local/dev-secret.js';
import { useTempDirPerTest } from '../support/temp-dir.js';

const tmp = useTempDirPerTest('dev-secret-');

describe('resolveDevSecret', () => {
  it('generates a random secret into the file (mode 0600) once, then reads it back', async () => {
    const secretFile = join(tmp.path, 'nested', 'secret');
    const first = await resolveDevSecret({ secretFile, env: {} });
    expect(first).toMatchObject({ origin: 'generated', file: secretFile });
    expect(first.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(readFileSync(secretFile, 'utf8').trim()).toBe(first.value);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(await resolveDevSecret({ secretFile, env: {} })).toEqual({ value: first.value, origin: 'file', file: secretFile });
  });

  it('prefers SOCIALPLUS_WEBHOOK_SECRET, then an explicit value, over the file', async () => {
    const secretFile = join(tmp.path, 'secret');
    await resolveDevSecret({ secretFile, env: {} });
    expect(await resolveDevSecret({ secretFile, env: { SOCIALPLUS_WEBHOOK_SECRET: 'from-env' } })).toEqual({ value: 'from-env', origin: 'env' });
    expect(await resolveDevSecret({ secretFile, explicit: 'given', env: { SOCIALPLUS_WEBHOOK_SECRET: 'from-env' } })).toEqual({
      value: 'given',
      origin: 'option',
    });
  });

  it('rejects an empty explicit secret', async () => {
    await expect(resolveDevSecret({ secretFile: join(tmp.path, 'secret'), explicit: '  ' })).rejects.toThrow(/secret given is empty/);
  });
});
