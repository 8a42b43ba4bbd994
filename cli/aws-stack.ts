/**
 * What the CLI's `--aws` modes need from a deployed stack: its outputs (CloudFormation
 * `DescribeStacks`), and AWS errors turned into messages that say what to do.
 */
import { DEFAULT_STACK_NAME } from '../lib/stack-name.js';
import { DescribeStacksCommand, type CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CliError } from './errors.js';

/** The stack's name unless `--stack` says otherwise (`lib/stack-name.ts`, which loads no CDK). */
export { DEFAULT_STACK_NAME };

/** Output keys of the stack the CLI reads (`lib/webhooks-stack.ts` `addOutputs`). */
export const STACK_OUTPUT = {
  queueUrl: 'EventQueueUrl',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  archiveBucket: 'ArchiveBucketName',
} as const;

/** The `--aws`, `--stack` and `--region` options every AWS-capable command shares. */
export interface AwsTargetOptions {
  readonly aws?: boolean;
  readonly stack?: string;
  readonly region?: string;
}

/** SDK client settings from the options: the region when given, else the SDK's own resolution. */
export function awsClientConfig(opts: AwsTargetOptions): { region?: string } {
  return opts.region ? { region: opts.region } : {};
}

/** The stack's outputs, key → value; a CliError names a missing stack, credentials or region. */
export async function readStackOutputs(cfn: Pick<CloudFormationClient, 'send'>, stackName: string): Promise<Record<string, string>> {
  let stacks;
  try {
    stacks = (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks ?? [];
  } catch (err) {
    if (/does not exist/i.test((err as Error).message ?? '')) {
      throw new CliError(`stack '${stackName}' was not found in this account and region: deploy it (npx cdk deploy), or name yours with --stack and its region with --region`);
    }
    throw awsError(err, `read the outputs of stack '${stackName}'`);
  }
  const stack = stacks[0];
  if (!stack) throw new CliError(`stack '${stackName}' was not found in this account and region: deploy it (npx cdk deploy), or name yours with --stack and its region with --region`);
  const outputs: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  return outputs;
}

/** One output's value, or a CliError naming it and the stack. */
export function requireOutput(outputs: Readonly<Record<string, string>>, key: string, stackName: string): string {
  const value = outputs[key];
  if (!value) {
    throw new CliError(`stack '${stackName}' has no output ${key}: is it a socialplus-webhooks stack, deployed with this version (npx cdk deploy)? Outputs found: ${Object.keys(outputs).sort().join(', ') || 'none'}`);
  }
  return value;
}

/** An AWS SDK error as a CliError saying what failed and, for the usual causes, how to fix it. */
export function awsError(err: unknown, action: string): CliError {
  const e = err as { name?: string; message?: string };
  const name = e?.name ?? 'Error';
  const message = e?.message ?? String(err);
  if (name === 'CredentialsProviderError' || /could not load credentials/i.test(message)) {
    return new CliError(`could not ${action}: no AWS credentials found; configure them (aws configure, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`);
  }
  if (/region is missing/i.test(message)) {
    return new CliError(`could not ${action}: no AWS region configured; pass --region or set AWS_REGION`);
  }
  if (name === 'AccessDenied' || name === 'AccessDeniedException' || /not authorized/i.test(message)) {
    return new CliError(`could not ${action}: access denied (${message}); use credentials allowed to do this`);
  }
  return new CliError(`could not ${action}: ${name}: ${message}`);
}
