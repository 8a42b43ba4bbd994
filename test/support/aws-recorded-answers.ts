/**
 * Recorded AWS answers shared by the `--aws` command tests, in each service's wire format, for the
 * AWS double (`aws-double.ts`): CloudFormation's `DescribeStacks` (query protocol XML), SQS's
 * errors (JSON 1.0 in AWS's query-compatible mode, with the `x-amzn-query-error` header the SDK
 * names the error by), and the settings that point a real SDK client at the double. What each
 * client does with these answers is the SDK's own code: its deserializers and exception classes.
 */
import { createHash } from 'node:crypto';
import { escapeXml, jsonAnswer, jsonError, queryAnswer, queryError, type AwsAnswer, type AwsCall, type AwsResponder } from './aws-double.js';

/** The account the recorded answers are of: the one their stacks' ARNs and queues' URLs name. */
export const RECORDED_ACCOUNT = '123456789012';
/** The region of the recorded stacks, and of a client pointed at the double unless a test gives another. */
export const RECORDED_REGION = 'eu-west-1';

/** The URL of the recorded account's SQS queue `name`, as a stack output gives it. */
export function recordedQueueUrl(name: string, region = RECORDED_REGION): string {
  return `https://sqs.${region}.amazonaws.com/${RECORDED_ACCOUNT}/${name}`;
}

/** The ARN of the recorded account's SQS queue `name`. */
export function recordedQueueArn(name: string, region = RECORDED_REGION): string {
  return `arn:aws:sqs:${region}:${RECORDED_ACCOUNT}:${name}`;
}

/** Static credentials the double accepts (it checks no signature, only reads the signing scope). */
export const DOUBLE_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' } as const;

/**
 * A real SDK client's settings for the double: its endpoint, a region, static credentials, one
 * attempt (an error answer is final, not retried). An explicit `endpoint` also keeps the SQS
 * client from sending to the host of a queue URL (`https://sqs.<region>.amazonaws.com/…`).
 */
export function doubleClientConfig(endpoint: string, region = RECORDED_REGION) {
  return { endpoint, region, credentials: { ...DOUBLE_CREDENTIALS }, maxAttempts: 1 };
}

/**
 * Environment for an in-process CLI run (`runCli`) in which the SDK finds no credentials and no
 * region of this machine's (profile files, instance role, container role): only what `extra` sets.
 */
export function isolatedAwsEnv(scratchDir: string, extra: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    AWS_PROFILE: undefined,
    AWS_REGION: undefined,
    AWS_DEFAULT_REGION: undefined,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    AWS_ROLE_ARN: undefined,
    AWS_CONFIG_FILE: `${scratchDir}/no-aws-config`,
    AWS_SHARED_CREDENTIALS_FILE: `${scratchDir}/no-aws-credentials`,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_MAX_ATTEMPTS: '1',
    ...extra,
  };
}

const CLOUDFORMATION_NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/** CloudFormation's `DescribeStacks` answer for one deployed stack with these outputs. */
export function describeStacksAnswer(
  stackName: string,
  outputs: Readonly<Record<string, string>>,
  region = RECORDED_REGION,
  account = RECORDED_ACCOUNT,
): AwsAnswer {
  const members = Object.entries(outputs)
    .map(([k, v]) => `<member><OutputKey>${escapeXml(k)}</OutputKey><OutputValue>${escapeXml(v)}</OutputValue></member>`)
    .join('');
  return queryAnswer(
    'DescribeStacks',
    `<Stacks><member><StackName>${escapeXml(stackName)}</StackName>` +
      `<StackId>arn:aws:cloudformation:${region}:${account}:stack/${escapeXml(stackName)}/5c1e0c70-55d4-11f0-9a1b-0a8f4e2c7d13</StackId>` +
      `<CreationTime>2025-06-30T09:12:44.120Z</CreationTime><StackStatus>UPDATE_COMPLETE</StackStatus>` +
      `${members ? `<Outputs>${members}</Outputs>` : ''}</member></Stacks>`,
    CLOUDFORMATION_NS,
  );
}

/** What CloudFormation answers `DescribeStacks` for a stack it does not have: a 400 `ValidationError`. */
export function stackDoesNotExist(stackName: string): AwsAnswer {
  return queryError('ValidationError', `Stack with id ${stackName} does not exist`);
}

/** `DescribeStacks` answering for these stacks by name (outputs by stack); any other name does not exist. */
export function describeStacks(stacks: Readonly<Record<string, Readonly<Record<string, string>>>>): AwsResponder {
  return (call) => {
    const name = String(call.input.StackName);
    const outputs = stacks[name];
    return outputs ? describeStacksAnswer(name, outputs) : stackDoesNotExist(name);
  };
}

/**
 * An SQS error as SQS's JSON protocol sends it (query-compatible): the JSON body with `__type`, and
 * the query error code and fault in `x-amzn-query-error`, which the SDK takes as the error's name.
 */
export function sqsError(queryCode: string, type: string, message: string, status = 400): AwsAnswer {
  const answer = jsonError(type, message, status);
  return { ...answer, headers: { ...answer.headers, 'content-type': 'application/x-amz-json-1.0', 'x-amzn-query-error': `${queryCode};Sender` } };
}

/** A JSON 1.0 success (SQS, CloudWatch, DynamoDB): the double's JSON answer with that protocol's content type. */
export function json10Answer(body: unknown): AwsAnswer {
  const answer = jsonAnswer(body);
  return { ...answer, headers: { ...answer.headers, 'content-type': 'application/x-amz-json-1.0' } };
}

/** SQS refusing a caller without the permission (HTTP 403, `AccessDenied`). */
export function sqsAccessDenied(message: string): AwsAnswer {
  return sqsError('AccessDenied', 'com.amazon.coral.service#AccessDeniedException', message, 403);
}

/** The MD5 SQS returns of a message body (`MD5OfMessageBody`), which the SDK checks against what it sent. */
export function md5OfBody(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

/**
 * The MD5 SQS returns of a message's attributes (`MD5OfMessageAttributes`): over the attributes
 * sorted by name, each as its name, data type and value, lengths as 4-byte big-endian prefixes,
 * with a transport byte (1 for a string value).
 */
export function md5OfAttributes(attributes: Readonly<Record<string, { DataType: string; StringValue?: string }>>): string {
  const hash = createHash('md5');
  const field = (text: string) => {
    const bytes = Buffer.from(text, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    hash.update(length).update(bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const a = attributes[name] as { DataType: string; StringValue?: string };
    field(name);
    field(a.DataType);
    hash.update(Buffer.from([1]));
    field(a.StringValue ?? '');
  }
  return hash.digest('hex');
}

/**
 * SQS's `GetQueueAttributes` answer for a queue with these attributes: like SQS, only the ones
 * the call asked for (`AttributeNames`, or `All`), so a caller that forgets to ask gets nothing.
 */
export function queueAttributesAnswer(attributes: Readonly<Record<string, string>>): (call: AwsCall) => AwsAnswer {
  return (call) => {
    const asked = (call.input.AttributeNames as string[] | undefined) ?? [];
    const all = asked.includes('All');
    return json10Answer({ Attributes: Object.fromEntries(Object.entries(attributes).filter(([k]) => all || asked.includes(k))) });
  };
}
