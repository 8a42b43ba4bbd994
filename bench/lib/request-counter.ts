/** What the aws-requests benchmark counts as the pipeline runs (bench/aws-requests.ts): SDK calls by operation, queue sends, archive puts, write units. */
import type { AttributeValue, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { chunks } from '../../lambda/adapters/firehose-archive.js';
import type { ArchiveStream, EventQueue, EventStore } from '../../lambda/core/ports.js';
import type { PhaseCounts } from '../aws-requests.js';
import { itemSize, writeUnits, WriteLedger } from '../../cli/cost/dynamodb-size.js';
import { EVENT_TABLE_INDEXES, EVENT_TABLE_KEYS } from '../../cli/cost/per-event.js';
import { firehoseBilledBytes, sqsBilledRequests } from '../../cli/cost/prices.js';

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
  /** Sizes the event store's writes by AWS's rules (the same ledger the `cost` command uses). */
  private readonly ledger = new WriteLedger(EVENT_TABLE_KEYS, EVENT_TABLE_INDEXES);
  units = { table: 0, indexes: 0, indexWrites: 0, outcomes: 0, duplicates: 0 };
  dynaliteUnits = { table: 0, indexes: 0, reported: 0 };
  conditionalCheckFailed = 0;

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
      this.sqsBilledRequests += sqsBilledRequests(message);
      return queue.send(message, options);
    },
  });

  wrapArchive = (archive: ArchiveStream): ArchiveStream => ({
    putLines: async (lines) => {
      this.batches++;
      this.archiveLines += lines.length;
      this.putRecordBatchCalls += chunks(lines).length;
      for (const line of lines) {
        this.archiveLineBytes.push(Buffer.byteLength(line, 'utf8'));
        this.firehoseBilledBytes += firehoseBilledBytes(line);
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
        if (op === 'PutItem') {
          const item = input.Item as Record<string, AttributeValue>;
          try {
            const out = await next(args);
            const w = this.ledger.put(item);
            this.itemBytes.push(w.itemBytes);
            this.units.table += w.tableUnits;
            this.units.indexes += w.indexUnits;
            this.units.indexWrites += w.indexWrites;
            this.addConsumed((out.output as { ConsumedCapacity?: Consumed }).ConsumedCapacity);
            return out;
          } catch (err) {
            if ((err as Error).name === 'ConditionalCheckFailedException') {
              // A failed condition still costs the write units of the item it would have written.
              this.conditionalCheckFailed++;
              this.units.duplicates += writeUnits(itemSize(item));
            }
            throw err;
          }
        }
        this.units.outcomes += this.ledger.update(input as Parameters<WriteLedger['update']>[0]).tableUnits;
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
