import { existsSync, statSync } from 'node:fs';
import { relative } from 'node:path';
import type { Command } from 'commander';
import { METRICS_NAMESPACE } from '../../lambda/common/metrics-contract.js';
import { describeSignatureSplit } from '../../lambda/core/signature-split.js';
import { localPaths } from '../../local/paths.js';
import { defaultAwsStatusClients, readAwsStatus, DEFAULT_STACK_NAME, type AwsQueueStatus, type AwsStatus } from '../aws-status.js';
import { CliError } from '../errors.js';
import { targetStackName } from '../stack-target.js';
import { readLocalStatus, type LocalStatus } from '../local-status.js';
import { formatAge } from '../output.js';

interface StatusOptions {
  readonly aws?: boolean;
  readonly json?: boolean;
  readonly dir?: string;
  readonly stack?: string;
  readonly region?: string;
  readonly queueUrl?: string;
  readonly dlqUrl?: string;
  readonly metricsNamespace?: string;
}

/** `socialplus-webhooks status`: queue depth, in flight, DLQ depth, oldest message age, events stored today (docs/architecture.md §9). */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show the queue (depth, in flight, oldest message age), the dead-letter queue and the events stored today, locally or with --aws')
    .option('--aws', "the deployed stack instead of local mode (SQS, CloudWatch; names from the stack's outputs)")
    .option('--json', 'print one JSON object on stdout')
    .option('--dir <path>', "local mode's folder (default: $SOCIALPLUS_LOCAL_DIR, else .local)")
    .option('--stack <name>', `with --aws: the stack's name (default ${DEFAULT_STACK_NAME})`)
    .option('--region <region>', "with --aws: the stack's region (default: AWS_REGION or your profile's)")
    .option('--queue-url <url>', "with --aws: the event queue's URL, instead of the stack's output")
    .option('--dlq-url <url>', "with --aws: the dead-letter queue's URL, instead of the stack's output")
    .option(
      '--metrics-namespace <ns>',
      `with --aws: the namespace of the functions' metrics, if the stack's metricsNamespace is not the default (${METRICS_NAMESPACE})`,
    )
    .addHelpText(
      'after',
      `
Local mode: read from the files under the folder, read-only, so it is safe while dev runs:
the queue's journal and dead-letter queue, and today's archive objects (distinct event ids in
dt=<today UTC>, with DuckDB). Lines still in the delivery stream's buffer are shown apart.
With --aws: SQS GetQueueAttributes for the queue and the DLQ, CloudWatch for the oldest message's
age (AWS/SQS ApproximateAgeOfOldestMessage) and for today's sum of the fan-out's Stored metric.

Examples:
  $ socialplus-webhooks status
  $ socialplus-webhooks status --aws --region eu-west-1 --json`,
    )
    .action(async (opts: StatusOptions) => {
      await runStatus(opts);
    });
}

async function runStatus(opts: StatusOptions): Promise<void> {
  let status: LocalStatus | AwsStatus;
  if (opts.aws) {
    if (opts.dir !== undefined) throw new CliError('--dir is for local mode; with --aws the stack is named by --stack');
    status = await readAwsStatus(defaultAwsStatusClients(opts.region), {
      stack: targetStackName(opts.stack),
      ...(opts.queueUrl !== undefined ? { queueUrl: opts.queueUrl } : {}),
      ...(opts.dlqUrl !== undefined ? { dlqUrl: opts.dlqUrl } : {}),
      ...(opts.metricsNamespace !== undefined ? { metricsNamespace: opts.metricsNamespace } : {}),
    });
  } else {
    const awsOnly = (['stack', 'region', 'queueUrl', 'dlqUrl', 'metricsNamespace'] as const).filter((k) => opts[k] !== undefined);
    if (awsOnly.length > 0) throw new CliError(`${awsOnly.map(flagName).join(', ')} ${awsOnly.length === 1 ? 'needs' : 'need'} --aws`);
    const dir = opts.dir ?? localPaths().root;
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new CliError(
        `no local mode state in ${dir}: start it with 'npm start' (socialplus-webhooks dev), or pass --dir with the folder dev used`,
      );
    }
    status = await readLocalStatus(dir);
  }
  process.stdout.write(
    opts.json ? `${JSON.stringify(status)}\n` : `${(status.mode === 'local' ? renderLocal(status) : renderAws(status)).join('\n')}\n`,
  );
}

