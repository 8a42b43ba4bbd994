/**
 * Local mode with seeded faults on, as a child process for the crash test: like `dev`, it prints
 * `listening on <url>` and `dynamodb <endpoint>` once ready and stops cleanly on SIGTERM, but its
 * queue sends, store, inbox, archive and handlers fail or stall now and then (`local/faults`), so a
 * SIGKILL lands in the middle of retries, spills and drains as well as ordinary work.
 *
 * Environment: LOCAL_DIR (state folder), WEBHOOK_SECRET, FAULT_SEED.
 */
import { FaultInjector, seedFromEnv } from '../../../local/faults/injector.js';
import { DEFAULT_FAULT_PLAN } from '../../../local/faults/load.js';
import { createConsoleLogger } from '../../../local/console-logger.js';
import { startLocalPipeline } from '../../../local/pipeline.js';

const dir = process.env.LOCAL_DIR;
const secret = process.env.WEBHOOK_SECRET;
if (!dir || !secret) throw new Error('set LOCAL_DIR and WEBHOOK_SECRET');
const injector = new FaultInjector(seedFromEnv(), DEFAULT_FAULT_PLAN);

const pipeline = await startLocalPipeline({
  dir,
  port: 0,
  secret,
  // Enough receives that the kills (each may cost the records in flight one) never dead-letter an event.
  queue: { batchingWindowMs: 20, visibilityTimeoutMs: 50, maxReceiveCount: 25 },
  stream: { bufferIntervalMs: 400, retryDelayMs: 50 },
  receiverDeadlineMs: 150,
  spillDrainIntervalMs: 200,
  wrap: injector.wrappers(),
  // Warnings (repairs at start-up, retries) on stderr, where a failing test shows them.
  logger: createConsoleLogger({ level: 'WARN' }),
});
process.stdout.write(`listening on ${pipeline.url}\ndynamodb ${pipeline.endpoints.dynamodb}\n`);
process.once('SIGTERM', () => {
  void pipeline.close().then(
    () => {
      process.stdout.write('stopped\n');
      process.exit(0);
    },
    (err: Error) => {
      process.stderr.write(`close failed: ${err.message}\n`);
      process.exit(1);
    },
  );
});
