/**
 * `redrive --aws`: moves the stack's DLQ back to its queue with an SQS message move task
 * (`StartMessageMoveTask`), SQS's own redrive, which moves every message with its body and
 * attributes intact; then follows it (`ListMessageMoveTasks`) to a final count. A task already
 * running on the DLQ is followed rather than started again (SQS allows one at a time).
 */
import {
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { awsError } from './aws-errors.js';
import { CliError } from './errors.js';

export interface AwsRedriveOptions {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  /** Messages per second SQS moves at most (1-500); unset, as fast as it can. */
  readonly maxPerSecond?: number;
  /** Follow the task to its end; false returns once it started. @default true */
  readonly wait?: boolean;
  /** @default 2000 */
  readonly pollMs?: number;
  /** Called with the moved count and the total as the task reports them. */
  readonly onProgress?: (moved: number, total: number | undefined) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface AwsRedriveResult {
  /** `EMPTY`: nothing to move; `STARTED`: not followed (`wait: false`); else the task's final status. */
  readonly status: 'EMPTY' | 'STARTED' | 'COMPLETED' | 'CANCELLED' | 'FAILED';
  readonly moved: number;
  readonly toMove?: number;
  readonly taskHandle?: string;
  readonly failureReason?: string;
  /** True when a task that was already running was followed instead of a new one. */
  readonly followedExisting: boolean;
  readonly sourceArn: string;
  readonly destinationArn: string;
}

type Sqs = Pick<SQSClient, 'send'>;

/** Starts (or follows) the move task and, with `wait`, returns its outcome. */
export async function redriveOnAws(sqs: Sqs, opts: AwsRedriveOptions): Promise<AwsRedriveResult> {
  if (opts.maxPerSecond !== undefined && !(Number.isInteger(opts.maxPerSecond) && opts.maxPerSecond >= 1 && opts.maxPerSecond <= 500)) {
    throw new CliError(`--rate must be a whole number of messages per second from 1 to 500, got ${opts.maxPerSecond}`);
  }
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const dlq = await queueAttributes(sqs, opts.deadLetterQueueUrl, 'dead-letter queue');
  const queue = await queueAttributes(sqs, opts.queueUrl, 'event queue');
  const base = { sourceArn: dlq.arn, destinationArn: queue.arn };

  let task = await latestTask(sqs, dlq.arn);
  let followedExisting = task?.Status === 'RUNNING';
  let handle = followedExisting ? task?.TaskHandle : undefined;
  if (!followedExisting) {
    if (dlq.approximateMessages === 0) return { ...base, status: 'EMPTY', moved: 0, followedExisting: false };
    try {
      const out = await sqs.send(
        new StartMessageMoveTaskCommand({
          SourceArn: dlq.arn,
          DestinationArn: queue.arn,
          ...(opts.maxPerSecond !== undefined ? { MaxNumberOfMessagesPerSecond: opts.maxPerSecond } : {}),
        }),
      );
      handle = out.TaskHandle;
    } catch (err) {
      throw awsError(err, `start a message move task from ${dlq.arn} to ${queue.arn}`);
    }
    followedExisting = false;
    if (opts.wait === false)
      return { ...base, status: 'STARTED', moved: 0, toMove: dlq.approximateMessages, ...(handle ? { taskHandle: handle } : {}), followedExisting };
  } else if (opts.wait === false) {
    return {
      ...base,
      status: 'STARTED',
      moved: task?.ApproximateNumberOfMessagesMoved ?? 0,
      ...(handle ? { taskHandle: handle } : {}),
      followedExisting,
    };
  }

  for (;;) {
    task = await latestTask(sqs, dlq.arn, handle);
    if (!task) throw new CliError(`the message move task on ${dlq.arn} is not listed by SQS; check it in the SQS console`);
    const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
    const total = task.ApproximateNumberOfMessagesToMove;
    opts.onProgress?.(moved, total);
    const status = task.Status;
    if (status === 'COMPLETED' || status === 'CANCELLED' || status === 'FAILED') {
      return {
        ...base,
        status,
        moved,
        ...(total !== undefined ? { toMove: total } : {}),
        ...(handle ? { taskHandle: handle } : {}),
        ...(task.FailureReason ? { failureReason: task.FailureReason } : {}),
        followedExisting,
      };
    }
    await sleep(opts.pollMs ?? 2000);
  }
}

async function queueAttributes(sqs: Sqs, url: string, what: string): Promise<{ arn: string; approximateMessages: number }> {
  let attrs;
  try {
    attrs =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages'] }))).Attributes ??
      {};
  } catch (err) {
    throw awsError(err, `read the ${what} ${url}`);
  }
  if (!attrs.QueueArn) throw new CliError(`SQS gave no ARN for the ${what} ${url}`);
  return { arn: attrs.QueueArn, approximateMessages: Number(attrs.ApproximateNumberOfMessages ?? 0) };
}

/** The task with this handle, or the most recent one on the queue. */
async function latestTask(sqs: Sqs, sourceArn: string, handle?: string): Promise<ListMessageMoveTasksResultEntry | undefined> {
  let results;
  try {
    results = (await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }))).Results ?? [];
  } catch (err) {
    throw awsError(err, `list the message move tasks of ${sourceArn}`);
  }
  return handle ? (results.find((r) => r.TaskHandle === handle) ?? results[0]) : results[0];
}
