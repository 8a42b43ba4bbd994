/**
 * Local mode (DESIGN §8): the whole pipeline on this machine with the same handler code as AWS.
 * HTTP front door → receiver handler → journal queue → fan-out handler → DynamoDB (dynalite) +
 * delivery stream → S3 (s3rver) + the registered handlers; all state under one folder.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { DynamoDbEventStore } from '../lambda/adapters/dynamodb-store.js';
import { S3BlobStore } from '../lambda/adapters/s3-blob-store.js';
import { StaticSecretSource } from '../lambda/adapters/static-secret-source.js';
import type { WebhookEnvelope, WebhookHandler } from '../lambda/core/define-handler.js';
import { DEFAULT_SOURCE, SOURCE_NAME } from '../lambda/core/receive.js';
import { silentLogger, type Logger, type MetricName, type Metrics } from '../lambda/core/telemetry.js';
import { createFanoutHandler } from '../lambda/fanout/handler.js';
import { handlers as registeredHandlers } from '../lambda/fanout/handlers/index.js';
import { createReceiverHandler } from '../lambda/receiver/handler.js';
import { resolveDevSecret, type DevSecret } from './dev-secret.js';
import { LocalDeliveryStream, type LocalDeliveryStreamOptions } from './delivery-stream.js';
import {
  ensureBucket,
  ensureEventTable,
  localDynamoDbClient,
  localS3Client,
  startDynalite,
  startS3rver,
} from './emulators.js';
import { startFrontDoor } from './http-front-door.js';
import { JournalQueue, type JournalQueueOptions, type QueueStats } from './journal-queue.js';
import { DEFAULT_PORT, LOCAL_BUCKET_NAME, LOCAL_STREAM_NAME, LOCAL_TABLE_NAME, localPaths, type LocalPaths } from './paths.js';

export interface LocalPipelineOptions {
  /** Root of local state. @default `SOCIALPLUS_LOCAL_DIR` or `.local` */
  readonly dir?: string;
  /** HTTP port; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** The signing secret; by default `SOCIALPLUS_WEBHOOK_SECRET`, else `.local/secret`, else generated. */
  readonly secret?: string;
  /** Where `SOCIALPLUS_WEBHOOK_SECRET` is read from. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Webhook sources besides `default`, served at `POST /webhook/{source}` with the same secret. */
  readonly sources?: readonly string[];
  /** The fan-out's handlers. @default the registered list of `lambda/fanout/handlers` */
  readonly handlers?: readonly WebhookHandler<WebhookEnvelope>[];
  readonly logger?: Logger;
  /** Queue tuning (batch size, batching window, visibility timeout, maxReceiveCount, concurrency). */
  readonly queue?: Omit<JournalQueueOptions, 'dir' | 'logger'>;
  /** Delivery stream tuning (buffer size and interval, retry delay). */
  readonly stream?: Omit<LocalDeliveryStreamOptions, 'dir' | 's3' | 'bucket' | 'logger' | 's3Directory'>;
  /** @default 90 */
  readonly eventRetentionDays?: number;
  /** Largest request body accepted. @default 10 MiB (API Gateway's limit) */
  readonly maxBodyBytes?: number;
}

export interface LocalPipeline {
  /** `http://127.0.0.1:<port>`; webhooks at `${url}/webhook`. */
  readonly url: string;
  readonly port: number;
  readonly paths: LocalPaths;
  readonly secret: DevSecret;
  readonly sources: readonly string[];
  /** The emulators' endpoints, for tools (the AWS CLI, an SDK client) while local mode runs. */
  readonly endpoints: { readonly dynamodb: string; readonly s3: string };
  readonly tableName: string;
  readonly bucket: string;
  readonly queue: JournalQueue;
  readonly stream: LocalDeliveryStream;
  readonly store: DynamoDbEventStore;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  /** Counts of the receiver's and fan-out's outcomes since start (`Accepted`, `Stored`, …). */
  metrics(): Readonly<Partial<Record<MetricName, number>>>;
  queueStats(): QueueStats;
  /** Waits until the queue is empty, then writes the stream's buffer to S3. For tests and tools. */
  settle(): Promise<void>;
  /** Stops taking requests, finishes work in flight, flushes the stream, stops the emulators. */
  close(): Promise<void>;
}

/** Thrown when another process runs local mode on the same folder. */
export class LocalDirInUseError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`local mode is already running on ${dir} (process ${pid}): stop it first, or use another folder (--dir or SOCIALPLUS_LOCAL_DIR); if process ${pid} is not local mode, delete ${join(dir, 'dev.pid')}`);
    this.name = 'LocalDirInUseError';
  }
}

