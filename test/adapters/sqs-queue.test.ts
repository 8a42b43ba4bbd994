import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { SqsEventQueue, toMessageAttributes } from '../../lambda/adapters/sqs-queue.js';
import { claimCheckMessage } from '../../lambda/core/inbox.js';
import { fromSqsRecord } from '../../lambda/fanout/batch-handler.js';
import { awsError, FakeAwsClient } from '../support/fake-aws-client.js';
import { sampleBody } from '../support/samples.js';
import { queueMessageFor, sqsRecord } from '../support/sqs.js';

const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/socialplus-webhooks-events';

describe('SqsEventQueue', () => {
  it('sends one SendMessage with the raw body and the docs/architecture.md §3 attributes as strings', async () => {
    const client = new FakeAwsClient();
    const body = sampleBody('v3.post.didCreate');
    const message = queueMessageFor(body, { source: 'eu-app', requestId: 'req-9' });
    await new SqsEventQueue(client.as<SQSClient>(), QUEUE_URL).send(message);

    expect(client.commands).toHaveLength(1);
    expect(client.commands[0]?.name).toBe('SendMessageCommand');
    expect(client.commands[0]?.input).toEqual({
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

  it('the body is sent byte for byte (no re-serialisation)', async () => {
    const client = new FakeAwsClient();
    const body = '{ "event" : "message.didCreate",\n "data": {"text":"สวัสดี 👋🏽"} }';
    await new SqsEventQueue(client.as<SQSClient>(), QUEUE_URL).send(queueMessageFor(body));
    expect(client.commands[0]?.input.MessageBody).toBe(body);
  });

  it('bodyEncoding travels as an attribute when present', async () => {
    const client = new FakeAwsClient();
    await new SqsEventQueue(client.as<SQSClient>(), QUEUE_URL).send(queueMessageFor('e30=', { bodyEncoding: 'base64' }));
    expect(client.commands[0]?.input.MessageAttributes).toMatchObject({ bodyEncoding: { DataType: 'String', StringValue: 'base64' } });
  });

  it('claimCheckKey travels as an attribute on a claim check', async () => {
    const client = new FakeAwsClient();
    const key = `inbox/large/2025-07-02/${'a'.repeat(32)}`;
    await new SqsEventQueue(client.as<SQSClient>(), QUEUE_URL).send(claimCheckMessage(key, 1_500_000, queueMessageFor('{}').attributes));
    expect(client.commands[0]?.input.MessageAttributes).toMatchObject({ claimCheckKey: { DataType: 'String', StringValue: key } });
    expect(JSON.parse(client.commands[0]?.input.MessageBody as string)).toEqual({ claimCheckKey: key, bodyBytes: 1_500_000 });
  });

  it("hands the receiver's abort signal to the SDK (which stops the request and its retries)", async () => {
    const client = new FakeAwsClient();
    const controller = new AbortController();
    await new SqsEventQueue(client.as<SQSClient>(), QUEUE_URL).send(queueMessageFor('{}'), { signal: controller.signal });
    expect(client.commands[0]?.options?.abortSignal).toBe(controller.signal);
  });

  it('without a signal, no abortSignal option', async () => {
    const client = new FakeAwsClient();
    await new SqsEventQueue(client.as<SQSClient>(), QUEUE_URL).send(queueMessageFor('{}'));
    expect(client.commands[0]?.options?.abortSignal).toBeUndefined();
  });

  it('a send failure propagates (the receiver maps it)', async () => {
    const client = new FakeAwsClient(() => {
      throw awsError('KMS.ThrottlingException');
    });
    await expect(new SqsEventQueue(client.as<SQSClient>(), QUEUE_URL).send(queueMessageFor('{}'))).rejects.toThrow('KMS.ThrottlingException');
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

  it('what is sent is what the fan-out reads back from the SQS record', () => {
    const message = queueMessageFor(sampleBody('message.didFlag'), { bodyEncoding: 'base64' });
    const sent = toMessageAttributes(message.attributes);
    const record = sqsRecord(message);
    record.messageAttributes = Object.fromEntries(
      Object.entries(sent).map(([k, v]) => [k, { dataType: v.DataType as string, stringValue: v.StringValue }]),
    );
    expect(fromSqsRecord(record).attributes).toEqual(message.attributes);
  });
});
