import type { SQSEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { ARCHIVE_COLUMNS } from '../../lambda/core/archive-layout.js';
import type { WebhookHandler } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { VERIFICATION_MARKER_KEY } from '../../lambda/core/envelope.js';
import type { FanoutDeps } from '../../lambda/core/fanout.js';
import type { HandlerMetrics } from '../../lambda/core/telemetry.js';
import { createFanoutHandler } from '../../lambda/fanout/batch-handler.js';
import { signedWebhookEvent } from '../support/api-gateway.js';
import { InMemoryArchiveStream, InMemoryEventStore, InMemoryQueue, RecordingLogger, RecordingMetrics } from '../support/fakes.js';
import { signedReceiver } from '../support/in-memory-receiver.js';
import { SAMPLE_NAMES, sampleBody } from '../support/samples.js';
import { queueMessageFor, sqsEvent, sqsEventForBodies, sqsRecord } from '../support/sqs.js';
import { recordingHandler, type Call } from '../support/recording-handler.js';

const NOW = new Date('2025-07-02T10:00:00.000Z');

function setup(handlers: (calls: Call[]) => WebhookHandler[] = () => [], extra: Partial<FanoutDeps> = {}) {
  const calls: Call[] = [];
  const archive = new InMemoryArchiveStream();
  const store = new InMemoryEventStore();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const deps: FanoutDeps = { archive, store, handlers: handlers(calls), logger, metrics, eventRetentionDays: 90, now: () => NOW, ...extra };
  const handler = createFanoutHandler(deps);
  const callsOf = (name: string) => calls.filter((c) => c.handler === name);
  return { calls, callsOf, archive, store, logger, metrics, handler };
}

const failures = (ids: string[]) => ({ batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) });
const ids = (event: SQSEvent) => event.Records.map((r) => r.messageId);

describe('fan-out: a batch of distinct events', () => {
  const bodies = SAMPLE_NAMES.map(sampleBody);

  it('archives every line in ONE putLines call, in record order', async () => {
    const { handler, archive } = setup();
    const res = await handler(sqsEventForBodies(bodies));
    expect(res).toEqual(failures([]));
    expect(archive.calls).toHaveLength(1);
    const rows = archive.calls[0]?.map((l) => JSON.parse(l)) ?? [];
    expect(rows.map((r) => r.payload)).toEqual(bodies);
    expect(rows.map((r) => r.event_id)).toEqual(bodies.map((b) => eventIdOf(b)));
    for (const line of archive.calls[0] ?? []) {
      expect(line.indexOf('\n')).toBe(line.length - 1);
      expect(Object.keys(JSON.parse(line))).toEqual([...ARCHIVE_COLUMNS]);
    }
  });

  it('stores each event once, with entities, flags and the TTL', async () => {
    const { handler, store, metrics } = setup();
    await handler(sqsEventForBodies(bodies, { source: 'eu-app', receivedAt: '2025-07-02T09:59:00.000Z' }));
    expect(store.putCalls).toHaveLength(bodies.length);
    expect(metrics.total('Stored')).toBe(bodies.length);
    const post = store.items.get(eventIdOf(sampleBody('v3.post.didCreate')))?.event;
    expect(post).toEqual({
      eventId: eventIdOf(sampleBody('v3.post.didCreate')),
      eventType: 'post.didCreate',
      eventName: 'v3.post.didCreate',
      receivedAt: '2025-07-02T09:59:00.000Z',
      source: 'eu-app',
      deprecated: false,
      flags: [],
      payload: sampleBody('v3.post.didCreate'),
      actorId: 'nok.s',
      targetType: 'post',
      targetId: '66510a0a0a0a0a0a0a0a0444',
      occurredAt: '2025-07-02T11:30:00.000Z',
      expiresAt: Math.floor(NOW.getTime() / 1000) + 90 * 86_400,
      // Which delivery is to archive it (cleared once a round of handler runs records the archive).
      archivePending: expect.stringMatching(/^[\w-]{11}$/),
    });
  });

  it('routes each event to its subscribers with a full context', async () => {
    const { handler, callsOf } = setup((calls) => [
      recordingHandler('everything', ['*'], calls),
      recordingHandler('messages', ['message.*'], calls),
      recordingHandler('flags', ['message.didFlag', 'post.didFlag'], calls),
      recordingHandler('pushes', ['push-notification.*'], calls),
    ]);
    await handler(sqsEventForBodies(bodies, { source: 'eu-app' }));
    expect(callsOf('everything')).toHaveLength(bodies.length);
    expect(
      callsOf('messages')
        .map((c) => c.ctx.eventType)
        .sort(),
    ).toEqual(['message.didAddReaction', 'message.didCreate', 'message.didCreate', 'message.didFlag']);
    expect(callsOf('pushes').map((c) => c.ctx.eventType)).toEqual(['push-notification.message.created']);
    const [flag] = callsOf('flags');
    const raw = sampleBody('message.didFlag');
    expect(flag?.event).toEqual(JSON.parse(raw));
    expect(flag?.ctx).toMatchObject({
      eventId: eventIdOf(raw),
      eventType: 'message.didFlag',
      eventName: 'message.didFlag',
      receivedAt: '2025-07-02T09:54:03.221Z',
      source: 'eu-app',
      deprecated: false,
    });
  });

  it('a deprecated legacy event reaches only a handler naming it exactly', async () => {
    const legacy = '{"event":"message.created","data":{"messages":[{"messageId":"m1"}]}}';
    const { handler, callsOf, store } = setup((calls) => [
      recordingHandler('everything', ['*'], calls),
      recordingHandler('messages', ['message.*'], calls),
      recordingHandler('legacy', ['message.created'], calls),
    ]);
    expect(await handler(sqsEventForBodies([legacy]))).toEqual(failures([]));
    expect(callsOf('everything')).toHaveLength(0);
    expect(callsOf('messages')).toHaveLength(0);
    expect(callsOf('legacy')[0]?.ctx.deprecated).toBe(true);
    expect(store.items.get(eventIdOf(legacy))?.event.deprecated).toBe(true);
  });
});

