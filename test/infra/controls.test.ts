/**
 * docs/security.md's table of AWS Control Tower proactive controls, checked: each control's rule
 * (the property checks of its CloudFormation Guard rule specification, written out below) is
 * evaluated against the synthesized template of both profiles, and the table must say exactly
 * what the templates do, control by control.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synthesize, type SynthesizedApp } from './helpers.js';

type Props = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties?: Props;
}
type Template = { Resources: Record<string, Resource> };

/** A control's verdict on a template: the logical ids of the resources that break it (none: met). */
type Control = (t: Template) => string[];

const get = (o: unknown, ...path: string[]): unknown =>
  path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Props)[k] : undefined), o);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/** The logical ids of the resources of `type` for which `ok` is false. */
function failing(type: string, ok: (p: Props) => boolean): Control {
  return (t) =>
    Object.entries(t.Resources)
      .filter(([, r]) => r.Type === type)
      .filter(([, r]) => !ok(r.Properties ?? {}))
      .map(([id]) => id);
}

/** Every policy statement of the IAM policies and the roles' inline policies, with the resource's id. */
function iamStatements(t: Template): Array<[string, Props]> {
  const out: Array<[string, Props]> = [];
  for (const [id, r] of Object.entries(t.Resources)) {
    const docs =
      r.Type === 'AWS::IAM::Policy'
        ? [get(r.Properties, 'PolicyDocument')]
        : r.Type === 'AWS::IAM::Role'
          ? list(get(r.Properties, 'Policies')).map((p) => get(p, 'PolicyDocument'))
          : [];
    for (const doc of docs) for (const s of list(get(doc, 'Statement'))) out.push([id, s as Props]);
  }
  return out;
}

const isStar = (p: unknown) => p === '*' || (typeof p === 'object' && p !== null && get(p, 'AWS') === '*');

