import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { processBatch, type FanoutDeps, type IncomingRecord } from '../core/fanout.js';

/** SQS record → the core's record: body and string message attributes. */
export function fromSqsRecord(r: SQSRecord): IncomingRecord {
  const attributes: Record<string, string> = {};
  for (const [name, v] of Object.entries(r.messageAttributes ?? {})) {
    if (v.stringValue !== undefined) attributes[name] = v.stringValue;
  }
  const sent = Number(r.attributes?.SentTimestamp);
  return { messageId: r.messageId, body: r.body, attributes, ...(sent > 0 ? { sentAt: new Date(sent) } : {}) };
}

/** The fan-out's Lambda handler: SQS batch in, partial batch response out. */
export function createFanoutHandler(deps: FanoutDeps): (event: SQSEvent) => Promise<SQSBatchResponse> {
  return async (event) => {
    const { failedMessageIds } = await processBatch(event.Records.map(fromSqsRecord), deps);
    return { batchItemFailures: failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
  };
}
