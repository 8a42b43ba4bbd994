/**
 * The SQS shapes of the local queue's deliveries, as Lambda's event source mapping makes them: the
 * records of a batch, and its reading of the consumer's partial batch response.
 */
import { createHash } from 'node:crypto';
import type { SQSBatchResponse, SQSEvent, SQSMessageAttributes, SQSRecord } from 'aws-lambda';
import { LOCAL_REGION } from '../emulators.js';
import type { Entry } from './entry.js';

/** The fan-out as the event source mapping calls it: an SQS event in, a partial batch response out. */
export type BatchConsumer = (event: SQSEvent) => Promise<SQSBatchResponse | void | null | undefined>;

/** The ARN the records of the queue named `queueName` carry as `eventSourceARN`. */
export function localQueueArn(queueName: string): string {
  return `arn:aws:sqs:${LOCAL_REGION}:000000000000:${queueName}`;
}

/** The SQS record of an entry being delivered (its receive count already incremented). */
export function toRecord(e: Entry, arn: string): SQSRecord {
  const messageAttributes: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(e.attributes)) {
    if (typeof value === 'string' && value !== '')
      messageAttributes[name] = { stringValue: value, stringListValues: [], binaryListValues: [], dataType: 'String' };
  }
  return {
    messageId: e.id,
    receiptHandle: Buffer.from(`${e.id}#${e.receiveCount}`).toString('base64'),
    body: e.body,
    attributes: {
      ApproximateReceiveCount: String(e.receiveCount),
      SentTimestamp: String(e.sentAt),
      SenderId: 'LOCAL:receiver',
      ApproximateFirstReceiveTimestamp: String(e.firstReceiveAt ?? e.lastReceiveAt),
    },
    messageAttributes,
    md5OfBody: createHash('md5').update(e.body, 'utf8').digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: LOCAL_REGION,
  };
}

/** Lambda's reading of a partial batch response: unknown or empty identifiers fail the whole batch. */
export function failedIds(res: SQSBatchResponse | void | null | undefined, batch: readonly Entry[]): ReadonlySet<string> | 'all' {
  if (res === undefined || res === null) return new Set();
  const items = (res as { batchItemFailures?: unknown }).batchItemFailures;
  if (items === undefined || items === null) return new Set();
  if (!Array.isArray(items)) return 'all';
  const ids = new Set(batch.map((e) => e.id));
  const failed = new Set<string>();
  for (const item of items) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) return 'all';
    failed.add(id);
  }
  return failed;
}