describe('fan-out: duplicates', () => {
  const body = sampleBody('message.didFlag');

  it('the same body twice in a batch: archived once, stored once, handlers run once, no failures', async () => {
    const { handler, archive, store, callsOf } = setup((calls) => [recordingHandler('flags', ['message.didFlag'], calls)]);
    const event = sqsEvent([sqsRecord(queueMessageFor(body)), sqsRecord(queueMessageFor(body))]);
    expect(await handler(event)).toEqual(failures([]));
    expect(archive.calls).toEqual([[expect.stringContaining(eventIdOf(body))]]);
    expect(store.putCalls).toHaveLength(1);
    expect(store.items.size).toBe(1);
    expect(callsOf('flags')).toHaveLength(1);
  });

  it('the same body in a later batch: not stored again, handlers not run again', async () => {
    const { handler, store, callsOf, metrics } = setup((calls) => [recordingHandler('flags', ['message.didFlag'], calls)]);
    expect(await handler(sqsEventForBodies([body]))).toEqual(failures([]));
    expect(await handler(sqsEventForBodies([body]))).toEqual(failures([]));
    expect(store.items.size).toBe(1);
    expect(store.items.get(eventIdOf(body))?.handlersDone).toEqual(new Set(['flags']));
    expect(callsOf('flags')).toHaveLength(1);
    expect(metrics.total('Duplicate')).toBe(1);
  });

  it('a forced replay runs again only the handlers it names; a plain replay runs none already done', async () => {
    const { handler, store, callsOf } = setup((calls) => [
      recordingHandler('flags', ['message.didFlag'], calls),
      recordingHandler('audit', ['*'], calls),
    ]);
    expect(await handler(sqsEventForBodies([body]))).toEqual(failures([]));
    expect(await handler(sqsEventForBodies([body], { requestId: 'replay-1' }))).toEqual(failures([]));
    expect(callsOf('flags')).toHaveLength(1);
    expect(await handler(sqsEventForBodies([body], { requestId: 'replay-2', replayForce: 'flags' }))).toEqual(failures([]));
    expect(callsOf('flags')).toHaveLength(2);
    expect(callsOf('audit')).toHaveLength(1);
    expect(await handler(sqsEventForBodies([body], { requestId: 'replay-3', replayForce: 'audit,flags' }))).toEqual(failures([]));
    expect(callsOf('flags')).toHaveLength(3);
    expect(callsOf('audit')).toHaveLength(2);
    expect(store.items.size).toBe(1);
    expect(store.items.get(eventIdOf(body))?.handlersDone).toEqual(new Set(['flags', 'audit']));
    expect(store.items.get(eventIdOf(body))?.handlerRuns.flags?.attempts).toBe(3);
  });

  it('replayForce=1 (an older CLI) runs every subscribed handler again; a name the fan-out lacks is logged and ignored', async () => {
    const { handler, callsOf, logger } = setup((calls) => [
      recordingHandler('flags', ['message.didFlag'], calls),
      recordingHandler('audit', ['*'], calls),
    ]);
    await handler(sqsEventForBodies([body]));
    await handler(sqsEventForBodies([body], { requestId: 'replay-1', replayForce: '1' }));
    expect(callsOf('flags')).toHaveLength(2);
    expect(callsOf('audit')).toHaveLength(2);
    await handler(sqsEventForBodies([body], { requestId: 'replay-2', replayForce: 'flgas' }));
    expect(callsOf('flags')).toHaveLength(2);
    expect(logger.at('warn').find((e) => e.message.startsWith('forced replay names handlers'))?.fields).toMatchObject({
      handlers: ['flgas'],
      eventId: eventIdOf(body),
    });
  });

  it('a redelivered base64 body has the same id as its first delivery', async () => {
    const { handler, store } = setup();
    const text = queueMessageFor(body);
    const b64 = { body: Buffer.from(body, 'utf8').toString('base64'), attributes: { ...text.attributes, bodyEncoding: 'base64' as const } };
    await handler(sqsEvent([sqsRecord(text), sqsRecord(b64)]));
    expect(store.putCalls).toHaveLength(1);
    expect([...store.items.keys()]).toEqual([eventIdOf(body)]);
  });
});

