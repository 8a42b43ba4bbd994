/**
 * The fan-out's side of the inspector (local/inspector/observer.ts): the notes its wrappers give,
 * and that they change nothing the fan-out does (results and errors pass through as they were; a
 * sink that throws is ignored).
 */
import { describe, expect, it } from 'vitest';
import type { HandlerContext, WebhookHandler } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey, claimCheckMessage, spillKey } from '../../lambda/core/inbox.js';
import type { EventStore, HandlerRunRecord, HandlerRunsUpdate, PutResult, StoredEvent } from '../../lambda/core/ports.js';
import { createFanoutHandler } from '../../lambda/fanout/batch-handler.js';
import type { InspectorNote } from '../../local/inspector/ledger.js';
import { deliveryNotes, observedHandler, observedStore, summaryOf, type NoteSink } from '../../local/inspector/observer.js';
import { InMemoryArchiveStream, InMemoryEventStore, RecordingLogger, RecordingMetrics } from '../support/fakes.js';
import { recordingHandler, type Call } from '../support/recording-handler.js';
import { sampleBody } from '../support/samples.js';
import { queueMessageFor, s3NotificationRecord, s3TestEventRecord, sqsEvent, sqsRecord } from '../support/sqs.js';
import { eventSummary } from '../support/inspector-rows.js';

/** A handler that throws `thrown` (an error, or anything else a handler may throw). */
const failing = (name: string, thrown: unknown): WebhookHandler => ({
  name,
  events: ['*'],
  handle: () => {
    throw thrown;
  },
});

const EVENT_ID = '0123456789abcdef0123456789abcdef';

function storedEvent(over: Partial<StoredEvent> = {}): StoredEvent {
  return {
    eventId: EVENT_ID,
    eventType: 'message.didCreate',
    eventName: 'message.didCreate',
    receivedAt: '2026-12-02T10:00:00.000Z',
    source: 'default',
    deprecated: false,
    actorId: 'mika.tan',
    targetType: 'message',
    targetId: 'm1',
    flags: [],
    payload: '{"event":"message.didCreate"}',
    expiresAt: 1_800_000_000,
    ...over,
  };
}

const recordingSink = (): { notes: InspectorNote[]; sink: NoteSink } => {
  const notes: InspectorNote[] = [];
  return { notes, sink: (n) => void notes.push(n) };
};

const throwingSink: NoteSink = () => {
  throw new Error('the inspector is broken');
};

/** A clock that advances `stepMs` each time it is read, from 2026-12-02T10:00:00Z. */
function steppingClock(stepMs: number): () => number {
  let t = Date.parse('2026-12-02T10:00:00.000Z') - stepMs;
  return () => (t += stepMs);
}

const ctx = { eventId: EVENT_ID } as HandlerContext;
const event = { event: 'message.didCreate', data: {} };

describe('observedHandler', () => {
  it('keeps the handler name and events, and notes a success with its start and duration', async () => {
    const seen: unknown[] = [];
    const inner: WebhookHandler = { name: 'mailer', events: ['message.*'], handle: (e) => void seen.push(e) };
    const { notes, sink } = recordingSink();
    const h = observedHandler(inner, sink, steppingClock(25));
    expect(h.name).toBe('mailer');
    expect(h.events).toEqual(['message.*']);
    await h.handle(event, ctx);
    expect(seen).toEqual([event]);
    expect(notes).toEqual([
      { kind: 'attempt', eventId: EVENT_ID, handler: 'mailer', startedAt: '2026-12-02T10:00:00.000Z', durationMs: 25, outcome: 'succeeded' },
    ]);
  });

  it("notes a failure with the error's name, message and stack, and throws the same error object on", async () => {
    const thrown = new TypeError('cannot read x of undefined');
    const inner: WebhookHandler = failing('mailer', thrown);
    const { notes, sink } = recordingSink();
    const h = observedHandler(inner, sink, steppingClock(7));
    const caught = await Promise.resolve(h.handle(event, ctx)).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(caught).toBe(thrown);
    expect(notes).toEqual([
      {
        kind: 'attempt',
        eventId: EVENT_ID,
        handler: 'mailer',
        startedAt: '2026-12-02T10:00:00.000Z',
        durationMs: 7,
        outcome: 'failed',
        error: { name: 'TypeError', message: 'cannot read x of undefined', stack: thrown.stack },
      },
    ]);
    expect(thrown.stack).toMatch(/^TypeError: cannot read x of undefined\n/);
  });

  it('notes a rejected promise the same way, and something thrown that is not an Error as its text (thrown on as it was)', async () => {
    const { notes, sink } = recordingSink();
    const rejected = new RangeError('too far');
    const async = observedHandler(
      {
        name: 'a',
        events: ['*'],
        handle: async () => {
          await Promise.resolve();
          throw rejected;
        },
      },
      sink,
      steppingClock(1),
    );
    await expect(async.handle(event, ctx)).rejects.toBe(rejected);
    const odd = { code: 42 };
    const weird = observedHandler(failing('b', odd), sink, steppingClock(1));
    await expect(Promise.resolve().then(() => weird.handle(event, ctx))).rejects.toBe(odd);
    expect(notes.map((n) => (n.kind === 'attempt' ? [n.handler, n.outcome, n.error?.name, n.error?.message] : n.kind))).toEqual([
      ['a', 'failed', 'RangeError', 'too far'],
      ['b', 'failed', 'Error', '[object Object]'],
    ]);
  });

  it('with a sink that throws: the success resolves and the failure rejects with the handler own error', async () => {
    const ok = observedHandler({ name: 'ok', events: ['*'], handle: () => undefined }, throwingSink);
    await expect(ok.handle(event, ctx)).resolves.toBeUndefined();
    const thrown = new Error('handler says no');
    const bad = observedHandler(failing('bad', thrown), throwingSink);
    await expect(Promise.resolve().then(() => bad.handle(event, ctx))).rejects.toBe(thrown);
  });
});

