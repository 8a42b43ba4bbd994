/**
 * The local fan-out: the Lambda's fan-out handler with local mode's adapters (dynalite for the
 * event store, the delivery stream for Firehose, the S3 emulator for the inbox) and the handlers
 * the configuration switches on. Built either in local mode's own process (`fanout: 'inline'`, for
 * tests that wrap its parts) or in the fan-out process (`fanout-process.ts`), where its work cannot
 * slow down the front door's acknowledgements.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { LoggingEventPublisher } from '../lambda/adapters/eventbridge-publisher.js';
import { ensureHandlerStateTable } from '../lambda/adapters/handler-state-table.js';
import { DynamoDbEventStore } from '../lambda/adapters/dynamodb-store.js';
import { ConfigurationError, ENV } from '../lambda/common/env.js';
import type { WebhookEnvelope, WebhookHandler } from '../lambda/core/define-handler.js';
import type { BlobStore } from '../lambda/core/ports.js';
import type { Logger, Metrics } from '../lambda/core/telemetry.js';
import { createFanoutHandler } from '../lambda/fanout/batch-handler.js';
import { handlersFromEnv } from '../lambda/fanout/handlers/from-env.js';
import { buildConfig, ConfigError, handlersConfigValue } from '../lib/config.js';
import { readCdkJsonContext } from '../cli/stack-target.js';
import { join } from 'node:path';
import { S3BlobStore } from '../lambda/adapters/s3-blob-store.js';
import { S3SuppressionList } from '../lambda/adapters/s3-suppression-list.js';
import { LocalDeliveryStream, type LocalDeliveryStreamOptions } from './delivery-stream.js';
import type { BatchConsumer } from './journal-queue.js';
import type { LocalPipelineWrappers } from './pipeline-types.js';
import { INBOX_MAC_METADATA, InboxMacBlobStore } from './inbox-mac.js';
import { VerifiedBlobStore } from './verified-blob-store.js';
import { LOCAL_BUCKET_NAME, LOCAL_STREAM_NAME, LOCAL_TABLE_NAME, type LocalPaths } from './paths.js';
import { errorMessage } from '../lambda/core/errors.js';
import { observedConsumer, observedHandler, observedStore, type NoteSink } from './inspector/observer.js';

/** Delivery stream tuning local mode takes (buffer size and interval, retry delay). */
export type LocalStreamTuning = Omit<LocalDeliveryStreamOptions, 'dir' | 's3' | 'bucket' | 'logger' | 's3Directory'>;