describe('fan-out: failures are per record', () => {
  const flag = sampleBody('message.didFlag');
  const create = sampleBody('message.didCreate');
  const post = sampleBody('v3.post.didCreate');

  it('a handler that throws fails only its record; the error is logged with ids', async () => {
    const { handler, logger, metrics } = setup((calls) => [
      recordingHandler('flaky', ['message.*'], calls, (ctx) => ctx.eventType === 'message.didFlag'),
    ]);
    const event = sqsEventForBodies([create, flag, post]);
    expect(await handler(event)).toEqual(failures([ids(event)[1] as string]));
    expect(metrics.total('HandlerFailed')).toBe(1);
    expect(metrics.total('HandlerSucceeded')).toBe(1);
    expect(logger.at('error')[0]?.fields).toMatchObject({ handler: 'flaky', eventId: eventIdOf(flag), error: 'flaky failed on purpose' });
  });

  it('on retry only the failed handler runs; the one that succeeded is recorded and skipped', async () => {
    let failing = true;
    const { handler, callsOf, store } = setup((calls) => [
      recordingHandler('steady', ['message.didFlag'], calls),
      recordingHandler('flaky', ['message.didFlag'], calls, () => failing),
    ]);
    const first = sqsEventForBodies([flag]);
    expect(await handler(first)).toEqual(failures(ids(first)));
    expect(store.items.get(eventIdOf(flag))?.handlersDone).toEqual(new Set(['steady']));

    // SQS redelivers the same message after the visibility timeout.
    expect(await handler(first)).toEqual(failures(ids(first)));
    failing = false;
    expect(await handler(first)).toEqual(failures([]));

    expect(callsOf('steady')).toHaveLength(1);
    expect(callsOf('flaky')).toHaveLength(3);
    expect(store.items.get(eventIdOf(flag))?.handlersDone).toEqual(new Set(['steady', 'flaky']));
    // One write per round, failures included; only the first round archived.
    expect(
      store.runCalls.map((c) => ({ done: c.done, archived: c.archived, flaky: c.runs.flaky?.outcome, attempts: c.runs.flaky?.attempts })),
    ).toEqual([
      { done: ['steady'], archived: true, flaky: 'failed', attempts: 1 },
      { done: [], archived: false, flaky: 'failed', attempts: 2 },
      { done: ['flaky'], archived: false, flaky: 'succeeded', attempts: 3 },
    ]);
  });

  it('several handlers finishing together are recorded in one write', async () => {
    const { handler, store } = setup((calls) => [
      recordingHandler('a', ['*'], calls),
      recordingHandler('b', ['message.*'], calls),
      recordingHandler('c', ['message.didFlag'], calls),
    ]);
    await handler(sqsEventForBodies([flag]));
    expect(store.runCalls.map((c) => [c.eventId, c.done, Object.keys(c.runs)])).toEqual([[eventIdOf(flag), ['a', 'b', 'c'], ['a', 'b', 'c']]]);
  });

  it('no subscriber → no handler write at all', async () => {
    const { handler, store } = setup();
    await handler(sqsEventForBodies([flag]));
    expect(store.runCalls).toEqual([]);
  });

  it('the archive rejecting some lines fails only those records; they are stored but not dispatched until archived', async () => {
    const { handler, archive, store, callsOf, metrics } = setup((calls) => [recordingHandler('all', ['*'], calls)]);
    archive.reject = (line) => JSON.parse(line).payload === flag;
    const event = sqsEventForBodies([create, flag, post]);
    expect(await handler(event)).toEqual(failures([ids(event)[1] as string]));
    expect(store.items.get(eventIdOf(flag))?.archivePending).toBeDefined();
    expect(callsOf('all').map((c) => c.ctx.eventId)).toEqual([eventIdOf(create), eventIdOf(post)]);
    expect(metrics.total('ArchiveFailed')).toBe(1);

    archive.reject = () => false;
    expect(await handler(sqsEvent([event.Records[1]!]))).toEqual(failures([]));
    expect(archive.lines.map((l) => JSON.parse(l).event_id)).toEqual([eventIdOf(create), eventIdOf(post), eventIdOf(flag)]);
    expect(store.items.get(eventIdOf(flag))?.archivePending).toBeUndefined();
    expect(callsOf('all')).toHaveLength(3);
  });

  it('the archive down → every new event of the batch fails, none dispatched; the retries archive and dispatch them', async () => {
    const { handler, archive, store, calls, logger } = setup((c) => [recordingHandler('all', ['*'], c)]);
    archive.failWith = new Error('ServiceUnavailableException');
    const event = sqsEventForBodies([create, flag, post]);
    expect(await handler(event)).toEqual(failures(ids(event)));
    expect(calls).toHaveLength(0);
    expect(logger.at('error')[0]?.fields).toMatchObject({ error: 'ServiceUnavailableException', count: 3 });
    archive.failWith = undefined;
    expect(await handler(event)).toEqual(failures([]));
    expect(archive.lines).toHaveLength(3);
    expect(calls).toHaveLength(3);
    expect([...store.items.values()].map((i) => i.archivePending)).toEqual([undefined, undefined, undefined]);
  });

  it('the store failing for one event fails only that record, without dispatching it', async () => {
    const { handler, store, callsOf, metrics } = setup((calls) => [recordingHandler('all', ['*'], calls)]);
    store.failPut = (e) => (e.eventId === eventIdOf(post) ? new Error('ProvisionedThroughputExceededException') : undefined);
    const event = sqsEventForBodies([create, flag, post]);
    expect(await handler(event)).toEqual(failures([ids(event)[2] as string]));
    expect(callsOf('all').map((c) => c.ctx.eventId)).toEqual([eventIdOf(create), eventIdOf(flag)]);
    expect(metrics.total('StoreFailed')).toBe(1);
  });

  it('handlers ran but their outcome could not be recorded → the record is retried', async () => {
    const { handler, store, callsOf } = setup((calls) => [recordingHandler('all', ['*'], calls)]);
    store.failRecord = () => new Error('throttled');
    const event = sqsEventForBodies([flag]);
    expect(await handler(event)).toEqual(failures(ids(event)));
    expect(callsOf('all')).toHaveLength(1);
  });

  it('a failing first copy of a duplicate leaves the retry to that copy alone', async () => {
    const { handler } = setup((calls) => [recordingHandler('flaky', ['*'], calls, () => true)]);
    const event = sqsEvent([sqsRecord(queueMessageFor(flag)), sqsRecord(queueMessageFor(flag))]);
    const res = await handler(event);
    expect(res.batchItemFailures).toHaveLength(1);
  });
});

