/**
 * The queue journal's lines (`journal.ndjson`, one JSON operation per line) and its replay:
 * - `send`: the message, with its receive count and first receive when written by compaction;
 * - `recv`: the receive count, written before each delivery;
 * - `ack`: done;
 * - `dead`: moved to the DLQ.
 * A line that does not parse is counted and skipped; a torn last line (a crash mid-write) is dropped
 * by `readJournal`, since its `send` never resolved.
 */
import type { QueueMessageAttributes } from '../../lambda/core/ports.js';
import { readJournal } from '../append-log.js';
import { parseJsonObject } from '../json-object.js';
import type { Entry } from './entry.js';

type JournalOp =
  | { op: 'send'; id: string; body: string; attributes: QueueMessageAttributes; sentAt: number; n?: number; first?: number }
  | { op: 'recv'; id: string; n: number; first?: number }
  | { op: 'ack'; id: string }
  | { op: 'dead'; id: string };

function line(op: JournalOp): string {
  return `${JSON.stringify(op)}\n`;
}

/** The `send` line of an entry, carrying its receive count once it has one. */
export function sendLine(e: Entry): string {
  const op: JournalOp = { op: 'send', id: e.id, body: e.body, attributes: e.attributes, sentAt: e.sentAt };
  if (e.receiveCount > 0) op.n = e.receiveCount;
  if (e.firstReceiveAt !== undefined) op.first = e.firstReceiveAt;
  return line(op);
}

export function recvLine(e: Entry): string {
  return `${JSON.stringify({ op: 'recv', id: e.id, n: e.receiveCount, first: e.firstReceiveAt })}\n`;
}

export function ackLine(id: string): string {
  return line({ op: 'ack', id });
}

export function deadLine(id: string): string {
  return line({ op: 'dead', id });
}

/** What a journal held: its live entries (sent, neither acknowledged nor dead), and what was skipped. */
export interface ReplayedJournal {
  readonly live: Map<string, Entry>;
  readonly tornTail: boolean;
  readonly corruptLines: number;
}

/** Reads and replays the journal at `path`; the live entries are `pending`, visible since `now`. */
export async function replayJournal(path: string, now: number): Promise<ReplayedJournal> {
  const read = await readJournal(path);
  const live = new Map<string, Entry>();
  let corrupt = 0;
  for (const text of read.lines) {
    const op = parseJournalOp(text);
    if (!op) {
      corrupt++;
      continue;
    }
    if (op.op === 'send') {
      live.set(op.id, {
        id: op.id,
        body: op.body,
        attributes: op.attributes,
        sentAt: op.sentAt,
        receiveCount: op.n ?? 0,
        firstReceiveAt: op.first,
        lastReceiveAt: 0,
        visibleSince: now,
        state: 'pending',
        journalBytes: text.length + 1,
      });
    } else if (op.op === 'recv') {
      const e = live.get(op.id);
      if (e) {
        e.receiveCount = Math.max(e.receiveCount, op.n);
        e.firstReceiveAt ??= op.first;
      }
    } else {
      live.delete(op.id);
    }
  }
  return { live, tornTail: read.tornTail, corruptLines: corrupt };
}

export function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

function parseJournalOp(text: string): JournalOp | undefined {
  const o = parseJsonObject(text);
  if (!o || typeof o.id !== 'string') return undefined;
  switch (o.op) {
    case 'send':
      if (typeof o.body !== 'string' || typeof o.sentAt !== 'number' || !isStringRecord(o.attributes)) return undefined;
      return {
        op: 'send',
        id: o.id,
        body: o.body,
        attributes: o.attributes as unknown as QueueMessageAttributes,
        sentAt: o.sentAt,
        ...(typeof o.n === 'number' ? { n: o.n } : {}),
        ...(typeof o.first === 'number' ? { first: o.first } : {}),
      };
    case 'recv':
      return typeof o.n === 'number' ? { op: 'recv', id: o.id, n: o.n, ...(typeof o.first === 'number' ? { first: o.first } : {}) } : undefined;
    case 'ack':
    case 'dead':
      return { op: o.op, id: o.id };
    default:
      return undefined;
  }
}
