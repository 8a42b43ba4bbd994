/**
 * The SQS queue adapter through the real SQS client, against the AWS double answering in SQS's JSON
 * protocol: the SDK serializes the request, checks the MD5 of the body SQS reports, and turns SQS's
 * error answers (`__type` plus the `x-amzn-query-error` header) into its own exception classes.
 */
import { createHash } from 'node:crypto';
import { KmsThrottled, RequestThrottled, SQSClient, SQSServiceException } from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from 'vitest';
import { SqsEventQueue, toMessageAttributes } from '../../lambda/adapters/sqs-queue.js';
import { claimCheckMessage } from '../../lambda/core/inbox.js';
import { fromSqsRecord } from '../../lambda/fanout/batch-handler.js';
import { jsonServiceAnswer, jsonServiceError, useAwsDouble, type AwsCall, type AwsResponder } from '../support/aws-double.js';
import { doubleClientConfig } from '../support/aws-recorded-answers.js';
import { sampleBody } from '../support/samples.js';
import { queueMessageFor, sqsRecord } from '../support/sqs.js';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/socialplus-webhooks-events';
const SEND = 'sqs:SendMessage';

/** SendMessage's answer: SQS reports the MD5 of the body it received, which the SDK checks against what it sent. */
const sent: AwsResponder = (call) =>
  jsonServiceAnswer(
    {
      MD5OfMessageBody: createHash('md5')
        .update(String(call.input.MessageBody ?? ''), 'utf8')
        .digest('hex'),
      MessageId: '5fea7756-0ea4-451a-a703-a558b933e274',
    },
    '1.0',
  );

/** SQS errors as SQS sends them: `__type` in the body, the query-protocol code in `x-amzn-query-error`. */
const sqsError = (type: string, queryCode: string, message: string, status = 400) =>
  jsonServiceError(type, message, { status, jsonVersion: '1.0', queryError: `${queryCode};Sender` });

const double = useAwsDouble();
beforeEach(() => {
  double.answer({ [SEND]: sent });
});

const client = (maxAttempts = 1) => new SQSClient({ ...doubleClientConfig(double.endpoint, 'us-east-1'), maxAttempts });
const queue = (maxAttempts = 1) => new SqsEventQueue(client(maxAttempts), QUEUE_URL);
const sends = (): AwsCall[] => double.callsTo(SEND);