describe('fan-out: flagged events', () => {
  it.each([
    ['not JSON', 'not json {', 'invalid-json'],
    ['JSON without an envelope', '{"hello":"world"}', 'unknown-envelope'],
    ['a JSON array', '[1,2,3]', 'unknown-envelope'],
  ])('%s is stored and archived flagged, and dispatched to no wildcard handler', async (_label, body, flag) => {
    const { handler, archive, store, calls, metrics, logger } = setup((c) => [recordingHandler('everything', ['*'], c)]);
    expect(await handler(sqsEventForBodies([body]))).toEqual(failures([]));
    const row = JSON.parse(archive.lines[0] ?? '{}');
    expect(row).toMatchObject({ event_type: 'unknown', event_name: null, flags: [flag], payload: body });
    expect(store.items.get(eventIdOf(body))?.event).toMatchObject({ eventType: 'unknown', flags: [flag], payload: body });
    expect(calls).toHaveLength(0);
    expect(metrics.total('Flagged')).toBe(1);
    expect(logger.at('warn')[0]?.fields).toMatchObject({ eventId: eventIdOf(body), flags: [flag] });
    expect(logger.lines().join('\n')).not.toContain(body);
  });

  it('a handler that names "unknown" exactly gets valid JSON without an envelope, never invalid JSON', async () => {
    const { handler, callsOf } = setup((c) => [recordingHandler('triage', ['unknown'], c)]);
    await handler(sqsEventForBodies(['{"hello":"world"}', 'not json {']));
    expect(callsOf('triage').map((c) => c.event)).toEqual([{ hello: 'world' }]);
  });

  it('an unknown event type in a known envelope is flagged yet still dispatched to wildcards', async () => {
    const body = '{"event":"v3.story.didCreate","data":{}}';
    const { handler, callsOf, store } = setup((c) => [recordingHandler('everything', ['*'], c)]);
    await handler(sqsEventForBodies([body]));
    expect(store.items.get(eventIdOf(body))?.event.flags).toEqual(['unknown-event-type']);
    expect(callsOf('everything').map((c) => c.ctx.eventType)).toEqual(['story.didCreate']);
  });
});

