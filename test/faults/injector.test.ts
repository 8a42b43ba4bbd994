import { describe, expect, it } from 'vitest';
import { defineHandler, type HandlerContext } from '../../lambda/core/define-handler.js';
import type { EventQueue, EventStore, QueueMessage } from '../../lambda/core/ports.js';
import { noMetrics, silentLogger } from '../../lambda/core/telemetry.js';
import { FaultInjector, hash32, InjectedFaultError, mulberry32, seedFromEnv } from '../../local/faults/injector.js';
import { scaledPlan } from '../../local/faults/load.js';
import { DEFAULT_TEST_FAULT_SEED, replayHint, testFaultSeed } from './seed.js';

const message = (eventId: string): QueueMessage => ({
  body: '{}',
  attributes: { eventId, eventType: 'message.didCreate', receivedAt: '2025-07-02T10:00:00.000Z', source: 'default', requestId: 'r' },
});

function recordingQueue(): EventQueue & { sent: string[] } {
  const sent: string[] = [];
  return {
    sent,
    async send(m) {
      sent.push(m.attributes.eventId);
    },
  };
}

describe('mulberry32 and hash32', () => {
  it('repeat the same sequence for the same seed, and differ across seeds', () => {
    const a = mulberry32(42);
    const b = mulberry32(42);
    const c = mulberry32(43);
    const seqA = Array.from({ length: 5 }, a);
    expect(Array.from({ length: 5 }, b)).toEqual(seqA);
    expect(Array.from({ length: 5 }, c)).not.toEqual(seqA);
    for (const x of seqA) expect(x >= 0 && x < 1).toBe(true);
    expect(hash32('abc')).toBe(hash32('abc'));
    expect(hash32('abc')).not.toBe(hash32('abd'));
  });
});

