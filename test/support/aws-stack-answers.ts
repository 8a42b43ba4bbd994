/**
 * CloudFormation's answers about a deployed stack (`aws-recorded-answers.ts` writes the wire format),
 * for tests that run the CLI's `--aws` modes against the AWS double (`aws-double.ts`). The outputs
 * are named by `lib/stack-outputs.ts`, the list the stack writes them by, so a renamed output
 * changes these answers with it.
 */
import type { StackOutputName } from '../../lib/stack-outputs.js';
import type { AwsAnswer, AwsResponder } from './aws-double.js';
import { describeStacksAnswer as recordedStackAnswer, stackDoesNotExist } from './aws-recorded-answers.js';

/** The stack's outputs, by the names the stack gives them. */
export type StackOutputValues = Partial<Record<StackOutputName, string>>;

const values = (outputs: StackOutputValues) => Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, String(v)]));

/** DescribeStacks for one deployed stack (`UPDATE_COMPLETE`) with these outputs. */
export function describeStacksAnswer(stack: { name: string; region: string; account: string }, outputs: StackOutputValues): AwsAnswer {
  return recordedStackAnswer(stack.name, values(outputs), stack.region, stack.account);
}

/**
 * DescribeStacks answering for the one stack named `stack.name`; any other name does not exist,
 * as CloudFormation says it (a `ValidationError`), so a command that reads another stack fails.
 */
export function describeStacksFor(stack: { name: string; region: string; account: string }, outputs: StackOutputValues): AwsResponder {
  const answer = describeStacksAnswer(stack, outputs);
  return (call) => (call.input.StackName === stack.name ? answer : stackDoesNotExist(String(call.input.StackName)));
}
