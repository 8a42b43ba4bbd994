/**
 * Receiver Lambda entry point: reads its environment once at cold start, builds the SQS and
 * Secrets Manager adapters once, and hands every request to the core.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SqsEventQueue } from '../adapters/sqs-queue.js';
import { SecretsManagerSecretSource } from '../adapters/secrets-manager-source.js';
import { noMetrics } from '../core/telemetry.js';
import { ENV, requireEnv, sourceSecretsEnv } from '../shared/env.js';
import { createJsonLogger, parseLogLevel } from '../shared/logger.js';
import { createReceiverHandler } from './handler.js';

const queueUrl = requireEnv(process.env, ENV.QUEUE_URL);
const sourceSecrets = sourceSecretsEnv(process.env);

export const handler = createReceiverHandler({
  queue: new SqsEventQueue(new SQSClient({}), queueUrl),
  secrets: new SecretsManagerSecretSource(new SecretsManagerClient({}), sourceSecrets),
  logger: createJsonLogger({ service: 'receiver', level: parseLogLevel(process.env[ENV.LOG_LEVEL]) }),
  metrics: noMetrics,
});
