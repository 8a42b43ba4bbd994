/**
 * Fan-out Lambda entry point: reads its environment once, builds the telemetry (Powertools Logger,
 * Metrics and Tracer) and the DynamoDB, Firehose and S3 adapters once, with each SDK client traced
 * in X-Ray, and hands every batch to the core with the registered handlers.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDbEventStore } from '../adapters/dynamodb-store.js';
import { FirehoseArchiveStream } from '../adapters/firehose-archive.js';
import { S3BlobStore } from '../adapters/s3-blob-store.js';
import { S3SuppressionList } from '../adapters/s3-suppression-list.js';
import { DEFAULT_EVENT_RETENTION_DAYS } from '../common/defaults.js';
import { ENV, numberEnv, optionalEnv, requireEnv } from '../common/env.js';
import { createTelemetry } from '../common/powertools.js';
import { createTracer, traceHandler } from '../common/tracing.js';
import { createFanoutHandler } from './batch-handler.js';
import { handlersFromEnv } from './handlers/from-env.js';

const tableName = requireEnv(process.env, ENV.TABLE_NAME);
const streamName = requireEnv(process.env, ENV.DELIVERY_STREAM_NAME);
const bucket = optionalEnv(process.env, ENV.ARCHIVE_BUCKET_NAME);
const telemetry = createTelemetry({ service: 'fanout' });
const { logger, metrics } = telemetry;
const tracer = createTracer('fanout');
if (bucket === undefined) {
  logger.warn(
    `${ENV.ARCHIVE_BUCKET_NAME} is not set: claim-checked and spilled events will fail (and reach the DLQ) until it is, ` +
      'and the suppression list (erase --also-future) is not read',
  );
}
const s3 = bucket === undefined ? undefined : tracer.captureAWSv3Client(new S3Client({}));

// Example handlers are switched on by HANDLERS_CONFIG; a bad value fails the cold start naming the key.
const built = await handlersFromEnv(process.env, { logger });
logger.info('handlers ready', { handlers: built.handlers.map((h) => h.name), examples: built.enabled, socialPlus: built.socialPlus });

const fanout = createFanoutHandler({
  store: new DynamoDbEventStore(tracer.captureAWSv3Client(new DynamoDBClient({})), tableName),
  archive: new FirehoseArchiveStream(tracer.captureAWSv3Client(new FirehoseClient({})), streamName),
  // The archive bucket also holds the suppression list (docs/privacy.md): events of the users on it are dropped.
  ...(bucket === undefined || s3 === undefined ? {} : { blobs: new S3BlobStore(s3, bucket), suppression: new S3SuppressionList(s3, bucket) }),
  handlers: built.handlers,
  // The core adds each event's correlation id (event id, request id) to the lines it writes for
  // that event, and hands the handlers a logger that does the same.
  logger,
  metrics,
  eventRetentionDays: numberEnv(process.env, ENV.EVENT_RETENTION_DAYS, DEFAULT_EVENT_RETENTION_DAYS),
});

/** One batch per invocation: traced, with the Lambda context in its log lines and its metrics flushed at the end. */
export const handler = traceHandler(tracer, telemetry.instrument(fanout));
