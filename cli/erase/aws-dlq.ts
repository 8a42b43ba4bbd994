/**
 * The stack's dead-letter queue as `erase --aws` erases it (cli/erase/target.ts): the messages whose
 * event holds the user are deleted; every other message is released unchanged. Messages are
 * received in rounds, each kept invisible while the rounds go on (so every round sees new ones),
 * until a round brings nothing new; then the others are made visible again at once and the user's
 * stay hidden for {@link VISIBILITY_TIMEOUT_S} seconds, in which `erase` deletes them by the
 * receipt handle `find` kept. Each message is decoded as the fan-out decodes it
 * (lambda/core/fanout/record.ts), its body fetched from the inbox when the message is a claim
 * check or announces a spill.
 */
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { toArchiveRecord } from '../../lambda/core/fanout/event-records.js';
import { decodeBody, decodeWithClaimCheck, planRecord, type DecodedEvent, type IncomingRecord } from '../../lambda/core/fanout/record.js';
import { fromBlobMetadata, parseInboxKey } from '../../lambda/core/inbox.js';
import { recordMentionsUser } from '../../lambda/core/privacy/archive-rewrite.js';
import { awsError } from '../aws-errors.js';
import { readObject, type S3 } from './aws-s3.js';
import type { ErasureStore, ErasureUnit } from './target.js';

type Sqs = Pick<SQSClient, 'send'>;

/** How long a received message stays hidden: time enough to decode the rest and delete the user's. */
export const VISIBILITY_TIMEOUT_S = 120;

interface MessageUnit extends ErasureUnit {
  readonly receiptHandle: string;
}

/** An SQS message as the fan-out receives it (`fromSqsRecord` in lambda/fanout/batch-handler.ts). */
export function incomingOf(m: Message): IncomingRecord {
  const attributes: Record<string, string> = {};
  for (const [name, v] of Object.entries(m.MessageAttributes ?? {})) if (v.StringValue !== undefined) attributes[name] = v.StringValue;
  const sent = Number(m.Attributes?.SentTimestamp);
  return { messageId: m.MessageId ?? '', body: m.Body ?? '', attributes, ...(sent > 0 ? { sentAt: new Date(sent) } : {}) };
}

/** The events of a message, its body fetched from the inbox where it points there (as `resolveRecord` of the fan-out's decode stage). */
async function eventsOf(record: IncomingRecord, s3: S3, bucket: string, now: Date): Promise<DecodedEvent[]> {
  const plan = planRecord(record);
  if (plan.kind !== 's3-notification') return decodeWithClaimCheck(record, plan, now, (key) => readObject(s3, bucket, key));
  if (plan.notification.kind === 'test') return [];
  const events: DecodedEvent[] = [];
  for (const o of plan.notification.objects) {
    if (!o.eventName.startsWith('ObjectCreated:') || parseInboxKey(o.key)?.kind !== 'spill' || o.bucket !== bucket) continue;
    const blob = await readObject(s3, bucket, o.key);
    if (blob !== undefined) events.push(decodeBody(blob.body, { messageId: record.messageId, attributes: fromBlobMetadata(blob.metadata) }, now));
  }
  return events;
}

/** The `dead-letter-queue` store (see the file's comment). */
export function deadLetterStore(o: { sqs: Sqs; queueUrl: string; s3: S3; bucket: string; now: () => Date }): ErasureStore {
  const { sqs, queueUrl } = o;
  const release = async (handle: string) => {
    try {
      await sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: handle, VisibilityTimeout: 0 }));
    } catch (err) {
      throw awsError(err, `release a message of the dead-letter queue ${queueUrl} (sqs:ChangeMessageVisibility)`);
    }
  };
  return {
    name: 'dead-letter-queue',
    async find(userId) {
      const seen = new Map<string, { handle: string; holds: number }>();
      for (;;) {
        let messages: Message[];
        try {
          messages =
            (
              await sqs.send(
                new ReceiveMessageCommand({
                  QueueUrl: queueUrl,
                  MaxNumberOfMessages: 10,
                  VisibilityTimeout: VISIBILITY_TIMEOUT_S,
                  WaitTimeSeconds: 1,
                  MessageAttributeNames: ['All'],
                  MessageSystemAttributeNames: ['SentTimestamp'],
                }),
              )
            ).Messages ?? [];
        } catch (err) {
          throw awsError(err, `receive the messages of the dead-letter queue ${queueUrl} (sqs:ReceiveMessage)`);
        }
        const fresh = messages.filter((m) => m.MessageId && m.ReceiptHandle && !seen.has(m.MessageId));
        if (fresh.length === 0) break;
        for (const m of fresh) {
          const events = await eventsOf(incomingOf(m), o.s3, o.bucket, o.now());
          const holds = events.filter((e) => recordMentionsUser(toArchiveRecord(e), userId)).length;
          seen.set(m.MessageId as string, { handle: m.ReceiptHandle as string, holds });
        }
      }
      const units: MessageUnit[] = [];
      for (const [id, { handle, holds }] of seen) {
        if (holds > 0) units.push({ id, records: holds, receiptHandle: handle });
        else await release(handle);
      }
      return units;
    },
    async erase(unit) {
      const handle = (unit as Partial<MessageUnit>).receiptHandle;
      // A unit without its handle (not from this process's find) cannot be deleted by it; the next find sees the message again.
      if (handle === undefined) return { removed: 0 };
      try {
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: handle }));
      } catch (err) {
        throw awsError(err, `delete a message of the dead-letter queue ${queueUrl} (sqs:DeleteMessage)`);
      }
      return { removed: unit.records };
    },
  };
}
