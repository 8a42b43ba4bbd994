/** One wording for AWS failures across the `--aws` commands (`cli/aws-errors.ts`), and the one stack reader (`cli/aws-stack.ts`). */
import { describe, expect, it } from 'vitest';
import { awsError, classifyAwsError, isAccessDenied, isStackMissing } from '../../cli/aws-errors.js';
import { lazyStackOutputs, readStackOutputs, requireOutput } from '../../cli/aws-stack.js';
import { CliError } from '../../cli/errors.js';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { awsError as sdkError, FakeAwsClient } from '../support/fake-aws-client.js';

const ACTION = 'read the attributes of queue q (sqs:GetQueueAttributes)';

describe('awsError', () => {
  it.each([
    [
      'a missing region',
      new Error('Region is missing'),
      'no-region',
      `could not ${ACTION}: no AWS region configured; pass --region or set AWS_REGION`,
    ],
    [
      'no credentials',
      sdkError('CredentialsProviderError', 'Could not load credentials from any providers'),
      'no-credentials',
      `could not ${ACTION}: no usable AWS credentials (Could not load credentials from any providers); configure them (aws configure, aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`,
    ],
    [
      'expired credentials',
      sdkError('ExpiredTokenException', 'The security token included in the request is expired'),
      'expired-credentials',
      `could not ${ACTION}: the AWS credentials have expired (ExpiredTokenException); renew them (aws sso login, or new keys) and run the command again`,
    ],
    [
      'rejected credentials',
      sdkError('InvalidClientTokenId', 'The security token included in the request is invalid.'),
      'rejected-credentials',
      `could not ${ACTION}: AWS rejected the credentials (InvalidClientTokenId: The security token included in the request is invalid.); configure them (aws configure, aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`,
    ],
    [
      'access denied',
      sdkError('AccessDenied', 'User: arn:aws:iam::1:user/u is not authorized to perform: sqs:GetQueueAttributes'),
      'access-denied',
      `could not ${ACTION}: access denied (User: arn:aws:iam::1:user/u is not authorized to perform: sqs:GetQueueAttributes); use credentials allowed to do this`,
    ],
    [
      'a missing stack',
      sdkError('ValidationError', 'Stack with id Nope does not exist'),
      'stack-missing',
      `could not ${ACTION}: the stack does not exist in this account and region (Stack with id Nope does not exist); deploy it (npx cdk deploy), or name yours with --stack and its region with --region`,
    ],
    [
      'throttling',
      sdkError('ThrottlingException', 'Rate exceeded'),
      'throttled',
      `could not ${ACTION}: AWS throttled the request (ThrottlingException: Rate exceeded); wait a moment and run the command again`,
    ],
    [
      'no network',
      Object.assign(new Error('getaddrinfo ENOTFOUND sqs.nowhere-1.amazonaws.com'), { code: 'ENOTFOUND' }),
      'network',
      `could not ${ACTION}: AWS could not be reached (ENOTFOUND: getaddrinfo ENOTFOUND sqs.nowhere-1.amazonaws.com); check the network connection (and any proxy) and the region`,
    ],
    [
      'anything else',
      sdkError('ResourceNotFoundException', 'Requested resource not found'),
      'other',
      `could not ${ACTION}: ResourceNotFoundException: Requested resource not found`,
    ],
  ])('%s: one line naming the action, the cause and the fix', (_label, err, kind, message) => {
    expect(classifyAwsError(err).kind).toBe(kind);
    const cli = awsError(err, ACTION);
    expect(cli).toBeInstanceOf(CliError);
    expect(cli.message).toBe(message);
  });

  it("passes a CliError through, and answers the doctor's questions", () => {
    const own = new CliError('already worded');
    expect(awsError(own, ACTION)).toBe(own);
    expect(isAccessDenied(sdkError('AuthorizationError', 'x'))).toBe(true);
    expect(isAccessDenied(sdkError('ResourceNotFoundException', 'x'))).toBe(false);
    expect(isStackMissing(sdkError('ValidationError', 'Stack with id X does not exist'))).toBe(true);
    expect(isStackMissing(sdkError('ValidationError', 'Template format error'))).toBe(false);
  });
});

describe('the stack reader', () => {
  const stack = (outputs: Record<string, string>) =>
    new FakeAwsClient(() => ({ Stacks: [{ Outputs: Object.entries(outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })) }] }));

  it('reads the outputs once, by the keys the stack writes them with', async () => {
    const cfn = stack({ [STACK_OUTPUTS.eventTable]: 'events', [STACK_OUTPUTS.queueUrl]: 'https://q' });
    const output = lazyStackOutputs(cfn.as(), 'S');
    expect(await output(STACK_OUTPUTS.eventTable)).toBe('events');
    expect(await output(STACK_OUTPUTS.queueUrl)).toBe('https://q');
    expect(cfn.commands.map((c) => [c.name, c.input])).toEqual([['DescribeStacksCommand', { StackName: 'S' }]]);
  });

  it('names a missing stack, a missing output and the flags that replace them', async () => {
    const missing = new FakeAwsClient(() => {
      throw sdkError('ValidationError', 'Stack with id Nope does not exist');
    });
    await expect(readStackOutputs(missing.as(), 'Nope', { instead: '--table' })).rejects.toThrow(
      "stack 'Nope' was not found in this account and region: deploy it (npx cdk deploy), or name yours with --stack and its region with --region, or give --table",
    );
    expect(() => requireOutput({ Other: 'x' }, STACK_OUTPUTS.eventTable, 'S', '--table')).toThrow(
      "stack 'S' has no output EventTableName: is it a socialplus-webhooks stack, deployed with this version (npx cdk deploy)? Otherwise pass --table. Outputs found: Other",
    );
  });

  it('words an SDK failure of DescribeStacks like every other AWS call', async () => {
    const noCreds = new FakeAwsClient(() => {
      throw sdkError('CredentialsProviderError', 'Could not load credentials from any providers');
    });
    await expect(readStackOutputs(noCreds.as(), 'S')).rejects.toThrow("could not read the outputs of stack 'S': no usable AWS credentials");
  });
});
