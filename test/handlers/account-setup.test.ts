/**
 * The account-setup custom resource against API Gateway's wire format (the recording AWS double,
 * with a real SDK client) and a real HTTP server as CloudFormation's response URL.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handleAccountSetup } from '../../lambda/account-setup/handler.js';
import { ApiGatewayAccountSettings } from '../../lambda/adapters/apigateway-account.js';
import { ACCOUNT_SETTING_PHYSICAL_ID, planAccountRole, type CustomResourceRequest } from '../../lambda/core/account-setup.js';
import type { Logger } from '../../lambda/core/telemetry.js';
import { jsonAnswer, jsonError, startAwsDouble, type AwsDouble } from '../support/aws-double.js';

const OURS = 'arn:aws:iam::123456789012:role/SocialPlusWebhooks-ApiAccountCloudWatchRole-AbC';
const THEIRS = 'arn:aws:iam::123456789012:role/their-apigateway-logs';

/** CloudFormation's side: records each answer PUT to the response URL. */
let responseServer: Server;
let responseUrl: string;
const answers: Array<{ headers: IncomingHttpHeaders; body: Record<string, unknown> }> = [];
let double: AwsDouble;

beforeAll(async () => {
  responseServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      answers.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => responseServer.listen(0, '127.0.0.1', r));
  responseUrl = `http://127.0.0.1:${(responseServer.address() as AddressInfo).port}/cloudformation-response?X-Amz-Signature=abc`;
  double = await startAwsDouble();
});

afterAll(async () => {
  await double.close();
  await new Promise<void>((r) => responseServer.close(() => r()));
});

afterEach(() => {
  answers.length = 0;
  double.calls.length = 0;
});

function request(type: CustomResourceRequest['RequestType'], extra: Partial<CustomResourceRequest> = {}): CustomResourceRequest {
  return {
    RequestType: type,
    ResponseURL: responseUrl,
    StackId: 'arn:aws:cloudformation:us-east-1:123456789012:stack/SocialPlusWebhooks/guid',
    RequestId: 'req-1',
    LogicalResourceId: 'ApiAccountCloudWatchRoleA96B1B2C',
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:setup', RoleArn: OURS },
    ...(type === 'Create' ? {} : { PhysicalResourceId: ACCOUNT_SETTING_PHYSICAL_ID }),
    ...extra,
  };
}

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function deps(overrides: { remainingMs?: () => number; sleeps?: number[] } = {}) {
  const client = new APIGatewayClient({
    endpoint: double.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
  });
  return {
    account: new ApiGatewayAccountSettings(client),
    logger: silent,
    remainingMs: overrides.remainingMs ?? (() => 170_000),
    sleep: async (ms: number) => {
      overrides.sleeps?.push(ms);
    },
  };
}

const account = (roleArn?: string) =>
  jsonAnswer({
    ...(roleArn ? { cloudwatchRoleArn: roleArn } : {}),
    throttleSettings: { burstLimit: 5000, rateLimit: 10000 },
    features: ['UsagePlans'],
    apiKeyVersion: '4',
  });

describe('planAccountRole', () => {
  it('sets ours only when none is set, keeps any other, and never unsets', () => {
    expect(planAccountRole('Create', undefined, OURS)).toEqual({ action: 'set', roleArn: OURS });
    expect(planAccountRole('Create', '  ', OURS)).toEqual({ action: 'set', roleArn: OURS });
    expect(planAccountRole('Create', THEIRS, OURS)).toEqual({ action: 'keep', roleArn: THEIRS });
    expect(planAccountRole('Update', THEIRS, OURS)).toEqual({ action: 'keep', roleArn: THEIRS });
    expect(planAccountRole('Delete', OURS, OURS)).toEqual({ action: 'none' });
  });
});