describe('fan-out: reading records', () => {
  const body = sampleBody('follow.didCreate');

  it('without receivedAt the queue\'s SentTimestamp is used; without source, "default"', async () => {
    const { handler, store } = setup();
    const record = sqsRecord(
      { body, attributes: { eventId: '', eventType: '', receivedAt: '', source: '', requestId: '' } },
      { sentTimestampMs: Date.UTC(2025, 6, 1, 5, 6, 7) },
    );
    await handler(sqsEvent([record]));
    expect(store.items.get(eventIdOf(body))?.event).toMatchObject({ receivedAt: '2025-07-01T05:06:07.000Z', source: 'default' });
  });

  it('the event id is recomputed from the body, not trusted from the attributes', async () => {
    const { handler, store } = setup();
    await handler(sqsEvent([sqsRecord(queueMessageFor(body, { eventId: 'f'.repeat(32) }))]));
    expect([...store.items.keys()]).toEqual([eventIdOf(body)]);
  });

  it('what the receiver enqueues, the fan-out stores under the same id', async () => {
    const secret = 'round-trip-secret';
    const queue = new InMemoryQueue();
    const receiver = signedReceiver(secret, { queue });
    for (const name of SAMPLE_NAMES) await receiver(signedWebhookEvent(sampleBody(name), secret));
    await receiver(signedWebhookEvent(Buffer.from([0x7b, 0xff, 0x7d]), secret, { base64: true }));

    const { handler, store } = setup();
    expect(await handler(sqsEvent(queue.messages.map((m) => sqsRecord(m))))).toEqual(failures([]));
    expect([...store.items.keys()].sort()).toEqual(queue.messages.map((m) => m.attributes.eventId).sort());
  });

  it('an empty batch does nothing harmful', async () => {
    const { handler, store } = setup();
    expect(await handler(sqsEvent([]))).toEqual(failures([]));
    expect(store.putCalls).toHaveLength(0);
  });
});

