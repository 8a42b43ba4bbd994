import { existsSync, statSync } from 'node:fs';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { LocalDirInUseError } from '../../local/dev-lock.js';
import { LOCAL_DIR_ENV, localPaths } from '../../local/paths.js';
import { LocalModeUnreachableError, NoLocalStateError, openLocalQueue } from '../../local/queue-access.js';
import { awsClientConfig, DEFAULT_STACK_NAME, readStackOutputs, rejectAwsOnlyFlags, requireOutput, type AwsTargetOptions } from '../aws-stack.js';
import { CliError } from '../errors.js';
import { queueSenderClient } from '../operator-role.js';
import { targetStackName } from '../stack-target.js';
import { createProgress } from '../progress.js';
import type { SdkClients } from '../sdk-clients.js';
import {
  checkPatterns,
  parseForce,
  parseTimeRange,
  partitionsFor,
  REPLAY_FORCE_ATTRIBUTE,
  replayRequestId,
  type ReplayEvent,
} from '../replay-plan.js';
import {
  localArchiveSource,
  localQueueTarget,
  runReplay,
  s3ArchiveSource,
  sqsTarget,
  type ReplaySource,
  type ReplaySummary,
  type ReplayTarget,
} from '../replay-run.js';

interface ReplayOptions extends AwsTargetOptions {
  readonly from: string;
  readonly to: string;
  readonly event?: string[];
  /** Handler names (comma-separated or repeated); `true` for a plain `--force`, which is refused. */
  readonly force?: boolean | string[];
  readonly dryRun?: boolean;
  readonly dir?: string;
  readonly bucket?: string;
  readonly queueUrl?: string;
}

/** SDK clients of `--aws`, replaceable in tests. */
export type ReplayClients = SdkClients<'s3' | 'sqs' | 'cloudFormation'>;

/** Registers `replay`: re-enqueues archived events of a time range, locally or on AWS. */
export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description(
      'Queue the archived events received in a time range again, so the fan-out stores and handles them again (local mode, or the deployed stack with --aws).',
    )
    .requiredOption('--from <time>', 'start, inclusive: a UTC day (2025-07-02) or an ISO time (2025-07-02T10:30:00Z; no zone means UTC)')
    .requiredOption('--to <time>', 'end: a UTC day (included whole) or an ISO time (excluded)')
    .option(
      '--event <pattern>',
      'only events matching the pattern, as handlers subscribe (message.didFlag, message.*, *), or the event with that id; repeatable',
      collect,
    )
    .option(
      '--force [handlers]',
      'run these handlers again even for events they already handled: comma-separated or repeated (--force auto-moderation); each message carries replayForce=<handlers>',
      collectForce,
    )
    .option('--dry-run', 'print what would be queued, queue nothing')
    .option('--dir <path>', `local mode's folder (default: $${LOCAL_DIR_ENV}, else .local)`)
    .option('--aws', "read the deployed stack's archive bucket and queue to its SQS queue")
    .option('--stack <name>', `with --aws: the stack to read the bucket and queue from (default ${DEFAULT_STACK_NAME})`)
    .option('--region <region>', "with --aws: the stack's region (default: the AWS SDK's, e.g. AWS_REGION)")
    .option('--bucket <name>', "with --aws: the archive bucket, instead of the stack's output")
    .option('--queue-url <url>', "with --aws: the event queue, instead of the stack's output")
    .addHelpText(
      'after',
      `
Each event is queued once (the archive may hold a line twice), with its original attributes
(event id, type, receive time, source) and a request id of replay-…; a body kept in S3 (archive
lines flagged payload-in-s3) travels as a claim check, as the receiver sent it. Lines are chosen by
received_at; archive partitions from the hour of --from to the hour after --to are read. Events
received in the last minutes may still be in the delivery stream's buffer, not yet in the archive.
The fan-out stores each event once and skips handlers that already succeeded for it, so a replay
re-runs only what failed or never ran; --force <handler,…> asks it to run the handlers named again
(their side effects too: name only those you mean). A plain --force, naming none, is refused.
Replayed events come from the archive: the fan-out adds no archive line for them.
Locally: while local mode runs the events are handled at once; while it is stopped they wait in its
queue. On AWS it needs s3:ListBucket and s3:GetObject on the bucket and cloudformation:DescribeStacks;
it sends through the stack's operator role (output OperatorRoleArn), the only sender besides the
receiver that the queue's policy admits, so you also need sts:AssumeRole on that role.

Examples:
  $ socialplus-webhooks replay --from 2025-07-02 --to 2025-07-02 --dry-run
  $ socialplus-webhooks replay --from 2025-07-02T10:00Z --to 2025-07-02T12:00Z --event 'message.*'
  $ socialplus-webhooks replay --from 2025-07-01 --to 2025-07-03 --event message.didFlag --force auto-moderation --aws
`,
    )
    .action(async (opts: ReplayOptions) => {
      await runReplayCommand(opts);
    });
}

