/**
 * What changes with the configuration: the firewall's IP sets per region choice and extra CIDRs,
 * one secret (or imported secret) and one URL per source, and the tunable settings.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambda/common/env.js';
import { onlyResource, synthesize, type SynthesizedApp } from './helpers.js';

/** The June-2025 lists (docs/social-plus.md §3), written out again here so an edit of the data module is caught. */
const SG = ['52.77.130.167/32', '54.251.77.74/32', '54.255.59.189/32', '18.142.212.217/32'];
const EU = ['3.127.106.141/32', '3.65.238.41/32', '3.65.52.7/32', '3.77.135.138/32'];
const US = ['52.70.191.115/32', '100.24.154.219/32', '52.44.28.213/32', '52.72.76.90/32'];

const IMPORTED = 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:socialplus/eu-app-Xy12Za';

const ipSets = (template: Template) =>
  Object.values(template.findResources('AWS::WAFv2::IPSet')).map((r) => r.Properties as { IPAddressVersion: string; Addresses: string[] });

const synths: SynthesizedApp[] = [];
const build = (config: Record<string, unknown>) => {
  const s = synthesize(config);
  synths.push(s);
  return s;
};
afterAll(() => synths.forEach((s) => s.cleanup()));

describe('all three regions, an imported secret and tuned settings', () => {
  let template: Template;
  beforeAll(() => {
    template = build({
      sources: JSON.stringify([
        { name: 'default', region: 'us' },
        { name: 'eu-app', region: 'eu', secretArn: IMPORTED },
        { name: 'sg-app', region: 'sg' },
      ]),
      eventRetentionDays: '30',
      archiveTransitionDays: 60,
      archiveBufferSeconds: 300,
      archiveBufferMiB: 128,
      fanoutBatchSize: 10,
      fanoutMaxBatchingWindowSeconds: 0,
      fanoutMaxConcurrency: 50,
      fanoutTimeoutSeconds: 60,
      maxReceiveCount: 3,
      apiRateLimit: 200,
      apiBurstLimit: 400,
      apiStageName: 'live',
      athenaScanLimitGiB: 2,
      logRetentionDays: 90,
      logLevel: 'warn',
    }).template;
  });

  it('allows exactly the 12 Social Plus webhook addresses as /32, in one IPv4 set', () => {
    const sets = ipSets(template);
    expect(sets).toHaveLength(1);
    expect(sets[0]?.IPAddressVersion).toBe('IPV4');
    expect(sets[0]?.Addresses).toEqual([...SG, ...EU, ...US]);
    expect(new Set(sets[0]?.Addresses).size).toBe(12);
    expect(sets[0]?.Addresses.every((a) => a.endsWith('/32'))).toBe(true);
  });

  it('creates secrets only for sources without an existing ARN, and lets the receiver read exactly the three', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 2);
    const secretIds = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    const receiverId = Object.keys(template.findResources('AWS::Lambda::Function')).find((id) => id.startsWith('Receiver')) as string;
    const receiver = template.toJSON().Resources[receiverId].Properties;
    const roleId = receiver.Role['Fn::GetAtt'][0] as string;
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p) => p.Properties.Roles[0].Ref === roleId);
    const secretStatements = (policy?.Properties.PolicyDocument.Statement as { Action: string[]; Resource: unknown }[]).filter((s) =>
      s.Action.includes('secretsmanager:GetSecretValue'),
    );
    expect(secretStatements.every((s) => s.Action.length === 2 && s.Action.includes('secretsmanager:DescribeSecret'))).toBe(true);
    const resources = secretStatements.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource])).map((r) => JSON.stringify(r));
    expect(resources.sort()).toEqual([{ Ref: secretIds[0] }, IMPORTED, { Ref: secretIds[1] }].map((r) => JSON.stringify(r)).sort());
    const sourceSecrets = JSON.stringify(receiver.Environment.Variables[ENV.SOURCE_SECRETS]);
    for (const name of ['default', 'eu-app', 'sg-app']) expect(sourceSecrets).toContain(`\\"${name}\\":\\"`);
    expect(sourceSecrets).toContain(IMPORTED);
  });

  it('outputs one webhook URL per source and a secret ARN per source', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(JSON.stringify(outputs.WebhookUrlDefault?.Value)).toMatch(/\/webhook"\]\]\}$/);
    expect(JSON.stringify(outputs.WebhookUrlEuApp?.Value)).toMatch(/\/webhook\/eu-app"\]\]\}$/);
    expect(JSON.stringify(outputs.WebhookUrlSgApp?.Value)).toMatch(/\/webhook\/sg-app"\]\]\}$/);
    expect(outputs.SecretArnEuApp?.Value).toBe(IMPORTED);
    expect(outputs).toHaveProperty('SecretArnSgApp');
    expect(outputs).toHaveProperty('SecretArnDefault');
  });

  it('applies the tuned settings to the resources they belong to', () => {
    expect(onlyResource(template, 'AWS::Lambda::EventSourceMapping').properties).toMatchObject({
      BatchSize: 10,
      ScalingConfig: { MaximumConcurrency: 50 },
    });
    expect(onlyResource(template, 'AWS::Lambda::EventSourceMapping').properties.MaximumBatchingWindowInSeconds).toBeUndefined();
    const queues = Object.values(template.findResources('AWS::SQS::Queue')).map((q) => q.Properties);
    expect(queues.find((q) => q.RedrivePolicy)).toMatchObject({ VisibilityTimeout: 360, RedrivePolicy: { maxReceiveCount: 3 } });
    const functions = Object.values(template.findResources('AWS::Lambda::Function')).map((f) => f.Properties);
    expect(functions.find((f) => f.Environment?.Variables[ENV.TABLE_NAME])).toMatchObject({
      Timeout: 60,
      Environment: { Variables: { [ENV.EVENT_RETENTION_DAYS]: '30', [ENV.LOG_LEVEL]: 'WARN' } },
    });
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    expect(onlyResource(template, 'AWS::KinesisFirehose::DeliveryStream').properties).toMatchObject({
      ExtendedS3DestinationConfiguration: { BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 128 } },
    });
    expect(onlyResource(template, 'AWS::ApiGateway::Stage').properties).toMatchObject({
      StageName: 'live',
      MethodSettings: [{ ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 }],
    });
    expect(onlyResource(template, 'AWS::Athena::WorkGroup').properties).toMatchObject({
      WorkGroupConfiguration: { BytesScannedCutoffPerQuery: 2 * 1024 ** 3 },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 60 }] })]),
      },
    });
  });
});

