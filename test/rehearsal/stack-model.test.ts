/**
 * The deploy rehearsal's stack model (test/rehearsal/stack-model.ts) and checks
 * (test/rehearsal/checks.ts) on a small hand-written template: functions found by what invokes
 * them, the policies that apply to a call, and the checks' verdicts.
 */
import { describe, expect, it } from 'vitest';
import { ENV } from '../../lambda/common/env.js';
import { contractReadsNotSet, contractSetNotRead, cutStatements, notificationTargets } from './checks.js';
import { IntrinsicResolver, UnsupportedTemplateError, type CfnTemplate } from './intrinsics.js';
import { assertAllAllowed, StackModel, type IamCall } from './stack-model.js';

const getAtt = (id: string, att = 'Arn') => ({ 'Fn::GetAtt': [id, att] });
const inline = (role: string, env: Record<string, unknown> = {}) => ({
  Type: 'AWS::Lambda::Function',
  Properties: {
    Runtime: 'nodejs22.x',
    Handler: 'index.handler',
    Code: { ZipFile: 'exports.handler = async () => ({})' },
    Role: getAtt(role),
    Environment: { Variables: env },
  },
});
const lambdaRole = (extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::IAM::Role',
  Properties: {
    AssumeRolePolicyDocument: { Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] },
    ...extra,
  },
});

const TEMPLATE: CfnTemplate = {
  Resources: {
    Queue: { Type: 'AWS::SQS::Queue', Properties: {} },
    Bucket: { Type: 'AWS::S3::Bucket', Properties: {} },
    Api: { Type: 'AWS::ApiGateway::RestApi', Properties: { BinaryMediaTypes: ['*/*'] } },
    Webhook: {
      Type: 'AWS::ApiGateway::Resource',
      Properties: { ParentId: getAtt('Api', 'RootResourceId'), PathPart: 'webhook', RestApiId: { Ref: 'Api' } },
    },
    Source: { Type: 'AWS::ApiGateway::Resource', Properties: { ParentId: { Ref: 'Webhook' }, PathPart: '{source}', RestApiId: { Ref: 'Api' } } },
    PostSource: {
      Type: 'AWS::ApiGateway::Method',
      Properties: {
        HttpMethod: 'POST',
        ResourceId: { Ref: 'Source' },
        RestApiId: { Ref: 'Api' },
        Integration: {
          Type: 'AWS_PROXY',
          Uri: { 'Fn::Join': ['', ['arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/', getAtt('Recv'), '/invocations']] },
        },
      },
    },
    RecvRole: lambdaRole({
      Policies: [
        { PolicyName: 'inline', PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' }] } },
      ],
    }),
    RecvPolicy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'RecvRole' }],
        PolicyName: 'p',
        PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: getAtt('Queue') }] },
      },
    },
    Recv: inline('RecvRole', { [ENV.QUEUE_URL]: { Ref: 'Queue' } }),
    FanRole: lambdaRole({
      ManagedPolicyArns: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole']] }],
    }),
    FanManaged: {
      Type: 'AWS::IAM::ManagedPolicy',
      Properties: {
        Roles: [{ Ref: 'FanRole' }],
        PolicyDocument: { Statement: [{ Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:SendMessage'], Resource: getAtt('Queue') }] },
      },
    },
    Fan: inline('FanRole'),
    Mapping: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        FunctionName: { Ref: 'Fan' },
        EventSourceArn: getAtt('Queue'),
        BatchSize: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    },
    SetupRole: lambdaRole({ ManagedPolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'] }),
    Setup: inline('SetupRole'),
    Custom: {
      Type: 'Custom::Thing',
      Properties: { ServiceToken: getAtt('Setup'), QueueArn: getAtt('Queue'), Retries: 3, Settings: { enabled: true, sizes: [1, 'two'] } },
    },
    QueuePolicy: {
      Type: 'AWS::SQS::QueuePolicy',
      Properties: {
        Queues: [{ Ref: 'Queue' }],
        PolicyDocument: {
          Statement: [
            {
              Sid: 'OnlyRecvSends',
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: 'sqs:SendMessage',
              Resource: getAtt('Queue'),
              Condition: { ArnNotEquals: { 'aws:PrincipalArn': [getAtt('RecvRole')] }, Bool: { 'aws:PrincipalIsAWSService': 'false' } },
            },
          ],
        },
      },
    },
    Notifications: {
      Type: 'Custom::S3BucketNotifications',
      Properties: {
        ServiceToken: getAtt('Setup'),
        BucketName: { Ref: 'Bucket' },
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'inbox/spill/' }] } },
              QueueArn: getAtt('Queue'),
            },
          ],
        },
      },
    },
  },
};

