/**
 * The local emulators (`local/emulators.ts`) for the tests of one file: started before its tests,
 * each with an SDK client pointed at it, and stopped after them with their client and temporary
 * folder. The `use…` functions register the hooks and return a view whose fields are read inside
 * tests and hooks (not at module load, before the emulator runs).
 */
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll } from 'vitest';
import { ensureBucket, localDynamoDbClient, localS3Client, startDynalite, startS3rver } from '../../local/emulators.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

/** The S3 emulator on a temporary folder, with one bucket created. */
export interface TestS3 {
  /** The temporary folder (removed afterwards). */
  readonly dir: string;
  /** Where the emulator keeps its files: `dir`, or the `s3Subdir` of it. */
  readonly s3Dir: string;
  readonly s3: S3Client;
}

/** dynalite, in memory or on a temporary folder. */
export interface TestDynalite {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
}

/** Registers something to release when the tests are done; releases run last registered first. */
type OnRelease = (release: () => unknown) => void;

/**
 * Registers hooks that run `start` before the tests and, after them, release what it registered
 * (also what a `start` that failed halfway had registered). Returns a view of what `start`
 * returned that throws when read outside that span.
 */
function around<T extends object>(what: string, start: (onRelease: OnRelease) => Promise<T>): T {
  let running: T | undefined;
  const releases: Array<() => unknown> = [];
  beforeAll(async () => {
    running = await start((release) => releases.push(release));
  });
  afterAll(async () => {
    running = undefined;
    for (const release of releases.splice(0).reverse()) await release();
  });
  return new Proxy({} as T, {
    get: (_target, field) => {
      if (!running) throw new Error(`${what} is read before its beforeAll or after its afterAll`);
      return running[field as keyof T];
    },
  });
}

/**
 * The S3 emulator for the tests of the calling file: on a new temporary folder named from `prefix`
 * (its files in `s3Subdir` of it, if given), with `bucket` created.
 */
export function useTestS3(prefix: string, opts: { bucket: string; s3Subdir?: string }): TestS3 {
  return around('the S3 emulator', async (onRelease) => {
    const dir = await makeTempDir(prefix);
    onRelease(() => removeTempDir(dir));
    const s3Dir = opts.s3Subdir === undefined ? dir : join(dir, opts.s3Subdir);
    const emulator = await startS3rver({ dir: s3Dir });
    onRelease(() => emulator.close());
    const s3 = localS3Client(emulator.endpoint);
    onRelease(() => s3.destroy());
    await ensureBucket(s3, opts.bucket);
    return { dir, s3Dir, s3 };
  });
}

/** dynalite for the tests of the calling file: in memory, or persisted to a new temporary folder named from `onDisk`. */
export function useTestDynalite(opts: { onDisk?: string } = {}): TestDynalite {
  return around('dynalite', async (onRelease) => {
    const dir = opts.onDisk === undefined ? undefined : await makeTempDir(opts.onDisk);
    onRelease(() => removeTempDir(dir));
    const emulator = await startDynalite(dir === undefined ? {} : { dir });
    onRelease(() => emulator.close());
    const client = localDynamoDbClient(emulator.endpoint);
    onRelease(() => client.destroy());
    return { endpoint: emulator.endpoint, client };
  });
}
