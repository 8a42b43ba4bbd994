/**
 * Fan-out Lambda entry point: reads its environment once, builds the DynamoDB and Firehose
 * adapters once, and hands every batch to the core with the registered handlers.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { FirehoseClient } from '@aws-sdk/client-firehose';
import { DynamoDbEventStore } from '../adapters/dynamodb-store.js';
import { FirehoseArchiveStream } from '../adapters/firehose-archive.js';
import { noMetrics } from '../core/telemetry.js';
import { ENV, numberEnv, requireEnv } from '../shared/env.js';
import { createJsonLogger, parseLogLevel } from '../shared/logger.js';
import { createFanoutHandler } from './handler.js';
import { handlers } from './handlers/index.js';

const tableName = requireEnv(process.env, ENV.TABLE_NAME);
const streamName = requireEnv(process.env, ENV.DELIVERY_STREAM_NAME);

export const handler = createFanoutHandler({
  store: new DynamoDbEventStore(new DynamoDBClient({}), tableName),
  archive: new FirehoseArchiveStream(new FirehoseClient({}), streamName),
  handlers,
  logger: createJsonLogger({ service: 'fanout', level: parseLogLevel(process.env[ENV.LOG_LEVEL]) }),
  metrics: noMetrics,
  eventRetentionDays: numberEnv(process.env, ENV.EVENT_RETENTION_DAYS, 90),
});
