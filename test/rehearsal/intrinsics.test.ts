/**
 * The deploy rehearsal's intrinsic resolver (test/rehearsal/intrinsics.ts) on a small template:
 * the fake physical ids by resource type, each supported intrinsic, and the loud failures.
 */
import { describe, expect, it } from 'vitest';
import { deterministicId, IntrinsicResolver, UnsupportedTemplateError, type CfnTemplate } from './intrinsics.js';

const TEMPLATE: CfnTemplate = {
  Parameters: {
    BootstrapVersion: { Type: 'AWS::SSM::Parameter::Value<String>', Default: '/cdk-bootstrap/hnb659fds/version' },
    NoDefault: { Type: 'String' },
  },
  Resources: {
    Queue381943A6: { Type: 'AWS::SQS::Queue', Properties: {} },
    NamedQueue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::Sub': '${AWS::StackName}-named' } } },
    EventStoreTable9A84AAAA: { Type: 'AWS::DynamoDB::GlobalTable', Properties: {} },
    ArchiveBucket49F1AC64: { Type: 'AWS::S3::Bucket', Properties: {} },
    SecretsSecretdefault2608C7E2: { Type: 'AWS::SecretsManager::Secret', Properties: {} },
    ArchiveDeliveryStream87A0F874: { Type: 'AWS::KinesisFirehose::DeliveryStream', Properties: {} },
    FanoutHandlerRoleE260A43D: { Type: 'AWS::IAM::Role', Properties: {} },
    FanoutHandlerFunctionF276F126: { Type: 'AWS::Lambda::Function', Properties: {} },
    FanoutHandlerLogs48A5721C: { Type: 'AWS::Logs::LogGroup', Properties: { LogGroupName: '/socialplus/fanout' } },
    Topic: { Type: 'AWS::SNS::Topic', Properties: {} },
    Waf: { Type: 'AWS::WAFv2::WebACL', Properties: {} },
    SelfNamed: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { Ref: 'SelfNamed' } } },
    Conditional: { Type: 'AWS::SQS::Queue', Condition: 'IsProd', Properties: {} },
  },
};

const resolver = new IntrinsicResolver(TEMPLATE, { stackName: 'SocialPlusWebhooks', region: 'eu-central-1', accountId: '111122223333' });

