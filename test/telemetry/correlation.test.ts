/**
 * One event through the real receiver and fan-out handlers with the Powertools-backed telemetry
 * the Lambda entry points use: the correlation id (event id + API Gateway request id) is on the
 * receiver's, the fan-out's and the handlers' lines for it; no line carries the secret or the
 * body; the EMF blobs have the contract's namespace, dimensions and metric names.
 */
import { describe, expect, it, vi } from 'vitest';
import type { APIGatewayProxyResult, SQSBatchResponse } from 'aws-lambda';
import { StaticSecretSource } from '../../lambda/adapters/static-secret-source.js';
import { defineHandler } from '../../lambda/core/define-handler.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { SIGNATURE_HEADER, sign } from '../../lambda/core/signature.js';
import { createFanoutHandler } from '../../lambda/fanout/batch-handler.js';
import { handlers as registered } from '../../lambda/fanout/handlers/index.js';
import { createReceiverHandler } from '../../lambda/receiver/handler.js';
import { METRICS_NAMESPACE } from '../../lambda/common/metrics-contract.js';
import { createTelemetry, requestIdKeys } from '../../lambda/common/powertools.js';
import { signedWebhookEvent } from '../support/api-gateway.js';
import { InMemoryArchiveStream, InMemoryEventStore, InMemoryQueue } from '../support/fakes.js';
import { sampleBody } from '../support/samples.js';
import { sqsEvent, sqsRecord } from '../support/sqs.js';
import { captureOutputPerTest, lambdaContext, metricValues, type CapturedOutput, type EmfBlob, type OutputLine } from './capture.js';

const SECRET = 'spw-test-secret-3f9c1d7e5b';
const BODY = sampleBody('message.didFlag');
/** Content of the flagged message: must never reach a log line. */
const CONTENT = 'FREE CRYPTO >>> click my profile';
const REQUEST_ID = 'apigw-7f3c2a1e-req';

/** A handler that writes one line through `ctx.logger` and names no id itself. */
const recorder = defineHandler({
  name: 'telemetry-recorder',
  events: ['*'],
  handle(_event, ctx) {
    ctx.logger.info('recorder ran', { kind: 'test' });
  },
});

/** The pipeline's two functions, wired like lambda/{receiver,fanout}/index.ts but over in-memory ports. */
function pipeline(logLevel: 'INFO' | 'DEBUG') {
  const env = { LOG_LEVEL: logLevel };
  const queue = new InMemoryQueue();
  const store = new InMemoryEventStore();
  const rt = createTelemetry({ service: 'receiver', env });
  const receiver = rt.instrument(
    createReceiverHandler({ queue, secrets: new StaticSecretSource({ default: SECRET }), logger: rt.logger, metrics: rt.metrics }),
    { keys: requestIdKeys },
  );
  const ft = createTelemetry({ service: 'fanout', env });
  const fanout = ft.instrument(
    createFanoutHandler({
      store,
      archive: new InMemoryArchiveStream(),
      handlers: [...registered, recorder],
      logger: ft.logger,
      metrics: ft.metrics,
      eventRetentionDays: 90,
    }),
  );
  return { queue, store, receiver, fanout };
}

function assertNothingSensitive(out: CapturedOutput, body: string): void {
  const text = out.text();
  expect(text).not.toContain(SECRET);
  expect(text).not.toContain(sign(Buffer.from(body), SECRET));
  expect(text).not.toContain(CONTENT);
  // Neither the body as sent nor as a JSON string value (how a logger would embed it).
  expect(text).not.toContain(body);
  expect(text).not.toContain(JSON.stringify(body).slice(1, -1));
}

function emfFor(out: CapturedOutput, service: string): EmfBlob[] {
  return out.emf().filter((b) => b.service === service);
}

