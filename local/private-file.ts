/**
 * Local mode's secrets on disk (the dev secret, the emulators' credentials, the inbox MAC key): read when there,
 * else created owner-only exactly once.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { errorMessage } from '../lambda/core/errors.js';

/**
 * The text of `file`, or `undefined` when there is no such file (the caller then creates it); any
 * other failure to read it is thrown as `fail(<the reason>)`, an error that names what the file is for.
 */
export async function readPrivateFileText(file: string, fail: (reason: string) => Error): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw fail(errorMessage(err));
  }
}

/**
 * `read(file)` when it finds a value; else a fresh one from `make()`, written 0600 (its folder
 * 0700) under a temporary name, synced, and linked into place, which fails when the name exists:
 * a concurrent creator's value then wins and is read back, never overwritten or read half-written.
 */
export async function loadOrCreatePrivateFile<T>(
  file: string,
  read: (file: string) => Promise<T | undefined>,
  make: () => { readonly value: T; readonly text: string },
): Promise<T> {
  const existing = await read(file);
  if (existing !== undefined) return existing;

  const dir = dirname(file);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const created = make();
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o600);
  try {
    await handle.writeFile(created.text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const raced = await read(file);
    if (raced !== undefined) return raced;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
  return created.value;
}