describe('IntrinsicResolver', () => {
  it('gives each resource type its Ref and attributes in the shape AWS does', () => {
    const queueName = resolver.physicalName('Queue381943A6');
    expect(queueName).toMatch(/^SocialPlusWebhooks-Queue381943A6-[A-Z0-9]{12}$/);
    expect(resolver.ref('Queue381943A6')).toBe(`https://sqs.eu-central-1.amazonaws.com/111122223333/${queueName}`);
    expect(resolver.getAtt('Queue381943A6', 'Arn')).toBe(`arn:aws:sqs:eu-central-1:111122223333:${queueName}`);
    expect(resolver.getAtt('Queue381943A6', 'QueueName')).toBe(queueName);
    expect(resolver.ref('NamedQueue')).toBe('https://sqs.eu-central-1.amazonaws.com/111122223333/SocialPlusWebhooks-named');

    const table = resolver.ref('EventStoreTable9A84AAAA');
    expect(resolver.getAtt('EventStoreTable9A84AAAA', 'Arn')).toBe(`arn:aws:dynamodb:eu-central-1:111122223333:table/${table}`);

    const bucket = resolver.ref('ArchiveBucket49F1AC64');
    expect(bucket).toMatch(/^[a-z0-9-]{3,63}$/);
    expect(resolver.getAtt('ArchiveBucket49F1AC64', 'Arn')).toBe(`arn:aws:s3:::${bucket}`);

    // A secret's Ref is its ARN: its name and Secrets Manager's six-character suffix.
    expect(resolver.ref('SecretsSecretdefault2608C7E2')).toMatch(
      /^arn:aws:secretsmanager:eu-central-1:111122223333:secret:SocialPlusWebhooks-SecretsSecretdefault2608C7E2-[A-Z0-9]{12}-[A-Za-z0-9]{6}$/,
    );
    expect(resolver.getAtt('ArchiveDeliveryStream87A0F874', 'Arn')).toBe(
      `arn:aws:firehose:eu-central-1:111122223333:deliverystream/${resolver.ref('ArchiveDeliveryStream87A0F874')}`,
    );
    expect(resolver.getAtt('FanoutHandlerRoleE260A43D', 'Arn')).toBe(`arn:aws:iam::111122223333:role/${resolver.ref('FanoutHandlerRoleE260A43D')}`);
    expect(resolver.getAtt('FanoutHandlerRoleE260A43D', 'RoleId')).toMatch(/^AROA[A-Z0-9]{17}$/);
    expect(resolver.getAtt('FanoutHandlerFunctionF276F126', 'Arn')).toBe(
      `arn:aws:lambda:eu-central-1:111122223333:function:${resolver.ref('FanoutHandlerFunctionF276F126')}`,
    );
    expect(resolver.getAtt('FanoutHandlerLogs48A5721C', 'Arn')).toBe('arn:aws:logs:eu-central-1:111122223333:log-group:/socialplus/fanout:*');
    expect(resolver.ref('Topic')).toBe(`arn:aws:sns:eu-central-1:111122223333:${resolver.physicalName('Topic')}`);
  });

  it("keeps generated names within each type's limit (IAM roles and Lambda functions: 64 characters)", () => {
    const long = new IntrinsicResolver(TEMPLATE, { stackName: 'A'.repeat(60), region: 'us-east-1', accountId: '111122223333' });
    expect(long.ref('FanoutHandlerRoleE260A43D').length).toBeLessThanOrEqual(64);
    expect(long.ref('FanoutHandlerFunctionF276F126').length).toBeLessThanOrEqual(64);
    expect(long.ref('ArchiveBucket49F1AC64').length).toBeLessThanOrEqual(63);
  });

  it('is deterministic: two resolvers of one template agree, and ids depend on the stack name', () => {
    const again = new IntrinsicResolver(TEMPLATE, { stackName: 'SocialPlusWebhooks', region: 'eu-central-1', accountId: '111122223333' });
    expect(again.ref('SecretsSecretdefault2608C7E2')).toBe(resolver.ref('SecretsSecretdefault2608C7E2'));
    const other = new IntrinsicResolver(TEMPLATE, { stackName: 'Other', region: 'eu-central-1', accountId: '111122223333' });
    expect(other.ref('Queue381943A6')).not.toBe(resolver.ref('Queue381943A6'));
    expect(deterministicId('x', 10)).toBe(deterministicId('x', 10));
    expect(deterministicId('x', 100)).toMatch(/^[A-Z0-9]{100}$/);
  });

  it('puts queue URLs on the given SQS origin', () => {
    const local = new IntrinsicResolver(TEMPLATE, {
      stackName: 'SocialPlusWebhooks',
      region: 'eu-central-1',
      accountId: '111122223333',
      sqsOrigin: 'http://127.0.0.1:4566/',
    });
    expect(local.ref('Queue381943A6')).toBe(`http://127.0.0.1:4566/111122223333/${resolver.physicalName('Queue381943A6')}`);
  });

  it('resolves Ref, Fn::GetAtt (both forms), Fn::Join, Fn::Select, Fn::Split, Fn::Sub, Fn::Base64 and the pseudo parameters', () => {
    const queueArn = resolver.getAtt('Queue381943A6', 'Arn');
    expect(
      resolver.resolve({
        a: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::', { Ref: 'ArchiveBucket49F1AC64' }, '/inbox/*']] },
        b: { 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::GetAtt': ['Queue381943A6', 'Arn'] }] }] },
        c: { 'Fn::Sub': 'cdk-${AWS::AccountId}-${AWS::Region}.${AWS::URLSuffix} ${Queue381943A6.Arn} ${!Literal}' },
        d: { 'Fn::Sub': ['${Name}-${AWS::StackName}', { Name: { 'Fn::GetAtt': 'Queue381943A6.QueueName' } }] },
        e: { 'Fn::Base64': 'hi' },
        f: { Ref: 'BootstrapVersion' },
        g: [{ Ref: 'AWS::NoValue' }, 'kept'],
        h: { dropped: { Ref: 'AWS::NoValue' }, kept: 1 },
      }),
    ).toEqual({
      a: `arn:aws:s3:::${resolver.ref('ArchiveBucket49F1AC64')}/inbox/*`,
      b: 'aws',
      c: `cdk-111122223333-eu-central-1.amazonaws.com ${queueArn} \${Literal}`,
      d: `${resolver.physicalName('Queue381943A6')}-SocialPlusWebhooks`,
      e: 'aGk=',
      f: '/cdk-bootstrap/hnb659fds/version',
      g: ['kept'],
      h: { kept: 1 },
    });
    expect(resolver.resolve({ Ref: 'AWS::StackId' })).toMatch(/^arn:aws:cloudformation:eu-central-1:111122223333:stack\/SocialPlusWebhooks\//);
  });

  it('throws, naming where, on what it does not support or cannot find', () => {
    const bad = (value: unknown) => () => resolver.resolve(value, 'Fn.Environment.Variables.X');
    expect(bad({ 'Fn::If': ['IsProd', 'a', 'b'] })).toThrow(
      new UnsupportedTemplateError("Fn.Environment.Variables.X (Fn::If): Fn::If is not supported by the rehearsal's resolver"),
    );
    expect(bad({ 'Fn::ImportValue': 'Shared-Queue' })).toThrow(UnsupportedTemplateError);
    expect(bad({ Ref: 'Missing' })).toThrow(/the template has no resource 'Missing'/);
    expect(bad({ Ref: 'NoDefault' })).toThrow(/parameter without a literal string default/);
    expect(bad({ Ref: 'Waf' })).toThrow(/AWS::WAFv2::WebACL are not supported/);
    expect(bad({ 'Fn::GetAtt': ['Queue381943A6', 'Nope'] })).toThrow(/attribute Nope of AWS::SQS::Queue/);
    expect(bad({ Ref: 'Conditional' })).toThrow(/conditions are not supported/);
    expect(bad({ Ref: 'SelfNamed' })).toThrow(/refers to itself/);
    expect(bad({ 'Fn::Join': ['', [{ 'Fn::Split': [',', 'a,b'] }]] })).toThrow(/not a string/);
    expect(() => resolver.resolveString({ 'Fn::Split': [',', 'a,b'] }, 'X')).toThrow(/not a string/);
  });
});
