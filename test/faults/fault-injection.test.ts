/**
 * Issue 4's proof under faults: 5,000 signed events through local mode (HTTP front door, receiver,
 * journal queue, fan-out, dynalite, s3rver) with seeded faults on the queue send, the DynamoDB
 * store, the S3 inbox, the delivery stream and its S3 writes, and the handlers. `runFaultLoad`
 * checks every promise and names each broken one.
 *
 * The seed is fixed (`seed.ts`; FAULT_SEED picks another) and every failure message carries it, so
 * `FAULT_SEED=<seed> npx vitest run test/faults` replays the same faults and poison events.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FAULT_POINTS, FaultInjector, type FaultKind, type FaultPoint } from '../../local/faults/injector.js';
import { DEFAULT_FAULT_PLAN, runFaultLoad } from '../../local/faults/load.js';
import { replayHint, testFaultSeed } from './seed.js';

const EVENTS = 5000;
const KINDS: readonly FaultKind[] = ['fail', 'fail-after', 'delay'];

type Decision = ReturnType<FaultInjector['decide']>;

/**
 * The first calls at each point get one fault of each kind for sure; the seed draws every other
 * call. Seeded draws alone leave it to chance whether a point sees every kind: the archive points
 * are keyed by batch and object names, which depend on timing, and get a few hundred calls at low
 * rates. The inbox's order starts with the delay, so the spill of the first failed queue send (the
 * inbox's first call: the samples are too small for claim checks) goes through and is drained.
 */
function forceEveryKindFirst(): void {
  const order = (point: FaultPoint): readonly FaultKind[] => (point === 'blobs' ? ['delay', 'fail', 'fail-after'] : KINDS);
  const forced = new Map<FaultPoint, number>();
  const draw = FaultInjector.prototype.decide;
  vi.spyOn(FaultInjector.prototype, 'decide').mockImplementation(function (this: FaultInjector, point: FaultPoint, key: string): Decision {
    // Drawn anyway, so the seeded draws of later calls stay what they would have been.
    const drawn = draw.call(this, point, key);
    const n = forced.get(point) ?? 0;
    const kind = order(point)[n];
    if (kind === undefined) return drawn;
    forced.set(point, n + 1);
    return kind === 'delay' ? { kind, ms: 1 } : { kind };
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('local mode under injected faults', () => {
  it(
    `stores, archives and handles every acknowledged event of ${EVENTS}, and dead-letters exactly the poison ones`,
    { timeout: 180_000 },
    async () => {
      const seed = testFaultSeed();
      const replay = replayHint(seed, 'test/faults/fault-injection.test.ts');
      forceEveryKindFirst();
      const report = await runFaultLoad({ events: EVENTS, seed, plan: DEFAULT_FAULT_PLAN, concurrency: 32 });

      expect(report.seed, replay).toBe(seed);
      expect(report.violations, replay).toEqual([]);
      expect(report.sent, replay).toBe(EVENTS);
      // Every answer is 200, or 503 when both the queue and the spill failed; never another status.
      expect(
        Object.keys(report.answers).filter((s) => s !== '200' && s !== '503'),
        replay,
      ).toEqual([]);
      expect(report.acknowledged, replay).toBe(report.answers['200'] ?? 0);
      expect(report.acknowledged + (report.answers['503'] ?? 0), replay).toBe(EVENTS);
      expect(report.stored, replay).toBe(report.acknowledged);
      expect(report.archived, replay).toBe(report.acknowledged);
      expect(report.handled, replay).toBe(report.acknowledged);
      // The seed marks about 2 % of the events poison; the DLQ holds the acknowledged ones, plus any
      // answered 503 whose send went through.
      expect(report.poison, replay).toBeGreaterThan(0);
      expect(report.deadLettered, replay).toBeGreaterThanOrEqual(report.poison);

      // Every kind of fault happened at every point (the first calls' for sure, see above)...
      for (const point of FAULT_POINTS) {
        for (const kind of KINDS) expect(report.faults[point][kind], `${kind} at ${point}, ${replay}`).toBeGreaterThanOrEqual(1);
      }
      // ...and the fallbacks ran: the first store put and the first handler run failed, the first
      // archive batch was refused, the first failed queue send was spilled and then drained.
      expect(report.metrics.StoreFailed ?? 0, replay).toBeGreaterThanOrEqual(1);
      expect(report.metrics.HandlerFailed ?? 0, replay).toBeGreaterThanOrEqual(1);
      expect(report.metrics.ArchiveFailed ?? 0, replay).toBeGreaterThanOrEqual(1);
      expect(report.metrics.Spilled ?? 0, replay).toBeGreaterThanOrEqual(1);
      expect(report.metrics.SpillDrained ?? 0, replay).toBeGreaterThanOrEqual(1);
    },
  );
});
