/**
 * `socialplus-webhooks verify --aws`: the proof after a deploy. Thin: options are checked and turned
 * into a plan here; `cli/verify/` builds the marked events, runs the checks and renders the report.
 * Without --aws it refuses: local mode's store is held by its own process (`dev.json` publishes no
 * endpoint to read it through), and `send`, `status` and `query` already cover local mode.
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_SOURCE } from '../../lambda/core/sources.js';
import { awsClientConfig, DEFAULT_STACK_NAME } from '../aws-stack.js';
import { CliError } from '../errors.js';
import { readCdkJsonContext, targetStackName } from '../stack-target.js';
import { VERIFY_SAMPLE } from '../verify/events.js';
import { SOCIALPLUS_TIMEOUT_MS } from '../verify/latency.js';
import { renderReport } from '../verify/report.js';
import { ARCHIVE_MARGIN_MS, DEFAULT_STORE_TIMEOUT_MS, runVerify, type VerifyClients } from '../verify/runner.js';

/** Events posted when `--count` is not given. */
export const DEFAULT_VERIFY_COUNT = 5;
/** Most events one run posts: enough for a p99, few enough to stay far from any throttle. */
export const MAX_VERIFY_COUNT = 100;
/** Longest `--timeout`. */
const MAX_TIMEOUT_SECONDS = 3600;
/** Firehose's buffer interval when cdk.json does not set `archiveBufferSeconds` (the stack's default). */
const DEFAULT_ARCHIVE_BUFFER_SECONDS = 60;

interface VerifyOptions {
  readonly aws?: boolean;
  readonly source: string;
  readonly count: number;
  readonly json?: boolean;
  readonly waitArchive?: boolean;
  readonly timeout?: number;
  readonly stack?: string;
  readonly region?: string;
}

function wholeNumber(flag: string, min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${flag} must be a whole number from ${min} to ${max}, got '${raw}'.`);
    }
    return n;
  };
}

/** `socialplus-webhooks verify --aws`: proves a deployed stack end to end and measures its answer time. */
export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description(
      "prove a deployed stack end to end: post signed, marked events to its URL and follow each into the event table (and the archive); measures the answer time against Social Plus's 1.5 s timeout",
    )
    .option('--aws', 'verify the deployed stack (required: local mode is checked with send, status and query)')
    .option('--source <name>', 'the webhook source whose URL and secret to use', DEFAULT_SOURCE)
    .option(
      '--count <n>',
      `events to post, one after another (1-${MAX_VERIFY_COUNT})`,
      wholeNumber('--count', 1, MAX_VERIFY_COUNT),
      DEFAULT_VERIFY_COUNT,
    )
    .option('--json', 'print one JSON object (the report) on stdout')
    .option('--wait-archive', "also wait for each event's line in the S3 archive (Firehose writes after archiveBufferSeconds, 60 by default)")
    .option(
      '--timeout <seconds>',
      `how long to wait for the event table, and for the archive with --wait-archive (default ${DEFAULT_STORE_TIMEOUT_MS / 1000} s; archive: archiveBufferSeconds + ${ARCHIVE_MARGIN_MS / 1000} s)`,
      wholeNumber('--timeout', 1, MAX_TIMEOUT_SECONDS),
    )
    .option('--stack <name>', `the stack's name (default: cdk.json's stackName, else ${DEFAULT_STACK_NAME})`)
    .option('--region <region>', "the stack's region (default: AWS_REGION or your profile's)")
    .addHelpText(
      'after',
      `
What it does: reads the stack's outputs (WebhookUrl<Source>, SecretArn<Source>, EventTableName,
ArchiveBucketName) and the source's secret (never printed), signs --count copies of the
${VERIFY_SAMPLE} sample like Social Plus does, each with a top-level
"socialplusWebhooksVerification": {"runId": …, "seq": …}, posts them one after another, then
polls the event table until each item appears (flag verification, no handler run) and, with
--wait-archive, reads the new archive objects until each line is found.

The marker makes handlers skip these events (they are stored and archived like any other); leave
them out of queries with: where not contains(flags, 'verification')

