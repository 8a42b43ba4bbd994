/**
 * Factories for the SQS events the fan-out gets, built from the queue messages the receiver sends,
 * so a test can take what the receiver enqueued and hand it to the fan-out unchanged.
 */
import { createHash } from 'node:crypto';
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { parseEvent } from '../../lambda/core/envelope.js';
import { s3NotificationBody } from '../../lambda/core/inbox.js';
import type { QueueMessage, QueueMessageAttributes } from '../../lambda/core/ports.js';

export const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:socialplus-webhooks-events';

let counter = 0;

export interface SqsRecordOptions {
  readonly messageId?: string;
  /** Defaults to the event's receive time. */
  readonly sentTimestampMs?: number;
  readonly receiveCount?: number;
}

/** An SQS record carrying a queue message, with its attributes in the Lambda event's shape. */
export function sqsRecord(message: QueueMessage, opts: SqsRecordOptions = {}): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.attributes)) {
    if (typeof value === 'string' && value !== '') messageAttributes[name] = { dataType: 'String', stringValue: value };
  }
  const sent = opts.sentTimestampMs ?? (Date.parse(message.attributes.receivedAt) || Date.UTC(2025, 6, 2));
  return {
    messageId: opts.messageId ?? `msg-${++counter}`,
    receiptHandle: `rh-${counter}`,
    body: message.body,
    attributes: {
      ApproximateReceiveCount: String(opts.receiveCount ?? 1),
      SentTimestamp: String(sent),
      SenderId: 'AROAEXAMPLE:receiver',
      ApproximateFirstReceiveTimestamp: String(sent + 5),
    },
    messageAttributes,
    md5OfBody: createHash('md5').update(message.body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: 'us-east-1',
  };
}

/** The message the receiver would enqueue for `body` (attributes derived as the receiver does). */
export function queueMessageFor(body: string, attrs: Partial<QueueMessageAttributes> = {}): QueueMessage {
  return {
    body,
    attributes: {
      eventId: eventIdOf(body),
      eventType: parseEvent(body).eventType,
      receivedAt: '2025-07-02T09:54:03.221Z',
      source: 'default',
      requestId: `req-${++counter}`,
      ...attrs,
    },
  };
}

/** An SQS event (one Lambda invocation's batch). */
export function sqsEvent(records: readonly SQSRecord[]): SQSEvent {
  return { Records: [...records] };
}

/** Shorthand: a batch with one record per body. */
export function sqsEventForBodies(bodies: readonly string[], attrs: Partial<QueueMessageAttributes> = {}): SQSEvent {
  return sqsEvent(bodies.map((b) => sqsRecord(queueMessageFor(b, attrs))));
}

/**
 * The record S3 puts on the queue when objects are created (no message attributes, the JSON
 * notification as the body), as the spill's event notification delivers it.
 */
export function s3NotificationRecord(bucket: string, keys: readonly string[], opts: SqsRecordOptions = {}): SQSRecord {
  return bareRecord(s3NotificationBody(bucket, keys, new Date(opts.sentTimestampMs ?? Date.UTC(2025, 6, 2, 9, 54, 4))), opts);
}

/** The test message S3 sends when a notification configuration is saved. */
export function s3TestEventRecord(bucket: string, opts: SqsRecordOptions = {}): SQSRecord {
  return bareRecord(
    JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2025-07-02T09:54:03.221Z', Bucket: bucket, RequestId: 'R1', HostId: 'H1' }),
    opts,
  );
}

function bareRecord(body: string, opts: SqsRecordOptions): SQSRecord {
  const record = sqsRecord({ body, attributes: { eventId: '', eventType: '', receivedAt: '', source: '', requestId: '' } }, opts);
  return { ...record, messageAttributes: {} };
}