const CONTROLS: Record<string, Control> = {
  'CT.APIGATEWAY.PR.1': failing('AWS::ApiGateway::Stage', (p) => {
    const settings = list(p.MethodSettings);
    return (
      settings.some(
        (m) => get(m, 'HttpMethod') === '*' && get(m, 'ResourcePath') === '/*' && ['ERROR', 'INFO'].includes(get(m, 'LoggingLevel') as string),
      ) && !settings.some((m) => get(m, 'LoggingLevel') === 'OFF')
    );
  }),
  'CT.APIGATEWAY.PR.2': failing('AWS::ApiGateway::Stage', (p) => p.TracingEnabled === true),
  'CT.APIGATEWAY.PR.3': failing(
    'AWS::ApiGateway::Stage',
    (p) =>
      p.CacheClusterEnabled !== true ||
      (list(p.MethodSettings).some((m) => get(m, 'CacheDataEncrypted') === true) &&
        !list(p.MethodSettings).some((m) => get(m, 'CacheDataEncrypted') === false)),
  ),
  'CT.ATHENA.PR.1': failing('AWS::Athena::WorkGroup', (p) => {
    const c = get(p, 'WorkGroupConfiguration');
    return (
      get(c, 'EnforceWorkGroupConfiguration') !== false &&
      typeof get(c, 'ResultConfiguration', 'EncryptionConfiguration', 'EncryptionOption') === 'string'
    );
  }),
  'CT.ATHENA.PR.2': failing('AWS::Athena::WorkGroup', (p) => {
    const c = get(p, 'WorkGroupConfiguration');
    return (
      get(c, 'EnforceWorkGroupConfiguration') !== false &&
      typeof get(c, 'ResultConfiguration', 'EncryptionConfiguration', 'EncryptionOption') === 'string' &&
      get(c, 'ResultConfiguration', 'EncryptionConfiguration', 'KmsKey') !== undefined
    );
  }),
  'CT.CLOUDWATCH.PR.1': failing('AWS::CloudWatch::Alarm', (p) => list(p.AlarmActions).length > 0),
  'CT.CLOUDWATCH.PR.2': failing('AWS::Logs::LogGroup', (p) => p.RetentionInDays === undefined || (p.RetentionInDays as number) >= 365),
  'CT.CLOUDWATCH.PR.3': failing('AWS::Logs::LogGroup', (p) => p.KmsKeyId !== undefined),
  'CT.CLOUDWATCH.PR.4': failing('AWS::CloudWatch::Alarm', (p) => p.ActionsEnabled !== false),
  'CT.IAM.PR.1': (t) =>
    iamStatements(t)
      .filter(([, s]) => s.Effect === 'Allow' && asArray(s.Action).includes('*') && asArray(s.Resource).includes('*'))
      .map(([id]) => id),
  'CT.IAM.PR.4': failing('AWS::IAM::Policy', (p) => p.Users === undefined),
  'CT.IAM.PR.5': (t) =>
    iamStatements(t)
      .filter(
        ([, s]) =>
          s.Effect === 'Allow' && (s.NotAction !== undefined || asArray(s.Action).some((a) => typeof a === 'string' && /^[^:]+:\*$/.test(a))),
      )
      .map(([id]) => id),
  'CT.KMS.PR.1': failing('AWS::KMS::Key', (p) => (p.KeySpec !== undefined && p.KeySpec !== 'SYMMETRIC_DEFAULT') || p.EnableKeyRotation === true),
  'CT.KMS.PR.2': failing('AWS::KMS::Key', (p) => p.KeySpec !== 'RSA_2048' || p.KeyUsage === 'SIGN_VERIFY'),
  'CT.KMS.PR.3': failing('AWS::KMS::Key', (p) =>
    list(get(p, 'KeyPolicy', 'Statement')).some((s) => {
      const condition = get(s, 'Condition') as Props | undefined;
      return (
        get(s, 'Effect') === 'Deny' &&
        asArray(get(s, 'Action')).includes('kms:CreateGrant') &&
        isStar(get(s, 'Principal')) &&
        asArray(get(s, 'Resource')).includes('*') &&
        condition !== undefined &&
        Object.keys(condition).join() === 'BoolIfExists' &&
        get(condition, 'BoolIfExists', 'kms:GrantIsForAWSResource') === 'false' &&
        get(condition, 'BoolIfExists', 'aws:PrincipalIsAWSService') === 'false'
      );
    }),
  ),
  // Checked as deployed: CloudFormation resolves the SourceArn the template builds with Fn::Join.
  'CT.LAMBDA.PR.2': failing(
    'AWS::Lambda::Permission',
    (p) =>
      p.FunctionUrlAuthType !== 'NONE' &&
      (!String(p.Principal).endsWith('.amazonaws.com') || p.SourceArn !== undefined || p.SourceAccount !== undefined),
  ),
  'CT.LAMBDA.PR.3': failing(
    'AWS::Lambda::Function',
    (p) => list(get(p, 'VpcConfig', 'SubnetIds')).length > 0 && list(get(p, 'VpcConfig', 'SecurityGroupIds')).length > 0,
  ),
  'CT.S3.PR.1': failing('AWS::S3::Bucket', (p) =>
    ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'].every(
      (k) => get(p, 'PublicAccessBlockConfiguration', k) === true,
    ),
  ),
  'CT.S3.PR.2': failing('AWS::S3::Bucket', (p) => p.LoggingConfiguration !== undefined),
  'CT.S3.PR.3': failing(
    'AWS::S3::Bucket',
    (p) =>
      get(p, 'VersioningConfiguration', 'Status') !== 'Enabled' ||
      list(get(p, 'LifecycleConfiguration', 'Rules')).some((r) => get(r, 'Status') === 'Enabled'),
  ),
  'CT.S3.PR.4': failing('AWS::S3::Bucket', (p) => {
    const n = get(p, 'NotificationConfiguration');
    return (
      get(n, 'EventBridgeConfiguration', 'EventBridgeEnabled') === true ||
      ['LambdaConfigurations', 'QueueConfigurations', 'TopicConfigurations'].some((k) => list(get(n, k)).length > 0)
    );
  }),
  'CT.S3.PR.5': failing('AWS::S3::Bucket', (p) => p.AccessControl === undefined),
  'CT.S3.PR.6': failing('AWS::S3::Bucket', (p) => list(get(p, 'LifecycleConfiguration', 'Rules')).some((r) => get(r, 'Status') === 'Enabled')),
  'CT.S3.PR.8': failing('AWS::S3::BucketPolicy', (p) =>
    list(get(p, 'PolicyDocument', 'Statement')).some(
      (s) =>
        get(s, 'Effect') === 'Deny' &&
        asArray(get(s, 'Action')).some((a) => a === 's3:*' || a === '*') &&
        isStar(get(s, 'Principal')) &&
        get(s, 'Condition', 'Bool', 'aws:SecureTransport') === 'false',
    ),
  ),
  'CT.S3.PR.9': failing('AWS::S3::Bucket', (p) => p.ObjectLockEnabled === true),
  'CT.S3.PR.10': failing('AWS::S3::Bucket', (p) => {
    const algorithms = list(get(p, 'BucketEncryption', 'ServerSideEncryptionConfiguration')).map((c) =>
      get(c, 'ServerSideEncryptionByDefault', 'SSEAlgorithm'),
    );
    return algorithms.length > 0 && algorithms.every((a) => a === 'aws:kms' || a === 'aws:kms:dsse');
  }),
  'CT.S3.PR.11': failing('AWS::S3::Bucket', (p) => get(p, 'VersioningConfiguration', 'Status') === 'Enabled'),
  'CT.SQS.PR.1': failing(
    'AWS::SQS::Queue',
    (p) =>
      get(p, 'RedrivePolicy', 'deadLetterTargetArn') !== undefined ||
      ['allowAll', 'byQueue'].includes(get(p, 'RedriveAllowPolicy', 'redrivePermission') as string),
  ),
  'CT.SQS.PR.2': failing('AWS::SQS::Queue', (p) => p.SqsManagedSseEnabled === true || p.KmsMasterKeyId !== undefined),
  'CT.WAFV2.PR.1': failing('AWS::WAFv2::WebACL', (p) => list(p.Rules).length > 0),
};

