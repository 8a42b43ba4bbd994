import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { InvalidArgumentError, type Command } from 'commander';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { LocalDirInUseError } from '../../local/dev-lock.js';
import { LOCAL_DIR_ENV } from '../../local/paths.js';
import { LocalModeUnreachableError, NoLocalStateError, openLocalQueue } from '../../local/queue-access.js';
import { awsClientConfig, DEFAULT_STACK_NAME, readStackOutputs, rejectAwsOnlyFlags, requireOutput, type AwsTargetOptions } from '../aws-stack.js';
import { CliError } from '../errors.js';
import { queueSenderClient } from '../operator-role.js';
import { targetStackName } from '../stack-target.js';
import { createProgress } from '../progress.js';
import { redriveOnAws } from '../redrive-aws.js';
import type { SdkClients } from '../sdk-clients.js';

interface RedriveOptions extends AwsTargetOptions {
  readonly dir?: string;
  readonly queueUrl?: string;
  readonly dlqUrl?: string;
  readonly rate?: number;
  readonly wait: boolean;
}

/** SDK clients of `--aws`, replaceable in tests. */
export type RedriveClients = SdkClients<'sqs' | 'cloudFormation'>;

/** Registers `redrive`: moves the dead-letter queue back to the queue, locally or on AWS. */
export function registerRedrive(program: Command): void {
  program
    .command('redrive')
    .description(
      'Move every message of the dead-letter queue back to the queue, so the fan-out tries them again (local mode, or the deployed stack with --aws).',
    )
    .option('--dir <path>', `local mode's folder (default: $${LOCAL_DIR_ENV}, else .local)`)
    .option('--aws', "redrive the deployed stack's DLQ with an SQS message move task")
    .option('--stack <name>', `with --aws: the stack to read the queues from (default ${DEFAULT_STACK_NAME})`)
    .option('--region <region>', "with --aws: the stack's region (default: the AWS SDK's, e.g. AWS_REGION)")
    .option('--queue-url <url>', "with --aws: the event queue, instead of the stack's output")
    .option('--dlq-url <url>', "with --aws: the dead-letter queue, instead of the stack's output")
    .option('--rate <n>', 'with --aws: move at most N messages per second (1-500)', rateOption)
    .option('--no-wait', 'with --aws: start the move task and return without following it')
    .addHelpText(
      'after',
      `
Locally: while local mode runs (npm start), the messages go back through it and are retried at
once; while it is stopped, they are put back in its queue files and retried when it starts.
Messages get fresh receive counts, so each is tried maxReceiveCount times again.
On AWS: SQS moves the messages itself (StartMessageMoveTask), keeping bodies and attributes; the
command follows the task with a progress bar (on a terminal) and prints the final count.
The event queue's policy admits no sender but the receiver and the stack's operator role
(output OperatorRoleArn), so the command assumes that role for SQS: you need sts:AssumeRole on it
and cloudformation:DescribeStacks; the role has the SQS permissions. With --queue-url and
--dlq-url, your own credentials are used instead.

Examples:
  $ socialplus-webhooks redrive
  $ socialplus-webhooks redrive --aws --region eu-west-1
  $ socialplus-webhooks redrive --aws --stack MyWebhooks --rate 50
`,
    )
    .action(async (opts: RedriveOptions) => {
      await runRedrive(opts);
    });
}

function rateOption(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || n < 1 || n > 500)
    throw new InvalidArgumentError(`--rate must be a whole number of messages per second from 1 to 500, got '${raw}'.`);
  return n;
}