describe('FaultInjector', () => {
  it('draws the same faults for the same seed whatever order the calls come in', () => {
    const keys = Array.from({ length: 200 }, (_, i) => `event-${i}`);
    const plan = { queue: { fail: 0.2, failAfter: 0.1, delay: 0.1 } };
    const forward = new FaultInjector(7, plan);
    const backward = new FaultInjector(7, plan);
    const a = keys.map((k) => forward.decide('queue', k).kind);
    const b = [...keys]
      .reverse()
      .map((k) => backward.decide('queue', k).kind)
      .reverse();
    expect(b).toEqual(a);
    expect(new Set(a)).toEqual(new Set(['none', 'fail', 'fail-after', 'delay']));
    const other = new FaultInjector(8, plan);
    expect(keys.map((k) => other.decide('queue', k).kind)).not.toEqual(a);
  });

  it('draws anew for each call about the same key, so retries can succeed', () => {
    const injector = new FaultInjector(1, { store: { fail: 0.5 } });
    const kinds = Array.from({ length: 40 }, () => injector.decide('store', 'put:x').kind);
    expect(kinds).toContain('fail');
    expect(kinds).toContain('none');
  });

  it('injects roughly the planned fraction', () => {
    const injector = new FaultInjector(3, { handler: { fail: 0.1 } });
    const fails = Array.from({ length: 5000 }, (_, i) => injector.decide('handler', `h:${i}`).kind).filter((k) => k === 'fail').length;
    expect(fails).toBeGreaterThan(350);
    expect(fails).toBeLessThan(650);
  });

  it('fails before the call, after it, or delays it, and records what it did', async () => {
    const queue = recordingQueue();
    // One point per kind, each certain.
    const failing = new FaultInjector(1, { queue: { fail: 1 } }).wrapQueue(queue);
    await expect(failing.send(message('a'))).rejects.toBeInstanceOf(InjectedFaultError);
    expect(queue.sent).toEqual([]);

    const after = new FaultInjector(1, { queue: { failAfter: 1 } });
    await expect(after.wrapQueue(queue).send(message('b'))).rejects.toThrow(/injected fault \(fail-after\) at queue for b/);
    expect(queue.sent).toEqual(['b']);
    expect(after.injected).toEqual([{ point: 'queue', key: 'b', kind: 'fail-after' }]);

    const slow = new FaultInjector(1, { queue: { delay: 1, maxDelayMs: 30 } });
    const controller = new AbortController();
    controller.abort();
    await slow.wrapQueue(queue).send(message('c'), { signal: controller.signal });
    expect(queue.sent).toEqual(['b', 'c']);
    // The caller had given up: the send still went through, and is noted as late.
    expect(slow.injected.map((f) => f.kind)).toEqual(['delay', 'late']);
    expect(slow.counts().queue).toEqual({ fail: 0, 'fail-after': 0, delay: 1, late: 1 });
  });

  it('wraps the store and handlers, keyed by event id and handler name', async () => {
    const calls: string[] = [];
    const store: EventStore = {
      async putIfAbsent(e) {
        calls.push(`put ${e.eventId}`);
        return { created: true };
      },
      async recordHandlerRuns(id) {
        calls.push(`done ${id}`);
      },
    };
    const injector = new FaultInjector(5, { store: { fail: 1 }, handler: { failAfter: 1 } });
    const wrapped = injector.wrapStore(store);
    await expect(
      wrapped.recordHandlerRuns('e1', {
        runs: { h: { outcome: 'succeeded', attempts: 1, lastAt: '2025-07-02T10:00:00.000Z', durationMs: 1 } },
        done: ['h'],
        archived: true,
      }),
    ).rejects.toThrow(/at store for done:e1/);
    expect(calls).toEqual([]);
    const ran: string[] = [];
    const handler = injector.wrapHandler(defineHandler({ name: 'h1', events: ['*'], handle: (_e, ctx) => void ran.push(ctx.eventId) }));
    expect(handler.name).toBe('h1');
    expect(handler.events).toEqual(['*']);
    const ctx: HandlerContext = {
      eventId: 'e2',
      eventType: 'message.didCreate',
      eventName: 'message.didCreate',
      receivedAt: '2025-07-02T10:00:00.000Z',
      source: 'default',
      deprecated: false,
      logger: silentLogger,
      metrics: noMetrics,
    };
    await expect(Promise.resolve(handler.handle({ event: 'message.didCreate', data: {} }, ctx))).rejects.toThrow(/at handler for h1:e2/);
    expect(ran).toEqual(['e2']);
  });

  it('refuses a plan that cannot be right, naming the point', () => {
    expect(() => new FaultInjector(1, { queue: { fail: 0.7, delay: 0.5 } })).toThrow(/fault rates at queue add up to more than 1/);
    expect(() => new FaultInjector(1, { store: { fail: -0.1 } })).toThrow(/fault rates at store must be fractions from 0 to 1/);
    expect(() => new FaultInjector(1, { disk: { fail: 0.1 } } as never)).toThrow(/unknown fault point 'disk'/);
  });

  it('scales a plan without letting a point exceed certainty', () => {
    const plan = scaledPlan({ queue: { fail: 0.4, delay: 0.2, maxDelayMs: 10 }, store: { fail: 0.01 } }, 2);
    expect(plan.queue?.fail).toBeCloseTo(2 / 3);
    expect(plan.queue?.delay).toBeCloseTo(1 / 3);
    expect(plan.queue?.maxDelayMs).toBe(10);
    expect(plan.store?.fail).toBeCloseTo(0.02);
    expect(() => scaledPlan({}, -1)).toThrow(/factor must be ≥ 0/);
  });
});

describe('seedFromEnv', () => {
  it('takes FAULT_SEED, or makes one up', () => {
    expect(seedFromEnv({ FAULT_SEED: '12345' })).toBe(12345);
    const random = seedFromEnv({});
    expect(Number.isInteger(random) && random >= 0 && random < 2 ** 32).toBe(true);
  });

  it.each(['abc', '-1', '1.5', '4294967296'])('refuses FAULT_SEED=%s, naming the variable', (raw) => {
    expect(() => seedFromEnv({ FAULT_SEED: raw })).toThrow(/FAULT_SEED must be an integer from 0 to 4294967295/);
  });
});

describe('testFaultSeed', () => {
  it('is fixed unless FAULT_SEED is set, which it checks like seedFromEnv', () => {
    expect(testFaultSeed({})).toBe(DEFAULT_TEST_FAULT_SEED);
    expect(testFaultSeed({ FAULT_SEED: ' ' })).toBe(DEFAULT_TEST_FAULT_SEED);
    expect(testFaultSeed({ FAULT_SEED: '7' })).toBe(7);
    expect(() => testFaultSeed({ FAULT_SEED: 'x' })).toThrow(/FAULT_SEED must be an integer from 0 to 4294967295/);
    expect(replayHint(7, 'test/faults')).toBe('seed=7 (replay: FAULT_SEED=7 npx vitest run test/faults)');
  });
});
