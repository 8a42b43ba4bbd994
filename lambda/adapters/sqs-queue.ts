import { SendMessageCommand, type MessageAttributeValue, type SQSClient } from '@aws-sdk/client-sqs';
import type { CallOptions, EventQueue, QueueMessage } from '../core/ports.js';

/** Queue port on SQS: the raw body with the attributes of docs/architecture.md §3. */
export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  /** The signal aborts the request and the SDK's retries when the receiver's deadline passes. */
  async send(message: QueueMessage, options: CallOptions = {}): Promise<void> {
    await this.client.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: message.body,
        MessageAttributes: toMessageAttributes(message.attributes),
      }),
      options.signal ? { abortSignal: options.signal } : {},
    );
  }
}

export function toMessageAttributes(attributes: QueueMessage['attributes']): Record<string, MessageAttributeValue> {
  const out: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'string' && value !== '') out[name] = { DataType: 'String', StringValue: value };
  }
  return out;
}