describe('fan-out: verification events (socialplus-webhooks verify)', () => {
  /** A sample with the verification marker as its last top-level key. */
  const marked = (name: string, seq: number) =>
    JSON.stringify({ ...(JSON.parse(sampleBody(name)) as Record<string, unknown>), [VERIFICATION_MARKER_KEY]: { runId: 'run-7', seq } });

  it('a marked event is stored and archived flagged verification, and reaches no handler', async () => {
    const bodies = SAMPLE_NAMES.map((name, i) => marked(name, i + 1));
    const { handler, archive, store, calls, metrics, logger } = setup((c) => [
      recordingHandler('everything', ['*'], c),
      recordingHandler('triage', ['unknown'], c),
    ]);
    expect(await handler(sqsEventForBodies(bodies))).toEqual(failures([]));
    const rows = archive.lines.map((l) => JSON.parse(l) as { event_id: string; flags: string[]; payload: string });
    expect(rows.map((r) => r.payload)).toEqual(bodies);
    for (const [i, body] of bodies.entries()) {
      expect(rows[i]?.flags).toContain('verification');
      expect(store.items.get(eventIdOf(body))?.event.flags).toContain('verification');
      expect(store.items.get(eventIdOf(body))?.handlersDone.size).toBe(0);
    }
    expect(calls).toHaveLength(0);
    expect(store.runCalls).toHaveLength(0);
    expect(metrics.total('Stored')).toBe(bodies.length);
    // A label, not an anomaly: no Flagged count, no warning; one DEBUG line per event.
    expect(metrics.total('Flagged')).toBe(0);
    expect(logger.at('warn')).toHaveLength(0);
    const skipped = logger.at('debug').filter((e) => e.message.startsWith('verification event'));
    expect(skipped.map((e) => e.fields.eventId).sort()).toEqual(bodies.map((b) => eventIdOf(b)).sort());
  });

  it('a forced replay of a marked event still reaches no handler', async () => {
    const body = marked(SAMPLE_NAMES[0] as string, 1);
    const { handler, calls } = setup((c) => [recordingHandler('everything', ['*'], c)]);
    await handler(sqsEventForBodies([body]));
    expect(await handler(sqsEventForBodies([body], { replayForce: '1' }))).toEqual(failures([]));
    expect(calls).toHaveLength(0);
  });

  it('the same sample without the marker is unaffected: dispatched, not flagged verification', async () => {
    const body = sampleBody(SAMPLE_NAMES[0] as string);
    const { handler, store, callsOf } = setup((c) => [recordingHandler('everything', ['*'], c)]);
    await handler(sqsEventForBodies([body, marked(SAMPLE_NAMES[0] as string, 1)]));
    expect(store.items.get(eventIdOf(body))?.event.flags).not.toContain('verification');
    expect(callsOf('everything').map((c) => c.ctx.eventId)).toEqual([eventIdOf(body)]);
    expect(store.items.get(eventIdOf(body))?.handlersDone).toEqual(new Set(['everything']));
  });

  it('a marked body that is otherwise flagged still counts as flagged for those flags', async () => {
    const body = `{"hello":"world","${VERIFICATION_MARKER_KEY}":{"runId":"run-7","seq":9}}`;
    const { handler, store, metrics, logger } = setup();
    await handler(sqsEventForBodies([body]));
    expect(store.items.get(eventIdOf(body))?.event.flags).toEqual(['unknown-envelope', 'verification']);
    expect(metrics.total('Flagged')).toBe(1);
    expect(logger.at('warn')[0]?.fields).toMatchObject({ flags: ['unknown-envelope', 'verification'] });
  });
});

