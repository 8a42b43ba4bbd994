/**
 * What one event costs the pipeline in billed units, from the product's own code: signed sample
 * events of the asked size go through the receiver's core (`receiveWebhook`) and the fan-out's
 * (`processBatch`) with the real DynamoDB event store adapter, whose client answers in-process and
 * sizes each request by AWS's rules instead of sending it. Nothing leaves the process; the same
 * events give the same figures on every machine.
 *
 * The cost benchmark (bench/cost.ts) measures the same figures through local mode and dynalite;
 * test/cli/cost-per-event.test.ts holds the two to each other.
 */
import { gzipSync } from 'node:zlib';
import { DynamoDBClient, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { DEFAULT_EVENT_RETENTION_DAYS } from '../../lambda/common/defaults.js';
import { TABLE } from '../../lambda/common/table-schema.js';
import { DynamoDbEventStore } from '../../lambda/adapters/dynamodb-store.js';
import type { WebhookEnvelope, WebhookHandler } from '../../lambda/core/define-handler.js';
import { processBatch, type IncomingRecord } from '../../lambda/core/fanout.js';
import type { ArchiveStream, QueueMessage } from '../../lambda/core/ports.js';
import { receiveWebhook } from '../../lambda/core/receive.js';
import { noMetrics, silentLogger } from '../../lambda/core/telemetry.js';
import { WriteLedger, type IndexShape } from './dynamodb-size.js';
import type { MeasuredPerEvent } from './model.js';
import { buildPayloads } from './payloads.js';
import { firehoseBilledBytes, sqsBilledRequests } from './prices.js';

export interface PerEventOptions {
  /** Body size of every sample event, in bytes. */
  readonly eventBytes: number;
  /** Events per fan-out invocation (the traffic shape's batch). */
  readonly eventsPerBatch: number;
  /** The fan-out's handlers: what they subscribe to decides the outcome writes. */
  readonly handlers: readonly WebhookHandler<WebhookEnvelope>[];
  /** Sample events. @default 200 */
  readonly samples?: number;
}

/** The event store's indexes as the write-unit arithmetic needs them (lambda/common/table-schema.ts). */
export const EVENT_TABLE_INDEXES: readonly IndexShape[] = [TABLE.byActor, TABLE.byTarget].map((g) => ({
  name: g.indexName,
  partitionKey: g.partitionKey,
  sortKey: g.sortKey,
  projected: [...TABLE.projectedAttributes],
}));
export const EVENT_TABLE_KEYS: readonly string[] = [TABLE.partitionKey, TABLE.sortKey];

const SECRET = 'cost-model-sample-secret';
// A fixed clock: the figures must not depend on when they are computed.
const AT = new Date('2026-01-15T12:00:00.000Z');

/** Write units the event store's requests were billed, by kind. */
interface Units {
  table: number;
  indexes: number;
  outcomes: number;
}

/**
 * A DynamoDB client that never sends: `PutItem` and `UpdateItem` are sized into `units` and
 * answered as DynamoDB answers a success; any other request is refused, so a change in what the
 * adapter sends shows up here instead of being priced as nothing.
 */
function sizingClient(units: Units): DynamoDBClient {
  const ledger = new WriteLedger(EVENT_TABLE_KEYS, EVENT_TABLE_INDEXES);
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'cost', secretAccessKey: 'cost' } });
  client.middlewareStack.add(
    (_next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      if (context.commandName === 'PutItemCommand') {
        const w = ledger.put(input.Item as Record<string, AttributeValue>);
        units.table += w.tableUnits;
        units.indexes += w.indexUnits;
      } else if (context.commandName === 'UpdateItemCommand') {
        units.outcomes += ledger.update(input as Parameters<WriteLedger['update']>[0]).tableUnits;
      } else {
        throw new Error(`the cost model does not price ${String(context.commandName)}`);
      }
      return { output: { $metadata: {} }, response: {} } as never;
    },
    { step: 'initialize', name: 'costSizing' },
  );
  return client;
}

/** The billed units of one event, averaged over `samples` events of `eventBytes` bytes. */
export async function perEventFigures(opts: PerEventOptions): Promise<MeasuredPerEvent> {
  const samples = opts.samples ?? 200;
  const payloads = buildPayloads({ count: samples, secret: SECRET, minBytes: opts.eventBytes, maxBytes: opts.eventBytes, seed: 7 });

  const messages: QueueMessage[] = [];
  const queue = { send: async (m: QueueMessage) => void messages.push(m) };
  const secrets = { secretsFor: async () => [SECRET] };
  for (const [i, p] of payloads.entries()) {
    const answer = await receiveWebhook(
      {
        headers: { 'x-amity-signature': p.signature, 'content-type': 'application/json' },
        body: p.body,
        bodyText: p.text,
        source: 'default',
        requestId: `cost-${i}`,
        receivedAt: AT,
      },
      { queue, secrets, logger: silentLogger, metrics: noMetrics, now: () => AT.getTime() },
    );
    if (answer.statusCode !== 200)
      throw new Error(`the receiver refused a sample event of ${p.body.length} bytes: ${answer.statusCode} ${answer.body}`);
  }

  const units: Units = { table: 0, indexes: 0, outcomes: 0 };
  const lineBytes: number[] = [];
  const archived: string[] = [];
  let billedBytes = 0;
  const archive: ArchiveStream = {
    putLines: async (lines) => {
      for (const line of lines) {
        lineBytes.push(Buffer.byteLength(line, 'utf8'));
        archived.push(line);
        billedBytes += firehoseBilledBytes(line);
      }
      return { failedIndexes: [] };
    },
  };
  const client = sizingClient(units);
  try {
    const store = new DynamoDbEventStore(client, 'events');
    const records: IncomingRecord[] = messages.map((m, i) => ({
      messageId: `m-${i}`,
      body: m.body,
      attributes: Object.fromEntries(
        Object.entries(m.attributes)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => [k, String(v)]),
      ),
      sentAt: AT,
    }));
    const batch = Math.max(1, Math.floor(opts.eventsPerBatch));
    for (let i = 0; i < records.length; i += batch) {
      const { failedMessageIds } = await processBatch(records.slice(i, i + batch), {
        archive,
        store,
        handlers: opts.handlers,
        logger: silentLogger,
        metrics: noMetrics,
        eventRetentionDays: DEFAULT_EVENT_RETENTION_DAYS,
        now: () => AT,
      });
      if (failedMessageIds.length > 0) throw new Error(`the fan-out failed ${failedMessageIds.length} sample event(s)`);
    }
  } finally {
    client.destroy();
  }

  const per = (n: number) => n / samples;
  const sorted = [...lineBytes].sort((a, b) => a - b);
  return {
    writeUnits: { table: per(units.table), indexes: per(units.indexes), outcomes: per(units.outcomes) },
    measuredGsis: EVENT_TABLE_INDEXES.length,
    sqsBilledSends: per(messages.reduce((s, m) => s + sqsBilledRequests(m), 0)),
    firehoseBilledBytes: per(billedBytes),
    archiveLineBytes: sorted[Math.floor((sorted.length - 1) / 2)] ?? 0,
    // Firehose gzips a whole object of newline-separated lines; the samples make one.
    archiveGzipBytes: per(gzipSync(archived.map((l) => `${l}\n`).join('')).length),
  };
}
