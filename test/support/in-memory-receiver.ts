/**
 * The receiver for tests that care about what it enqueues and spills, not about its telemetry:
 * webhooks signed with one secret are taken, and its logs and metrics are recorded where no one reads them.
 */
import type { ReceiveDeps } from '../../lambda/core/receive.js';
import { createReceiverHandler } from '../../lambda/receiver/handler.js';
import { FakeSecretSource, InMemoryBlobStore, InMemoryQueue, RecordingLogger, RecordingMetrics } from './fakes.js';

/**
 * The receiver's ports over in-memory fakes, open to the test: a queue, an inbox, recorded logs and
 * metrics, and webhooks signed with `secret` for the default source; `extra` replaces or adds any of them.
 */
export function fakeReceiveDeps(secret: string, extra: Partial<ReceiveDeps> = {}) {
  const queue = new InMemoryQueue();
  const blobs = new InMemoryBlobStore();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const deps: ReceiveDeps = { queue, blobs, secrets: new FakeSecretSource({ default: [secret] }), logger, metrics, ...extra };
  return { queue, blobs, logger, metrics, deps };
}

/** What the test gives the receiver: its queue, and where it wants them its inbox, deadline, … */
export type ReceiverPorts = Omit<ReceiveDeps, 'secrets' | 'logger' | 'metrics'>;

/** A receiver over `ports` that takes webhooks signed with `secret` for each of `sources` (default: the default source only). */
export function signedReceiver(
  secret: string,
  ports: ReceiverPorts,
  sources: readonly string[] = ['default'],
): ReturnType<typeof createReceiverHandler> {
  return createReceiverHandler({
    ...ports,
    secrets: new FakeSecretSource(Object.fromEntries(sources.map((source) => [source, [secret]]))),
    logger: new RecordingLogger(),
    metrics: new RecordingMetrics(),
  });
}
