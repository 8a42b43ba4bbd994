/**
 * `socialplus-webhooks erase --user <userId>`: removes one user's events from every copy the
 * pipeline keeps (docs/privacy.md): the event store, the example handlers' state, the archive
 * (objects rewritten without the user's lines), the dead-letter queue, and local mode's own files.
 * Locally on local mode's folder (stopped); with `--aws` on the deployed stack. Resumable and
 * idempotent; `--dry-run` only says what it would remove; the receipt goes under `erasures/`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { CliError } from '../errors.js';
import { dayRange, openAwsErasureTarget } from '../erase/aws.js';
import { openLocalErasureTarget } from '../erase/local.js';
import { runErasure, type ErasureOutcome } from '../erase/run.js';
import type { ErasureTarget } from '../erase/target.js';

interface EraseOptions {
  readonly user?: string;
  readonly aws?: boolean;
  readonly dryRun?: boolean;
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

/** Registers `erase`. */
export function registerErase(program: Command): void {
  program
    .command('erase')
    .description("removes one user's events from every copy the pipeline keeps (store, handler state, archive, DLQ) and writes a receipt")
    .option('--user <userId>', 'the Social Plus user id, exactly as the events carry it')
    .option('--dry-run', 'only say what would be removed')
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
Events that arrive for the user after the erasure are not affected. A run that stops half way
is finished by running the same command again.`,
    )
    .action(async (opts: EraseOptions) => {
      const userId = checkEraseOptions(opts);
      const target = await openTarget(opts);
      try {
        const outcome = await runErasure(target, {
          userId,
          dryRun: opts.dryRun ?? false,
          progress: (line) => process.stderr.write(`erase: ${line}\n`),
          ...(toolVersion() ? { toolVersion: toolVersion() as string } : {}),
        });
        process.stdout.write(opts.json ? `${JSON.stringify(outcome, null, 2)}\n` : `${formatOutcome(outcome, target.description)}\n`);
      } finally {
        await target.close();
      }
    });
}