const model = new StackModel(
  TEMPLATE,
  new IntrinsicResolver(TEMPLATE, { stackName: 'Rehearsal', region: 'us-east-1', accountId: '123456789012' }),
  '/nonexistent',
);
const queueArn = model.resolver.getAtt('Queue', 'Arn');
const call = (action: string, resource: string): IamCall => ({ action, resource, context: {}, via: 'test' });

describe('StackModel', () => {
  it('finds the functions by what invokes them', () => {
    expect(model.receiver().logicalId).toBe('Recv');
    expect(model.receiver().triggers).toEqual([
      { kind: 'api', methodId: 'PostSource', route: 'POST /webhook/{source}', restApiId: 'Api', binaryMediaTypes: ['*/*'] },
    ]);
    expect(model.fanout().triggers).toEqual([{ kind: 'sqs', mappingId: 'Mapping', queueId: 'Queue', batchSize: 10, reportBatchItemFailures: true }]);
    expect(model.only('custom resource handler', (f) => f.triggers.some((t) => t.kind === 'custom-resource')).logicalId).toBe('Setup');
    expect(model.receiver().code).toEqual({ kind: 'inline', detail: 'inline code (nodejs22.x)' });
    expect(model.environmentOf(model.receiver())).toEqual({ [ENV.QUEUE_URL]: model.resolver.ref('Queue') });
    expect(() => model.only('function named Nope', (f) => f.logicalId === 'Nope')).toThrow(/expected exactly one function named Nope, found 0/);
  });

  it("finds a custom resource's function by its type, and builds the request CloudFormation sends it", () => {
    expect(model.customResourceHandler('Custom::Thing').logicalId).toBe('Setup');
    expect(() => model.customResourceHandler('Custom::Nope')).toThrow(/expected exactly one function behind Custom::Nope, found 0/);
    const responseUrl = (r: { stackId: string; logicalResourceId: string; requestId: string }) =>
      `https://responses.example/${encodeURIComponent(`${r.stackId}|${r.logicalResourceId}|${r.requestId}`)}?X-Amz-Signature=0`;
    const stackId = model.resolver.pseudo('AWS::StackId');
    const setupArn = model.resolver.getAtt('Setup', 'Arn');
    expect(model.customResourceRequest('Custom', { requestType: 'Create', requestId: 'r-1', responseUrl })).toEqual({
      RequestType: 'Create',
      ServiceToken: setupArn,
      ResponseURL: `https://responses.example/${encodeURIComponent(`${stackId}|Custom|r-1`)}?X-Amz-Signature=0`,
      StackId: stackId,
      RequestId: 'r-1',
      LogicalResourceId: 'Custom',
      ResourceType: 'Custom::Thing',
      // Resolved, and every scalar a string, as CloudFormation hands them.
      ResourceProperties: { ServiceToken: setupArn, QueueArn: queueArn, Retries: '3', Settings: { enabled: 'true', sizes: ['1', 'two'] } },
    });
    expect(
      model.customResourceRequest('Custom', {
        requestType: 'Update',
        requestId: 'r-2',
        responseUrl,
        physicalResourceId: 'p-1',
        oldResourceProperties: { ServiceToken: setupArn },
      }),
    ).toMatchObject({
      RequestType: 'Update',
      PhysicalResourceId: 'p-1',
      OldResourceProperties: { ServiceToken: setupArn },
    });
    expect(() => model.customResourceRequest('Custom', { requestType: 'Delete', requestId: 'r-3', responseUrl })).toThrow(/sends the physical id/);
    expect(() => model.customResourceRequest('Queue', { requestType: 'Create', requestId: 'r-4', responseUrl })).toThrow(UnsupportedTemplateError);
  });

  it("gathers a role's policies: attached, inline, managed in the template and AWS managed ones it knows", () => {
    expect(model.identityPolicies(model.receiver()).map((p) => p.name)).toEqual(['RecvPolicy', 'RecvRole.Policies[inline]']);
    expect(model.identityPolicies(model.fanout()).map((p) => p.name)).toEqual([
      'FanManaged',
      'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
    ]);
    expect(() => model.identityPolicies(model.only('setup', (f) => f.logicalId === 'Setup'))).toThrow(
      /AdministratorAccess, whose document the rehearsal does not know/,
    );
  });

  it("applies the queue's resource policy to calls on the queue only", () => {
    expect(model.resourcePoliciesFor(queueArn).map((p) => p.name)).toEqual(['QueuePolicy']);
    expect(model.resourcePoliciesFor(`${queueArn}-other`)).toEqual([]);
  });

  it("judges calls with the caller's role as aws:PrincipalArn: the queue policy denies the fan-out what its own policy allows", () => {
    const recv = model.authorizeCalls(model.receiver(), [call('sqs:SendMessage', queueArn)]);
    expect(recv[0]?.decision).toEqual({ decision: 'allow', allowedBy: [{ policy: 'RecvPolicy', kind: 'identity', index: 0 }] });
    const fan = model.authorizeCalls(model.fanout(), [
      call('sqs:ReceiveMessage', queueArn),
      call('sqs:SendMessage', queueArn),
      call('logs:PutLogEvents', 'arn:aws:logs:us-east-1:123456789012:log-group:x:log-stream:y'),
    ]);
    expect(fan.map((v) => v.decision.decision)).toEqual(['allow', 'explicit-deny', 'allow']);
    expect(() => assertAllAllowed(fan)).toThrow(`(Fan, sqs:SendMessage, ${queueArn}): explicitly denied by QueuePolicy statement 0 (OnlyRecvSends)`);
  });

  it('refuses to judge a call on a service whose resource policies it does not read', () => {
    const withPermission = model.withTemplate({ Resources: { ...TEMPLATE.Resources, Perm: { Type: 'AWS::Lambda::Permission', Properties: {} } } });
    expect(() => withPermission.authorizeCalls(withPermission.fanout(), [call('lambda:InvokeFunction', '*')])).toThrow(UnsupportedTemplateError);
  });
});

