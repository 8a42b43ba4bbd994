/** What the aws-requests benchmark counts as the pipeline runs (bench/aws-requests.ts): SDK calls by operation, queue sends, archive puts, write units. */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { chunks } from '../../lambda/adapters/firehose-archive.js';
import type { ArchiveStream, EventQueue, EventStore } from '../../lambda/core/ports.js';
import { TABLE } from '../../lambda/common/table-schema.js';
import type { PhaseCounts } from '../aws-requests.js';
import { putWrites, valueSize, writeUnits, type IndexShape } from './dynamodb-size.js';
import { FIREHOSE_BILLING_INCREMENT_BYTES, SQS_BILLING_CHUNK_BYTES } from './prices.js';

const TABLE_KEYS = [TABLE.partitionKey, TABLE.sortKey];
const INDEXES: IndexShape[] = [TABLE.byActor, TABLE.byTarget].map((g) => ({
  name: g.indexName,
  partitionKey: g.partitionKey,
  sortKey: g.sortKey,
  projected: [...TABLE.projectedAttributes],
}));
/** Counts what the pipeline does; `snapshot()` copies the totals so far. */
export class Counter {
  sdk = new Map<string, number>();
  queueSends = 0;
  sqsBilledRequests = 0;
  batches = 0;
  archiveLines = 0;
  putRecordBatchCalls = 0;
  firehoseBilledBytes = 0;
  archiveLineBytes: number[] = [];
  storePuts = 0;
  storeOutcomeWrites = 0;
  itemBytes: number[] = [];
  units = { table: 0, indexes: 0, indexWrites: 0, outcomes: 0, duplicates: 0 };
  dynaliteUnits = { table: 0, indexes: 0, reported: 0 };
  conditionalCheckFailed = 0;
  /** Item size per primary key, for sizing the updates that follow. */
  readonly itemSizes = new Map<string, number>();
  /** Bytes of the `handlerRuns` and `archivePending` attributes per primary key, which updates replace and remove. */
  readonly runsSizes = new Map<string, number>();
  readonly pendingSizes = new Map<string, number>();

  snapshot(): PhaseCounts {
    return {
      deliveries: 0,
      sdk: Object.fromEntries(this.sdk),
      queueSends: this.queueSends,
      sqsBilledRequests: this.sqsBilledRequests,
      batches: this.batches,
      archiveLines: this.archiveLines,
      putRecordBatchCalls: this.putRecordBatchCalls,
      firehoseBilledBytes: this.firehoseBilledBytes,
      archiveLineBytes: [...this.archiveLineBytes],
      storePuts: this.storePuts,
      storeOutcomeWrites: this.storeOutcomeWrites,
      itemBytes: [...this.itemBytes],
      units: { ...this.units },
      dynaliteUnits: { ...this.dynaliteUnits },
      conditionalCheckFailed: this.conditionalCheckFailed,
    };
  }

  wrapQueue = (queue: EventQueue): EventQueue => ({
    send: async (message, options) => {
      this.queueSends++;
      const bytes =
        Buffer.byteLength(message.body, 'utf8') +
        Object.entries(message.attributes).reduce((s, [k, v]) => s + k.length + String(v ?? '').length + 'String'.length, 0);
      this.sqsBilledRequests += Math.max(1, Math.ceil(bytes / SQS_BILLING_CHUNK_BYTES));
      return queue.send(message, options);
    },
  });

  wrapArchive = (archive: ArchiveStream): ArchiveStream => ({
    putLines: async (lines) => {
      this.batches++;
      this.archiveLines += lines.length;
      this.putRecordBatchCalls += chunks(lines).length;
      for (const line of lines) {
        const bytes = Buffer.byteLength(line, 'utf8');
        this.archiveLineBytes.push(bytes);
        this.firehoseBilledBytes += Math.ceil(bytes / FIREHOSE_BILLING_INCREMENT_BYTES) * FIREHOSE_BILLING_INCREMENT_BYTES;
      }
      return archive.putLines(lines);
    },
  });

