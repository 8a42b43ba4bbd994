/**
 * Receiver Lambda entry point: reads its environment once at cold start, builds the telemetry
 * (Powertools Logger and Metrics) and the SQS and Secrets Manager adapters once, and hands every
 * request to the core. The S3 client (claim checks and spills only) is imported on first use,
 * keeping the largest SDK module out of cold starts; for the same reason the receiver has no
 * Powertools Tracer (the X-Ray SDK would cost more than the rest of the telemetry): API Gateway's
 * and Lambda's active tracing still show its duration and the trace id is in every log line.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LazyBlobStore } from '../adapters/lazy-blob-store.js';
import { SqsEventQueue } from '../adapters/sqs-queue.js';
import { SecretsManagerSecretSource } from '../adapters/secrets-manager-source.js';
import { DEFAULT_RECEIVER_DEADLINE_MS } from '../core/deadline.js';
import { ENV, numberEnv, optionalEnv, requireEnv, signatureFormsEnv, sourceSecretsEnv } from '../common/env.js';
import { createTelemetry, requestIdKeys } from '../common/powertools.js';
import { createReceiverHandler } from './handler.js';

/**
 * SDK settings sized to the 1 s deadline: a stuck connection or request is cut and retried on a
 * fresh one well within it (SQS answers in 5-10 ms server-side; docs/aws-facts.md §2), and the core's abort
 * signal ends whatever is still running when the deadline passes.
 */
const QUEUE_SDK = { maxAttempts: 3, requestHandler: { connectionTimeout: 250, requestTimeout: 400, throwOnRequestTimeout: true } };
/** The spill's put comes after the queue failed, with ~300 ms left: one retry at most. */
const BLOB_SDK = { maxAttempts: 2, requestHandler: { connectionTimeout: 250, requestTimeout: 600, throwOnRequestTimeout: true } };
/** The secret is read before the deadline starts, on a cold start: bounded so the answer stays in time. */
const SECRETS_SDK = { maxAttempts: 2, requestHandler: { connectionTimeout: 300, requestTimeout: 500, throwOnRequestTimeout: true } };

const queueUrl = requireEnv(process.env, ENV.QUEUE_URL);
const sourceSecrets = sourceSecretsEnv(process.env);
const bucket = optionalEnv(process.env, ENV.ARCHIVE_BUCKET_NAME);
const deadlineMs = numberEnv(process.env, ENV.RECEIVER_DEADLINE_MS, DEFAULT_RECEIVER_DEADLINE_MS);
const signatureForms = signatureFormsEnv(process.env);
const telemetry = createTelemetry({ service: 'receiver' });
const { logger, metrics } = telemetry;
if (bucket === undefined) {
  logger.warn(`${ENV.ARCHIVE_BUCKET_NAME} is not set: no claim check and no spill, so a body too large for SQS or a queue failure is answered 503`);
}

const receive = createReceiverHandler({
  queue: new SqsEventQueue(new SQSClient(QUEUE_SDK), queueUrl),
  secrets: new SecretsManagerSecretSource(new SecretsManagerClient(SECRETS_SDK), sourceSecrets),
  ...(bucket === undefined
    ? {}
    : {
        blobs: new LazyBlobStore(async () => {
          const [{ S3Client }, { S3BlobStore }] = await Promise.all([import('@aws-sdk/client-s3'), import('../adapters/s3-blob-store.js')]);
          return new S3BlobStore(new S3Client(BLOB_SDK), bucket);
        }, bucket),
      }),
  deadlineMs,
  ...(signatureForms ? { signatureForms } : {}),
  logger,
  metrics,
});

/**
 * Every line of an invocation carries the API Gateway request id (the accepted line adds the
 * event id, which the fan-out's lines carry too); metrics are flushed as the invocation ends.
 */
export const handler = telemetry.instrument(receive, { keys: requestIdKeys });
