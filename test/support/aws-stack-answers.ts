/**
 * CloudFormation's answers about a deployed stack, in its wire format (the query protocol's XML), for
 * tests that run the CLI's `--aws` modes against the AWS double (`aws-double.ts`). The outputs are
 * named by `lib/stack-outputs.ts`, the list the stack writes them by, so a renamed output changes
 * these answers with it.
 */
import type { StackOutputName } from '../../lib/stack-outputs.js';
import { escapeXml, queryAnswer, queryError, type AwsAnswer, type AwsResponder } from './aws-double.js';

const CLOUDFORMATION_NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/** The stack's outputs, by the names the stack gives them. */
export type StackOutputValues = Partial<Record<StackOutputName, string>>;

/** DescribeStacks for one deployed stack (`UPDATE_COMPLETE`) with these outputs. */
export function describeStacksAnswer(stack: { name: string; region: string; account: string }, outputs: StackOutputValues): AwsAnswer {
  const members = Object.entries(outputs)
    .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${escapeXml(String(v))}</OutputValue></member>`)
    .join('');
  const id = `arn:aws:cloudformation:${stack.region}:${stack.account}:stack/${stack.name}/5c1e0c70-55d4-11f0-9a1b-0a8f4e2c7d13`;
  return queryAnswer(
    'DescribeStacks',
    `<Stacks><member><StackName>${stack.name}</StackName><StackId>${id}</StackId><CreationTime>2025-06-30T09:12:44.120Z</CreationTime>` +
      `<StackStatus>UPDATE_COMPLETE</StackStatus><DisableRollback>false</DisableRollback><Outputs>${members}</Outputs></member></Stacks>`,
    CLOUDFORMATION_NAMESPACE,
  );
}

/**
 * DescribeStacks answering for the one stack named `stack.name`; any other name does not exist,
 * as CloudFormation says it (a `ValidationError`), so a command that reads another stack fails.
 */
export function describeStacksFor(stack: { name: string; region: string; account: string }, outputs: StackOutputValues): AwsResponder {
  const answer = describeStacksAnswer(stack, outputs);
  return (call) =>
    call.input.StackName === stack.name ? answer : queryError('ValidationError', `Stack with id ${String(call.input.StackName)} does not exist`);
}
