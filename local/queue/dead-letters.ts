/**
 * The local queue's dead-letter queue: `dlq.ndjson`, one message per line, kept until a redrive
 * moves it back. The messages are also held in memory, oldest first.
 */
import type { QueueMessage, QueueMessageAttributes } from '../../lambda/core/ports.js';
import { readJournal, type AppendLog } from '../append-log.js';
import { isStringRecord } from './journal-codec.js';

/** A message in the DLQ. */
export interface DeadLetter {
  readonly messageId: string;
  readonly message: QueueMessage;
  /** Epoch ms the queue accepted it. */
  readonly sentAt: number;
  readonly receiveCount: number;
  /** Epoch ms it moved to the DLQ. */
  readonly movedAt: number;
}

/** What the DLQ file held, and what was skipped (a torn last line, lines that do not parse). */
export interface ReadDeadLetters {
  readonly deadLetters: DeadLetter[];
  readonly tornTail: boolean;
  readonly corruptLines: number;
}

export async function readDeadLetters(path: string): Promise<ReadDeadLetters> {
  const read = await readJournal(path);
  const deadLetters: DeadLetter[] = [];
  let corrupt = 0;
  for (const line of read.lines) {
    const d = parseDeadLetter(line);
    if (d) deadLetters.push(d);
    else corrupt++;
  }
  return { deadLetters, tornTail: read.tornTail, corruptLines: corrupt };
}

/** The DLQ: its file and the messages in it. */
export class DeadLetterQueue {
  constructor(
    private readonly log: AppendLog,
    private letters: DeadLetter[],
  ) {}

  get size(): number {
    return this.letters.length;
  }

  /** The messages, oldest first (a copy). */
  list(): DeadLetter[] {
    return [...this.letters];
  }

  /** The messages held, oldest first. */
  *messages(): IterableIterator<QueueMessage> {
    for (const d of this.letters) yield d.message;
  }

  /** Syncs `dead` to the file; `add` then holds it (once the journal says it left the queue). */
  write(dead: DeadLetter): Promise<void> {
    return this.log.append(deadLetterLine(dead), { durable: true });
  }

  add(dead: DeadLetter): void {
    this.letters.push(dead);
  }

  /** Drops the messages with these ids and rewrites the file without them. */
  async remove(messageIds: ReadonlySet<string>): Promise<void> {
    this.letters = this.letters.filter((d) => !messageIds.has(d.messageId));
    await this.rewrite();
  }

  /** Rewrites the file as the messages held (after a crash left a torn or corrupt line in it). */
  rewrite(): Promise<void> {
    return this.log.rewrite(() => this.letters.map(deadLetterLine).join(''));
  }

  close(): Promise<void> {
    return this.log.close();
  }
}

function deadLetterLine(d: DeadLetter): string {
  return `${JSON.stringify(d)}\n`;
}

function parseDeadLetter(line: string): DeadLetter | undefined {
  try {
    const v = JSON.parse(line) as Partial<DeadLetter>;
    if (typeof v.messageId !== 'string' || typeof v.message?.body !== 'string' || !isStringRecord(v.message.attributes)) return undefined;
    return {
      messageId: v.messageId,
      message: { body: v.message.body, attributes: v.message.attributes as unknown as QueueMessageAttributes },
      sentAt: Number(v.sentAt) || 0,
      receiveCount: Number(v.receiveCount) || 0,
      movedAt: Number(v.movedAt) || 0,
    };
  } catch {
    return undefined;
  }
}