/** What the fan-out needs that can cross to another process. */
export interface LocalFanoutSettings {
  readonly paths: LocalPaths;
  /** `HANDLERS_CONFIG` (resolved by {@link localHandlersConfig}) and the handler state table's name, plus the caller's environment. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly eventRetentionDays: number;
  readonly stream?: LocalStreamTuning;
}

/** Wrappers around the fan-out's parts (fault injection): the pipeline's, but the queue's (that one is the receiver's). */
export type LocalFanoutWrappers = Omit<LocalPipelineWrappers, 'queue'>;

export interface LocalFanoutDeps {
  readonly dynamodb: DynamoDBClient;
  /** The S3 emulator's client, for the inbox and the archive. */
  readonly s3: S3Client;
  /** A new client of the same S3 (the stream's own when wrapped). */
  readonly newS3Client: () => S3Client;
  /** The inbox as the fan-out reads and writes it (claim checks, spills, kept payloads). */
  readonly inbox: BlobStore;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** Handlers given by the caller instead of the configured ones. */
  readonly handlers?: readonly WebhookHandler<WebhookEnvelope>[];
  readonly wrap?: LocalFanoutWrappers;
  /** Where the inspector's notes go (`inspector/observer.ts`): what the fan-out stores, and each handler run. */
  readonly observe?: NoteSink;
}

export interface LocalFanout {
  /** The fan-out as the queue's event source calls it. */
  readonly consumer: BatchConsumer;
  readonly stream: LocalDeliveryStream;
  readonly handlers: readonly WebhookHandler<WebhookEnvelope>[];
  /** Closes the delivery stream (flushing it) and the clients it made. */
  close(): Promise<void>;
}

/**
 * The archive bucket's inbox as local mode's receiver and fan-out use it: the Lambda's S3 adapter
 * over the S3 emulator, made as durable as S3 ({@link VerifiedBlobStore}), and with a MAC under
 * this installation's key on every inbox object ({@link InboxMacBlobStore}): an object that did
 * not come from this receiver or fan-out is never processed.
 */
export function localInbox(s3: S3Client, paths: LocalPaths, inboxKey: Buffer): BlobStore {
  // The MAC outside: it is checked on whole objects. An object already there with the same bytes
  // but no MAC (planted) is written again rather than kept.
  return new InboxMacBlobStore(
    new VerifiedBlobStore(new S3BlobStore(s3, LOCAL_BUCKET_NAME), { s3Directory: paths.s3, identityMetadata: [INBOX_MAC_METADATA] }),
    inboxKey,
  );
}

/** Builds the fan-out; the delivery stream opens (and uploads what a crash left buffered). */
export async function createLocalFanout(settings: LocalFanoutSettings, deps: LocalFanoutDeps): Promise<LocalFanout> {
  const wrap = deps.wrap ?? {};
  const { logger } = deps;
  // Its own client when wrapped, so a middleware added for the stream touches nothing else.
  const streamS3 = wrap.archiveS3 ? wrap.archiveS3(deps.newS3Client()) : deps.s3;
  const stream = await LocalDeliveryStream.open({
    streamName: LOCAL_STREAM_NAME,
    ...settings.stream,
    dir: settings.paths.stream,
    s3: streamS3,
    bucket: LOCAL_BUCKET_NAME,
    s3Directory: settings.paths.s3,
    logger,
  });
  try {
    const store = new DynamoDbEventStore(deps.dynamodb, LOCAL_TABLE_NAME);
    const handlers = deps.handlers ?? (await localHandlers(settings.env, deps.dynamodb, logger));
    // The inspector's observers outermost: they see what the fan-out sees, injected faults included.
    const observe = deps.observe;
    const wrappedStore = wrap.store ? wrap.store(store) : store;
    const wrappedHandlers = wrap.handler ? handlers.map(wrap.handler) : handlers;
    const fanout = createFanoutHandler({
      store: observe ? observedStore(wrappedStore, observe) : wrappedStore,
      archive: wrap.archive ? wrap.archive(stream) : stream,
      handlers: observe ? wrappedHandlers.map((h) => observedHandler(h, observe)) : wrappedHandlers,
      logger,
      metrics: deps.metrics,
      eventRetentionDays: settings.eventRetentionDays,
      // Claim checks and spills are read from the bucket, and payloads too large for a store item
      // or an archive line kept there, as on AWS.
      blobs: wrap.blobs ? wrap.blobs(deps.inbox, 'fanout') : deps.inbox,
      // The users `erase --also-future` listed, read from the bucket as on AWS: their events are dropped.
      suppression: new S3SuppressionList(deps.s3, LOCAL_BUCKET_NAME),
    });
    return {
      consumer: observe ? observedConsumer(fanout, observe) : fanout,
      stream,
      handlers,
      async close() {
        try {
          await stream.close();
        } finally {
          if (streamS3 !== deps.s3) streamS3.destroy();
        }
      },
    };
  } catch (err) {
    await stream.close().catch(() => undefined);
    if (streamS3 !== deps.s3) streamS3.destroy();
    throw err;
  }
}

/** The example handlers' configuration local mode runs with, and where it came from. */
export interface LocalHandlersConfig {
  /** The `HANDLERS_CONFIG` value; undefined: every example handler off. */
  readonly value: string | undefined;
  readonly from: 'HANDLERS_CONFIG' | 'cdk.json' | 'none';
  /** The cdk.json read (with `from: 'cdk.json'`). */
  readonly file?: string;
}

/**
 * `HANDLERS_CONFIG` when set (it overrides); else `cdk.json`'s context key `handlers` in
 * `projectDir`, turned into the fan-out's `HANDLERS_CONFIG` exactly as `cdk deploy` does
 * (`lib/config.ts`: the same validation, `socialPlus.region` from the sources' shared region, the
 * claim lease from `fanoutTimeoutSeconds`), so one setting serves both; else none. Throws a
 * ConfigurationError naming cdk.json and each bad key.
 */
export function localHandlersConfig(env: NodeJS.ProcessEnv, projectDir: string): LocalHandlersConfig {
  const fromEnv = env[ENV.HANDLERS_CONFIG];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { value: fromEnv, from: 'HANDLERS_CONFIG' };
  const file = join(projectDir, 'cdk.json');
  let context: Record<string, unknown>;
  try {
    context = readCdkJsonContext(projectDir);
  } catch (err) {
    throw new ConfigurationError(errorMessage(err));
  }
  if (context.handlers === undefined) return { value: undefined, from: 'none' };
  // Only the keys the handlers' value depends on: another key's problem is deploy's to report.
  const keys = ['handlers', 'sources', 'fanoutTimeoutSeconds', 'maxReceiveCount'] as const;
  try {
    const config = buildConfig(Object.fromEntries(keys.filter((k) => context[k] !== undefined).map((k) => [k, context[k]])));
    return { value: handlersConfigValue(config.handlers, config.fanoutTimeoutSeconds), from: 'cdk.json', file };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    throw new ConfigurationError(
      `${file} (read by local mode because ${ENV.HANDLERS_CONFIG} is not set): its context is not valid:\n${err.problems.map((p) => `  - ${p}`).join('\n')}`,
    );
  }
}

/**
 * The fan-out's handlers in local mode: `handlersFromEnv` with dynalite and a logging event bus;
 * the admin token from `SOCIALPLUS_ADMIN_TOKEN`, without which handlers that call the API start
 * and their calls fail saying so.
 */
async function localHandlers(
  env: Readonly<Record<string, string | undefined>>,
  dynamodb: DynamoDBClient,
  logger: Logger,
): Promise<readonly WebhookHandler<WebhookEnvelope>[]> {
  const built = await handlersFromEnv(env as NodeJS.ProcessEnv, {
    logger,
    dynamodb,
    eventPublisher: new LoggingEventPublisher(logger),
    localMode: true,
  });
  if (built.config.autoModeration.enabled || built.config.dailyCounters.enabled) {
    await ensureHandlerStateTable(dynamodb, env[ENV.HANDLER_STATE_TABLE_NAME] as string);
  }
  if (built.enabled.length > 0) logger.info('example handlers on', { handlers: built.enabled, socialPlus: built.socialPlus });
  return built.handlers;
}
