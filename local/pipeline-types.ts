/** The shapes of local mode (`pipeline.ts`): its options, the wrappers the fault tests inject, and what a running local mode offers. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDbEventStore } from '../lambda/adapters/dynamodb-store.js';
import type { WebhookEnvelope, WebhookHandler } from '../lambda/core/define-handler.js';
import type { ArchiveStream, BlobStore, EventQueue, EventStore } from '../lambda/core/ports.js';
import type { Logger, MetricName } from '../lambda/core/telemetry.js';
import type { LocalDeliveryStream } from './delivery-stream.js';
import type { DevSecret } from './dev-secret.js';
import type { LocalHandlersConfig, LocalStreamTuning } from './fanout-runtime.js';
import type { EmulatorAccess } from './fanout-process.js';
import type { JournalQueue, JournalQueueOptions, QueueStats } from './journal-queue.js';
import type { LocalPaths } from './paths.js';
import type { SpillDrain } from './spill-drain.js';

/**
 * Wrappers put around parts of the pipeline: the injection points of the fault tests and the soak
 * (`local/faults/`). Each gets the real part and returns what the pipeline uses in its place.
 */
export interface LocalPipelineWrappers {
  /** The queue as the receiver sends to it (the spill drain and the admin routes use the queue itself). */
  readonly queue?: (queue: EventQueue) => EventQueue;
  /** The event store as the fan-out writes it (DynamoDB). */
  readonly store?: (store: EventStore) => EventStore;
  /** The archive stream as the fan-out puts lines to it (Firehose's `PutRecordBatch`). */
  readonly archive?: (archive: ArchiveStream) => ArchiveStream;
  /** The inbox (S3) as the receiver (claim checks, spills) or the fan-out (reads, copies, deletes) uses it. */
  readonly blobs?: (blobs: BlobStore, user: 'receiver' | 'fanout') => BlobStore;
  /** The S3 client the delivery stream writes archive objects with (e.g. to add a middleware). */
  readonly archiveS3?: (client: S3Client) => S3Client;
  /** Each of the fan-out's handlers. */
  readonly handler?: (handler: WebhookHandler<WebhookEnvelope>) => WebhookHandler<WebhookEnvelope>;
}

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
  /**
   * The folder whose `cdk.json` gives the example handlers' configuration (context key `handlers`,
   * as `cdk deploy` reads it) when `HANDLERS_CONFIG` is not set. @default process.cwd()
   */
  readonly projectDir?: string;
  readonly logger?: Logger;
  /** Queue tuning (batch size, batching window, visibility timeout, maxReceiveCount, concurrency). */
  readonly queue?: Omit<JournalQueueOptions, 'dir' | 'logger'>;
  /** Delivery stream tuning (buffer size and interval, retry delay). */
  readonly stream?: LocalStreamTuning;
  /** @default DEFAULT_EVENT_RETENTION_DAYS (`lambda/common/defaults.ts`) */
  readonly eventRetentionDays?: number;
  /** Largest request body accepted. @default 10 MiB (API Gateway's limit) */
  readonly maxBodyBytes?: number;
  /** The receiver's internal deadline for the queue work before it spills (docs/architecture.md §2). @default DEFAULT_RECEIVER_DEADLINE_MS (`lambda/core/deadline.ts`) */
  readonly receiverDeadlineMs?: number;
  /** Time between listings of `inbox/spill/` by the spill drain. @default 1000 */
  readonly spillDrainIntervalMs?: number;
  /** Wrappers around the pipeline's parts (fault injection); they make the fan-out run in this process. */
  readonly wrap?: LocalPipelineWrappers;
  /**
   * Where the fan-out runs: in its own process at a lower CPU priority (`fanout-process.ts`), so
   * its work cannot hold up the front door's acknowledgements, or in this process, as tests that
   * hand in handler objects or wrappers need. @default 'process', or 'inline' with `handlers` or `wrap`
   */
  readonly fanout?: 'process' | 'inline';
  /**
   * A folder to write every webhook request and its answer status to, one file each
   * (`local/capture.ts`, `dev --capture`); created 0700 when missing. @default no capture
   */
  readonly captureDir?: string;
}

export interface LocalPipeline {
  /** `http://127.0.0.1:<port>`; webhooks at `${url}/webhook`. */
  readonly url: string;
  /** The inspector's link, with the admin token it trades for a session cookie (docs/inspector.md). */
  readonly inspectorUrl: string;
  readonly port: number;
  readonly paths: LocalPaths;
  readonly secret: DevSecret;
  readonly sources: readonly string[];
  /** The emulators' endpoints, for tools (the AWS CLI, an SDK client) while local mode runs. */
  readonly endpoints: { readonly dynamodb: string; readonly s3: string };
  /** The credentials the emulators take. */
  readonly credentials: EmulatorAccess['credentials'];
  /** The fan-out's handlers in dispatch order, each with the event patterns it takes (the dev banner lists them). */
  readonly handlers: readonly Pick<WebhookHandler, 'name' | 'events'>[];
  /** Where the example handlers' configuration came from (see {@link localHandlersConfig}); `caller` when `handlers` was given. */
  readonly handlersConfig: { readonly from: LocalHandlersConfig['from'] | 'caller'; readonly file?: string };
  readonly tableName: string;
  readonly bucket: string;
  readonly queue: JournalQueue;
  /** The delivery stream, when the fan-out runs in this process (`fanout: 'inline'`). */
  readonly stream: LocalDeliveryStream | undefined;
  /** Local mode's other processes (the fan-out's, the emulators'), for tools: their role and current id. */
  processes(): Array<{ readonly role: 'fan-out' | 'dynamodb' | 's3'; readonly pid: number | undefined }>;
  /** Where the fan-out runs, its process id, and how often it was started again after dying. */
  readonly fanout: { readonly mode: 'process' | 'inline'; pid(): number | undefined; restarts(): number };
  /** Brings spilled events (`inbox/spill/`) to the fan-out, as S3's notification does on AWS. */
  readonly drain: SpillDrain;
  readonly store: DynamoDbEventStore;
  readonly dynamodb: DynamoDBClient;
  readonly s3: S3Client;
  /** Counts of the receiver's and fan-out's outcomes since start (`Accepted`, `Stored`, …). */
  metrics(): Readonly<Partial<Record<MetricName, number>>>;
  queueStats(): QueueStats;
  /**
   * Waits until the capture files of the requests answered so far are written, the queue is empty
   * and no spill is left to announce, then writes the stream's buffer to S3 (rejecting if S3
   * refuses it; the lines are kept and retried). For tests and tools.
   */
  settle(): Promise<void>;
  /** Stops taking requests, finishes work in flight, flushes the stream, stops the emulators. */
  close(): Promise<void>;
}
