/**
 * Fan-out Lambda entry point: reads its environment once, builds the DynamoDB, Firehose and S3
 * adapters once, and hands every batch to the core with the registered handlers.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDbEventStore } from '../adapters/dynamodb-store.js';
import { FirehoseArchiveStream } from '../adapters/firehose-archive.js';
import { S3BlobStore } from '../adapters/s3-blob-store.js';
import { noMetrics } from '../core/telemetry.js';
import { ENV, numberEnv, optionalEnv, requireEnv } from '../shared/env.js';
import { createJsonLogger, parseLogLevel } from '../shared/logger.js';
import { createFanoutHandler } from './handler.js';
import { handlers } from './handlers/index.js';

const tableName = requireEnv(process.env, ENV.TABLE_NAME);
const streamName = requireEnv(process.env, ENV.DELIVERY_STREAM_NAME);
const bucket = optionalEnv(process.env, ENV.ARCHIVE_BUCKET_NAME);
const logger = createJsonLogger({ service: 'fanout', level: parseLogLevel(process.env[ENV.LOG_LEVEL]) });
if (bucket === undefined) {
  logger.warn(`${ENV.ARCHIVE_BUCKET_NAME} is not set: claim-checked and spilled events will fail (and reach the DLQ) until it is`);
}

export const handler = createFanoutHandler({
  store: new DynamoDbEventStore(new DynamoDBClient({}), tableName),
  archive: new FirehoseArchiveStream(new FirehoseClient({}), streamName),
  ...(bucket === undefined ? {} : { blobs: new S3BlobStore(new S3Client({}), bucket) }),
  handlers,
  logger,
  metrics: noMetrics,
  eventRetentionDays: numberEnv(process.env, ENV.EVENT_RETENTION_DAYS, 90),
});
