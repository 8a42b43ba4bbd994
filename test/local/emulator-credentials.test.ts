import { chmodSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EmulatorCredentialsError, generateEmulatorCredentials, loadOrCreateEmulatorCredentials } from '../../local/emulator-credentials.js';
import { useTempDirPerTest } from '../support/temp-dir.js';

const tmp = useTempDirPerTest('emulator-credentials-');

describe('loadOrCreateEmulatorCredentials', () => {
  it('creates fresh random credentials (mode 0600) once, then reads the same back', async () => {
    const file = join(tmp.path, 'nested', 'emulator-credentials.json');
    const first = await loadOrCreateEmulatorCredentials(file);
    expect(first.accessKeyId).toMatch(/^LOCAL[A-Z0-9]{16}$/);
    expect(first.secretAccessKey).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(first);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(tmp.path, 'nested')).mode & 0o777).toBe(0o700);
    expect(await loadOrCreateEmulatorCredentials(file)).toEqual(first);
    // No temporary file is left behind.
    expect(readdirSync(join(tmp.path, 'nested'))).toEqual(['emulator-credentials.json']);
  });

  it('gives different credentials to different installations', () => {
    const a = generateEmulatorCredentials();
    const b = generateEmulatorCredentials();
    expect(a.accessKeyId).not.toBe(b.accessKeyId);
    expect(a.secretAccessKey).not.toBe(b.secretAccessKey);
  });

  it('lets concurrent creators agree on one set of credentials', async () => {
    const file = join(tmp.path, 'emulator-credentials.json');
    const all = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateEmulatorCredentials(file)));
    for (const c of all) expect(c).toEqual(all[0]);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(all[0]);
    expect(readdirSync(tmp.path)).toEqual(['emulator-credentials.json']);
  });

  it('makes a file that others could read owner-only', async () => {
    const file = join(tmp.path, 'emulator-credentials.json');
    const created = await loadOrCreateEmulatorCredentials(file);
    chmodSync(file, 0o644);
    expect(await loadOrCreateEmulatorCredentials(file)).toEqual(created);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['not JSON', 'LOCALAAAA:secret'],
    ['an array', '[]'],
    ['missing the secret', '{"accessKeyId":"LOCALABCDEFGHIJKLMNOP"}'],
    ['a key id with a slash', '{"accessKeyId":"LOCAL/ABCDEFGHIJKLMNOP","secretAccessKey":"abcdefghijklmnopqrstuvwxyz0123456789ABCD"}'],
    ['an empty file', ''],
  ])('refuses a malformed file (%s), naming it and never echoing its content', async (_, content) => {
    const file = join(tmp.path, 'emulator-credentials.json');
    writeFileSync(file, content, { mode: 0o600 });
    const err = await loadOrCreateEmulatorCredentials(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EmulatorCredentialsError);
    expect((err as Error).message).toContain(`the emulator credentials file ${file} is malformed`);
    expect((err as Error).message).toContain('Delete it to generate new credentials');
    if (content.length > 4) expect((err as Error).message).not.toContain(content);
    // The file is left for the user to look at.
    expect(readFileSync(file, 'utf8')).toBe(content);
  });
});
