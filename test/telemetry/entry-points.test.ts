/**
 * The Lambda entry points as deployed (module-scope telemetry, instrumented handler), driven with
 * requests that need no AWS call: their lines are Powertools JSON with the Lambda context and the
 * request id, and each invocation flushes its metrics.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { APIGatewayProxyResult, SQSBatchResponse } from 'aws-lambda';
import { ENV } from '../../lambda/common/env.js';
import { handlers as registered } from '../../lambda/fanout/handlers/index.js';
import { apiGatewayEvent } from '../support/api-gateway.js';
import { s3TestEventRecord, sqsEvent } from '../support/sqs.js';
import { captureOutput, lambdaContext, metricValues, type CapturedOutput, type EmfBlob } from './capture.js';

/** The configuration each entry point needs to start; nothing here is called (the requests need no AWS call). */
const RECEIVER_ENV = {
  QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/1/q',
  SOURCE_SECRETS: '{"default":"arn:aws:secretsmanager:us-east-1:1:secret:x"}',
  ARCHIVE_BUCKET_NAME: 'archive',
};
const FANOUT_ENV = { TABLE_NAME: 'events', DELIVERY_STREAM_NAME: 'stream', ARCHIVE_BUCKET_NAME: 'archive' };

describe('Lambda entry points with Powertools telemetry', () => {
  const saved = { ...process.env };
  let out: CapturedOutput;
  beforeEach(() => {
    vi.resetModules();
    for (const name of Object.values(ENV)) delete process.env[name];
    process.env.AWS_REGION = 'us-east-1';
    out = captureOutput();
  });
  afterEach(() => {
    out.restore();
    for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
    Object.assign(process.env, saved);
  });

  it('receiver: an unsigned request is answered 401, logged with the request id and counted', async () => {
    Object.assign(process.env, RECEIVER_ENV);
    const { handler } = await import('../../lambda/receiver/index.js');
    const res = (await handler(
      apiGatewayEvent({ body: '{"event":"message.didCreate"}', requestId: 'apigw-unsigned-1' }),
      lambdaContext('receiver-fn', 'aws-r-1'),
    )) as APIGatewayProxyResult;
    expect(res.statusCode).toBe(401);
    expect(out.logs()).toEqual([
      expect.objectContaining({
        level: 'WARN',
        service: 'receiver',
        message: 'rejected: no x-amity-signature header',
        requestId: 'apigw-unsigned-1',
        function_request_id: 'aws-r-1',
      }),
    ]);
    const blobs = out.emf();
    expect(blobs).toHaveLength(1);
    expect(blobs[0]).toMatchObject({
      service: 'receiver',
      _aws: { CloudWatchMetrics: [{ Namespace: 'SocialPlusWebhooks', Dimensions: [['service']] }] },
    });
    expect(metricValues(blobs[0] as EmfBlob)).toEqual({ Received: 1, SignatureMissing: 1 });
  });

  it('receiver: LOG_LEVEL=ERROR silences the WARN line, the metrics still flow', async () => {
    Object.assign(process.env, RECEIVER_ENV);
    process.env.LOG_LEVEL = 'ERROR';
    const { handler } = await import('../../lambda/receiver/index.js');
    await handler(apiGatewayEvent({ body: '{}', requestId: 'apigw-unsigned-2' }), lambdaContext('receiver-fn', 'aws-r-2'));
    expect(out.logs()).toEqual([]);
    expect(metricValues(out.emf()[0] as EmfBlob)).toEqual({ Received: 1, SignatureMissing: 1 });
  });

  it('fan-out: an S3 test notification is acknowledged with a Powertools line and its metrics (tracing is off outside Lambda)', async () => {
    Object.assign(process.env, FANOUT_ENV);
    const { handler } = await import('../../lambda/fanout/index.js');
    const res = (await handler(
      sqsEvent([s3TestEventRecord('archive', { messageId: 'm-test-1' })]),
      lambdaContext('fanout-fn', 'aws-f-1'),
    )) as SQSBatchResponse;
    expect(res).toEqual({ batchItemFailures: [] });
    // The cold start logs which handlers are on, then the invocation its one line.
    expect(out.logs()).toEqual([
      expect.objectContaining({
        level: 'INFO',
        service: 'fanout',
        message: 'handlers ready',
        handlers: registered.map((h) => h.name),
        examples: [],
      }),
      expect.objectContaining({
        level: 'INFO',
        service: 'fanout',
        message: 'S3 test notification acknowledged',
        messageId: 'm-test-1',
        function_request_id: 'aws-f-1',
      }),
    ]);
    expect(metricValues(out.emf()[0] as EmfBlob)).toEqual({ RecordsReceived: 1, Archived: 0 });
  });
});
