/**
 * `socialplus-webhooks erase --user <userId>`: removes one user's events from every copy the
 * pipeline keeps (docs/privacy.md): the event store, the example handlers' state, the archive
 * (objects rewritten without the user's lines), the dead-letter queue, and local mode's own files.
 * Locally on local mode's folder (stopped); with `--aws` on the deployed stack. Resumable and
 * idempotent; `--dry-run` only says what it would remove; the receipt goes under `erasures/`.
 * `--also-future` also puts the user (by id hash) on the suppression list the fan-out honours.
 */
import { readFileSync } from 'node:fs';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import type { Command } from 'commander';
import { addToS3SuppressionList, S3SuppressionList } from '../../lambda/adapters/s3-suppression-list.js';
import { SUPPRESSION_LIST_KEY } from '../../lambda/core/privacy/suppression.js';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { awsError } from '../aws-errors.js';
import { awsClientConfig, readStackOutputs, requireOutput } from '../aws-stack.js';
import { CliError } from '../errors.js';
import { dayRange, openAwsErasureTarget } from '../erase/aws.js';
import { openLocalErasureTarget } from '../erase/local.js';
import { receiptStoreSuppressionList, runErasure, type ErasureOutcome, type SuppressionListUpdate } from '../erase/run.js';
import type { ErasureTarget } from '../erase/target.js';
import { targetStackName } from '../stack-target.js';

interface EraseOptions {
  readonly user?: string;
  readonly aws?: boolean;
  readonly dryRun?: boolean;
  readonly alsoFuture?: boolean;
  readonly json?: boolean;
  readonly dir?: string;
  readonly stack?: string;
  readonly region?: string;
  readonly from?: string;
  readonly to?: string;
}

/** Checks the flags before anything is opened; a CliError names the problem. */
export function checkEraseOptions(opts: EraseOptions): string {
  const user = opts.user;
  if (user === undefined || user.trim() === '') throw new CliError('erase needs --user <userId>: the Social Plus user id whose events to remove');
  if (user !== user.trim()) throw new CliError('--user has spaces around it: give the user id exactly as Social Plus sends it');
  dayRange(opts);
  if (!opts.aws) {
    const awsOnly = (['stack', 'region', 'from', 'to'] as const).filter((k) => opts[k] !== undefined);
    if (awsOnly.length > 0)
      throw new CliError(`${awsOnly.map((k) => `--${k}`).join(', ')} only apply with --aws (local mode's archive is read whole)`);
  } else if (opts.dir !== undefined) {
    throw new CliError("--dir names local mode's folder; with --aws the stack is named by --stack");
  }
  return user;
}

async function openTarget(opts: EraseOptions): Promise<ErasureTarget> {
  if (!opts.aws) return openLocalErasureTarget(opts.dir);
  return openAwsErasureTarget({
    ...(opts.stack ? { stack: opts.stack } : {}),
    ...(opts.region ? { region: opts.region } : {}),
    ...(opts.from ? { from: opts.from } : {}),
    ...(opts.to ? { to: opts.to } : {}),
  });
}

/**
 * The deployed stack's suppression list: read as the fan-out reads it, added to with a conditional
 * write (`If-Match`), so two operators adding users at once keep both. Its own clients, closed by
 * `close`; the bucket from the stack's outputs, as the target reads it.
 */
async function openAwsSuppressionList(opts: EraseOptions): Promise<{ list: SuppressionListUpdate; close: () => void }> {
  const config = awsClientConfig(opts);
  const cloudFormation = new CloudFormationClient(config);
  const s3 = new S3Client(config);
  const close = () => {
    cloudFormation.destroy();
    s3.destroy();
  };
  try {
    const stackName = targetStackName(opts.stack);
    const bucket = requireOutput(await readStackOutputs(cloudFormation, stackName), STACK_OUTPUTS.archiveBucket, stackName);
    const where = `s3://${bucket}/${SUPPRESSION_LIST_KEY}`;
    const list: SuppressionListUpdate = {
      async has(hash) {
        try {
          return (await new S3SuppressionList(s3, bucket).userIdHashes()).has(hash);
        } catch (err) {
          throw awsError(err, `read ${where} (s3:ListBucket, s3:GetObject)`);
        }
      },
      async add(hash) {
        try {
          return await addToS3SuppressionList(s3, bucket, hash);
        } catch (err) {
          throw awsError(err, `add the user to ${where} (s3:GetObject, s3:PutObject)`);
        }
      },
      where,
    };
    return { list, close };
  } catch (err) {
    close();
    throw err;
  }
}