describe('the account-setup custom resource', () => {
  it("sets the stack's role when the account has none, and answers SUCCESS with what it did", async () => {
    double.answer({ 'apigateway:GET /account': account(), 'apigateway:PATCH /account': account(OURS) });
    await handleAccountSetup(request('Create'), deps());
    expect(double.calls.map((c) => c.operation)).toEqual(['GET /account', 'PATCH /account']);
    expect(double.callsTo('apigateway:PATCH /account')[0]?.input).toEqual({
      patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: OURS }],
    });
    expect(answers).toHaveLength(1);
    expect(answers[0]?.body).toEqual({
      Status: 'SUCCESS',
      Reason: 'done',
      PhysicalResourceId: ACCOUNT_SETTING_PHYSICAL_ID,
      StackId: request('Create').StackId,
      RequestId: 'req-1',
      LogicalResourceId: 'ApiAccountCloudWatchRoleA96B1B2C',
      Data: { Action: 'set', RoleArn: OURS },
    });
    // The presigned URL was signed without a content type.
    expect(answers[0]?.headers['content-type']).toBe('');
  });

  it('leaves a role the account already has alone', async () => {
    double.answer({ 'apigateway:GET /account': account(THEIRS) });
    await handleAccountSetup(request('Create'), deps());
    expect(double.callsTo('apigateway:PATCH /account')).toEqual([]);
    expect(answers[0]?.body).toMatchObject({ Status: 'SUCCESS', Data: { Action: 'keep', RoleArn: THEIRS } });
  });

  it('does nothing on delete: other APIs in the account log through the role', async () => {
    await handleAccountSetup(request('Delete'), deps());
    expect(double.calls).toEqual([]);
    expect(answers[0]?.body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: ACCOUNT_SETTING_PHYSICAL_ID, Data: { Action: 'none' } });
  });

  it('retries while IAM propagates the new role, then sets it', async () => {
    let patches = 0;
    double.answer({
      'apigateway:GET /account': account(),
      'apigateway:PATCH /account': () =>
        ++patches < 3 ? jsonError('BadRequestException', 'The role ARN does not have required permissions set to API Gateway') : account(OURS),
    });
    const sleeps: number[] = [];
    await handleAccountSetup(request('Create'), deps({ sleeps }));
    expect(patches).toBe(3);
    expect(sleeps).toEqual([5000, 5000]);
    expect(answers[0]?.body).toMatchObject({ Status: 'SUCCESS', Data: { Action: 'set', RoleArn: OURS } });
  });

  it('answers FAILED, with the command that fixes it, when the role never becomes usable before the timeout', async () => {
    double.answer({
      'apigateway:GET /account': account(),
      'apigateway:PATCH /account': jsonError('BadRequestException', 'The role ARN does not have required permissions set to API Gateway'),
    });
    let left = 40_000;
    await handleAccountSetup(request('Create'), { ...deps(), remainingMs: () => (left -= 10_000) });
    expect(answers).toHaveLength(1);
    expect(answers[0]?.body.Status).toBe('FAILED');
    expect(answers[0]?.body.Reason).toMatch(/BadRequestException: The role ARN does not have required permissions/);
    expect(answers[0]?.body.Reason).toContain('aws apigateway update-account --patch-operations op=replace,path=/cloudwatchRoleArn');
  });

  it('answers FAILED at once for errors a retry cannot fix (access denied)', async () => {
    double.answer({ 'apigateway:GET /account': jsonError('AccessDeniedException', 'User is not authorized to perform: apigateway:GET', 403) });
    const sleeps: number[] = [];
    await handleAccountSetup(request('Update'), deps({ sleeps }));
    expect(sleeps).toEqual([]);
    expect(answers[0]?.body).toMatchObject({ Status: 'FAILED', PhysicalResourceId: ACCOUNT_SETTING_PHYSICAL_ID });
    expect(answers[0]?.body.Reason).toMatch(/AccessDeniedException/);
  });

  it('answers FAILED when the RoleArn property is missing, without calling API Gateway', async () => {
    await handleAccountSetup(request('Create', { ResourceProperties: {} }), deps());
    expect(double.calls).toEqual([]);
    expect(answers[0]?.body).toMatchObject({ Status: 'FAILED' });
    expect(answers[0]?.body.Reason).toMatch(/RoleArn property is missing/);
  });
});