  wrapStore = (store: EventStore): EventStore => ({
    putIfAbsent: (event) => {
      this.storePuts++;
      return store.putIfAbsent(event);
    },
    recordHandlerRuns: (eventId, update) => {
      if (Object.keys(update.runs).length > 0 || update.archived) this.storeOutcomeWrites++;
      return store.recordHandlerRuns(eventId, update);
    },
  });

  /** Counts every call of `client` by service and operation; sizes DynamoDB writes. */
  instrument(client: DynamoDBClient | S3Client, label: string): void {
    type Args = { input: Record<string, unknown> };
    (client as DynamoDBClient).middlewareStack.add(
      (next, context) => async (args) => {
        const op = String(context.commandName ?? 'unknown').replace(/Command$/, '');
        const input = (args as unknown as Args).input;
        const key = label === 'S3' && typeof input.Key === 'string' ? `${label} ${op} ${String(input.Key).split('/')[0]}/` : `${label} ${op}`;
        this.sdk.set(key, (this.sdk.get(key) ?? 0) + 1);
        if (label !== 'DynamoDB' || (op !== 'PutItem' && op !== 'UpdateItem')) return next(args);
        input.ReturnConsumedCapacity = 'INDEXES';
        const pk =
          op === 'PutItem'
            ? (input.Item as Record<string, AttributeValue>)[TABLE.partitionKey]?.S
            : (input.Key as Record<string, AttributeValue>)[TABLE.partitionKey]?.S;
        if (op === 'PutItem') {
          const item = input.Item as Record<string, AttributeValue>;
          const w = putWrites(item, TABLE_KEYS, INDEXES);
          try {
            const out = await next(args);
            this.itemBytes.push(w.itemBytes);
            this.units.table += w.tableUnits;
            this.units.indexes += w.indexUnits;
            this.units.indexWrites += w.indexWrites;
            if (pk) this.itemSizes.set(pk, w.itemBytes);
            const pending = item.archivePending;
            if (pk && pending) this.pendingSizes.set(pk, 'archivePending'.length + valueSize(pending));
            this.addConsumed((out.output as { ConsumedCapacity?: Consumed }).ConsumedCapacity);
            return out;
          } catch (err) {
            if ((err as Error).name === 'ConditionalCheckFailedException') {
              // A failed condition still costs the write units of the item it would have written.
              this.conditionalCheckFailed++;
              this.units.duplicates += writeUnits(w.itemBytes);
            }
            throw err;
          }
        }
        // UpdateItem (handler outcomes): billed on the larger of the item before and after. It sets
        // `handlers.<name>` for each success, replaces `handlerRuns` whole, and may remove `archivePending`.
        const names = Object.values((input.ExpressionAttributeNames ?? {}) as Record<string, string>).filter((n) => n !== 'handlers');
        const before = (pk && this.itemSizes.get(pk)) || 0;
        let after = before + names.reduce((s, n) => s + 1 + Buffer.byteLength(n) + 1, 0);
        const runs = ((input.ExpressionAttributeValues ?? {}) as Record<string, AttributeValue>)[':runs'];
        if (runs && pk) {
          const size = 'handlerRuns'.length + valueSize(runs);
          after += size - (this.runsSizes.get(pk) ?? 0);
          this.runsSizes.set(pk, size);
        }
        if (pk && String(input.UpdateExpression ?? '').includes('REMOVE archivePending')) {
          after -= this.pendingSizes.get(pk) ?? 0;
          this.pendingSizes.delete(pk);
        }
        if (pk) this.itemSizes.set(pk, after);
        this.units.outcomes += writeUnits(Math.max(before, after));
        const out = await next(args);
        this.addConsumed((out.output as { ConsumedCapacity?: Consumed }).ConsumedCapacity);
        return out;
      },
      { step: 'initialize', name: `benchCounter${label}`, override: true },
    );
  }

  private addConsumed(c: Consumed | undefined): void {
    if (!c) return;
    this.dynaliteUnits.reported++;
    this.dynaliteUnits.table += c.Table?.CapacityUnits ?? 0;
    for (const g of Object.values(c.GlobalSecondaryIndexes ?? {})) this.dynaliteUnits.indexes += g.CapacityUnits ?? 0;
  }
}

interface Consumed {
  Table?: { CapacityUnits?: number };
  GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }>;
}