describe('observedStore', () => {
  it('passes results through unchanged and notes stored (created), then stored with its handler runs (not created)', async () => {
    const inner = new InMemoryEventStore();
    const { notes, sink } = recordingSink();
    const store = observedStore(inner, sink);
    const e = storedEvent({ flags: ['payload-in-s3'], payloadRef: 'inbox/large/2026-12-02/x' });
    expect(await store.putIfAbsent(e)).toEqual({ created: true });
    const runs: Record<string, HandlerRunRecord> = {
      mailer: { outcome: 'failed', attempts: 1, lastAt: '2026-12-02T10:00:01.000Z', durationMs: 3, error: 'down' },
    };
    await store.recordHandlerRuns(EVENT_ID, { runs, done: [], archived: true });
    const again = await store.putIfAbsent(e);
    expect(again).toMatchObject({ created: false, handlerRuns: runs });
    expect(inner.putCalls).toEqual([e, e]);
    expect(inner.runCalls).toEqual([{ eventId: EVENT_ID, done: [], runs, archived: true }]);
    expect(notes).toEqual([
      { kind: 'stored', event: summaryOf(e), created: true },
      { kind: 'runs', eventId: EVENT_ID, runs },
      { kind: 'stored', event: summaryOf(e), created: false, handlerRuns: runs },
    ]);
    // The summary is the header without the payload; the kept object's key is there.
    expect(summaryOf(e)).toEqual(eventSummary({ eventId: EVENT_ID, flags: ['payload-in-s3'], payloadRef: 'inbox/large/2026-12-02/x' }));
  });

  it('returns the very result object the store gave', async () => {
    const result: PutResult = { created: false, handlersDone: new Set(['a']), handlerRuns: {} };
    const inner: EventStore = { putIfAbsent: async () => result, recordHandlerRuns: async () => undefined };
    expect(await observedStore(inner, () => undefined).putIfAbsent(storedEvent())).toBe(result);
  });

  it('notes no round without runs, and nothing when the store fails (its error thrown on as it was)', async () => {
    const failure = new Error('ProvisionedThroughputExceededException');
    const updates: HandlerRunsUpdate[] = [];
    const inner: EventStore = {
      putIfAbsent: async () => {
        throw failure;
      },
      recordHandlerRuns: async (_id, u) => {
        updates.push(u);
        if (u.archived) throw failure;
      },
    };
    const { notes, sink } = recordingSink();
    const store = observedStore(inner, sink);
    await expect(store.putIfAbsent(storedEvent())).rejects.toBe(failure);
    await store.recordHandlerRuns(EVENT_ID, { runs: {}, done: [], archived: false });
    const runs = { a: { outcome: 'succeeded' as const, attempts: 1, lastAt: '2026-12-02T10:00:01.000Z', durationMs: 1 } };
    await expect(store.recordHandlerRuns(EVENT_ID, { runs, done: ['a'], archived: true })).rejects.toBe(failure);
    expect(updates).toHaveLength(2);
    expect(notes).toEqual([]);
  });

  it('with a sink that throws: results still come back', async () => {
    const store = observedStore(new InMemoryEventStore(), throwingSink);
    expect(await store.putIfAbsent(storedEvent())).toEqual({ created: true });
    const runs = { a: { outcome: 'succeeded' as const, attempts: 1, lastAt: '2026-12-02T10:00:01.000Z', durationMs: 1 } };
    await expect(store.recordHandlerRuns(EVENT_ID, { runs, done: ['a'], archived: false })).resolves.toBeUndefined();
  });
});

