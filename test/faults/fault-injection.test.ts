/**
 * Issue 4's proof under faults: 5,000 signed events through local mode (HTTP front door, receiver,
 * journal queue, fan-out, dynalite, s3rver) with seeded faults on the queue send, the DynamoDB
 * store, the S3 inbox, the delivery stream and its S3 writes, and the handlers. `runFaultLoad`
 * checks every promise and names each broken one; a failure prints the seed to replay it with
 * `FAULT_SEED=<seed> npx vitest run test/faults`.
 */
import { describe, expect, it } from 'vitest';
import { FAULT_POINTS, seedFromEnv } from '../../local/faults/injector.js';
import { DEFAULT_FAULT_PLAN, runFaultLoad } from '../../local/faults/load.js';

const EVENTS = 5000;

describe('local mode under injected faults', () => {
  it(
    `stores, archives and handles every acknowledged event of ${EVENTS}, and dead-letters exactly the poison ones`,
    { timeout: 180_000 },
    async () => {
      const seed = seedFromEnv();
      const replay = `FAULT_SEED=${seed} (replay: FAULT_SEED=${seed} npx vitest run test/faults)`;
      const report = await runFaultLoad({ events: EVENTS, seed, plan: DEFAULT_FAULT_PLAN, concurrency: 32 });

      expect(report.violations, replay).toEqual([]);
      expect(report.sent, replay).toBe(EVENTS);
      // Every answer is 200, or 503 when both the queue and the spill failed; never another status.
      expect(
        Object.keys(report.answers).filter((s) => s !== '200' && s !== '503'),
        replay,
      ).toEqual([]);
      expect(report.acknowledged, replay).toBeGreaterThan(0);
      expect(report.stored, replay).toBe(report.acknowledged);
      expect(report.archived, replay).toBe(report.acknowledged);
      expect(report.handled, replay).toBe(report.acknowledged);
      // The DLQ holds the acknowledged poison events, plus any answered 503 whose send went through.
      expect(report.poison, replay).toBeGreaterThan(0);
      expect(report.deadLettered, replay).toBeGreaterThanOrEqual(report.poison);

      // The faults really happened, on every point and of every kind, and exercised the fallbacks.
      for (const point of FAULT_POINTS) {
        const kinds = report.faults[point];
        expect(kinds.fail + kinds['fail-after'] + kinds.delay, `${point} ${replay}`).toBeGreaterThan(0);
      }
      expect(report.metrics.Spilled ?? 0, replay).toBeGreaterThan(0);
      expect(report.metrics.SpillDrained ?? 0, replay).toBeGreaterThan(0);
      expect(report.metrics.StoreFailed ?? 0, replay).toBeGreaterThan(0);
      expect(report.metrics.HandlerFailed ?? 0, replay).toBeGreaterThan(0);
      expect(report.metrics.ArchiveFailed ?? 0, replay).toBeGreaterThan(0);
    },
  );
});
