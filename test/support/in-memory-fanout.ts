/**
 * The fan-out over in-memory fakes, for tests that care only about what its handlers see and what
 * it logs: nothing is kept but the fakes' records.
 */
import type { FanoutDeps } from '../../lambda/core/fanout.js';
import { createFanoutHandler } from '../../lambda/fanout/batch-handler.js';
import type { BlobStore } from '../../lambda/core/ports.js';
import type { SuppressionList } from '../../lambda/core/privacy/suppression.js';
import { InMemoryArchiveStream, InMemoryEventStore, RecordingLogger, RecordingMetrics } from './fakes.js';
import { recordingHandler, type Call } from './recording-handler.js';

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

/** What {@link recordingFanout} sets up: the handler, its ports and what the recording handler saw. */
export interface RecordingFanout {
  readonly fanout: ReturnType<typeof createFanoutHandler>;
  readonly calls: Call[];
  readonly archive: InMemoryArchiveStream;
  readonly store: InMemoryEventStore;
  readonly logger: RecordingLogger;
  readonly metrics: RecordingMetrics;
}

/**
 * A fan-out over in-memory ports, events kept 90 days, clock at `now` (the real clock when not given), with `handlers` (default:
 * one `all` handler that takes every event and records each call in `calls`) and, when given, a
 * blob store and a suppression list.
 */
export function recordingFanout(opts: {
  readonly now?: Date;
  readonly blobs?: BlobStore;
  readonly suppression?: SuppressionList;
  readonly handlers?: (calls: Call[]) => FanoutDeps['handlers'];
}): RecordingFanout {
  const calls: Call[] = [];
  const archive = new InMemoryArchiveStream();
  const store = new InMemoryEventStore();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const deps: FanoutDeps = {
    archive,
    store,
    logger,
    metrics,
    eventRetentionDays: 90,
    ...(opts.now ? { now: () => opts.now as Date } : {}),
    handlers: opts.handlers ? opts.handlers(calls) : [recordingHandler('all', ['*'], calls)],
    ...(opts.blobs ? { blobs: opts.blobs } : {}),
    ...(opts.suppression ? { suppression: opts.suppression } : {}),
  };
  return { fanout: createFanoutHandler(deps), calls, archive, store, logger, metrics };
}