describe('fan-out: the archive holds each event once', () => {
  const flag = sampleBody('message.didFlag');
  const create = sampleBody('message.didCreate');
  const lineIds = (archive: InMemoryArchiveStream) => archive.lines.map((l) => JSON.parse(l).event_id as string);

  it('a handler failing on every receive: 5 receives, one archive line', async () => {
    const { handler, archive, callsOf } = setup((calls) => [recordingHandler('flaky', ['*'], calls, () => true)]);
    const event = sqsEventForBodies([flag]);
    for (let receive = 1; receive <= 5; receive++) expect(await handler(event)).toEqual(failures(ids(event)));
    expect(callsOf('flaky')).toHaveLength(5);
    expect(lineIds(archive)).toEqual([eventIdOf(flag)]);
  });

  it('a redrive (the same message, a new message id, after the DLQ) adds no line', async () => {
    let failing = true;
    const { handler, archive, callsOf } = setup((calls) => [recordingHandler('flaky', ['*'], calls, () => failing)]);
    const message = queueMessageFor(flag);
    await handler(sqsEvent([sqsRecord(message)]));
    failing = false;
    expect(await handler(sqsEvent([sqsRecord(message, { messageId: 'redriven-1' })]))).toEqual(failures([]));
    expect(callsOf('flaky')).toHaveLength(2);
    expect(lineIds(archive)).toEqual([eventIdOf(flag)]);
  });

  it("replays add no line, with or without --force, and after the store's TTL too", async () => {
    const { handler, archive, store, callsOf } = setup((calls) => [recordingHandler('flags', ['message.didFlag'], calls)]);
    await handler(sqsEventForBodies([flag, create]));
    await handler(sqsEventForBodies([flag, create], { requestId: 'replay-1' }));
    await handler(sqsEventForBodies([flag], { requestId: 'replay-2', replayForce: 'flags' }));
    store.items.clear(); // the TTL removed the items
    expect(await handler(sqsEventForBodies([flag, create], { requestId: 'replay-3' }))).toEqual(failures([]));
    expect(lineIds(archive)).toEqual([eventIdOf(flag), eventIdOf(create)]);
    // Stored again, and known to be archived already.
    expect(store.items.get(eventIdOf(flag))?.archivePending).toBeUndefined();
    expect(callsOf('flags')).toHaveLength(3);
  });

  it('another delivery of the same body adds no line, even with no handler to record a write after the archive', async () => {
    const { handler, archive, store } = setup();
    await handler(sqsEventForBodies([create]));
    await handler(sqsEventForBodies([create]));
    await handler(sqsEventForBodies([create]));
    expect(lineIds(archive)).toEqual([eventIdOf(create)]);
    expect(store.runCalls).toEqual([]);
  });

  it('the delivery that stored the event archives it on its retry (the archive failed); another delivery meanwhile does not', async () => {
    const { handler, archive, callsOf } = setup((calls) => [recordingHandler('all', ['*'], calls)]);
    const first = sqsEventForBodies([create]);
    archive.failWith = new Error('ServiceUnavailableException');
    expect(await handler(first)).toEqual(failures(ids(first)));
    archive.failWith = undefined;
    // Social Plus delivers the body again before the first delivery's retry.
    expect(await handler(sqsEventForBodies([create]))).toEqual(failures([]));
    expect(archive.lines).toEqual([]);
    expect(callsOf('all')).toHaveLength(1);
    expect(await handler(first)).toEqual(failures([]));
    expect(lineIds(archive)).toEqual([eventIdOf(create)]);
    expect(callsOf('all')).toHaveLength(1);
  });

  it('a crash between the archive and the write that records it may repeat the line on the retry (and only then)', async () => {
    const { handler, archive, store } = setup((calls) => [recordingHandler('all', ['*'], calls)]);
    const first = sqsEventForBodies([create]);
    store.failRecord = () => new Error('Lambda timed out');
    expect(await handler(first)).toEqual(failures(ids(first)));
    store.failRecord = () => undefined;
    expect(await handler(first)).toEqual(failures([]));
    expect(await handler(first)).toEqual(failures([]));
    expect(lineIds(archive)).toEqual([eventIdOf(create), eventIdOf(create)]);
  });

  it('costs no write on the happy path: one put per event, one write per round of handler runs, one archive put per batch', async () => {
    const { handler, archive, store } = setup((calls) => [recordingHandler('flags', ['message.didFlag'], calls)]);
    await handler(sqsEventForBodies([flag, create]));
    expect(store.putCalls).toHaveLength(2);
    expect(store.runCalls.map((c) => [c.eventId, c.archived])).toEqual([[eventIdOf(flag), true]]);
    expect(archive.calls).toHaveLength(1);
  });

  it('a batch whose events are all archived already makes no archive call', async () => {
    const { handler, archive } = setup();
    await handler(sqsEventForBodies([flag]));
    await handler(sqsEventForBodies([flag]));
    expect(archive.calls).toHaveLength(1);
  });
});

