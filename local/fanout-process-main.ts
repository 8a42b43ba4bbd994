/**
 * The local fan-out process's entry (started by `fanout-process.ts`): builds the fan-out with
 * {@link createLocalFanout} from what the parent sends over IPC (never argv: other local users see
 * a command line), runs the batches the parent's queue hands it, and sends back each batch's
 * answer with the metric counts it produced. Its log lines go to the parent's logger. It lowers
 * its own CPU priority, so the front door's acknowledgements come first when the CPU is short, and
 * exits as soon as the parent is gone (a SIGKILLed local mode leaves no fan-out behind).
 */
import type { SQSEvent } from 'aws-lambda';
import type { Logger, MetricName, Metrics } from '../lambda/core/telemetry.js';
import { ipcLogger, lowerPriority } from './child-ipc.js';
import { localDynamoDbClient, localS3Client } from './emulators.js';
import { createLocalFanout, localInbox, type LocalFanout } from './fanout-runtime.js';
import { BACKGROUND_PRIORITY, type FanoutChildMessage, type FanoutParentMessage } from './fanout-process.js';
import { errorMessage } from '../lambda/core/errors.js';
import type { InspectorNote } from './inspector/ledger.js';

const send = (msg: FanoutChildMessage): void => {
  if (!process.connected) return;
  try {
    process.send?.(msg);
  } catch {
    // A field that does not clone (a function in a log field): send what JSON keeps of it.
    process.send?.(JSON.parse(JSON.stringify(msg)) as FanoutChildMessage);
  }
};

const logger: Logger = ipcLogger(send);

let counts: Partial<Record<MetricName, number>> = {};
const metrics: Metrics = {
  count(name, value = 1) {
    counts[name] = (counts[name] ?? 0) + value;
  },
};
const takeCounts = () => {
  const out = counts;
  counts = {};
  return out;
};

// The inspector's notes, sent with the next answer (as the counts are).
let notes: InspectorNote[] = [];
const takeNotes = (): { notes?: InspectorNote[] } => {
  if (notes.length === 0) return {};
  const out = notes;
  notes = [];
  return { notes: out };
};

let fanout: LocalFanout | undefined;
let closing: Promise<void> | undefined;

// Ctrl-C in a terminal signals the whole process group: local mode's own process decides when the
// fan-out stops (after the queue's batches in flight), so these are left to it.
for (const signal of ['SIGINT', 'SIGHUP'] as const) process.on(signal, () => undefined);

process.on('disconnect', () => {
  // The parent is gone: stop now. What this process held in flight is retried by the queue's journal.
  process.exit(0);
});

process.on('message', (raw) => {
  const msg = raw as FanoutParentMessage;
  switch (msg.type) {
    case 'init':
      void init(msg);
      return;
    case 'batch':
      void runBatch(msg.id, msg.event);
      return;
    case 'flush':
      void reply(msg.id, async () => fanout?.stream.flush());
      return;
    case 'close':
      closing ??= (async () => {
        await reply(msg.id, async () => fanout?.close());
        process.disconnect?.();
        process.exit(0);
      })();
      return;
  }
});

async function init(msg: Extract<FanoutParentMessage, { type: 'init' }>): Promise<void> {
  lowerPriority(BACKGROUND_PRIORITY);
  try {
    const dynamodb = localDynamoDbClient(msg.endpoints.dynamodb, { credentials: msg.credentials });
    const s3 = localS3Client(msg.endpoints.s3, { credentials: msg.credentials });
    const inbox = localInbox(s3, msg.settings.paths, Buffer.from(msg.inboxKey, 'base64'));
    fanout = await createLocalFanout(msg.settings, {
      dynamodb,
      s3,
      newS3Client: () => localS3Client(msg.endpoints.s3, { credentials: msg.credentials }),
      inbox,
      logger,
      metrics,
      observe: (note) => notes.push(note),
    });
    send({ type: 'ready', handlers: fanout.handlers.map((h) => ({ name: h.name, events: [...h.events] })) });
  } catch (err) {
    const e = err as Error;
    send({ type: 'failed', error: { name: e.name, message: e.message } });
    process.exitCode = 1;
    process.disconnect?.();
  }
}

async function runBatch(id: number, event: SQSEvent): Promise<void> {
  if (!fanout) {
    send({ type: 'result', id, error: 'the fan-out is not ready', metrics: takeCounts(), ...takeNotes() });
    return;
  }
  try {
    const response = await fanout.consumer(event);
    send({ type: 'result', id, response: response ?? undefined, metrics: takeCounts(), ...takeNotes() });
  } catch (err) {
    send({ type: 'result', id, error: errorMessage(err), metrics: takeCounts(), ...takeNotes() });
  }
}

async function reply(id: number, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
    send({ type: 'result', id, metrics: takeCounts(), ...takeNotes() });
  } catch (err) {
    send({ type: 'result', id, error: errorMessage(err), metrics: takeCounts(), ...takeNotes() });
  }
}
