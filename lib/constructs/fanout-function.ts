import { Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { ENV } from '../../lambda/common/env.js';
import { ConfigError, LAMBDA_ENVIRONMENT_LIMIT_BYTES } from '../config.js';
import type { IArchiveStream } from './archive.js';
import type { IEventTable } from './event-store.js';
import type { HandlerResources } from './handler-resources.js';
import type { Inbox } from './inbox.js';
import { PipelineFunction, type PipelineFunctionProps } from './pipeline-function.js';
import type { IWebhookQueue } from './queue.js';
import {
  DEFAULT_FANOUT_BATCH_SIZE,
  DEFAULT_FANOUT_MAX_BATCHING_WINDOW_SECONDS,
  DEFAULT_FANOUT_MAX_CONCURRENCY,
  DEFAULT_FANOUT_TIMEOUT_SECONDS,
} from '../../lambda/common/defaults.js';

/** The example handlers' configuration and what the enabled ones need. */
export interface FanoutHandlersProps {
  /** `HANDLERS_CONFIG`: the JSON of the handlers' configuration. */
  readonly config: string;
  /** The state table, bus and admin-token secret the enabled handlers need (each bound with its grant). */
  readonly resources?: Pick<HandlerResources, 'bindHandlers'>;
}

/**
 * Bytes a variable's value is counted as when it is a deploy-time reference (a generated name or
 * ARN, unknown at synth): CloudFormation names resources `<stack name>-<logical id>-<suffix>`, with
 * the logical id at most 64 characters and the suffix 13; a secret ARN's prefix is shorter than that.
 */
export function referenceLengthEstimate(stackName: string): number {
  return stackName.length + 80;
}

/** Props for {@link FanoutFunction}. */
export interface FanoutFunctionProps extends PipelineFunctionProps {
  /** The event queue it consumes. */
  readonly queue: IWebhookQueue;
  /** The event store. */
  readonly eventStore: IEventTable;
  /** The archive's delivery stream. */
  readonly archive: IArchiveStream;
  /**
   * The archive bucket's inbox, which holds claim-checked bodies (`inbox/large/`, read, and written
   * for payloads too large for a record or an item) and spilled events (`inbox/spill/`, read and
   * deleted once processed).
   */
  readonly inbox: Inbox;
  /** Days an event item lives before TTL. */
  readonly eventRetentionDays: number;
  /**
   * Most messages per invocation.
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * How long the event source waits to fill a batch (at least 1 s when batchSize is above 10).
   * @default Duration.seconds(DEFAULT_FANOUT_MAX_BATCHING_WINDOW_SECONDS)
   */
  readonly maxBatchingWindow?: Duration;
  /**
   * Most concurrent invocations from the queue (2 to 1000).
   * @default 10
   */
  readonly maxConcurrency?: number;
  /**
   * Invocation timeout; the queue's visibility timeout must be at least six times this.
   * @default Duration.seconds(DEFAULT_FANOUT_TIMEOUT_SECONDS): a batch is one Firehose call plus a DynamoDB write and the
   * handlers per event; handlers that call slow APIs need more.
   */
  readonly timeout?: Duration;
  /**
   * Memory in MB.
   * @default 512: the work per batch is gzip of payloads and network waits, not heavy CPU
   */
  readonly memorySize?: number;
  /**
   * The example handlers.
   * @default none: `HANDLERS_CONFIG` unset, every example handler off
   */
  readonly handlers?: FanoutHandlersProps;
}

/**
 * The fan-out Lambda (`lambda/fanout/index.ts`), triggered by the queue with partial batch
 * responses: fetches claim-checked and spilled bodies from the inbox, archives each batch to
 * Firehose, stores each event once, runs the handlers.
 */
export class FanoutFunction extends PipelineFunction {
  /** The SQS event source mapping. */
  readonly eventSource: lambda.EventSourceMapping;

  constructor(scope: Construct, id: string, props: FanoutFunctionProps) {
    super(scope, id, props, {
      entry: 'lambda/fanout/index.ts',
      description: 'socialplus-webhooks fan-out: archives, stores and dispatches queued events',
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(DEFAULT_FANOUT_TIMEOUT_SECONDS),
      invocation:
        "its SQS event source mapping invokes the fan-out synchronously, and records that keep failing go to the event queue's dead-letter queue",
      // Off Social Plus's request path (SQS invokes it), so its cold start can pay for readable
      // stack traces, which matter most here: it runs the user's own handlers.
      enableSourceMaps: true,
    });

    props.eventStore.bindWriter(this);
    props.archive.bindRecordWriter(this);
    this.function.addEnvironment(ENV.EVENT_RETENTION_DAYS, String(props.eventRetentionDays));
    props.inbox.bindProcessor(this);

    const h = props.handlers;
    if (h !== undefined) {
      this.function.addEnvironment(ENV.HANDLERS_CONFIG, h.config);
      h.resources?.bindHandlers(this);
    }
    this.assertEnvironmentFits(this.function);

    // The mapping is built here rather than with SqsEventSource so its construct id (and logical id)
    // does not depend on the queue's, and the consume grant sits next to it.
    props.queue.grantConsumeMessages(this.function);
    const window = props.maxBatchingWindow ?? Duration.seconds(DEFAULT_FANOUT_MAX_BATCHING_WINDOW_SECONDS);
    this.eventSource = new lambda.EventSourceMapping(this, 'EventSource', {
      target: this.function,
      eventSourceArn: props.queue.queueArn,
      batchSize: props.batchSize ?? DEFAULT_FANOUT_BATCH_SIZE,
      maxBatchingWindow: window.toSeconds() > 0 ? window : undefined,
      maxConcurrency: props.maxConcurrency ?? DEFAULT_FANOUT_MAX_CONCURRENCY,
      reportBatchItemFailures: true,
    });
    // Lambda starts polling only once the role may read the queue.
    this.eventSource.node.addDependency(this.role);
    Validations.of(this.eventSource.node.defaultChild as lambda.CfnEventSourceMapping).acknowledge({
      id: 'Serverless-LambdaEventSourceMappingDestination',
      reason:
        "Lambda supports no on-failure destination for SQS event sources; a record that keeps failing goes to the event queue's " +
        'dead-letter queue through its redrive policy after maxReceiveCount receives (partial batch responses are on).',
    });
  }

  /**
   * Fails synthesis, as a configuration error, when the environment would exceed Lambda's 4 KB:
   * the deploy would fail much later, after the other resources were created. Deploy-time
   * references count as {@link referenceLengthEstimate}.
   */
  private assertEnvironmentFits(fn: lambda.Function): void {
    const stack = Stack.of(this);
    const resolved = stack.resolve((fn.node.defaultChild as lambda.CfnFunction).environment) as { variables?: Record<string, unknown> } | undefined;
    const variables = resolved?.variables ?? {};
    const estimate = referenceLengthEstimate(stack.stackName);
    let total = 0;
    for (const [key, value] of Object.entries(variables)) {
      total += Buffer.byteLength(key) + (typeof value === 'string' && !Token.isUnresolved(value) ? Buffer.byteLength(value) : estimate);
    }
    if (total <= LAMBDA_ENVIRONMENT_LIMIT_BYTES) return;
    const config = typeof variables[ENV.HANDLERS_CONFIG] === 'string' ? Buffer.byteLength(variables[ENV.HANDLERS_CONFIG] as string) : 0;
    throw new ConfigError([
      `handlers: the fan-out's environment would be about ${total} bytes, and Lambda allows ${LAMBDA_ENVIRONMENT_LIMIT_BYTES} ` +
        `(keys and values together); ${ENV.HANDLERS_CONFIG}, the handlers configuration, takes ${config} of them. ` +
        `Shorten it by about ${total - LAMBDA_ENVIRONMENT_LIMIT_BYTES} bytes (keywordFilter.words is usually the long part).`,
    ]);
  }
}
