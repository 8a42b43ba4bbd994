/**
 * Local mode for a benchmark: started in this process (`startLocalPipeline`), handed to the
 * measurement, and closed however the measurement ends, so a failed run leaves none of its
 * processes (fan-out, emulators) behind.
 */
import { startLocalPipeline, type LocalPipeline, type LocalPipelineOptions } from '../../local/pipeline.js';

/** Starts local mode with `options`, runs `fn` against it, closes it; resolves with what `fn` returned. */
export async function withLocalPipeline<T>(options: LocalPipelineOptions, fn: (pipeline: LocalPipeline) => Promise<T>): Promise<T> {
  const pipeline = await startLocalPipeline(options);
  try {
    return await fn(pipeline);
  } finally {
    await pipeline.close();
  }
}