Latency is measured here, per request: the first one usually includes a cold start; p99 of the
others is what most deliveries see. Social Plus gives up after ${SOCIALPLUS_TIMEOUT_MS / 1000} s.
Exit code 1 when any step failed; each problem says what to do (a 403 from the firewall gives the
allowedCidrs deploy command with your public IP, looked up at https://checkip.amazonaws.com).

Examples:
  $ socialplus-webhooks verify --aws
  $ socialplus-webhooks verify --aws --count 20 --wait-archive
  $ socialplus-webhooks verify --aws --source eu --stack SocialPlusWebhooks-staging --region eu-central-1 --json`,
    )
    .action(async (opts: VerifyOptions) => {
      await runVerifyCommand(opts);
    });
}

/** The secret ARN cdk.json gives a source configured with `secretArn` (the stack has no SecretArn output for it). */
export function configuredSecretArn(context: Readonly<Record<string, unknown>>, source: string): string | undefined {
  let sources: unknown = context.sources;
  if (typeof sources === 'string') {
    try {
      sources = JSON.parse(sources) as unknown;
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(sources)) return undefined;
  const entry = sources.find(
    (s): s is { name: string; secretArn?: unknown } => typeof s === 'object' && s !== null && (s as { name?: unknown }).name === source,
  );
  return typeof entry?.secretArn === 'string' ? entry.secretArn : undefined;
}

/** cdk.json's `archiveBufferSeconds` when it is a valid value, else the stack's default. */
export function configuredArchiveBufferSeconds(context: Readonly<Record<string, unknown>>): number {
  const raw = context.archiveBufferSeconds;
  const n = typeof raw === 'string' ? Number(raw) : raw;
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 900 ? n : DEFAULT_ARCHIVE_BUFFER_SECONDS;
}

async function runVerifyCommand(opts: VerifyOptions): Promise<void> {
  if (!opts.aws) {
    throw new CliError(
      'verify checks a deployed stack: run it with --aws. For local mode, while npm start runs: ' +
        'socialplus-webhooks send message.didCreate, then status and query (local mode keeps its store to itself, so no other process can follow an event into it)',
    );
  }
  const stack = targetStackName(opts.stack);
  const context = readCdkJsonContext();
  const timeoutMs = opts.timeout !== undefined ? opts.timeout * 1000 : undefined;
  const archiveTimeoutMs = opts.waitArchive ? (timeoutMs ?? configuredArchiveBufferSeconds(context) * 1000 + ARCHIVE_MARGIN_MS) : undefined;
  if (opts.waitArchive && timeoutMs !== undefined && timeoutMs < configuredArchiveBufferSeconds(context) * 1000) {
    process.stderr.write(
      `note: --timeout ${opts.timeout} is shorter than the archive's buffer (${configuredArchiveBufferSeconds(context)} s): the archive check may time out before Firehose writes\n`,
    );
  }
  const secretArn = configuredSecretArn(context, opts.source);

  const config = awsClientConfig(opts);
  const clients = {
    cloudFormation: new CloudFormationClient(config),
    secretsManager: new SecretsManagerClient(config),
    dynamodb: new DynamoDBClient(config),
    s3: new S3Client(config),
  } satisfies VerifyClients;
  const tty = !opts.json && process.stderr.isTTY === true;
  let drawn = false;
  try {
    const report = await runVerify(
      {
        stack,
        ...(opts.region ? { region: opts.region } : {}),
        source: opts.source,
        count: opts.count,
        storeTimeoutMs: timeoutMs ?? DEFAULT_STORE_TIMEOUT_MS,
        ...(archiveTimeoutMs !== undefined ? { archiveTimeoutMs } : {}),
        ...(secretArn !== undefined ? { secretArn } : {}),
      },
      {
        clients,
        ...(tty
          ? {
              onProgress: (note: string) => {
                drawn = true;
                process.stderr.write(`\r\x1b[K${note}`);
              },
            }
          : {}),
      },
    );
    if (drawn) process.stderr.write('\r\x1b[K');
    process.stdout.write(opts.json ? `${JSON.stringify(report)}\n` : renderReport(report));
    if (!report.ok) {
      throw new CliError(
        `verification failed: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}${opts.json ? ' (in "problems")' : ' (above)'}`,
      );
    }
  } finally {
    if (drawn) process.stderr.write('\r\x1b[K');
    for (const c of Object.values(clients)) c.destroy();
  }
}
