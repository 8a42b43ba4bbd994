/**
 * Local mode (`local/pipeline.ts`) as the tests that drive it whole start it: in a new temporary
 * folder, on a free port; and stopped with that folder removed. And a webhook delivery to it, signed
 * as Social Plus signs one.
 */
import { defineHandler, type HandlerContext } from '../../lambda/core/define-handler.js';
import { SIGNATURE_HEADER, sign } from '../../lambda/core/signature.js';
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

/** How {@link startRecordingPipeline} sets local mode up. */
export interface RecordingPipelineOptions {
  readonly secret: string;
  /** The name of the one handler, which takes every event. */
  readonly handlerName: string;
  /** Where the handler pushes the context of each invocation. */
  readonly handled: HandlerContext[];
}

/**
 * Starts local mode as {@link startTempPipeline} does, for the sources `default` and `partner` (both
 * signed with `secret`), with one handler that takes every event and records each invocation's
 * context; batching and buffering are short, so that an event is handled and archived within a
 * fraction of a second.
 */
export function startRecordingPipeline(prefix: string, { secret, handlerName, handled }: RecordingPipelineOptions): Promise<TempPipeline> {
  return startTempPipeline(prefix, {
    secret,
    sources: ['partner'],
    handlers: [defineHandler({ name: handlerName, events: ['*'], handle: (_e, ctx) => void handled.push(ctx) })],
    queue: { batchingWindowMs: 20, visibilityTimeoutMs: 200 },
    stream: { bufferIntervalMs: 100 },
  });
}

/** Closes local mode (unless a test already did and cleared it) and removes its folder. */
export async function stopTempPipeline(pipeline: LocalPipeline | undefined, dir: string | undefined): Promise<void> {
  await pipeline?.close();
  await removeTempDir(dir);
}

/**
 * POSTs `body` to the `/webhook` path of the local mode at `url`, as Social Plus delivers an event
 * (JSON content type, the body signed with `secret`), and returns the response unread.
 */
export function postSignedWebhook(url: string, body: string, secret: string): Promise<Response> {
  return fetch(`${url}/webhook`, { method: 'POST', body, headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: sign(body, secret) } });
}