describe('correlation id from the receiver through the queue to each handler', () => {
  const out = captureOutputPerTest();

  it.each(['INFO', 'DEBUG'] as const)(
    "at %s: the event id and request id are on the receiver's, the fan-out's and the handlers' lines; no secret, no body",
    async (level) => {
      // As Lambda sets it, so Powertools reports the first invocation as a cold start.
      vi.stubEnv('AWS_LAMBDA_INITIALIZATION_TYPE', 'on-demand');
      const p = pipeline(level);
      const eventId = eventIdOf(BODY);

      const res = (await p.receiver(
        signedWebhookEvent(BODY, SECRET, { requestId: REQUEST_ID }),
        lambdaContext('receiver-fn', 'lambda-req-receiver-1'),
      )) as APIGatewayProxyResult;
      expect(res.statusCode).toBe(200);
      const message = p.queue.messages[0];
      expect(message?.attributes).toMatchObject({ eventId, requestId: REQUEST_ID });

      const batch = (await p.fanout(
        sqsEvent([sqsRecord(message as NonNullable<typeof message>)]),
        lambdaContext('fanout-fn', 'lambda-req-fanout-1'),
      )) as SQSBatchResponse;
      expect(batch.batchItemFailures).toEqual([]);
      expect(p.store.items.get(eventId)?.handlersDone).toEqual(new Set(['flagged-content-log', 'telemetry-recorder']));

      const logs = out.logs();
      const receiverLines = logs.filter((l) => l.service === 'receiver');
      const fanoutLines = logs.filter((l) => l.service === 'fanout');
      // Powertools' JSON shape with the Lambda request id and cold start.
      const accepted = receiverLines.find((l) => l.message === 'accepted');
      expect(accepted).toMatchObject({
        level: 'INFO',
        eventId,
        requestId: REQUEST_ID,
        function_request_id: 'lambda-req-receiver-1',
        cold_start: true,
      });
      // Every receiver line of the invocation carries the request id.
      for (const l of receiverLines) expect(l.requestId, JSON.stringify(l)).toBe(REQUEST_ID);

      const byMessage = (m: string): OutputLine | undefined => fanoutLines.find((l) => l.message === m);
      expect(byMessage('stored')).toMatchObject({ level: 'INFO', eventId, requestId: REQUEST_ID, function_request_id: 'lambda-req-fanout-1' });
      // The handlers' own lines: the example handler's, and one that names no id itself.
      expect(byMessage('content flagged')).toMatchObject({ eventId, requestId: REQUEST_ID, entityId: '6650fb77c0ffee0000000333' });
      expect(byMessage('recorder ran')).toMatchObject({ level: 'INFO', eventId, requestId: REQUEST_ID, kind: 'test' });
      // Every fan-out line about the event carries its correlation id.
      const aboutEvent = fanoutLines.filter((l) => l.eventId !== undefined || l.message === 'recorder ran');
      expect(aboutEvent.length).toBeGreaterThanOrEqual(3);
      for (const l of aboutEvent) expect(l, JSON.stringify(l)).toMatchObject({ eventId, requestId: REQUEST_ID });

      assertNothingSensitive(out, BODY);
    },
  );

  it("EMF: the contract's namespace and service dimension; Accepted on receive; Stored, Archived and HandlerSucceeded by handler on fan-out", async () => {
    const p = pipeline('INFO');
    await p.receiver(signedWebhookEvent(BODY, SECRET, { requestId: REQUEST_ID }), lambdaContext('receiver-fn', 'r-1'));
    const message = p.queue.messages[0] as NonNullable<(typeof p.queue.messages)[0]>;
    await p.fanout(sqsEvent([sqsRecord(message)]), lambdaContext('fanout-fn', 'f-1'));

    for (const blob of out.emf()) {
      expect(blob._aws.CloudWatchMetrics).toHaveLength(1);
      expect(blob._aws.CloudWatchMetrics[0]?.Namespace).toBe(METRICS_NAMESPACE);
      for (const m of blob._aws.CloudWatchMetrics[0]?.Metrics ?? []) expect(m.Unit).toBe('Count');
    }

    const receiverBlobs = emfFor(out, 'receiver');
    expect(receiverBlobs).toHaveLength(1);
    expect(receiverBlobs[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(metricValues(receiverBlobs[0] as EmfBlob)).toEqual({ Received: 1, Accepted: 1, SignatureFormBase64: 1 });

    const fanoutBlobs = emfFor(out, 'fanout');
    const plain = fanoutBlobs.filter((b) => !('handler' in b));
    const perHandler = fanoutBlobs.filter((b) => 'handler' in b);
    expect(plain).toHaveLength(1);
    expect(plain[0]?._aws.CloudWatchMetrics[0]?.Dimensions).toEqual([['service']]);
    expect(metricValues(plain[0] as EmfBlob)).toEqual({ RecordsReceived: 1, Archived: 1, Stored: 1 });
    // One single-metric blob per handler: the handler dimension stays off every other metric.
    expect(perHandler.map((b) => ({ dims: b._aws.CloudWatchMetrics[0]?.Dimensions, handler: b.handler, values: metricValues(b) }))).toEqual(
      expect.arrayContaining([
        { dims: [['service', 'handler']], handler: 'flagged-content-log', values: { HandlerSucceeded: 1 } },
        { dims: [['service', 'handler']], handler: 'telemetry-recorder', values: { HandlerSucceeded: 1 } },
      ]),
    );
    expect(perHandler).toHaveLength(2);
    assertNothingSensitive(out, BODY);
  });

  it('a forged delivery: logged at WARN with the request id and why, counted, never the secret or the body', async () => {
    const p = pipeline('DEBUG');
    const event = signedWebhookEvent(BODY, 'not-the-secret', { requestId: 'apigw-forged-1' });
    const res = (await p.receiver(event, lambdaContext('receiver-fn', 'r-2'))) as APIGatewayProxyResult;
    expect(res.statusCode).toBe(401);
    const rejected = out.logs().find((l) => l.message === 'rejected: invalid signature');
    expect(rejected).toMatchObject({ level: 'WARN', requestId: 'apigw-forged-1', reason: 'no-secret-matched', bodyBytes: Buffer.byteLength(BODY) });
    expect(metricValues(emfFor(out, 'receiver')[0] as EmfBlob)).toEqual({ Received: 1, SignatureInvalid: 1 });
    assertNothingSensitive(out, BODY);
    expect(out.text()).not.toContain(event.headers[SIGNATURE_HEADER]);
  });

  it('a redelivered (duplicate) event: the fan-out logs it with the same correlation id and runs no handler again', async () => {
    const p = pipeline('INFO');
    await p.receiver(signedWebhookEvent(BODY, SECRET, { requestId: REQUEST_ID }), lambdaContext('receiver-fn', 'r-3'));
    const message = p.queue.messages[0] as NonNullable<(typeof p.queue.messages)[0]>;
    await p.fanout(sqsEvent([sqsRecord(message)]), lambdaContext('fanout-fn', 'f-3'));
    out.clear();
    await p.fanout(sqsEvent([sqsRecord(message, { receiveCount: 2 })]), lambdaContext('fanout-fn', 'f-4'));
    const dup = out.logs().find((l) => typeof l.message === 'string' && l.message.startsWith('duplicate'));
    expect(dup).toMatchObject({ eventId: eventIdOf(BODY), requestId: REQUEST_ID, handlersDone: ['flagged-content-log', 'telemetry-recorder'] });
    expect(out.logs().some((l) => l.message === 'recorder ran')).toBe(false);
    // The archive has the event from the first delivery: the redelivery adds no line.
    expect(metricValues(emfFor(out, 'fanout')[0] as EmfBlob)).toEqual({ RecordsReceived: 1, Archived: 0, Duplicate: 1 });
  });
});
