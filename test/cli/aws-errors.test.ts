/**
 * One wording for AWS failures across the `--aws` commands (`cli/aws-errors.ts`), and the one stack
 * reader (`cli/aws-stack.ts`). Every error classified here is one a real SDK client raised: from
 * the AWS double answering in the service's wire format (CloudFormation and SNS in the query
 * protocol, DynamoDB in JSON 1.0, SQS in JSON 1.0 with its query-compatible error header), from
 * the SDK's own region and credential resolution in an environment that has neither, or from a
 * connection nobody accepts.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListSubscriptionsByTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { awsError, classifyAwsError, isAccessDenied, isStackMissing } from '../../cli/aws-errors.js';
import { lazyStackOutputs, readStackOutputs, requireOutput } from '../../cli/aws-stack.js';
import { CliError } from '../../cli/errors.js';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { escapeXml, jsonServiceError, queryAnswer, queryError, useAwsDouble, type AwsAnswer } from '../support/aws-double.js';

const ACTION = 'read the attributes of queue q (sqs:GetQueueAttributes)';
const REGION = 'eu-west-1';
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };
const CLOUDFORMATION_NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
/** A path with no file: the SDK finds no shared config or credentials there. */
const NO_FILE = fileURLToPath(new URL('./no-such-aws-file', import.meta.url));

const double = useAwsDouble();

/**
 * Nothing of this machine's AWS set-up reaches the SDK (profile files, environment keys, instance
 * or container roles): a client gets a region and credentials only where a test gives them.
 */
beforeEach(() => {
  for (const name of [
    'AWS_PROFILE',
    'AWS_REGION',
    'AWS_DEFAULT_REGION',
    'AWS_ACCESS_KEY_ID',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_SESSION_TOKEN',
    'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
    'AWS_CONTAINER_CREDENTIALS_FULL_URI',
    'AWS_WEB_IDENTITY_TOKEN_FILE',
    'AWS_ROLE_ARN',
    'AWS_ENDPOINT_URL',
  ])
    vi.stubEnv(name, undefined);
  vi.stubEnv('AWS_CONFIG_FILE', NO_FILE);
  vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', NO_FILE);
  vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
});
afterEach(() => {
  vi.unstubAllEnvs();
});

/** A real client's settings: the double, a region, static credentials, one attempt (an error answer is final). */
const config = () => ({ endpoint: double.endpoint, region: REGION, credentials: { ...CREDENTIALS }, maxAttempts: 1 });

/** What a send raised. */
async function raised(send: Promise<unknown>): Promise<unknown> {
  return send.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  );
}

/** The error the real CloudFormation client raises for this DescribeStacks answer. */
const fromCloudFormation = (answer: AwsAnswer) => async () => {
  double.answer({ 'cloudformation:DescribeStacks': answer });
  return raised(new CloudFormationClient(config()).send(new DescribeStacksCommand({ StackName: 'Nope' })));
};
/** … the real DynamoDB client for this DescribeTable answer (JSON 1.0, `__type` with the service's namespace). */
const fromDynamoDb = (type: string, message: string) => async () => {
  double.answer({ 'dynamodb:DescribeTable': jsonServiceError(type, message, { jsonVersion: '1.0' }) });
  return raised(new DynamoDBClient(config()).send(new DescribeTableCommand({ TableName: 'events' })));
};
/** … the real SQS client for this GetQueueAttributes error (JSON 1.0, named by `x-amzn-query-error`). */
const fromSqs = (type: string, queryCode: string, message: string, status: number) => async () => {
  double.answer({ 'sqs:GetQueueAttributes': jsonServiceError(type, message, { status, jsonVersion: '1.0', queryError: `${queryCode};Sender` }) });
  const queueUrl = 'https://sqs.eu-west-1.amazonaws.com/123456789012/q';
  return raised(new SQSClient(config()).send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['All'] })));
};
/** … the real SNS client for this ListSubscriptionsByTopic answer (query protocol). */
const fromSns = (answer: AwsAnswer) => async () => {
  double.answer({ 'sns:ListSubscriptionsByTopic': answer });
  return raised(new SNSClient(config()).send(new ListSubscriptionsByTopicCommand({ TopicArn: 'arn:aws:sns:eu-west-1:123456789012:alarms' })));
};
/** … a client with no region anywhere (the SDK's own region resolution fails). */
const withoutRegion = async () => {
  const { region: _none, ...rest } = config();
  return raised(new SQSClient(rest).send(new GetQueueAttributesCommand({ QueueUrl: `${double.endpoint}/123456789012/q` })));
};
/** … a client with no credentials anywhere (the SDK's default provider chain finds none). */
const withoutCredentials = async () => {
  const { credentials: _none, ...rest } = config();
  return raised(new CloudFormationClient(rest).send(new DescribeStacksCommand({ StackName: 'S' })));
};

