/**
 * The cold-start floor (docs/architecture.md §10): a Lambda handler that only imports the SQS client and sends
 * one message. `bench/cold-start.ts` bundles it with the stack's esbuild options and compares the
 * functions' import time with its own.
 */
import { SQSClient, SendMessageCommand, type SendMessageCommandOutput } from '@aws-sdk/client-sqs';

const client = new SQSClient({});

/** Sends `{}` to `QUEUE_URL`. */
export const handler = async (): Promise<SendMessageCommandOutput> =>
  client.send(new SendMessageCommand({ QueueUrl: process.env.QUEUE_URL, MessageBody: '{}' }));
