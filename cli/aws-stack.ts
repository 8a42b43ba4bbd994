/**
 * The deployed stack as the CLI's `--aws` modes see it: its outputs, read with CloudFormation
 * `DescribeStacks` and looked up by the keys of `lib/stack-outputs.ts`, the one list the stack
 * writes them by. Every command reads the stack here; AWS failures are worded by `aws-errors.ts`.
 */
import { DescribeStacksCommand, type CloudFormationClient, type Stack } from '@aws-sdk/client-cloudformation';
import { DEFAULT_STACK_NAME } from '../lib/stack-name.js';
import { awsError, isStackMissing } from './aws-errors.js';
import { CliError } from './errors.js';

/** The stack's name unless `--stack` says otherwise (`lib/stack-name.ts`, which loads no CDK). */
export { DEFAULT_STACK_NAME };

/** The `--aws`, `--stack` and `--region` options every AWS-capable command shares. */
export interface AwsTargetOptions {
  readonly aws?: boolean;
  readonly stack?: string;
  readonly region?: string;
}

/**
 * Refuses, in local mode, the flags that only mean something with `--aws`: a CliError naming the
 * first one given (`--queue-url needs --aws (without it, redrive works on local mode)`).
 */
export function rejectAwsOnlyFlags<O extends AwsTargetOptions>(opts: O, flags: ReadonlyArray<keyof O & string>, command: string): void {
  for (const flag of flags) {
    if (opts[flag] !== undefined)
      throw new CliError(`--${flag.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --aws (without it, ${command} works on local mode)`);
  }
}

/** SDK client settings from the options: the region when given, else the SDK's own resolution. */
export function awsClientConfig(opts: AwsTargetOptions): { region?: string } {
  return opts.region ? { region: opts.region } : {};
}

type CloudFormation = Pick<CloudFormationClient, 'send'>;

/** The stack, or undefined when CloudFormation has none by that name; other failures are the SDK's errors. */
export async function describeStack(cfn: CloudFormation, stackName: string): Promise<Stack | undefined> {
  try {
    return (await cfn.send(new DescribeStacksCommand({ StackName: stackName }))).Stacks?.[0];
  } catch (err) {
    if (isStackMissing(err)) return undefined;
    throw err;
  }
}

/** A stack's outputs, key → value. */
export function outputsOf(stack: Pick<Stack, 'Outputs'>): Record<string, string> {
  const outputs: Record<string, string> = {};
  for (const o of stack.Outputs ?? []) if (o.OutputKey && o.OutputValue !== undefined) outputs[o.OutputKey] = o.OutputValue;
  return outputs;
}

/**
 * What a command can say besides the stack: `instead` names the flags that make the stack's
 * outputs unneeded (`--queue-url and --dlq-url`), offered when the stack or an output is missing.
 */
export interface StackReadHints {
  readonly instead?: string;
}

/** The stack's outputs, key → value; a CliError names a missing stack, credentials or region. */
export async function readStackOutputs(cfn: CloudFormation, stackName: string, hints: StackReadHints = {}): Promise<Record<string, string>> {
  let stack: Stack | undefined;
  try {
    stack = await describeStack(cfn, stackName);
  } catch (err) {
    throw awsError(err, `read the outputs of stack '${stackName}'`);
  }
  if (!stack) {
    throw new CliError(
      `stack '${stackName}' was not found in this account and region: deploy it (npx cdk deploy), or name yours with --stack and its region with --region${hints.instead ? `, or give ${hints.instead}` : ''}`,
    );
  }
  return outputsOf(stack);
}

/** One output's value, or a CliError naming it, the stack and (with `flag`) the option that replaces it. */
export function requireOutput(outputs: Readonly<Record<string, string>>, key: string, stackName: string, flag?: string): string {
  const value = outputs[key];
  if (!value) {
    throw new CliError(
      `stack '${stackName}' has no output ${key}: is it a socialplus-webhooks stack, deployed with this version (npx cdk deploy)?${flag ? ` Otherwise pass ${flag}.` : ''} Outputs found: ${Object.keys(outputs).sort().join(', ') || 'none'}`,
    );
  }
  return value;
}

/**
 * A reader of single outputs that asks CloudFormation once, on the first output needed: a command
 * given every name explicitly (`--table`, `--workgroup` …) never calls it.
 */
export function lazyStackOutputs(
  cfn: CloudFormation,
  stackName: string,
  hints: StackReadHints = {},
): (key: string, flag?: string) => Promise<string> {
  let outputs: Promise<Record<string, string>> | undefined;
  return async (key, flag) => {
    outputs ??= readStackOutputs(cfn, stackName, hints);
    return requireOutput(await outputs, key, stackName, flag);
  };
}