/** docs/security.md's control table: control id → what it says of each profile. */
function documentedTable(): Map<string, { lean: boolean; hardened: boolean }> {
  const doc = readFileSync(new URL('../../docs/security.md', import.meta.url), 'utf8');
  const rows = new Map<string, { lean: boolean; hardened: boolean }>();
  for (const m of doc.matchAll(/^\| (CT\.[A-Z0-9]+\.PR\.\d+) \|[^|]*\|[^|]*\| (yes|no) \| (yes|no) \|/gm)) {
    rows.set(m[1] as string, { lean: m[2] === 'yes', hardened: m[3] === 'yes' });
  }
  return rows;
}

let lean: SynthesizedApp;
let hardened: SynthesizedApp;
beforeAll(() => {
  lean = synthesize();
  hardened = synthesize({ profile: 'hardened' });
});
afterAll(() => {
  lean.cleanup();
  hardened.cleanup();
});

describe("docs/security.md's AWS Control Tower table", () => {
  it('lists every control this file checks, once, and no other', () => {
    expect([...documentedTable().keys()].sort()).toEqual(Object.keys(CONTROLS).sort());
  });

  it.each(Object.keys(CONTROLS))('says of %s what the lean and hardened templates do', (id) => {
    const check = CONTROLS[id] as Control;
    const said = documentedTable().get(id);
    const failsLean = check(lean.template.toJSON() as Template);
    const failsHardened = check(hardened.template.toJSON() as Template);
    expect(
      { lean: failsLean.length === 0, hardened: failsHardened.length === 0 },
      `lean fails on ${failsLean.join(', ')}; hardened on ${failsHardened.join(', ')}`,
    ).toEqual(said);
  });

  it('is about templates that hold what each control looks at', () => {
    for (const t of [lean.template, hardened.template]) {
      for (const type of [
        'AWS::ApiGateway::Stage',
        'AWS::Athena::WorkGroup',
        'AWS::Logs::LogGroup',
        'AWS::KMS::Key',
        'AWS::S3::Bucket',
        'AWS::SQS::Queue',
        'AWS::Lambda::Permission',
      ])
        expect(Object.keys(t.findResources(type)).length, type).toBeGreaterThan(0);
    }
  });
});
