/**
 * The fan-out over in-memory fakes, for tests that care only about what its handlers see and what
 * it logs: nothing is kept but the fakes' records.
 */
import type { FanoutDeps } from '../../lambda/core/fanout.js';
import { createFanoutHandler } from '../../lambda/fanout/batch-handler.js';
import { InMemoryArchiveStream, InMemoryEventStore, RecordingMetrics, type RecordingLogger } from './fakes.js';

/** A fan-out that runs `handlers` and logs to `logger`, with an in-memory archive and store and events kept 90 days. */
export function inMemoryFanout(handlers: FanoutDeps['handlers'], logger: RecordingLogger): ReturnType<typeof createFanoutHandler> {
  return createFanoutHandler({
    archive: new InMemoryArchiveStream(),
    store: new InMemoryEventStore(),
    handlers,
    logger,
    metrics: new RecordingMetrics(),
    eventRetentionDays: 90,
  });
}
