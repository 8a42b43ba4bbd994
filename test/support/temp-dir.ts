/** Temporary folders for tests, always removed afterwards. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach } from 'vitest';

/** A new folder under the system's temporary folder, its name starting with `prefix`. */
export function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** Removes a folder made by {@link makeTempDir}, with all it holds; nothing when `dir` is undefined. */
export async function removeTempDir(dir: string | undefined): Promise<void> {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
}

/** Runs `fn` with a new temporary folder, and removes the folder however `fn` ends. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await makeTempDir(prefix);
  try {
    return await fn(dir);
  } finally {
    await removeTempDir(dir);
  }
}

/**
 * A new temporary folder for each test of the calling file or describe, removed after the test.
 * Read `path` inside the tests.
 */
export function useTempDirPerTest(prefix: string): { readonly path: string } {
  let current: string | undefined;
  beforeEach(async () => {
    current = await makeTempDir(prefix);
  });
  afterEach(async () => {
    await removeTempDir(current);
    current = undefined;
  });
  return {
    get path(): string {
      if (current === undefined) throw new Error('the temporary folder is read outside a test');
      return current;
    },
  };
}