describe('fan-out: each handler run is visible', () => {
  const flag = sampleBody('message.didFlag');

  /** A clock that advances 7 ms each time it is read. */
  const ticking = () => {
    let t = 1000;
    return () => (t += 7);
  };

  it('one DEBUG line per run: handler, event id, outcome, duration', async () => {
    const { handler, logger } = setup((calls) => [recordingHandler('good', ['*'], calls), recordingHandler('bad', ['*'], calls, () => true)], {
      clockMs: ticking(),
    });
    await handler(sqsEventForBodies([flag]));
    const runs = logger.at('debug').filter((e) => e.message === 'handler ran');
    expect(runs.map((e) => e.fields)).toEqual([
      expect.objectContaining({ handler: 'good', eventId: eventIdOf(flag), outcome: 'succeeded', durationMs: 7 }),
      expect.objectContaining({ handler: 'bad', eventId: eventIdOf(flag), outcome: 'failed', durationMs: 7 }),
    ]);
  });

  it('a handler that throws: its name, message and stack at ERROR, never the payload', async () => {
    const { handler, logger } = setup((calls) => [recordingHandler('bad', ['*'], calls, () => true)]);
    await handler(sqsEventForBodies([flag]));
    const [line] = logger.at('error');
    expect(line?.fields).toMatchObject({ handler: 'bad', error: 'bad failed on purpose', errorName: 'Error', eventId: eventIdOf(flag) });
    expect(line?.fields.stack).toMatch(/^Error: bad failed on purpose\n\s+at /);
    expect(logger.lines().join('\n')).not.toContain(JSON.parse(flag).data.messages[0].data.text);
  });

  it("records each handler's outcome, attempts, time, duration and error (message only, at most 500 characters) on the item", async () => {
    let failing = true;
    const long = 'x'.repeat(600);
    const { handler, store } = setup(
      () => [
        recordingHandler('good', ['*'], []),
        {
          name: 'bad',
          events: ['*'],
          handle() {
            if (failing) throw new Error(long);
          },
        },
      ],
      { clockMs: ticking() },
    );
    const event = sqsEventForBodies([flag]);
    await handler(event);
    expect(store.items.get(eventIdOf(flag))?.handlerRuns).toEqual({
      good: { outcome: 'succeeded', attempts: 1, lastAt: NOW.toISOString(), durationMs: 7 },
      bad: { outcome: 'failed', attempts: 1, lastAt: NOW.toISOString(), durationMs: 7, error: 'x'.repeat(500) },
    });
    failing = false;
    await handler(event);
    expect(store.items.get(eventIdOf(flag))?.handlerRuns).toEqual({
      good: { outcome: 'succeeded', attempts: 1, lastAt: NOW.toISOString(), durationMs: 7 },
      bad: { outcome: 'succeeded', attempts: 2, lastAt: NOW.toISOString(), durationMs: 7 },
    });
  });

  it("ctx.metrics counts a handler's own metrics under its handler dimension", async () => {
    const { handler, metrics } = setup(() => [
      // Any name the handler chooses type-checks.
      {
        name: 'counter',
        events: ['*'],
        handle: (_e: unknown, ctx: { metrics: HandlerMetrics }) => {
          ctx.metrics.count('FlagsSeen');
          ctx.metrics.count('Words', 12);
        },
      },
    ]);
    expect(await handler(sqsEventForBodies([flag]))).toEqual(failures([]));
    const own = metrics.calls.filter((c) => (c.name as string) === 'FlagsSeen' || (c.name as string) === 'Words');
    expect(own).toEqual([
      { name: 'FlagsSeen', value: 1, dimensions: { handler: 'counter' } },
      { name: 'Words', value: 12, dimensions: { handler: 'counter' } },
    ]);
  });

  it("a handler metric may not take a pipeline metric's name (the alarms read those): not published, logged at ERROR, the run unharmed", async () => {
    const { handler, logger, metrics } = setup(() => [
      {
        name: 'sneaky',
        events: ['*'],
        handle: (_e: unknown, ctx: { metrics: HandlerMetrics }) => {
          ctx.metrics.count('HandlerFailed');
          ctx.metrics.count('bad\nname');
        },
      },
    ]);
    expect(await handler(sqsEventForBodies([flag]))).toEqual(failures([]));
    expect(logger.at('error').map((e) => e.fields)).toEqual([
      expect.objectContaining({
        handler: 'sneaky',
        metric: 'HandlerFailed',
        problem: "'HandlerFailed' is a metric of the pipeline itself; give your metric another name",
        eventId: eventIdOf(flag),
      }),
      expect.objectContaining({ handler: 'sneaky', metric: 'bad\nname', problem: expect.stringContaining('is not a CloudWatch metric name') }),
    ]);
    expect(metrics.total('HandlerFailed')).toBe(0);
    expect(metrics.calls.filter((c) => (c.name as string) === 'bad\nname')).toEqual([]);
  });
});
