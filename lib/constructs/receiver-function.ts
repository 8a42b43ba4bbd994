import { Duration, Stack } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../lambda/shared/env.js';
import type { LogLevel } from '../../lambda/shared/logger.js';
import { WebhooksFunction } from './node-function.js';

/** Props for {@link ReceiverFunction}. */
export interface ReceiverFunctionProps {
  /** The event queue the receiver buffers verified events in. */
  readonly queue: sqs.IQueue;
  /** Each webhook source's secret, by source name. */
  readonly sourceSecrets: Readonly<Record<string, secretsmanager.ISecret>>;
  /**
   * Memory in MB.
   * @default 1024: the answer is due within 1.5 s even on a cold start, and a cold start (module
   * load, TLS handshakes to SQS and Secrets Manager, HMAC) is CPU-bound; 1024 MB gets about 0.6 vCPU
   * against about 0.3 at 512 MB. A warm invocation mostly waits on one SQS round trip, so the cost
   * is roughly $0.40 per million events.
   */
  readonly memorySize?: number;
  /**
   * Invocation timeout.
   * @default Duration.seconds(3): Social Plus stops waiting after 1.5 s and the receiver's own deadline
   * falls back well before that; the rest only lets a stuck call end.
   */
  readonly timeout?: Duration;
  /**
   * Log level.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * Log group retention.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The receiver Lambda (`lambda/receiver/index.ts`): verifies `x-amity-signature` and buffers the
 * event in the queue. It may send to the queue and read exactly the sources' secrets, nothing else.
 */
export class ReceiverFunction extends Construct {
  /** The function. */
  readonly function: lambda.IFunction;
  /** Its log group. */
  readonly logGroup: logs.ILogGroup;

  constructor(scope: Construct, id: string, props: ReceiverFunctionProps) {
    super(scope, id);
    const fn = new WebhooksFunction(this, 'Handler', {
      entry: 'lambda/receiver/index.ts',
      description: 'socialplus-webhooks receiver: verifies Social Plus webhooks and queues them',
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(3),
      logLevel: props.logLevel ?? 'INFO',
      logRetention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      invocation: 'API Gateway invokes the receiver synchronously (Lambda proxy integration) and Social Plus sees any failure as a non-200 answer',
    });

    props.queue.grantSendMessages(fn.function);
    fn.function.addEnvironment(ENV.QUEUE_URL, props.queue.queueUrl);

    const arns: Record<string, string> = {};
    for (const [source, secret] of Object.entries(props.sourceSecrets)) {
      secret.grantRead(fn.function);
      arns[source] = secret.secretArn;
    }
    fn.function.addEnvironment(ENV.SOURCE_SECRETS, Stack.of(this).toJsonString(arns));

    this.function = fn.function;
    this.logGroup = fn.logGroup;
  }
}
