/**
 * The embedded AWS stand-ins of local mode (DESIGN §8) and of the adapter tests: dynalite for
 * DynamoDB and s3rver for S3, each on a loopback port (0 = any free port), persisted in a folder.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Worker } from 'node:worker_threads';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import S3rver from 's3rver';
import { createTableIfMissing } from '../lambda/adapters/create-table.js';
import { TABLE } from '../lambda/common/table-schema.js';

/** Credentials the emulators accept; never real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const LOCAL_REGION = 'us-east-1';

export interface RunningEmulator {
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts dynalite persisted under `dir` (LevelDB), or in memory when `dir` is undefined. With
 * `thread`, it runs in a worker thread, so its work takes another core than this thread's.
 */
export async function startDynalite(opts: { dir?: string; port?: number; thread?: boolean } = {}): Promise<RunningEmulator> {
  if (opts.dir) mkdirSync(opts.dir, { recursive: true });
  if (opts.thread) return startDynaliteThread(opts);
  const server = dynalite({ ...(opts.dir ? { path: opts.dir } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
  };
}

async function startDynaliteThread(opts: { dir?: string; port?: number }): Promise<RunningEmulator> {
  const worker = new Worker(new URL('./dynalite-thread.mjs', import.meta.url), { workerData: { path: opts.dir, port: opts.port ?? 0 } });
  // Listeners are removed one by one: `removeAllListeners` would also drop the worker's own
  // bookkeeping of its message port, and later messages would never arrive.
  const startup: Array<[string, (arg: never) => void]> = [];
  const port = await new Promise<number>((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`the dynalite thread exited (code ${code}) before it listened`));
    const onMessage = (msg: { port?: number; error?: string }) => {
      if (msg.port) resolve(msg.port);
      else reject(new Error(`dynalite could not listen: ${msg.error ?? 'unknown error'}`));
    };
    startup.push(['error', reject], ['exit', onExit], ['message', onMessage]);
    for (const [event, fn] of startup) worker.on(event, fn as (...args: unknown[]) => void);
  }).catch(async (err: Error) => {
    await worker.terminate();
    throw err;
  }).finally(() => {
    for (const [event, fn] of startup) worker.off(event, fn as (...args: unknown[]) => void);
  });
  worker.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: () => (closing ??= new Promise<void>((resolve) => {
      // The thread ends after dynalite closes its server and database; terminate is the fallback.
      const timer = setTimeout(() => void worker.terminate().then(() => resolve()), 5000);
      worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      worker.once('message', () => void worker.terminate());
      worker.postMessage('close');
    })),
  };
}

/** Starts s3rver with its files under `dir`. */
export async function startS3rver(opts: { dir: string; port?: number }): Promise<RunningEmulator> {
  mkdirSync(opts.dir, { recursive: true });
  const s3rver = new S3rver({ port: opts.port ?? 0, address: '127.0.0.1', directory: opts.dir, silent: true });
  const address = (await s3rver.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    close: () => s3rver.close(),
  };
}

export function localDynamoDbClient(endpoint: string, extra: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, ...extra });
}

export function localS3Client(endpoint: string, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, ...extra });
}

/** Creates the event table of DESIGN §5 (keys and sparse GSIs) unless it exists. */
export function ensureEventTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const gsi = (g: { indexName: string; partitionKey: string; sortKey: string }) => ({
    IndexName: g.indexName,
    KeySchema: [
      { AttributeName: g.partitionKey, KeyType: 'HASH' as const },
      { AttributeName: g.sortKey, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'INCLUDE' as const, NonKeyAttributes: [...TABLE.projectedAttributes] },
  });
  return createTableIfMissing(client, {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [TABLE.partitionKey, TABLE.sortKey, TABLE.byActor.partitionKey, TABLE.byActor.sortKey, TABLE.byTarget.partitionKey, TABLE.byTarget.sortKey]
      .map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
      { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [gsi(TABLE.byActor), gsi(TABLE.byTarget)],
  });
}

/** Creates the archive bucket unless it exists. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (err) {
    const name = (err as Error).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw err;
  }
}