/** Collects `--force` values; a plain `--force` among them is left for `parseForce` to refuse. */
function collectForce(value: string, previous: boolean | string[] | undefined): string[] {
  return [...(Array.isArray(previous) ? previous : []), value];
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Runs the command; `clients` replace the SDK's with `--aws`, and `sleep` the wait before the queue's
 * retries (tests).
 */
export async function runReplayCommand(opts: ReplayOptions, clients?: ReplayClients, sleep?: (ms: number) => Promise<void>): Promise<ReplaySummary> {
  const range = parseTimeRange(opts.from, opts.to);
  const patterns = opts.event ?? [];
  checkPatterns(patterns);
  const force = parseForce(opts.force);
  const out = (line: string) => process.stdout.write(`${line}\n`);
  const rules = { range, patterns, requestId: replayRequestId(), force, seen: new Set<string>() };

  let source: ReplaySource;
  let target: ReplayTarget | undefined;
  let local: ReturnType<typeof localQueueTarget> | undefined;
  if (opts.aws) {
    if (opts.dir !== undefined) throw new CliError('--dir is for local mode; leave it out with --aws');
    const stackName = targetStackName(opts.stack);
    let bucket = opts.bucket;
    let queueUrl = opts.queueUrl;
    let operatorRoleArn: string | undefined;
    if (bucket === undefined || (queueUrl === undefined && !opts.dryRun)) {
      const outputs = await readStackOutputs(clients?.cloudFormation ?? new CloudFormationClient(awsClientConfig(opts)), stackName);
      bucket ??= requireOutput(outputs, STACK_OUTPUTS.archiveBucket, stackName, '--bucket');
      if (!opts.dryRun && queueUrl === undefined) {
        queueUrl = requireOutput(outputs, STACK_OUTPUTS.queueUrl, stackName, '--queue-url');
        operatorRoleArn = outputs[STACK_OUTPUTS.operatorRoleArn];
      }
    }
    source = s3ArchiveSource(clients?.s3 ?? new S3Client(awsClientConfig(opts)), bucket);
    if (!opts.dryRun) {
      // The queue admits only the receiver and the stack's operator role.
      const sqs = clients?.sqs ?? (await queueSenderClient(opts, operatorRoleArn));
      target = sqsTarget(sqs, queueUrl as string, sleep);
    }
  } else {
    rejectAwsOnlyFlags(opts, ['stack', 'region', 'bucket', 'queueUrl'], 'replay');
    const dir = opts.dir ?? process.env[LOCAL_DIR_ENV];
    if (dir !== undefined && dir.trim() === '') throw new CliError("--dir is empty: give local mode's folder");
    const root = localPaths(dir).root;
    if (!(existsSync(root) && statSync(root).isDirectory())) throw new CliError(new NoLocalStateError(root).message);
    source = localArchiveSource(root);
    if (!opts.dryRun) target = local = localQueueTarget(() => openLocalQueue(root));
  }

  const progress = createProgress(opts.dryRun ? 'reading the archive' : 'replaying');
  const listed = (e: ReplayEvent, claimCheckKey?: string) =>
    out(`${e.receivedAt}  ${e.eventId}  ${e.eventType}  ${e.source}${claimCheckKey ? `  (claim check ${claimCheckKey})` : ''}`);
  let summary: ReplaySummary;
  try {
    summary = await runReplay({
      source,
      ...(target ? { target } : {}),
      rules,
      partitions: partitionsFor(range),
      ...(opts.dryRun ? { onEvent: listed } : {}),
      onProgress: (read, total) => progress.update(read, total),
    });
  } catch (err) {
    if (err instanceof NoLocalStateError || err instanceof LocalDirInUseError || err instanceof LocalModeUnreachableError)
      throw new CliError(err.message);
    throw err;
  } finally {
    progress.finish();
    await target?.close();
  }

  const span = `${range.from.toISOString()} to ${range.to.toISOString()}`;
  if (summary.objects === 0) {
    out(`no archive objects for ${span} in ${source.description}; nothing to replay`);
    return summary;
  }
  const events = `${summary.sent} event${summary.sent === 1 ? '' : 's'}`;
  const where = opts.aws ? `to ${target?.description ?? 'the queue'}` : localWhere(local);
  out(
    opts.dryRun
      ? `would replay ${events} received ${span} from ${source.description} (${details(summary)})`
      : `replayed ${events} received ${span} from ${source.description} ${where} (${details(summary)})`,
  );
  if (!opts.dryRun && summary.sent > 0) {
    out(
      force.length > 0
        ? `--force: each message carries ${REPLAY_FORCE_ATTRIBUTE}=${force.join(',')}, asking the fan-out to run ${force.join(', ')} again where subscribed, even where already succeeded; other handlers only run where they have not succeeded`
        : 'handlers that already succeeded for an event are skipped by the fan-out; add --force <handler,…> to run those named again',
    );
  }
  return summary;
}

function localWhere(local: ReturnType<typeof localQueueTarget> | undefined): string {
  const access = local?.access();
  if (!access) return 'to the local queue';
  return access.via === 'dev'
    ? `to the queue of local mode (process ${access.pid})`
    : 'to the local queue; local mode is not running: they are handled when it starts (npm start)';
}

function details(s: ReplaySummary): string {
  const parts = [`${s.lines} archive line${s.lines === 1 ? '' : 's'} in ${s.objects} object${s.objects === 1 ? '' : 's'}`];
  if (s.claimChecks > 0) parts.push(`${s.claimChecks} as claim checks`);
  const skip: Array<[number, string]> = [
    [s.skipped.duplicate, 'duplicate lines (the archive is at-least-once)'],
    [s.skipped.filtered, 'not matching --event'],
    [s.skipped['out-of-range'], 'received outside the range'],
    [s.skipped.undecodable, 'undecodable records (kept only as received)'],
    [s.skipped.corrupt, 'damaged lines'],
    [s.skipped['too-large'], 'too large for a queue message'],
    [s.skipped['claim-check-missing'], 'whose S3 body is missing'],
  ];
  for (const [n, what] of skip) if (n > 0) parts.push(`skipped ${n} ${what}`);
  return parts.join('; ');
}