describe('one region', () => {
  it.each([
    ['sg', SG],
    ['eu', EU],
  ])('%s alone allows only its four addresses', (region, addresses) => {
    const { template } = build({ sources: [{ name: 'default', region }] });
    expect(ipSets(template)).toEqual([expect.objectContaining({ IPAddressVersion: 'IPV4', Addresses: addresses })]);
  });

  it('two sources in the same region do not repeat its addresses', () => {
    const { template } = build({
      sources: [
        { name: 'default', region: 'eu' },
        { name: 'staging', region: 'eu' },
      ],
    });
    expect(ipSets(template)[0]?.Addresses).toEqual(EU);
  });
});

describe('allowedCidrs', () => {
  let template: Template;
  beforeAll(() => {
    template = build({ allowedCidrs: '203.0.113.7, 198.51.100.0/24, 2001:db8::/64, 52.70.191.115/32' }).template;
  });

  it('adds IPv4 CIDRs to the Social Plus set without duplicates', () => {
    const v4 = ipSets(template).find((s) => s.IPAddressVersion === 'IPV4');
    expect(v4?.Addresses).toEqual([...US, '203.0.113.7/32', '198.51.100.0/24']);
  });

  it('puts IPv6 CIDRs in their own set and allows either set', () => {
    const v6 = ipSets(template).find((s) => s.IPAddressVersion === 'IPV6');
    expect(v6?.Addresses).toEqual(['2001:db8::/64']);
    const ids = Object.keys(template.findResources('AWS::WAFv2::IPSet'));
    const rule = (onlyResource(template, 'AWS::WAFv2::WebACL').properties.Rules as { Statement: unknown }[])[0];
    expect(rule?.Statement).toEqual({
      OrStatement: { Statements: ids.map((id) => ({ IPSetReferenceStatement: { Arn: { 'Fn::GetAtt': [id, 'Arn'] } } })) },
    });
  });
});

describe('stackName and eventTableDeletionProtection', () => {
  it('name the stack, and everything named after it, so staging and production can share a region', () => {
    const { stack, template } = build({ stackName: 'SocialPlusWebhooks-staging', eventTableDeletionProtection: 'false' });
    expect(stack.stackName).toBe('SocialPlusWebhooks-staging');
    expect(onlyResource(template, 'AWS::ApiGateway::RestApi').properties.Name).toBe('SocialPlusWebhooks-staging-api');
    expect(onlyResource(template, 'AWS::Athena::WorkGroup').properties.Name).toBe('SocialPlusWebhooks-staging');
    expect((onlyResource(template, 'AWS::Glue::Database').properties.DatabaseInput as { Name: string }).Name).toBe('socialpluswebhooks_staging');
    // Turned off, the table can be deleted by a person once it leaves the stack (it is still retained).
    const table = onlyResource(template, 'AWS::DynamoDB::GlobalTable');
    expect(table.resource.DeletionPolicy).toBe('Retain');
    expect((table.properties.Replicas as Array<Record<string, unknown>>)[0]?.DeletionProtectionEnabled).toBe(false);
  });

  it('protect the event table from deletion by default', () => {
    const { template } = build({});
    const table = onlyResource(template, 'AWS::DynamoDB::GlobalTable');
    expect((table.properties.Replicas as Array<Record<string, unknown>>)[0]?.DeletionProtectionEnabled).toBe(true);
  });
});