describe('checks', () => {
  it('notificationTargets: S3 notifies the queue of objects created under the filtered prefix only', () => {
    const bucket = model.resolver.ref('Bucket');
    expect(notificationTargets(model, bucket, 'inbox/spill/2025-07-02/abc', 'ObjectCreated:Put')).toEqual([queueArn]);
    expect(notificationTargets(model, bucket, 'inbox/large/2025-07-02/abc', 'ObjectCreated:Put')).toEqual([]);
    expect(notificationTargets(model, bucket, 'inbox/spill/2025-07-02/abc', 'ObjectRemoved:Delete')).toEqual([]);
    expect(notificationTargets(model, 'another-bucket', 'inbox/spill/x', 'ObjectCreated:Put')).toEqual([]);
  });

  it('contractReadsNotSet: contract variables read and not set, less the exemptions that apply', () => {
    const set = { [ENV.TABLE_NAME]: 't', [ENV.HANDLERS_CONFIG]: '{}' };
    expect(
      contractReadsNotSet([ENV.TABLE_NAME, 'AWS_REGION', ENV.DELIVERY_STREAM_NAME, ENV.SOCIALPLUS_ADMIN_TOKEN, ENV.SOCIALPLUS_API_SECRET_ARN], set),
    ).toEqual([ENV.DELIVERY_STREAM_NAME]);
    // With a live Social Plus configuration the admin token's secret is needed.
    const live = { ...set, [ENV.HANDLERS_CONFIG]: JSON.stringify({ socialPlus: { region: 'us' } }) };
    expect(contractReadsNotSet([ENV.SOCIALPLUS_API_SECRET_ARN], live)).toEqual([ENV.SOCIALPLUS_API_SECRET_ARN]);
    expect(
      contractReadsNotSet([ENV.SOCIALPLUS_API_SECRET_ARN], {
        ...set,
        [ENV.HANDLERS_CONFIG]: JSON.stringify({ socialPlus: { region: 'us', dryRun: true } }),
      }),
    ).toEqual([]);
  });

  it('contractSetNotRead: contract variables set and never read (no exemption is needed today)', () => {
    const env = { [ENV.LOG_LEVEL]: 'INFO', [ENV.METRICS_NAMESPACE]: 'SocialPlusWebhooks', NODE_OPTIONS: '--enable-source-maps' };
    expect(contractSetNotRead([ENV.LOG_LEVEL, ENV.METRICS_NAMESPACE], env, model.receiver())).toEqual([]);
    expect(contractSetNotRead([ENV.LOG_LEVEL], env, model.receiver())).toEqual([ENV.METRICS_NAMESPACE]);
    expect(contractSetNotRead([], env, model.customResourceHandler('Custom::Thing'))).toEqual([ENV.LOG_LEVEL, ENV.METRICS_NAMESPACE]);
  });

  it('cutStatements removes what it picks, and refuses to cut nothing', () => {
    const policies = model.identityPolicies(model.receiver());
    const cut = cutStatements(policies, (s) => [s.Action].flat().includes('sqs:SendMessage'));
    expect(model.authorizeCalls(model.receiver(), [call('sqs:SendMessage', queueArn)], cut)[0]?.decision).toEqual({ decision: 'implicit-deny' });
    expect(() => cutStatements(policies, () => false)).toThrow(/nothing was cut/);
  });
});