/** Starts local mode; resolves once it serves requests. */
export async function startLocalPipeline(opts: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const paths = localPaths(opts.dir);
  const logger = opts.logger ?? silentLogger;
  const sources = [DEFAULT_SOURCE, ...(opts.sources ?? []).filter((s) => s !== DEFAULT_SOURCE)];
  for (const s of sources) {
    if (!SOURCE_NAME.test(s)) throw new RangeError(`invalid webhook source name '${s}': use 1-64 lower-case letters, digits and '-'`);
  }
  const port = opts.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer from 0 to 65535, got ${port}`);

  await mkdir(paths.root, { recursive: true });
  const cleanup: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  };
  try {
    const secret = await resolveDevSecret({ secretFile: paths.secretFile, ...(opts.secret !== undefined ? { explicit: opts.secret } : {}), ...(opts.env ? { env: opts.env } : {}) });
    const releaseLock = await lockDir(paths.root);
    cleanup.push(releaseLock);

    // Listen first: a busy port fails in milliseconds, and /healthz answers 503 while starting.
    const door = await startFrontDoor({ port, ...(opts.host ? { host: opts.host } : {}), ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}), logger });
    cleanup.push(() => door.close());

    const dynalite = await startDynalite({ dir: paths.dynamodb });
    cleanup.push(() => dynalite.close());
    const s3rver = await startS3rver({ dir: paths.s3 });
    cleanup.push(() => s3rver.close());
    const dynamodb = localDynamoDbClient(dynalite.endpoint);
    const s3 = localS3Client(s3rver.endpoint);
    cleanup.push(async () => {
      dynamodb.destroy();
      s3.destroy();
    });
    await ensureEventTable(dynamodb, LOCAL_TABLE_NAME);
    await ensureBucket(s3, LOCAL_BUCKET_NAME);

    const stream = await LocalDeliveryStream.open({
      streamName: LOCAL_STREAM_NAME,
      ...opts.stream,
      dir: paths.stream,
      s3,
      bucket: LOCAL_BUCKET_NAME,
      s3Directory: paths.s3,
      logger,
    });
    cleanup.push(() => stream.close());
    const queue = await JournalQueue.open({ ...opts.queue, dir: paths.queue, logger });
    cleanup.push(() => queue.close());

    const counts: Partial<Record<MetricName, number>> = {};
    const metrics: Metrics = {
      count(name, value = 1) {
        counts[name] = (counts[name] ?? 0) + value;
      },
    };
    const store = new DynamoDbEventStore(dynamodb, LOCAL_TABLE_NAME);
    const fanout = createFanoutHandler({
      store,
      archive: stream,
      handlers: opts.handlers ?? registeredHandlers,
      logger,
      metrics,
      eventRetentionDays: opts.eventRetentionDays ?? 90,
      // Payloads too large for a store item or an archive line are kept in the bucket, as on AWS.
      blobs: new S3BlobStore(s3, LOCAL_BUCKET_NAME),
    });
    // No `blobs` for the receiver: its spills reach the fan-out through S3 notifications, which
    // s3rver does not send, and the local queue takes any body the front door lets through.
    const receiver = createReceiverHandler({
      queue,
      secrets: new StaticSecretSource(Object.fromEntries(sources.map((s) => [s, secret.value]))),
      logger,
      metrics,
    });
    queue.start(fanout);
    door.serve(receiver);

    return {
      url: door.url,
      port: door.port,
      paths,
      secret,
      sources,
      endpoints: { dynamodb: dynalite.endpoint, s3: s3rver.endpoint },
      tableName: LOCAL_TABLE_NAME,
      bucket: LOCAL_BUCKET_NAME,
      queue,
      stream,
      store,
      dynamodb,
      s3,
      metrics: () => ({ ...counts }),
      queueStats: () => queue.stats(),
      async settle() {
        await queue.drain();
        await stream.flush();
      },
      // Reverse start order: requests, then the queue (its batches still write to the stream and
      // the store), then the stream's flush to s3rver, then the emulators. Every step runs even
      // if one before it fails; the first failure is reported.
      close: once(async () => {
        cleanup.length = 0;
        let failure: unknown;
        for (const step of [
          () => door.close(),
          () => queue.close(),
          () => stream.close(),
          async () => {
            dynamodb.destroy();
            s3.destroy();
          },
          () => s3rver.close(),
          () => dynalite.close(),
          releaseLock,
        ]) {
          try {
            await step();
          } catch (err) {
            failure ??= err;
          }
        }
        if (failure) throw failure;
      }),
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

/**
 * Claims the folder with a pid file, so two `dev` processes never share one journal. A file left
 * by a process that no longer runs (a crash, a SIGKILL) is taken over.
 */
async function lockDir(root: string): Promise<() => Promise<void>> {
  const file = join(root, 'dev.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx' });
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    // Another pipeline of this same process (tests) is allowed; another live process is not.
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new LocalDirInUseError(root, pid);
    await rm(file, { force: true });
  }
  throw new Error(`could not claim ${root} for local mode (its dev.pid file keeps reappearing)`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
