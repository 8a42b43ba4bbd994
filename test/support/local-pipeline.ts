/**
 * Local mode (`local/pipeline.ts`) as the tests that drive it whole start it: in a new temporary
 * folder, on a free port; and stopped with that folder removed.
 */
import { startLocalPipeline, type LocalPipeline, type LocalPipelineOptions } from '../../local/pipeline.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

/** A running local mode and the temporary folder that holds all its state. */
export interface TempPipeline {
  readonly dir: string;
  readonly pipeline: LocalPipeline;
}

/** Starts local mode with `options` in a new temporary folder named from `prefix`, on a free port. */
export async function startTempPipeline(prefix: string, options: Omit<LocalPipelineOptions, 'dir' | 'port'>): Promise<TempPipeline> {
  const dir = await makeTempDir(prefix);
  try {
    return { dir, pipeline: await startLocalPipeline({ dir, port: 0, ...options }) };
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
}

/** Closes local mode (unless a test already did and cleared it) and removes its folder. */
export async function stopTempPipeline(pipeline: LocalPipeline | undefined, dir: string | undefined): Promise<void> {
  await pipeline?.close();
  await removeTempDir(dir);
}