/** Runs the command; `clients` replace the SDK's with `--aws` (tests). */
export async function runRedrive(opts: RedriveOptions, clients?: RedriveClients): Promise<void> {
  const out = (line: string) => process.stdout.write(`${line}\n`);
  if (!opts.aws) {
    rejectAwsOnlyFlags(opts, ['stack', 'region', 'queueUrl', 'dlqUrl', 'rate'], 'redrive');
    await redriveLocal(opts.dir ?? process.env[LOCAL_DIR_ENV], out);
    return;
  }
  if (opts.dir !== undefined) throw new CliError('--dir is for local mode; leave it out with --aws');
  if ((opts.queueUrl === undefined) !== (opts.dlqUrl === undefined))
    throw new CliError('give both --queue-url and --dlq-url, or neither (then they are read from the stack)');

  const stackName = targetStackName(opts.stack);
  let queueUrl = opts.queueUrl;
  let dlqUrl = opts.dlqUrl;
  let operatorRoleArn: string | undefined;
  if (queueUrl === undefined || dlqUrl === undefined) {
    const outputs = await readStackOutputs(clients?.cloudFormation ?? new CloudFormationClient(awsClientConfig(opts)), stackName, {
      instead: '--queue-url and --dlq-url',
    });
    queueUrl = requireOutput(outputs, STACK_OUTPUTS.queueUrl, stackName, '--queue-url and --dlq-url');
    dlqUrl = requireOutput(outputs, STACK_OUTPUTS.deadLetterQueueUrl, stackName, '--queue-url and --dlq-url');
    operatorRoleArn = outputs[STACK_OUTPUTS.operatorRoleArn];
  }
  // The queue admits only the receiver and the stack's operator role: moving messages into it is sending.
  const sqs = clients?.sqs ?? (await queueSenderClient(opts, operatorRoleArn));
  const progress = createProgress('redriving');
  let result;
  try {
    result = await redriveOnAws(sqs, {
      queueUrl,
      deadLetterQueueUrl: dlqUrl,
      ...(opts.rate !== undefined ? { maxPerSecond: opts.rate } : {}),
      wait: opts.wait,
      onProgress: (moved, total) => progress.update(moved, total),
    });
  } finally {
    progress.finish();
  }
  const { sourceArn, destinationArn } = result;
  switch (result.status) {
    case 'EMPTY':
      out(`the dead-letter queue ${sourceArn} is empty; nothing to move`);
      return;
    case 'STARTED':
      out(
        `${result.followedExisting ? 'a message move task is already running' : 'started a message move task'} from ${sourceArn} to ${destinationArn}` +
          `${result.toMove !== undefined ? ` (about ${result.toMove} messages)` : ''}; task handle ${result.taskHandle ?? 'unknown'}`,
      );
      return;
    case 'COMPLETED':
      out(
        `moved ${result.moved} message${result.moved === 1 ? '' : 's'} from ${sourceArn} back to ${destinationArn}${result.followedExisting ? ' (a move task that was already running)' : ''}`,
      );
      return;
    default:
      throw new CliError(
        `the message move task ${result.status === 'FAILED' ? 'failed' : 'was cancelled'} after moving ${result.moved} message${result.moved === 1 ? '' : 's'}${result.failureReason ? `: ${result.failureReason}` : ''}; run redrive --aws again to move the rest`,
      );
  }
}

async function redriveLocal(dir: string | undefined, out: (line: string) => void): Promise<void> {
  if (dir !== undefined && dir.trim() === '') throw new CliError("--dir is empty: give local mode's folder");
  let access;
  try {
    access = await openLocalQueue(dir);
  } catch (err) {
    if (err instanceof NoLocalStateError || err instanceof LocalDirInUseError) throw new CliError(err.message);
    throw err;
  }
  try {
    const moved = await access.redrive();
    if (moved === 0) {
      out('the local dead-letter queue is empty; nothing to move');
      return;
    }
    const noun = `message${moved === 1 ? '' : 's'}`;
    out(
      access.via === 'dev'
        ? `moved ${moved} ${noun} from the local dead-letter queue back to the queue of local mode (process ${access.pid}); the fan-out is retrying them`
        : `moved ${moved} ${noun} from the local dead-letter queue back to the queue; local mode is not running: they are retried when it starts (npm start)`,
    );
  } catch (err) {
    if (err instanceof LocalModeUnreachableError) throw new CliError(err.message);
    throw err;
  } finally {
    await access.close();
  }
}