function flagName(key: 'stack' | 'region' | 'queueUrl' | 'dlqUrl' | 'metricsNamespace'): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** A path relative to the working directory when it lies under it, else absolute. */
function displayPath(path: string): string {
  const rel = relative(process.cwd(), path) || '.';
  return rel.startsWith('..') ? path : rel;
}

/** Human lines for local mode. */
export function renderLocal(s: LocalStatus): string[] {
  const shown = displayPath(s.dir);
  const q = s.queue;
  const received =
    q.inFlight !== null && q.waitingToRetry !== null
      ? `, ${q.inFlight} in flight, ${q.waitingToRetry} waiting to retry`
      : q.received === 0
        ? ''
        : `, ${q.received} received (${s.dev.running ? 'in flight or waiting to retry' : 'delivered again when dev starts'})`;
  return [
    `local mode   ${shown} — ${s.dev.running ? `dev running (process ${s.dev.pid})` : 'dev not running'}`,
    `queue        ${plural(q.depth, 'message')}${q.depth === 0 ? '' : `: ${q.waiting} waiting${received}; oldest ${formatAge(q.oldestAgeSeconds)}`}`,
    `dead-letter  ${plural(s.deadLetterQueue.depth, 'message')}${s.deadLetterQueue.depth === 0 ? '' : `; oldest accepted ${formatAge(s.deadLetterQueue.oldestAgeSeconds)} ago — move them back with 'socialplus-webhooks redrive'`}`,
    `today        ${plural(s.today.storedEvents, 'event')} stored on ${s.today.date} (UTC), counted in the archive${s.today.bufferedArchiveLines > 0 ? `; ${plural(s.today.bufferedArchiveLines, 'line')} still in the archive buffer` : ''}`,
    ...(s.dev.running ? [] : ['             (the store, dynalite, answers only while dev runs; the archive is read from disk)']),
    ...(s.signatures ? [`signatures   ${describeSignatureSplit(s.signatures)}, since dev started`] : []),
    ...(s.quarantinedObjects > 0
      ? [
          `quarantine   ${plural(s.quarantinedObjects, 'object')} a crash cut short, moved aside at a start: ${displayPath(localPaths(s.dir).s3Quarantine)}`,
        ]
      : []),
  ];
}

/** Human lines for the deployed stack. */
export function renderAws(s: AwsStatus): string[] {
  const queue = (q: AwsQueueStatus) =>
    `${q.visible} visible, ${q.inFlight} in flight${q.delayed > 0 ? `, ${q.delayed} delayed` : ''}; oldest ${q.oldestAgeSeconds === null ? 'unknown (no recent CloudWatch datapoint)' : formatAge(q.oldestAgeSeconds)}`;
  const dlqDepth = s.deadLetterQueue.visible + s.deadLetterQueue.inFlight + s.deadLetterQueue.delayed;
  return [
    `stack        ${s.stack ?? '(queues given explicitly)'}`,
    `queue        ${queue(s.queue)}`,
    `dead-letter  ${queue(s.deadLetterQueue)}${dlqDepth > 0 ? " — move them back with 'socialplus-webhooks redrive --aws'" : ''}`,
    `today        ${plural(s.today.storedEvents, 'event')} stored on ${s.today.date} (UTC), from the fan-out's Stored metric`,
    `signatures   ${describeSignatureSplit(s.today.signatures)} today, from the receiver's metrics`,
  ];
}

function plural(n: number, word: string): string {
  return `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
}
