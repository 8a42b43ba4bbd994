/**
 * A message as the local queue holds it, from `send` until it is acknowledged or dead-lettered, and
 * the set of those the queue holds.
 */
import { randomUUID } from 'node:crypto';
import { SocialPlusWebhooksError } from '../../lambda/core/errors.js';
import type { QueueMessage, QueueMessageAttributes } from '../../lambda/core/ports.js';

export interface Entry {
  readonly id: string;
  readonly body: string;
  readonly attributes: QueueMessageAttributes;
  readonly sentAt: number;
  receiveCount: number;
  firstReceiveAt: number | undefined;
  lastReceiveAt: number;
  /** When it last became visible, for the batching window. */
  visibleSince: number;
  /** `pending` while its `send` is being journaled: not deliverable yet, but in compaction snapshots. */
  state: 'pending' | 'visible' | 'inFlight' | 'delayed';
  /** Size of its `send` line, for the compaction heuristic. */
  journalBytes: number;
}

/** Thrown when a message cannot be queued as given (SQS would reject it too). */
export class InvalidQueueMessageError extends SocialPlusWebhooksError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidQueueMessageError';
  }
}

/** A new entry for `message`, with a fresh message id and no receive yet. */
export function newEntry(message: QueueMessage, now: number): Entry {
  return {
    id: randomUUID(),
    body: message.body,
    attributes: { ...message.attributes },
    sentAt: now,
    receiveCount: 0,
    firstReceiveAt: undefined,
    lastReceiveAt: 0,
    visibleSince: now,
    state: 'pending',
    journalBytes: 0,
  };
}

/**
 * Refuses a message SQS would refuse: an empty body, an attribute that is not a string, or more
 * than `maxMessageBytes` of body plus attribute names and values (when set).
 */
export function checkMessage(message: QueueMessage, maxMessageBytes: number | undefined): void {
  if (typeof message.body !== 'string' || message.body.length === 0) {
    throw new InvalidQueueMessageError('queue message body must be a non-empty string');
  }
  let bytes = Buffer.byteLength(message.body, 'utf8');
  for (const [name, value] of Object.entries(message.attributes ?? {})) {
    if (value === undefined) continue;
    if (typeof value !== 'string') throw new InvalidQueueMessageError(`queue message attribute '${name}' must be a string, got ${typeof value}`);
    bytes += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  if (maxMessageBytes !== undefined && bytes > maxMessageBytes) {
    throw new InvalidQueueMessageError(`queue message is ${bytes} bytes, over the ${maxMessageBytes}-byte limit of an SQS message`);
  }
}

/** The entries the queue holds (sent, not yet acknowledged or dead-lettered), by message id. */
export class LiveEntries {
  private readonly byId = new Map<string, Entry>();
  /** Bytes of the `send` lines of live records: what a compaction would keep. */
  private bytes = 0;

  get size(): number {
    return this.byId.size;
  }

  get journalBytes(): number {
    return this.bytes;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  values(): IterableIterator<Entry> {
    return this.byId.values();
  }

  track(e: Entry, journalBytes: number): void {
    e.journalBytes = journalBytes;
    this.byId.set(e.id, e);
    this.bytes += journalBytes;
  }

  untrack(e: Entry): void {
    if (this.byId.delete(e.id)) this.bytes -= e.journalBytes;
  }
}
