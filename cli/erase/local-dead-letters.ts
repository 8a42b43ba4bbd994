/**
 * Local mode's dead-letter queue as an erasure store: each message is turned back into its event
 * as the fan-out would (its body, or a claim-checked body in the archive bucket's inbox), and the
 * user's are dropped from `dlq.ndjson` (their inbox copies go with the inbox store, after).
 */
import { join } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import { toArchiveRecord } from '../../lambda/core/fanout/event-records.js';
import { decodeBody, decodeRecord, planRecord, type DecodedEvent, type IncomingRecord } from '../../lambda/core/fanout/record.js';
import { recordMentionsUser } from '../../lambda/core/privacy/archive-rewrite.js';
import { AppendLog } from '../../local/append-log.js';
import { DLQ_FILE } from '../../local/journal-queue.js';
import { DeadLetterQueue, readDeadLetters, type DeadLetter } from '../../local/queue/dead-letters.js';
import { readObject } from './aws-s3.js';
import type { ErasureStore, ErasureUnit } from './target.js';

/** The event a dead letter stands for; undefined when it cannot be read. */
async function eventOf(letter: DeadLetter, s3: S3Client, bucket: string): Promise<DecodedEvent | undefined> {
  const record: IncomingRecord = {
    messageId: letter.messageId,
    body: letter.message.body,
    attributes: Object.fromEntries(
      Object.entries(letter.message.attributes)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    ),
    sentAt: new Date(letter.sentAt),
  };
  const now = new Date(letter.movedAt);
  const plan = planRecord(record);
  if (plan.kind === 'inline') return decodeRecord(record, now);
  // A spill's notification may name several events (several users): it stays, as does what cannot be read.
  if (plan.kind !== 'claim-check') return undefined;
  const blob = await readObject(s3, bucket, plan.key);
  return blob === undefined ? undefined : decodeBody(blob.body, record, now, { payloadRef: plan.key });
}

/** The DLQ file in local mode's queue folder `queueDir`. */
export function localDeadLetterStore(queueDir: string, s3: S3Client, bucket: string): ErasureStore {
  const path = join(queueDir, DLQ_FILE);
  return {
    name: 'dead-letter-queue',
    async find(userId) {
      const units: ErasureUnit[] = [];
      for (const letter of (await readDeadLetters(path)).deadLetters) {
        const event = await eventOf(letter, s3, bucket);
        if (event !== undefined && recordMentionsUser(toArchiveRecord(event), userId)) units.push({ id: letter.messageId, records: 1 });
      }
      return units;
    },
    async erase(unit) {
      const read = await readDeadLetters(path);
      const present = read.deadLetters.some((d) => d.messageId === unit.id);
      if (present) {
        const dlq = new DeadLetterQueue(await AppendLog.open(path), read.deadLetters);
        try {
          await dlq.remove(new Set([unit.id]));
        } finally {
          await dlq.close();
        }
      }
      return { removed: present ? 1 : 0 };
    },
  };
}
