/**
 * How the deploy rehearsal turns requests into IAM calls (test/rehearsal/aws-calls.ts): S3 requests
 * as s3rver sees them, DynamoDB requests as dynalite sees them, and the AWS double's calls.
 */
import { describe, expect, it } from 'vitest';
import type { AwsCall } from '../support/aws-double.js';
import { dynamoDbIamCalls, iamCallsOfDoubleCall, s3IamCalls, sigV4Scope } from './aws-calls.js';

const SCOPE = { accountId: '123456789012', partition: 'aws' };
const BUCKET = 'socialpluswebhooks-archivebucket-abc';
const AUTH = 'AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20250702/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0';

const actionsOf = (calls: ReturnType<typeof s3IamCalls>) => calls.map((c) => `${c.action} ${c.resource}`);

describe('sigV4Scope', () => {
  it('reads access key, region and service from the credential scope', () => {
    expect(sigV4Scope(AUTH)).toEqual({ accessKeyId: 'ASIAEXAMPLE', region: 'us-east-1', service: 's3' });
    expect(sigV4Scope(undefined)).toBeUndefined();
  });
});

describe('s3IamCalls', () => {
  it('maps object requests to GetObject (GET and HEAD), PutObject and DeleteObject on the decoded key', () => {
    const key = `/${BUCKET}/inbox/spill/2025-07-02/${'a'.repeat(32)}`;
    expect(actionsOf(s3IamCalls('GET', `${key}?x-id=GetObject`, {}, 200, SCOPE))).toEqual([
      `s3:GetObject arn:aws:s3:::${BUCKET}${key.slice(BUCKET.length + 1)}`,
    ]);
    expect(actionsOf(s3IamCalls('HEAD', key, {}, 200, SCOPE))).toEqual([`s3:GetObject arn:aws:s3:::${BUCKET}${key.slice(BUCKET.length + 1)}`]);
    expect(actionsOf(s3IamCalls('PUT', `/${BUCKET}/a%20b/c%2Bd?x-id=PutObject`, { 'x-amz-server-side-encryption': 'AES256' }, 200, SCOPE))).toEqual([
      `s3:PutObject arn:aws:s3:::${BUCKET}/a b/c+d`,
    ]);
    expect(
      s3IamCalls('PUT', `/${BUCKET}/k`, { 'x-amz-server-side-encryption': 'AES256' }, 200, SCOPE)[0]?.context['s3:x-amz-server-side-encryption'],
    ).toBe('AES256');
    expect(actionsOf(s3IamCalls('DELETE', `/${BUCKET}/k?x-id=DeleteObject`, {}, 204, SCOPE))).toEqual([`s3:DeleteObject arn:aws:s3:::${BUCKET}/k`]);
    expect(actionsOf(s3IamCalls('GET', `/${BUCKET}/k?versionId=v1`, {}, 200, SCOPE))).toEqual([`s3:GetObjectVersion arn:aws:s3:::${BUCKET}/k`]);
  });

  it('adds the ListBucket check S3 makes before answering a missing key NoSuchKey', () => {
    const calls = s3IamCalls('GET', `/${BUCKET}/inbox/spill/x?x-id=GetObject`, {}, 404, SCOPE);
    expect(actionsOf(calls)).toEqual([`s3:GetObject arn:aws:s3:::${BUCKET}/inbox/spill/x`, `s3:ListBucket arn:aws:s3:::${BUCKET}`]);
    expect(calls[1]?.context['s3:prefix']).toBe('inbox/spill/x');
  });

  it('maps a listing to ListBucket with its prefix, and a copy to PutObject plus GetObject of the source', () => {
    const list = s3IamCalls('GET', `/${BUCKET}?list-type=2&prefix=inbox%2Fspill%2F`, {}, 200, SCOPE);
    expect(actionsOf(list)).toEqual([`s3:ListBucket arn:aws:s3:::${BUCKET}`]);
    expect(list[0]?.context).toMatchObject({ 's3:prefix': 'inbox/spill/', 's3:delimiter': null });
    expect(actionsOf(s3IamCalls('PUT', `/${BUCKET}/dst`, { 'x-amz-copy-source': `/${BUCKET}/src%201` }, 200, SCOPE))).toEqual([
      `s3:PutObject arn:aws:s3:::${BUCKET}/dst`,
      `s3:GetObject arn:aws:s3:::${BUCKET}/src 1`,
    ]);
  });

  it('names a request it does not map instead of guessing an action', () => {
    const [call] = s3IamCalls('PUT', `/${BUCKET}/k?retention`, {}, 200, SCOPE);
    expect(call?.action).toBe('s3:<unmodelled PUT object request ?retention>');
    expect(actionsOf(s3IamCalls('GET', `/${BUCKET}?location`, {}, 200, SCOPE))).toEqual([`s3:GetBucketLocation arn:aws:s3:::${BUCKET}`]);
  });
});