describe('SqsEventQueue', () => {
  it('sends one SendMessage with the raw body and the docs/architecture.md §3 attributes as strings', async () => {
    const body = sampleBody('v3.post.didCreate');
    const message = queueMessageFor(body, { source: 'eu-app', requestId: 'req-9' });
    await queue().send(message);

    expect(double.calls.map((c) => `${c.service}:${c.operation}`)).toEqual([SEND]);
    expect(sends()[0]?.headers['x-amz-target']).toBe('AmazonSQS.SendMessage');
    expect(sends()[0]?.input).toEqual({
      QueueUrl: QUEUE_URL,
      MessageBody: body,
      MessageAttributes: {
        eventId: { DataType: 'String', StringValue: message.attributes.eventId },
        eventType: { DataType: 'String', StringValue: 'post.didCreate' },
        receivedAt: { DataType: 'String', StringValue: '2025-07-02T09:54:03.221Z' },
        source: { DataType: 'String', StringValue: 'eu-app' },
        requestId: { DataType: 'String', StringValue: 'req-9' },
      },
    });
  });

  it('the body is sent byte for byte (no re-serialisation), and its MD5 matches what SQS computes', async () => {
    const body = '{ "event" : "message.didCreate",\n "data": {"text":"สวัสดี 👋🏽"} }';
    await queue().send(queueMessageFor(body));
    expect(sends()[0]?.input.MessageBody).toBe(body);
  });

  it('bodyEncoding travels as an attribute when present', async () => {
    await queue().send(queueMessageFor('e30=', { bodyEncoding: 'base64' }));
    expect(sends()[0]?.input.MessageAttributes).toMatchObject({ bodyEncoding: { DataType: 'String', StringValue: 'base64' } });
  });

  it('claimCheckKey travels as an attribute on a claim check', async () => {
    const key = `inbox/large/2025-07-02/${'a'.repeat(32)}`;
    await queue().send(claimCheckMessage(key, 1_500_000, queueMessageFor('{}').attributes));
    expect(sends()[0]?.input.MessageAttributes).toMatchObject({ claimCheckKey: { DataType: 'String', StringValue: key } });
    expect(JSON.parse(sends()[0]?.input.MessageBody as string)).toEqual({ claimCheckKey: key, bodyBytes: 1_500_000 });
  });

  it("the receiver's abort signal stops the request in flight and the SDK's retries", async () => {
    const held = double.hold(SEND);
    const controller = new AbortController();
    // Three attempts allowed: an abort must not be retried.
    const sending = queue(3).send(queueMessageFor('{}'), { signal: controller.signal });
    await held.arrived;
    controller.abort();
    await expect(sending).rejects.toMatchObject({ name: 'AbortError' });
    await held.abandoned;
    expect(sends()).toHaveLength(1);
  });

  it('without a signal, the send waits for SQS however long it takes', async () => {
    const held = double.hold(SEND);
    let settled = false;
    const sending = queue()
      .send(queueMessageFor('{}'))
      .finally(() => (settled = true));
    await held.arrived;
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false);
    held.release();
    await sending;
    expect(sends()).toHaveLength(1);
  });

  it('an answer whose MD5 is not that of the body sent fails the send (the SDK checks it)', async () => {
    double.answer({ [SEND]: jsonServiceAnswer({ MD5OfMessageBody: createHash('md5').update('other').digest('hex'), MessageId: 'm' }, '1.0') });
    await expect(queue().send(queueMessageFor('{}'))).rejects.toThrow('InvalidChecksumError');
  });

  it.each([
    [
      'KMS throttling',
      sqsError('com.amazonaws.sqs#KmsThrottled', 'KMS.ThrottlingException', 'Rate exceeded'),
      KmsThrottled,
      { name: 'KmsThrottled', Code: 'KMS.ThrottlingException', message: 'Rate exceeded', $fault: 'client' },
    ],
    [
      'SQS throttling (HTTP 403)',
      sqsError('com.amazonaws.sqs#RequestThrottled', 'RequestThrottled', 'Request is throttled.', 403),
      RequestThrottled,
      { name: 'RequestThrottled', message: 'Request is throttled.', $metadata: expect.objectContaining({ httpStatusCode: 403 }) },
    ],
    [
      'access denied',
      sqsError(
        'com.amazon.coral.service#AccessDeniedException',
        'AccessDenied',
        'User: arn:aws:sts::123456789012:assumed-role/receiver/fn is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:123456789012:socialplus-webhooks-events',
        403,
      ),
      SQSServiceException,
      { name: 'AccessDenied', message: expect.stringContaining('is not authorized to perform: sqs:sendmessage') },
    ],
  ])('%s: the SDK exception propagates as it is (the receiver maps it)', async (_label, answer, ExceptionClass, fields) => {
    double.answer({ [SEND]: answer });
    const err = await queue()
      .send(queueMessageFor('{}'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ExceptionClass);
    expect(err).toMatchObject(fields);
    expect(sends()).toHaveLength(1);
  });
});

describe('toMessageAttributes', () => {
  it('omits empty values, which SQS rejects', () => {
    expect(toMessageAttributes({ eventId: 'a', eventType: '', receivedAt: 'r', source: 's', requestId: '' })).toEqual({
      eventId: { DataType: 'String', StringValue: 'a' },
      receivedAt: { DataType: 'String', StringValue: 'r' },
      source: { DataType: 'String', StringValue: 's' },
    });
  });

  it('what is sent is what the fan-out reads back from the SQS record', async () => {
    const message = queueMessageFor(sampleBody('message.didFlag'), { bodyEncoding: 'base64' });
    await queue().send(message);
    // The attributes as they went over the wire, in the shape Lambda hands them to the fan-out.
    const wire = sends()[0]?.input.MessageAttributes as Record<string, { DataType: string; StringValue: string }>;
    const record = sqsRecord(message);
    record.messageAttributes = Object.fromEntries(Object.entries(wire).map(([k, v]) => [k, { dataType: v.DataType, stringValue: v.StringValue }]));
    expect(fromSqsRecord(record).attributes).toEqual(message.attributes);
  });
});
