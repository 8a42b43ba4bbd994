import type { Command } from 'commander';
import { DEFAULT_STACK_NAME } from '../../lib/stack-name.js';
import { exitCodeOf } from '../doctor/check.js';
import { runDoctor, type DoctorOptions } from '../doctor/doctor.js';
import { renderHuman, renderJson, summaryLine } from '../doctor/render.js';
import { CliError } from '../errors.js';

interface DoctorCommandOptions extends DoctorOptions {
  readonly json?: boolean;
}

/** Registers `doctor`: the preflight to run before the first deploy and whenever something looks wrong. */
export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'check this machine, and with --aws the AWS account and the deployed stack, before a deploy or when something looks wrong: one line per check, with the command that fixes each problem',
    )
    .option('--aws', 'also check the AWS account (credentials, CDK bootstrap, API Gateway, Lambda quota) and the deployed stack')
    .option('--json', 'print one JSON object on stdout: { checks: [{ id, title, status, detail, fix? }], summary }')
    .option('--stack <name>', `with --aws: the stack's name (default: cdk.json's stackName, else ${DEFAULT_STACK_NAME})`)
    .option('--region <region>', "with --aws: the region to check (default: AWS_REGION or your profile's)")
    .option('--toolkit-stack-name <name>', 'with --aws: the CDK toolkit stack, if bootstrapped under another name (default CDKToolkit)')
    .addHelpText(
      'after',
      `
Each check is pass, warn, fail or skip; under each warning and failure a "fix:" line gives the
command that fixes it. The exit code is 1 when any check fails, else 0 (warnings included).

Always (no AWS account needed):
  Node.js version     20.19 or later
  esbuild             installed and runnable (the functions are bundled locally, never in Docker)
  configuration       cdk.json's context in this folder, validated like npx cdk deploy does
                      (values you pass with -c at deploy time are not seen)
With --aws, the account (before the first deploy too):
  credentials         STS GetCallerIdentity: the account, the caller, the region
  CDK bootstrap       the CDKToolkit stack and its bootstrap version
  API Gateway         the account's CloudWatch role, its throttle against apiRateLimit/apiBurstLimit
  Lambda concurrency  the unreserved quota against fanoutMaxConcurrency (a new account may have 10)
With --aws, the deployed stack (skipped before the first deploy):
  stack status, each source's secret (still the placeholder?), the web ACL on the API stage,
  the alarm topic's subscriptions, the queue and the dead-letter queue, and which signature
  forms the receiver accepted (and refused) in the last 24 hours.
Secret values are read only to compare them with the placeholder, never printed.
Read-only: it needs sts:GetCallerIdentity, cloudformation:DescribeStacks, apigateway:GET on
/account, lambda:GetAccountSettings, secretsmanager:GetSecretValue, wafv2:GetWebACLForResource,
sns:ListSubscriptionsByTopic, sqs:GetQueueAttributes and cloudwatch:GetMetricData; a check it
may not read is a warning.

Examples:
  $ socialplus-webhooks doctor
  $ socialplus-webhooks doctor --aws
  $ socialplus-webhooks doctor --aws --region eu-central-1 --stack SocialPlusWebhooks-staging
  $ socialplus-webhooks doctor --aws --json | jq '.checks[] | select(.status == "fail")'`,
    )
    .action(async (opts: DoctorCommandOptions) => {
      await runDoctorCommand(opts);
    });
}

async function runDoctorCommand(opts: DoctorCommandOptions): Promise<void> {
  const result = await runDoctor(opts);
  process.stdout.write(opts.json ? `${renderJson(result)}\n` : `${renderHuman(result, { aws: opts.aws === true }).join('\n')}\n`);
  // Exit 1 without a stack trace; the report says what failed and how to fix it.
  if (exitCodeOf(result) !== 0) {
    const n = result.summary.fail;
    throw new CliError(
      `doctor: ${n} ${n === 1 ? 'check' : 'checks'} failed (${summaryLine(result)}); ${opts.json ? 'see the report on stdout' : 'see the fix: lines above'}`,
    );
  }
}