/** A port on loopback that was listening a moment ago and no longer is. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('awsError', () => {
  it.each([
    ['a missing region', withoutRegion, 'no-region', `could not ${ACTION}: no AWS region configured; pass --region or set AWS_REGION`],
    [
      'no credentials',
      withoutCredentials,
      'no-credentials',
      `could not ${ACTION}: no usable AWS credentials (Could not load credentials from any providers); configure them (aws configure, aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`,
    ],
    [
      'expired credentials (JSON protocol)',
      fromDynamoDb('com.amazon.coral.service#ExpiredTokenException', 'The security token included in the request is expired'),
      'expired-credentials',
      `could not ${ACTION}: the AWS credentials have expired (ExpiredTokenException); renew them (aws sso login, or new keys) and run the command again`,
    ],
    [
      'expired credentials (query protocol)',
      fromCloudFormation(queryError('ExpiredToken', 'The security token included in the request is expired', 403)),
      'expired-credentials',
      `could not ${ACTION}: the AWS credentials have expired (ExpiredToken); renew them (aws sso login, or new keys) and run the command again`,
    ],
    [
      'rejected credentials (query protocol)',
      fromCloudFormation(queryError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403)),
      'rejected-credentials',
      `could not ${ACTION}: AWS rejected the credentials (InvalidClientTokenId: The security token included in the request is invalid.); configure them (aws configure, aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`,
    ],
    [
      'rejected credentials (JSON protocol)',
      fromDynamoDb('com.amazon.coral.service#UnrecognizedClientException', 'The security token included in the request is invalid.'),
      'rejected-credentials',
      `could not ${ACTION}: AWS rejected the credentials (UnrecognizedClientException: The security token included in the request is invalid.); configure them (aws configure, aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)`,
    ],
    [
      'access denied',
      fromSqs(
        'com.amazon.coral.service#AccessDeniedException',
        'AccessDenied',
        'User: arn:aws:iam::1:user/u is not authorized to perform: sqs:GetQueueAttributes',
        403,
      ),
      'access-denied',
      `could not ${ACTION}: access denied (User: arn:aws:iam::1:user/u is not authorized to perform: sqs:GetQueueAttributes); use credentials allowed to do this`,
    ],
    [
      'a missing stack',
      fromCloudFormation(queryError('ValidationError', 'Stack with id Nope does not exist')),
      'stack-missing',
      `could not ${ACTION}: the stack does not exist in this account and region (Stack with id Nope does not exist); deploy it (npx cdk deploy), or name yours with --stack and its region with --region`,
    ],
    [
      'throttling (JSON protocol)',
      fromDynamoDb('com.amazon.coral.availability#ThrottlingException', 'Rate exceeded'),
      'throttled',
      `could not ${ACTION}: AWS throttled the request (ThrottlingException: Rate exceeded); wait a moment and run the command again`,
    ],
    [
      'throttling (query protocol)',
      fromCloudFormation(queryError('Throttling', 'Rate exceeded')),
      'throttled',
      `could not ${ACTION}: AWS throttled the request (Throttling: Rate exceeded); wait a moment and run the command again`,
    ],
    [
      'throttling (SQS, HTTP 403)',
      fromSqs('com.amazonaws.sqs#RequestThrottled', 'RequestThrottled', 'Request is throttled.', 403),
      'throttled',
      `could not ${ACTION}: AWS throttled the request (RequestThrottled: Request is throttled.); wait a moment and run the command again`,
    ],
    [
      'throttling (SQS, its KMS key throttled)',
      fromSqs('com.amazonaws.sqs#KmsThrottled', 'KMS.ThrottlingException', 'Rate exceeded', 400),
      'throttled',
      `could not ${ACTION}: AWS throttled the request (KmsThrottled: Rate exceeded); wait a moment and run the command again`,
    ],
    [
      'anything else',
      fromDynamoDb('com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', 'Requested resource not found'),
      'other',
      `could not ${ACTION}: ResourceNotFoundException: Requested resource not found`,
    ],
  ])('%s: one line naming the action, the cause and the fix', async (_label, failure, kind, message) => {
    const err = await failure();
    expect(classifyAwsError(err).kind).toBe(kind);
    const cli = awsError(err, ACTION);
    expect(cli).toBeInstanceOf(CliError);
    expect(cli.message).toBe(message);
  });

  it('no network: a connection nobody accepts, as the SDK reports it', async () => {
    const port = await closedPort();
    const client = new CloudFormationClient({ ...config(), endpoint: `http://127.0.0.1:${port}` });
    const err = await raised(client.send(new DescribeStacksCommand({ StackName: 'S' })));
    expect(classifyAwsError(err)).toMatchObject({ kind: 'network', name: 'ECONNREFUSED' });
    expect(awsError(err, ACTION).message).toBe(
      `could not ${ACTION}: AWS could not be reached (ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:${port}); check the network connection (and any proxy) and the region`,
    );
  });

  it("no network: a name the resolver does not know (Node's getaddrinfo error, which the SDK passes on)", () => {
    // A real lookup would depend on this machine's resolver; this is the error Node raises for one that fails.
    const err = Object.assign(new Error('getaddrinfo ENOTFOUND sqs.nowhere-1.amazonaws.com'), {
      code: 'ENOTFOUND',
      errno: -3008,
      syscall: 'getaddrinfo',
      hostname: 'sqs.nowhere-1.amazonaws.com',
    });
    expect(classifyAwsError(err).kind).toBe('network');
    expect(awsError(err, ACTION).message).toBe(
      `could not ${ACTION}: AWS could not be reached (ENOTFOUND: getaddrinfo ENOTFOUND sqs.nowhere-1.amazonaws.com); check the network connection (and any proxy) and the region`,
    );
  });

  it("passes a CliError through, and answers the doctor's questions", async () => {
    const own = new CliError('already worded');
    expect(awsError(own, ACTION)).toBe(own);
    const snsDenied = await fromSns(
      queryError('AuthorizationError', 'User: arn:aws:iam::1:user/u is not authorized to perform: SNS:ListSubscriptionsByTopic', 403),
    )();
    expect(isAccessDenied(snsDenied)).toBe(true);
    expect(isAccessDenied(await fromDynamoDb('com.amazonaws.dynamodb.v20120810#ResourceNotFoundException', 'Requested resource not found')())).toBe(
      false,
    );
    expect(isStackMissing(await fromCloudFormation(queryError('ValidationError', 'Stack with id X does not exist'))())).toBe(true);
    expect(isStackMissing(await fromCloudFormation(queryError('ValidationError', 'Template format error: unsupported structure.'))())).toBe(false);
  });
});

describe('the stack reader', () => {
  /** CloudFormation's DescribeStacks answer for a stack with these outputs. */
  const stack = (outputs: Record<string, string>): AwsAnswer =>
    queryAnswer(
      'DescribeStacks',
      `<Stacks><member><StackName>S</StackName>` +
        `<StackId>arn:aws:cloudformation:${REGION}:123456789012:stack/S/5c1e0c70-55d4-11f0-9a1b-0a8f4e2c7d13</StackId>` +
        `<CreationTime>2025-06-30T09:12:44.120Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>` +
        Object.entries(outputs)
          .map(([k, v]) => `<member><OutputKey>${escapeXml(k)}</OutputKey><OutputValue>${escapeXml(v)}</OutputValue></member>`)
          .join('') +
        `</Outputs></member></Stacks>`,
      CLOUDFORMATION_NS,
    );
  const cloudFormation = () => new CloudFormationClient(config());

  it('reads the outputs once, by the keys the stack writes them with', async () => {
    double.answer({ 'cloudformation:DescribeStacks': stack({ [STACK_OUTPUTS.eventTable]: 'events', [STACK_OUTPUTS.queueUrl]: 'https://q' }) });
    const output = lazyStackOutputs(cloudFormation(), 'S');
    expect(await output(STACK_OUTPUTS.eventTable)).toBe('events');
    expect(await output(STACK_OUTPUTS.queueUrl)).toBe('https://q');
    expect(double.calls.map((c) => [`${c.service}:${c.operation}`, c.input])).toEqual([
      ['cloudformation:DescribeStacks', { Action: 'DescribeStacks', Version: '2010-05-15', StackName: 'S' }],
    ]);
  });

  it('names a missing stack, a missing output and the flags that replace them', async () => {
    double.answer({ 'cloudformation:DescribeStacks': queryError('ValidationError', 'Stack with id Nope does not exist') });
    await expect(readStackOutputs(cloudFormation(), 'Nope', { instead: '--table' })).rejects.toThrow(
      "stack 'Nope' was not found in this account and region: deploy it (npx cdk deploy), or name yours with --stack and its region with --region, or give --table",
    );
    expect(() => requireOutput({ Other: 'x' }, STACK_OUTPUTS.eventTable, 'S', '--table')).toThrow(
      "stack 'S' has no output EventTableName: is it a socialplus-webhooks stack, deployed with this version (npx cdk deploy)? Otherwise pass --table. Outputs found: Other",
    );
  });

  it('words an SDK failure of DescribeStacks like every other AWS call', async () => {
    const { credentials: _none, ...rest } = config();
    await expect(readStackOutputs(new CloudFormationClient(rest), 'S')).rejects.toThrow(
      "could not read the outputs of stack 'S': no usable AWS credentials",
    );
    double.answer({
      'cloudformation:DescribeStacks': queryError(
        'AccessDenied',
        'User: arn:aws:iam::1:user/u is not authorized to perform: cloudformation:DescribeStacks',
        403,
      ),
    });
    await expect(readStackOutputs(cloudFormation(), 'S')).rejects.toThrow(
      "could not read the outputs of stack 'S': access denied (User: arn:aws:iam::1:user/u is not authorized to perform: cloudformation:DescribeStacks); use credentials allowed to do this",
    );
    expect(double.callsTo('cloudformation:DescribeStacks')).toHaveLength(1);
  });
});