function toolVersion(): string | undefined {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version;
}

/** The human-readable summary. */
export function formatOutcome(o: ErasureOutcome, where: string): string {
  const stores = Object.entries(o.dryRun ? o.counts : { ...o.units, ...o.counts });
  const total = Object.values(o.counts).reduce((a, b) => a + b, 0);
  const lines = [`user ${o.userIdHash.slice(0, 16)}… (id hash) in ${where}:`];
  if (o.dryRun) {
    lines.push(total === 0 ? '  nothing to remove' : '  would remove:');
    for (const [store, n] of stores) if (n > 0) lines.push(`    ${store}: ${n} record(s) in ${o.units[store] ?? 0} unit(s)`);
    return lines.join('\n');
  }
  if (o.receiptKey === undefined)
    return `${lines[0]}\n  nothing to remove: no store holds the user${o.resumed ? '' : ' (a second run finds nothing new)'}`;
  lines.push(`  removed${o.resumed ? ' (finishing an interrupted run)' : ''}:`);
  for (const [store, n] of Object.entries(o.counts)) lines.push(`    ${store}: ${n} record(s)`);
  lines.push(`  archive objects rewritten: ${o.objectsRewritten.length}, deleted: ${o.objectsDeleted.length}`);
  lines.push(`  receipt: ${o.receiptKey}`);
  return lines.join('\n');
}

/** The line `--also-future` adds to the summary. */
function suppressionLine(o: ErasureOutcome): string | undefined {
  switch (o.suppression) {
    case undefined:
      return undefined;
    case 'would-add':
      return '  suppression list: would add the user (their later events would be dropped)';
    case 'added':
      return '  suppression list: user added (their later events are dropped)';
    case 'already-listed':
      return '  suppression list: user already on it (their later events are dropped)';
  }
}

/** Registers `erase`. */
export function registerErase(program: Command): void {
  program
    .command('erase')
    .description("removes one user's events from every copy the pipeline keeps (store, handler state, archive, DLQ) and writes a receipt")
    .option('--user <userId>', 'the Social Plus user id, exactly as the events carry it')
    .option('--dry-run', 'only say what would be removed')
    .option('--also-future', "also put the user on the suppression list: the fan-out drops the user's later events (docs/privacy.md)")
    .option('--json', 'print exactly one JSON object on stdout')
    .option('--dir <path>', "local mode's folder (default: $SOCIALPLUS_LOCAL_DIR, else .local); local mode must be stopped")
    .option('--aws', 'the deployed stack instead of local mode')
    .option('--stack <name>', "with --aws: the stack's name")
    .option('--region <region>', "with --aws: the stack's region (default: AWS_REGION or your profile's)")
    .option('--from <YYYY-MM-DD>', "with --aws: the archive's first day to search (default: the whole archive)")
    .option('--to <YYYY-MM-DD>', "with --aws: the archive's last day to search (default: the whole archive)")
    .addHelpText(
      'after',
      `
Which fields identify a user, per event family, and what a receipt proves: docs/privacy.md.
Events that arrive for the user after the erasure are not affected, unless --also-future puts
the user on the suppression list. A run that stops half way is finished by running the same
command again.`,
    )
    .action(async (opts: EraseOptions) => {
      const userId = checkEraseOptions(opts);
      const target = await openTarget(opts);
      let closeList: (() => void) | undefined;
      try {
        let alsoFuture: SuppressionListUpdate | undefined;
        if (opts.alsoFuture && opts.aws) {
          const opened = await openAwsSuppressionList(opts);
          closeList = opened.close;
          alsoFuture = opened.list;
        } else if (opts.alsoFuture) {
          // Local mode's folder is held by erase: nobody else writes the list meanwhile.
          alsoFuture = receiptStoreSuppressionList(target.receipts);
        }
        const outcome = await runErasure(target, {
          userId,
          dryRun: opts.dryRun ?? false,
          progress: (line) => process.stderr.write(`erase: ${line}\n`),
          ...(toolVersion() ? { toolVersion: toolVersion() as string } : {}),
          ...(alsoFuture ? { alsoFuture } : {}),
        });
        const summary = [formatOutcome(outcome, target.description), suppressionLine(outcome)].filter((l) => l !== undefined).join('\n');
        process.stdout.write(opts.json ? `${JSON.stringify(outcome, null, 2)}\n` : `${summary}\n`);
      } finally {
        closeList?.();
        await target.close();
      }
    });
}