describe('dynamoDbIamCalls', () => {
  const table = (name: string) => `arn:aws:dynamodb:us-east-1:123456789012:table/${name}`;
  it('maps single-table operations to the table, a Query on an index to the index', () => {
    const [put] = dynamoDbIamCalls(
      'DynamoDB_20120810.PutItem',
      { TableName: 'events', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' },
      'us-east-1',
      SCOPE,
    );
    expect(put).toMatchObject({ action: 'dynamodb:PutItem', resource: table('events'), context: { 'dynamodb:ReturnValues': null } });
    expect(dynamoDbIamCalls('DynamoDB_20120810.Query', { TableName: 'events', IndexName: 'byActor' }, 'us-east-1', SCOPE)[0]?.resource).toBe(
      `${table('events')}/index/byActor`,
    );
  });

  it('maps batch and transaction requests to one call per table or item', () => {
    expect(
      dynamoDbIamCalls('DynamoDB_20120810.BatchWriteItem', { RequestItems: { a: [], b: [] } }, 'us-east-1', SCOPE).map(
        (c) => `${c.action} ${c.resource}`,
      ),
    ).toEqual([`dynamodb:BatchWriteItem ${table('a')}`, `dynamodb:BatchWriteItem ${table('b')}`]);
    expect(
      dynamoDbIamCalls(
        'DynamoDB_20120810.TransactWriteItems',
        { TransactItems: [{ Put: { TableName: 'a' } }, { Update: { TableName: 'b' } }, { ConditionCheck: { TableName: 'a' } }] },
        'us-east-1',
        SCOPE,
      ).map((c) => c.action),
    ).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']);
  });
});

describe('iamCallsOfDoubleCall', () => {
  const call = (service: string, operation: string, input: Record<string, unknown>, method = 'POST', path = '/'): AwsCall => ({
    service,
    operation,
    input,
    method,
    path,
    body: Buffer.alloc(0),
    headers: { authorization: `AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE/20250702/eu-west-1/${service}/aws4_request, SignedHeaders=host, Signature=0` },
  });
  const secretArn = (id: string) => (id.startsWith('arn:') ? id : `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${id}-AbCdEf`);

  it('derives the queue ARN from the queue URL, whatever its host', () => {
    expect(
      iamCallsOfDoubleCall(call('sqs', 'SendMessage', { QueueUrl: 'http://127.0.0.1:4100/123456789012/Stack-Queue-ABC' }), SCOPE, secretArn),
    ).toMatchObject([
      {
        action: 'sqs:SendMessage',
        resource: 'arn:aws:sqs:eu-west-1:123456789012:Stack-Queue-ABC',
      },
    ]);
  });

  it('derives the delivery stream ARN from its name, and the secret ARN from the SecretId', () => {
    expect(iamCallsOfDoubleCall(call('firehose', 'PutRecordBatch', { DeliveryStreamName: 'archive' }), SCOPE, secretArn)[0]?.resource).toBe(
      'arn:aws:firehose:eu-west-1:123456789012:deliverystream/archive',
    );
    const [secret] = iamCallsOfDoubleCall(call('secretsmanager', 'GetSecretValue', { SecretId: 'webhook' }), SCOPE, secretArn);
    expect(secret).toMatchObject({
      resource: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:webhook-AbCdEf',
      context: { 'secretsmanager:SecretId': 'webhook', 'secretsmanager:VersionStage': null },
    });
  });

  it("maps API Gateway's REST calls to apigateway:<method> on the path, and UpdateAccount's role to iam:PassRole", () => {
    const role = 'arn:aws:iam::123456789012:role/Stack-ApiAccountCloudWatchRole-AbC';
    const account = 'arn:aws:apigateway:eu-west-1::/account';
    expect(iamCallsOfDoubleCall(call('apigateway', 'GET /account', {}, 'GET', '/account'), SCOPE, secretArn)).toEqual([
      { action: 'apigateway:GET', resource: account, context: {}, via: 'AWS double' },
    ]);
    const patch = iamCallsOfDoubleCall(
      call('apigateway', 'PATCH /account', { patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: role }] }, 'PATCH', '/account'),
      SCOPE,
      secretArn,
    );
    expect(patch.map((c) => `${c.action} ${c.resource}`)).toEqual([`apigateway:PATCH ${account}`, `iam:PassRole ${role}`]);
    expect(patch[1]?.context).toEqual({ 'iam:PassedToService': 'apigateway.amazonaws.com' });
    // Unsetting the role (an empty value) or patching anything else passes no role.
    const unset = iamCallsOfDoubleCall(
      call(
        'apigateway',
        'PATCH /account',
        {
          patchOperations: [
            { op: 'replace', path: '/cloudwatchRoleArn', value: '' },
            { op: 'replace', path: '/features', value: 'x' },
          ],
        },
        'PATCH',
        '/account',
      ),
      SCOPE,
      secretArn,
    );
    expect(unset.map((c) => c.action)).toEqual(['apigateway:PATCH']);
  });

  it('keeps a call to an unexpected service, by action, with no resource', () => {
    expect(iamCallsOfDoubleCall(call('sts', 'GetCallerIdentity', {}), SCOPE, secretArn)).toMatchObject([
      { action: 'sts:GetCallerIdentity', resource: '*' },
    ]);
  });
});
