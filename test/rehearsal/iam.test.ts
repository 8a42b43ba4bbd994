/**
 * The deploy rehearsal's IAM evaluator (test/rehearsal/iam.ts), on hand-written policies: what
 * allows, what denies and why, and what it refuses to judge.
 */
import { describe, expect, it } from 'vitest';
import {
  actionMatches,
  arnMatches,
  authorize,
  conditionsHold,
  describeDecision,
  resourceMatches,
  UnmodelledConditionKeyError,
  UnsupportedPolicyError,
  type AccessRequest,
  type ConditionContext,
  type Policy,
  type PolicyStatement,
} from './iam.js';

/** The principal's account, which its role, its session and the queue are of. */
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/Stack-FanoutRole-ABC`;
const OTHER_ROLE = `arn:aws:iam::${ACCOUNT}:role/Stack-ReceiverRole-DEF`;
const QUEUE = `arn:aws:sqs:us-east-1:${ACCOUNT}:Stack-Queue-XYZ`;
const BUCKET = 'arn:aws:s3:::stack-archive-xyz';

const principal = {
  roleArn: ROLE,
  sessionArn: `arn:aws:sts::${ACCOUNT}:assumed-role/Stack-FanoutRole-ABC/Stack-Fanout`,
  accountId: ACCOUNT,
};
const context: ConditionContext = {
  'aws:PrincipalArn': ROLE,
  'aws:SecureTransport': 'true',
  'aws:PrincipalIsAWSService': 'false',
  's3:prefix': null,
};

const request = (action: string, resource: string, extra: ConditionContext = {}): AccessRequest => ({
  principal,
  action,
  resource,
  context: { ...context, ...extra },
});
const identity = (...Statement: PolicyStatement[]): Policy => ({
  name: 'RolePolicy',
  kind: 'identity',
  document: { Version: '2012-10-17', Statement },
});
const resource = (...Statement: PolicyStatement[]): Policy => ({
  name: 'QueuePolicy',
  kind: 'resource',
  document: { Version: '2012-10-17', Statement },
});

describe('authorize', () => {
  it('allows what an identity statement grants, naming the statement', () => {
    const d = authorize(request('sqs:ReceiveMessage', QUEUE), [
      identity({ Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'], Resource: QUEUE }),
    ]);
    expect(d).toEqual({ decision: 'allow', allowedBy: [{ policy: 'RolePolicy', kind: 'identity', index: 0 }] });
    expect(describeDecision(d)).toBe('allowed by RolePolicy statement 0');
  });

  it('denies implicitly what no statement grants (another action, another resource)', () => {
    const policy = identity({ Effect: 'Allow', Action: 'sqs:ReceiveMessage', Resource: QUEUE });
    expect(authorize(request('sqs:SendMessage', QUEUE), [policy])).toEqual({ decision: 'implicit-deny' });
    expect(authorize(request('sqs:ReceiveMessage', `${QUEUE}-dlq`), [policy])).toEqual({ decision: 'implicit-deny' });
    expect(describeDecision({ decision: 'implicit-deny' })).toBe('no statement allows it');
  });

  it('lets an explicit Deny win over any Allow, in the identity policy or in the resource policy', () => {
    const allow = identity({ Effect: 'Allow', Action: 's3:*', Resource: `${BUCKET}/*` });
    const denyInIdentity = identity({ Sid: 'NoDeletes', Effect: 'Deny', Action: 's3:DeleteObject', Resource: `${BUCKET}/inbox/large/*` });
    expect(authorize(request('s3:DeleteObject', `${BUCKET}/inbox/large/2025-07-02/abc`), [allow, denyInIdentity])).toEqual({
      decision: 'explicit-deny',
      deniedBy: [{ policy: 'RolePolicy', kind: 'identity', index: 0, sid: 'NoDeletes' }],
    });
    const denyInResource = resource({
      Sid: 'OnlyTheReceiverSends',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 's3:PutObject',
      Resource: `${BUCKET}/inbox/spill/*`,
      Condition: { ArnNotEquals: { 'aws:PrincipalArn': [OTHER_ROLE] } },
    });
    const d = authorize(request('s3:PutObject', `${BUCKET}/inbox/spill/2025-07-02/abc`), [allow, denyInResource]);
    expect(d.decision).toBe('explicit-deny');
    expect(describeDecision(d)).toBe('explicitly denied by QueuePolicy statement 0 (OnlyTheReceiverSends)');
    // The principal the Deny spares gets through.
    const spared = {
      ...request('s3:PutObject', `${BUCKET}/inbox/spill/x`),
      principal: { ...principal, roleArn: OTHER_ROLE },
      context: { ...context, 'aws:PrincipalArn': OTHER_ROLE },
    };
    expect(authorize(spared, [allow, denyInResource]).decision).toBe('allow');
  });

  it('matches actions case-insensitively with * and ? wildcards, and NotAction as everything else', () => {
    expect(
      authorize(request('dynamodb:PutItem', 'arn:aws:dynamodb:us-east-1:123456789012:table/t'), [
        identity({ Effect: 'Allow', Action: 'DynamoDB:*Item', Resource: '*' }),
      ]).decision,
    ).toBe('allow');
    expect(
      authorize(request('dynamodb:Query', 'arn:aws:dynamodb:us-east-1:123456789012:table/t'), [
        identity({ Effect: 'Allow', Action: 'dynamodb:*Item', Resource: '*' }),
      ]).decision,
    ).toBe('implicit-deny');
    expect(authorize(request('firehose:PutRecord', '*'), [identity({ Effect: 'Allow', Action: 'firehose:PutRecor?', Resource: '*' })]).decision).toBe(
      'allow',
    );
    const notAction = identity({ Effect: 'Allow', NotAction: ['iam:*', 'sts:*'], Resource: '*' });
    expect(authorize(request('sqs:SendMessage', QUEUE), [notAction]).decision).toBe('allow');
    expect(authorize(request('iam:PassRole', ROLE), [notAction]).decision).toBe('implicit-deny');
    const denyAllBut = identity(
      { Effect: 'Allow', Action: '*', Resource: '*' },
      { Effect: 'Deny', NotAction: 'sqs:ReceiveMessage', Resource: QUEUE },
    );
    expect(authorize(request('sqs:ReceiveMessage', QUEUE), [denyAllBut]).decision).toBe('allow');
    expect(authorize(request('sqs:PurgeQueue', QUEUE), [denyAllBut]).decision).toBe('explicit-deny');
  });

  it('matches resources case-sensitively, with wildcards across / and :, and NotResource as everything else', () => {
    const logs = identity({ Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: 'arn:aws:logs:us-east-1:123456789012:log-group:fanout-logs:*' });
    expect(
      authorize(request('logs:PutLogEvents', 'arn:aws:logs:us-east-1:123456789012:log-group:fanout-logs:log-stream:2025/07/02/[$LATEST]abc'), [logs])
        .decision,
    ).toBe('allow');
    expect(authorize(request('logs:PutLogEvents', 'arn:aws:logs:us-east-1:123456789012:log-group:FANOUT-LOGS:log-stream:x'), [logs]).decision).toBe(
      'implicit-deny',
    );
    const notResource = identity({ Effect: 'Allow', Action: 's3:GetObject', NotResource: `${BUCKET}/private/*` });
    expect(authorize(request('s3:GetObject', `${BUCKET}/inbox/large/k`), [notResource]).decision).toBe('allow');
    expect(authorize(request('s3:GetObject', `${BUCKET}/private/k`), [notResource]).decision).toBe('implicit-deny');
  });

  it('needs every condition to hold: a prefix-scoped ListBucket allows inbox/ keys only', () => {
    const list = identity({ Effect: 'Allow', Action: 's3:ListBucket', Resource: BUCKET, Condition: { StringLike: { 's3:prefix': ['inbox/*'] } } });
    expect(authorize(request('s3:ListBucket', BUCKET, { 's3:prefix': 'inbox/spill/2025-07-02/abc' }), [list]).decision).toBe('allow');
    expect(authorize(request('s3:ListBucket', BUCKET, { 's3:prefix': 'events/dt=2025-07-02/' }), [list]).decision).toBe('implicit-deny');
    // No prefix at all: the key is absent, so a positive operator fails.
    expect(authorize(request('s3:ListBucket', BUCKET, { 's3:prefix': null }), [list]).decision).toBe('implicit-deny');
  });

  it('applies a resource policy Deny to the caller through * or its role, and a service principal statement not at all', () => {
    const tlsOnly = resource({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'sqs:*',
      Resource: QUEUE,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
    const s3Only = resource({ Effect: 'Allow', Principal: { Service: 's3.amazonaws.com' }, Action: 'sqs:SendMessage', Resource: QUEUE });
    const grant = identity({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: QUEUE });
    expect(authorize(request('sqs:SendMessage', QUEUE), [grant, tlsOnly, s3Only]).decision).toBe('allow');
    expect(authorize(request('sqs:SendMessage', QUEUE, { 'aws:SecureTransport': 'false' }), [grant, tlsOnly]).decision).toBe('explicit-deny');
    // The service principal's Allow grants the role nothing.
    expect(authorize(request('sqs:SendMessage', QUEUE), [s3Only]).decision).toBe('implicit-deny');
  });

  it('takes a resource policy Allow naming the role as a grant, but one naming only the account as delegation', () => {
    const namingRole = resource({ Effect: 'Allow', Principal: { AWS: ROLE }, Action: 'sqs:SendMessage', Resource: QUEUE });
    const namingAccount = resource({
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'sqs:SendMessage',
      Resource: QUEUE,
    });
    expect(authorize(request('sqs:SendMessage', QUEUE), [namingRole]).decision).toBe('allow');
    expect(authorize(request('sqs:SendMessage', QUEUE), [namingAccount]).decision).toBe('implicit-deny');
    // A Deny naming the account applies to every principal in it.
    const denyAccount = resource({ Effect: 'Deny', Principal: { AWS: ACCOUNT }, Action: 'sqs:*', Resource: QUEUE });
    expect(authorize(request('sqs:SendMessage', QUEUE), [namingRole, denyAccount]).decision).toBe('explicit-deny');
    // NotPrincipal: a Deny for everyone but the named role.
    const notMe = resource({ Effect: 'Deny', NotPrincipal: { AWS: [OTHER_ROLE] }, Action: 'sqs:*', Resource: QUEUE });
    expect(authorize(request('sqs:SendMessage', QUEUE), [namingRole, notMe]).decision).toBe('explicit-deny');
    const notOthers = resource({ Effect: 'Deny', NotPrincipal: { AWS: [ROLE] }, Action: 'sqs:*', Resource: QUEUE });
    expect(authorize(request('sqs:SendMessage', QUEUE), [namingRole, notOthers]).decision).toBe('allow');
  });
});

describe('conditionsHold', () => {
  it('ANDs operators and keys, ORs the values of one key, NORs them for a negated operator', () => {
    const ctx: ConditionContext = { 'aws:PrincipalArn': ROLE, 'aws:SecureTransport': 'true' };
    expect(conditionsHold({ ArnEquals: { 'aws:PrincipalArn': [OTHER_ROLE, ROLE] }, Bool: { 'aws:SecureTransport': true } }, ctx)).toBe(true);
    expect(conditionsHold({ ArnEquals: { 'aws:PrincipalArn': [OTHER_ROLE, ROLE] }, Bool: { 'aws:SecureTransport': 'false' } }, ctx)).toBe(false);
    expect(conditionsHold({ ArnNotEquals: { 'aws:PrincipalArn': [OTHER_ROLE, ROLE] } }, ctx)).toBe(false);
    expect(conditionsHold({ ArnNotEquals: { 'aws:PrincipalArn': [OTHER_ROLE] } }, ctx)).toBe(true);
  });

  it('matches condition keys case-insensitively and string values case-sensitively (except the IgnoreCase operators)', () => {
    const ctx: ConditionContext = { 'secretsmanager:SecretId': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:Webhook-AbC123' };
    expect(conditionsHold({ StringLike: { 'SecretsManager:secretid': '*:secret:Webhook-*' } }, ctx)).toBe(true);
    expect(conditionsHold({ StringLike: { 'secretsmanager:SecretId': '*:secret:webhook-*' } }, ctx)).toBe(false);
    expect(
      conditionsHold(
        { StringEqualsIgnoreCase: { 'secretsmanager:SecretId': 'ARN:AWS:SECRETSMANAGER:US-EAST-1:123456789012:SECRET:WEBHOOK-ABC123' } },
        ctx,
      ),
    ).toBe(true);
    expect(conditionsHold({ StringNotEquals: { 'secretsmanager:SecretId': 'other' } }, ctx)).toBe(true);
    expect(conditionsHold({ StringNotLike: { 'secretsmanager:SecretId': '*Webhook*' } }, ctx)).toBe(false);
  });

  it('treats a key absent from the request as failing positive operators, satisfying negated ones, IfExists and Null "true"', () => {
    const ctx: ConditionContext = { 'aws:SourceVpce': null, 'aws:SecureTransport': 'true' };
    expect(conditionsHold({ StringEquals: { 'aws:SourceVpce': 'vpce-1' } }, ctx)).toBe(false);
    expect(conditionsHold({ StringNotEquals: { 'aws:SourceVpce': 'vpce-1' } }, ctx)).toBe(true);
    expect(conditionsHold({ StringEqualsIfExists: { 'aws:SourceVpce': 'vpce-1' } }, ctx)).toBe(true);
    expect(conditionsHold({ BoolIfExists: { 'aws:SecureTransport': 'false' } }, ctx)).toBe(false);
    expect(conditionsHold({ Null: { 'aws:SourceVpce': 'true' } }, ctx)).toBe(true);
    expect(conditionsHold({ Null: { 'aws:SourceVpce': 'false' } }, ctx)).toBe(false);
    expect(conditionsHold({ Null: { 'aws:SecureTransport': 'false' } }, ctx)).toBe(true);
  });

  it('refuses to guess: an unmodelled key, an unsupported operator, a set operator, a policy variable', () => {
    expect(() => conditionsHold({ StringEquals: { 'aws:PrincipalTag/team': 'x' } }, {})).toThrow(UnmodelledConditionKeyError);
    expect(() => conditionsHold({ NumericLessThan: { 's3:max-keys': '10' } }, { 's3:max-keys': '5' })).toThrow(UnsupportedPolicyError);
    expect(() => conditionsHold({ 'ForAnyValue:StringLike': { 'aws:TagKeys': 'a*' } }, { 'aws:TagKeys': ['ab'] })).toThrow(UnsupportedPolicyError);
    expect(() => conditionsHold({ StringEquals: { 's3:prefix': '${aws:username}/' } }, { 's3:prefix': 'x' })).toThrow(/policy variables/);
    expect(() => conditionsHold({ StringEquals: { 'aws:TagKeys': 'a' } }, { 'aws:TagKeys': ['a', 'b'] })).toThrow(/several values/);
  });
});

describe('matching helpers', () => {
  it('actionMatches, resourceMatches and arnMatches', () => {
    expect(actionMatches('*', 'anything:At')).toBe(true);
    expect(actionMatches('s3:Get*', 's3:getobject')).toBe(true);
    expect(actionMatches('s3:Get*', 's3:PutObject')).toBe(false);
    expect(resourceMatches(`${BUCKET}/inbox/large/*`, `${BUCKET}/inbox/large/2025-07-02/abc`)).toBe(true);
    expect(resourceMatches(`${BUCKET}/inbox/large/*`, `${BUCKET}/inbox/spill/2025-07-02/abc`)).toBe(false);
    expect(() => resourceMatches('arn:aws:s3:::b/${aws:username}/*', 'arn:aws:s3:::b/x/y')).toThrow(UnsupportedPolicyError);
    // Arn operators compare the six parts one by one: a wildcard stays inside its part.
    expect(arnMatches('arn:aws:iam::*:role/Stack-*', ROLE)).toBe(true);
    expect(arnMatches('arn:aws:iam::*', ROLE)).toBe(false);
    expect(arnMatches('arn:aws:sqs:*:123456789012:*', QUEUE)).toBe(true);
    expect(arnMatches(ROLE, 'not-an-arn')).toBe(false);
  });

  it('throws on a malformed statement rather than judging it', () => {
    expect(() => authorize(request('sqs:SendMessage', QUEUE), [identity({ Effect: 'Allow', Resource: QUEUE })])).toThrow(/Action and NotAction/);
    expect(() => authorize(request('sqs:SendMessage', QUEUE), [identity({ Effect: 'Allow', Action: '*', Resource: '*', Principal: '*' })])).toThrow(
      /identity policy statement has a Principal/,
    );
    expect(() => authorize(request('sqs:SendMessage', QUEUE), [resource({ Effect: 'Allow', Action: '*', Resource: '*' })])).toThrow(
      /needs Principal or NotPrincipal/,
    );
    expect(() =>
      authorize(request('sqs:SendMessage', QUEUE), [resource({ Effect: 'Allow', Principal: { Weird: 'x' }, Action: '*', Resource: '*' })]),
    ).toThrow(UnsupportedPolicyError);
  });
});
