/**
 * The embedded AWS stand-ins of local mode (docs/architecture.md §8) and of the adapter tests: dynalite for
 * DynamoDB and our own S3 emulator (`s3-emulator.ts`, in s3rver's file layout), each on a loopback
 * port (0 = any free port), persisted in a folder.
 */
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createServer, type RequestListener, type Server } from 'node:http';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import dynalite from 'dynalite';
import { createTableIfMissing } from '../lambda/adapters/create-table.js';
import { TABLE } from '../lambda/common/table-schema.js';
import type { EmulatorCredentials } from './emulator-credentials.js';
import { guardEmulator } from './emulator-guard.js';
import { createS3Emulator } from './s3-emulator.js';

/**
 * Credentials for the tests' in-process emulators, which take any; local mode's emulators take only
 * the installation's own (`emulator-credentials.ts`).
 */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
export const LOCAL_REGION = 'us-east-1';

export interface RunningEmulator {
  readonly endpoint: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Starts dynalite persisted under `dir` (LevelDB), or in memory when `dir` is undefined, in this
 * process (local mode runs its own in a separate process: `emulator-process.ts`). With
 * `credentials`, it answers only requests signed with them, from no web page (`emulator-guard.ts`).
 */
export async function startDynalite(opts: { dir?: string; port?: number; credentials?: EmulatorCredentials } = {}): Promise<RunningEmulator> {
  if (opts.dir) mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  const server = dynalite({ ...(opts.dir ? { path: opts.dir } : {}), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }) as Server;
  let port = 0;
  if (opts.credentials) {
    const [listener] = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    server.on('request', guardEmulator(listener as RequestListener, { service: 'dynamodb', credentials: opts.credentials, port: () => port }));
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/**
 * Starts local mode's S3 emulator (`s3-emulator.ts`, which replaced s3rver and keeps its file
 * layout) with its files under `dir`, on 127.0.0.1. `close` waits for the writes in progress.
 */
export async function startS3rver(opts: { dir: string; port?: number }): Promise<RunningEmulator> {
  const emulator = createS3Emulator({ directory: opts.dir });
  const server = createServer((req, res) => emulator.handle(req, res));
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
    });
  } catch (err) {
    await emulator.close();
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      (closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        await emulator.close();
        server.closeAllConnections();
        await stopped;
      })()),
  };
}

export function localDynamoDbClient(endpoint: string, extra: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, ...extra });
}

export function localS3Client(endpoint: string, extra: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true, ...extra });
}

/** Creates the event table of docs/architecture.md §5 (keys and sparse GSIs) unless it exists. */
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
    AttributeDefinitions: [
      TABLE.partitionKey,
      TABLE.sortKey,
      TABLE.byActor.partitionKey,
      TABLE.byActor.sortKey,
      TABLE.byTarget.partitionKey,
      TABLE.byTarget.sortKey,
    ].map((AttributeName) => ({ AttributeName, AttributeType: 'S' as const })),
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
