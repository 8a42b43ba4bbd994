import { Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ENV } from '../../lambda/common/env.js';
import { DEFAULT_SIGNATURE_FORMS, type SignatureForm } from '../../lambda/core/signature.js';
import type { Inbox } from './inbox.js';
import { PipelineFunction, type PipelineFunctionProps } from './pipeline-function.js';
import type { IWebhookQueue } from './queue.js';
import type { WebhookSecrets } from './secrets.js';
import { DEFAULT_RECEIVER_MEMORY_MIB } from '../../lambda/common/defaults.js';
import { DEFAULT_RECEIVER_DEADLINE_MS } from '../../lambda/core/deadline.js';

/** Props for {@link ReceiverFunction}. */
export interface ReceiverFunctionProps extends PipelineFunctionProps {
  /** The event queue the receiver buffers verified events in. */
  readonly queue: IWebhookQueue;
  /** The webhook sources' secrets. */
  readonly sourceSecrets: WebhookSecrets;
  /**
   * The archive bucket's inbox, which takes bodies too large for a queue message (`inbox/large/`)
   * and events the queue could not take in time (`inbox/spill/`).
   */
  readonly inbox: Inbox;
  /**
   * How long the receiver tries the queue, SDK retries included, before it spills to S3.
   * @default Duration.millis(DEFAULT_RECEIVER_DEADLINE_MS)
   */
  readonly deadline?: Duration;
  /**
   * Memory in MB.
   * @default DEFAULT_RECEIVER_MEMORY_MIB (1024): the answer is due within 1.5 s even on a cold start, and a cold start (module
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
   * The `x-amity-signature` forms accepted.
   * @default DEFAULT_SIGNATURE_FORMS (the MAC of the exact bytes, base64 or hex)
   */
  readonly signatureForms?: readonly SignatureForm[];
}

/**
 * The receiver Lambda (`lambda/receiver/index.ts`): verifies `x-amity-signature` and buffers the
 * event in the queue, or in the archive bucket's inbox when the body is too large for a message or
 * the queue fails. It may send to the queue, read exactly the sources' secrets and put objects
 * under `inbox/large/` and `inbox/spill/`, nothing else.
 */
export class ReceiverFunction extends PipelineFunction {
  constructor(scope: Construct, id: string, props: ReceiverFunctionProps) {
    const timeout = props.timeout ?? Duration.seconds(3);
    const deadlineMs = (props.deadline ?? Duration.millis(DEFAULT_RECEIVER_DEADLINE_MS)).toMilliseconds();
    if (!Number.isInteger(deadlineMs) || deadlineMs <= 0 || deadlineMs >= timeout.toMilliseconds()) {
      throw new Error(
        `ReceiverFunction deadline is ${deadlineMs} ms; it must be a whole number of milliseconds above 0 and below the function timeout (${timeout.toMilliseconds()} ms)`,
      );
    }
    super(scope, id, props, {
      entry: 'lambda/receiver/index.ts',
      description: 'socialplus-webhooks receiver: verifies Social Plus webhooks and queues them',
      memorySize: props.memorySize ?? DEFAULT_RECEIVER_MEMORY_MIB,
      timeout,
      invocation: 'API Gateway invokes the receiver synchronously (Lambda proxy integration) and Social Plus sees any failure as a non-200 answer',
      // Its cold start is on Social Plus's request path (docs/architecture.md §10), and --enable-source-maps adds
      // about 5 ms (bench/cold-start.ts) to it; it logs its errors by message, not stack trace, so
      // its asset ships no source maps at all.
      enableSourceMaps: false,
    });

    props.queue.bindSender(this);
    props.sourceSecrets.bindReader(this);
    props.inbox.bindWriter(this);

    // No grant: the deadline only bounds the receiver's own work.
    this.function.addEnvironment(ENV.RECEIVER_DEADLINE_MS, String(deadlineMs));
    // No grant: which forms of the one MAC are accepted.
    this.function.addEnvironment(ENV.SIGNATURE_FORMS, (props.signatureForms ?? DEFAULT_SIGNATURE_FORMS).join(','));
  }
}