describe('the fan-out with the observers', () => {
  function observedFanout(sink: NoteSink, failFor: (ctx: HandlerContext) => boolean = () => false) {
    const calls: Call[] = [];
    const store = new InMemoryEventStore();
    const fanout = createFanoutHandler({
      archive: new InMemoryArchiveStream(),
      store: observedStore(store, sink),
      handlers: [recordingHandler('recorder', ['*'], calls), recordingHandler('flaky', ['*'], [], failFor)].map((h) => observedHandler(h, sink)),
      logger: new RecordingLogger(),
      metrics: new RecordingMetrics(),
      eventRetentionDays: 90,
    });
    return { fanout, calls, store };
  }

  it('notes the event stored, each handler run, and the runs recorded', async () => {
    const { notes, sink } = recordingSink();
    const { fanout } = observedFanout(sink, () => true);
    const body = sampleBody('message.didCreate');
    const out = await fanout(sqsEvent([sqsRecord(queueMessageFor(body), { messageId: 'm-1' })]));
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'm-1' }]);
    expect(notes.map((n) => n.kind)).toEqual(['stored', 'attempt', 'attempt', 'runs']);
    const attempts = notes.filter((n): n is Extract<InspectorNote, { kind: 'attempt' }> => n.kind === 'attempt');
    expect(attempts.map((a) => [a.eventId, a.handler, a.outcome, a.error?.message])).toEqual(
      expect.arrayContaining([
        [eventIdOf(body), 'recorder', 'succeeded', undefined],
        [eventIdOf(body), 'flaky', 'failed', 'flaky failed on purpose'],
      ]),
    );
    expect(notes[0]).toMatchObject({ kind: 'stored', created: true, event: { eventId: eventIdOf(body), actorId: 'mika.tan' } });
    expect(notes[3]).toMatchObject({ kind: 'runs', runs: { recorder: { outcome: 'succeeded' }, flaky: { outcome: 'failed' } } });
  });

  it('a sink that throws on every note changes nothing the fan-out does', async () => {
    const body = sampleBody('message.didCreate');
    const withThrowing = observedFanout(throwingSink);
    const out = await withThrowing.fanout(sqsEvent([sqsRecord(queueMessageFor(body), { messageId: 'm-1' })]));
    expect(out.batchItemFailures).toEqual([]);
    expect(withThrowing.calls.map((c) => c.ctx.eventId)).toEqual([eventIdOf(body)]);
    expect(withThrowing.store.items.get(eventIdOf(body))?.handlersDone).toEqual(new Set(['recorder', 'flaky']));
    // And a failing handler still fails its record, as without the inspector.
    const failing = observedFanout(throwingSink, () => true);
    const failed = await failing.fanout(sqsEvent([sqsRecord(queueMessageFor(body), { messageId: 'm-2' })]));
    expect(failed.batchItemFailures).toEqual([{ itemIdentifier: 'm-2' }]);
    expect(failing.store.items.get(eventIdOf(body))?.handlerRuns.flaky).toMatchObject({ outcome: 'failed', error: 'flaky failed on purpose' });
  });
});

describe('deliveryNotes', () => {
  const at = new Date('2026-12-02T10:00:00.000Z');
  const idA = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa';
  const idB = 'bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';

  it('notes a claim-checked record as arrived by claim check', () => {
    const body = sampleBody('message.didCreate');
    const attrs = queueMessageFor(body).attributes;
    const message = claimCheckMessage(claimCheckKey(at, attrs.eventId), 300_000, attrs);
    expect(deliveryNotes(sqsEvent([sqsRecord(message)]))).toEqual([{ kind: 'delivery', eventId: eventIdOf(body), via: 'claim-check' }]);
  });

  it('notes each spilled object of an S3 notification as arrived by spill', () => {
    const event = sqsEvent([s3NotificationRecord('archive-bucket', [spillKey(at, idA), spillKey(at, idB)])]);
    expect(deliveryNotes(event)).toEqual([
      { kind: 'delivery', eventId: idA, via: 'spill' },
      { kind: 'delivery', eventId: idB, via: 'spill' },
    ]);
  });

  it('notes nothing for an inline record, a malformed pointer, S3 test events or objects that are not spills', () => {
    const body = sampleBody('message.didCreate');
    const attrs = queueMessageFor(body).attributes;
    const malformed = { ...claimCheckMessage('inbox/spill/2026-12-02/' + idA, 10, attrs) };
    const event = sqsEvent([
      sqsRecord(queueMessageFor(body)),
      sqsRecord(malformed),
      s3TestEventRecord('archive-bucket'),
      s3NotificationRecord('archive-bucket', [claimCheckKey(at, idA), 'inbox/spill/not-a-day/x', 'events/dt=2026-12-02/hour=10/part']),
    ]);
    expect(deliveryNotes(event)).toEqual([]);
  });

  it('keeps the order of the batch', () => {
    const body = sampleBody('message.didCreate');
    const attrs = queueMessageFor(body).attributes;
    const event = sqsEvent([
      s3NotificationRecord('archive-bucket', [spillKey(at, idB)]),
      sqsRecord(queueMessageFor(sampleBody('v3.post.didCreate'))),
      sqsRecord(claimCheckMessage(claimCheckKey(at, attrs.eventId), 300_000, attrs)),
    ]);
    expect(deliveryNotes(event)).toEqual([
      { kind: 'delivery', eventId: idB, via: 'spill' },
      { kind: 'delivery', eventId: eventIdOf(body), via: 'claim-check' },
    ]);
  });
});
