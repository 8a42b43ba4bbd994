/**
 * The stack side of the failure paths (issue 4): S3 notifies the event queue of spills, and only
 * S3 for this bucket may send to it; the deploy-time handler that sets the notification has exactly
 * its own permissions; the inbox's lifecycle; the inbox grants on their own (KMS, imported buckets);
 * and the settings that came with it: the receiver's deadline, tracing and the metrics namespace.
 */
import { App, type CfnElement, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../lambda/common/env.js';
import { acknowledgeInboxWildcards, Inbox, ScopedQueueDestination } from '../../lib/constructs/inbox.js';
import { WebhookQueue } from '../../lib/constructs/queue.js';
import { ReceiverFunction } from '../../lib/constructs/receiver-function.js';
import { WebhookSecrets } from '../../lib/constructs/secrets.js';
import { SPILL_REDRIVE_MARGIN_DAYS, type SocialPlusWebhooksStack } from '../../lib/webhooks-stack.js';
import { onlyResource, synthesize, type SynthesizedApp } from './helpers.js';

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: unknown; Principal?: unknown; Condition?: unknown };
type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };

const statementsOf = (policy: Resource): Statement[] => (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;

const synths: SynthesizedApp[] = [];
afterAll(() => synths.forEach((s) => s.cleanup()));
function build(config: Record<string, unknown> = {}): SynthesizedApp {
  const s = synthesize(config);
  synths.push(s);
  return s;
}

function idOf(stack: Stack, construct: IConstruct): string {
  return stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}

function resourceOf(template: Template, logicalId: string): Resource {
  const found = template.toJSON().Resources[logicalId] as Resource | undefined;
  if (!found) throw new Error(`no resource ${logicalId}`);
  return found;
}

function statementsOfRole(template: Template, roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);

/** The Deny every queue and bucket policy of the stack starts with. */
const tlsOnly = (resource: unknown) => ({
  Action: 'sqs:*',
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Resource: resource,
});

describe('the default stack', () => {
  let template: Template;
  let stack: SocialPlusWebhooksStack;
  const ref = (c: IConstruct) => ({ Ref: idOf(stack, c) });
  const getAtt = (c: IConstruct, attribute = 'Arn') => ({ 'Fn::GetAtt': [idOf(stack, c), attribute] });
  const roleOf = (fn: IConstruct) => (resourceOf(template, idOf(stack, fn)).Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];

  beforeAll(() => {
    const s = build();
    template = s.template;
    stack = s.stack;
  });

  describe('spill notifications', () => {
    it('notify the event queue of every object created under inbox/spill/, and of nothing else', () => {
      const notifications = onlyResource(template, 'Custom::S3BucketNotifications');
      expect(notifications.properties).toEqual({
        ServiceToken: expect.anything(),
        BucketName: ref(stack.archive.bucket),
        NotificationConfiguration: {
          QueueConfigurations: [
            {
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'inbox/spill/' }] } },
              QueueArn: getAtt(stack.queue.queue),
            },
          ],
        },
        Managed: true,
        SkipDestinationValidation: false,
      });
      // S3 checks the queue policy (and sends a test event) when the notification is set: the policy must exist first.
      const queuePolicyId = idOf(stack, stack.queue.queue.node.findChild('Policy'));
      expect(notifications.resource.DependsOn).toEqual(expect.arrayContaining([queuePolicyId]));
    });

    it('let only S3 (for the archive bucket in this account), the receiver and the operator role send to the event queue, beside the unchanged TLS-only deny', () => {
      const policy = resourceOf(template, idOf(stack, stack.queue.queue.node.findChild('Policy')));
      expect(policy.Properties.Queues).toEqual([ref(stack.queue.queue)]);
      expect(statementsOf(policy)).toEqual([
        tlsOnly(getAtt(stack.queue.queue)),
        {
          Sid: 'AllowArchiveBucketNotifications',
          Effect: 'Allow',
          Principal: { Service: 's3.amazonaws.com' },
          Action: 'sqs:SendMessage',
          Resource: getAtt(stack.queue.queue),
          Condition: {
            ArnLike: { 'aws:SourceArn': getAtt(stack.archive.bucket) },
            StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          },
        },
        {
          // An explicit deny, which no identity policy in the account overrides: nothing else puts an
          // unsigned event in front of the fan-out. AWS services (S3, above) are left to their allow.
          Sid: 'OnlyTheReceiverAndOperatorsSend',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 'sqs:SendMessage',
          Resource: getAtt(stack.queue.queue),
          Condition: {
            ArnNotEquals: { 'aws:PrincipalArn': [getAtt(stack.receiver.role), getAtt(stack.operator.role)] },
            Bool: { 'aws:PrincipalIsAWSService': 'false' },
          },
        },
      ]);
    });

    it('let only the receiver write inbox/spill/ (the fan-out trusts spills as verified)', () => {
      const [policy] = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: ref(stack.archive.bucket) } }));
      expect(policy?.Properties.PolicyDocument.Statement).toContainEqual({
        Sid: 'OnlyTheReceiverSpills',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [getAtt(stack.archive.bucket), '/inbox/spill/*']] },
        Condition: { ArnNotEquals: { 'aws:PrincipalArn': [getAtt(stack.receiver.role)] } },
      });
    });

    it('give the operator role (replay and redrive) exactly sending to the queue and moving the DLQ, assumable only from this account', () => {
      const role = resourceOf(template, idOf(stack, stack.operator.role)).Properties as { AssumeRolePolicyDocument: { Statement: unknown[] } };
      expect(role.AssumeRolePolicyDocument.Statement).toEqual([
        {
          Action: 'sts:AssumeRole',
          Effect: 'Allow',
          Principal: { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
        },
      ]);
      expect(statementsOfRole(template, idOf(stack, stack.operator.role))).toEqual([
        { Effect: 'Allow', Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], Resource: getAtt(stack.queue.queue) },
        {
          Effect: 'Allow',
          Action: [
            'sqs:CancelMessageMoveTask',
            'sqs:DeleteMessage',
            'sqs:GetQueueAttributes',
            'sqs:ListMessageMoveTasks',
            'sqs:ReceiveMessage',
            'sqs:StartMessageMoveTask',
          ],
          Resource: getAtt(stack.queue.deadLetterQueue),
        },
      ]);
    });

    it('leave the dead-letter queue to its TLS-only deny: nothing but redrive sends to it', () => {
      const policy = resourceOf(template, idOf(stack, stack.queue.deadLetterQueue.node.findChild('Policy')));
      expect(statementsOf(policy)).toEqual([tlsOnly(getAtt(stack.queue.deadLetterQueue))]);
    });

    it("are set by a handler whose own role may only set this bucket's notifications and write its own log group", () => {
      const handler = Object.entries(template.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('BucketNotificationsHandler'));
      expect(handler).toBeDefined();
      const [handlerId, resource] = handler as [string, { Properties: Record<string, unknown>; DependsOn: string[] }];
      expect(onlyResource(template, 'Custom::S3BucketNotifications').properties.ServiceToken).toEqual({ 'Fn::GetAtt': [handlerId, 'Arn'] });

      const roleId = idOf(stack, stack.archive.notificationsRole);
      expect(resource.Properties.Role).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
      expect(resource.Properties.LoggingConfig).toEqual({ LogGroup: ref(stack.archive.notificationsLogGroup) });
      expect(resourceOf(template, roleId).Properties.ManagedPolicyArns).toBeUndefined();
      expect(statementsOfRole(template, roleId)).toEqual([
        { Effect: 'Allow', Action: 's3:PutBucketNotification', Resource: getAtt(stack.archive.bucket) },
        { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(stack.archive.notificationsLogGroup) },
      ]);
      // Not run before its role may act (CDK's own dependency is lost with the immutable role view).
      const defaultPolicyId = idOf(stack, stack.archive.notificationsRole.node.findChild('DefaultPolicy'));
      expect(resource.DependsOn).toEqual(expect.arrayContaining([defaultPolicyId]));
      expect(resourceOf(template, idOf(stack, stack.archive.notificationsLogGroup)).Properties.RetentionInDays).toBe(30);
    });
  });

  describe('inbox grants', () => {
    it('give nobody but the two functions any access to inbox/, and no role a KMS permission (the bucket is SSE-S3)', () => {
      const functionRoles = new Set([roleOf(stack.receiver.function), roleOf(stack.fanout.function)]);
      for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
        const roles = (policy.Properties.Roles as Array<{ Ref: string }>).map((r) => r.Ref);
        for (const statement of policy.Properties.PolicyDocument.Statement as Statement[]) {
          expect(
            actionsOf(statement).some((a) => a.startsWith('kms:')),
            id,
          ).toBe(false);
          if (JSON.stringify(statement).includes('inbox/'))
            expect(
              roles.every((r) => functionRoles.has(r)),
              id,
            ).toBe(true);
        }
      }
    });
  });

  describe('inbox lifecycle', () => {
    const rules = () =>
      (resourceOf(template, idOf(stack, stack.archive.bucket)).Properties.LifecycleConfiguration as { Rules: Array<Record<string, unknown>> }).Rules;

    it("expires leftover spills only after the queues' retention plus two weeks, and keeps them as noncurrent versions after that", () => {
      const spill = rules().filter((r) => r.Prefix === 'inbox/spill/');
      expect(spill).toEqual([{ Id: 'expire-leftover-spills', Status: 'Enabled', Prefix: 'inbox/spill/', ExpirationInDays: 28 }]);
      const retentionDays = (resourceOf(template, idOf(stack, stack.queue.queue)).Properties.MessageRetentionPeriod as number) / 86_400;
      expect(28).toBe(retentionDays + SPILL_REDRIVE_MARGIN_DAYS);
      // The bucket-wide rule keeps an expired spill's last version for 30 more days.
      expect(rules().find((r) => r.Prefix === undefined)).toMatchObject({ NoncurrentVersionExpiration: { NoncurrentDays: 30 } });
    });

    it('never expires claim-checked bodies (archive lines and items point at them); they age to Standard-IA with the archive', () => {
      for (const rule of rules()) {
        if (rule.Prefix === undefined) expect(rule.ExpirationInDays, String(rule.Id)).toBeUndefined();
        expect(String(rule.Prefix ?? '')).not.toMatch(/^inbox\/(large\/)?$/);
      }
      expect(rules().find((r) => r.Prefix === undefined)).toMatchObject({ Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }] });
    });
  });
});

describe('tracing=false', () => {
  let template: Template;
  let stack: SocialPlusWebhooksStack;
  beforeAll(() => {
    const s = build({ tracing: 'false' });
    template = s.template;
    stack = s.stack;
  });

  it('turns X-Ray off on the stage and both functions, and grants no X-Ray action', () => {
    expect(onlyResource(template, 'AWS::ApiGateway::Stage').properties.TracingEnabled).toBe(false);
    for (const fn of [stack.receiver.function, stack.fanout.function]) {
      const properties = resourceOf(template, idOf(stack, fn)).Properties;
      expect(properties.TracingConfig).toBeUndefined();
      // Powertools' Tracer stays quiet too.
      expect((properties.Environment as { Variables: Record<string, string> }).Variables.POWERTOOLS_TRACE_ENABLED).toBe('false');
    }
    const actions = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).flatMap(actionsOf),
    );
    expect(actions.filter((a) => a.startsWith('xray:'))).toEqual([]);
  });
});

describe('receiverDeadlineMs and metricsNamespace', () => {
  let template: Template;
  let stack: SocialPlusWebhooksStack;
  beforeAll(() => {
    const s = build({ receiverDeadlineMs: '750', metricsNamespace: 'Acme/Webhooks', dashboard: true });
    template = s.template;
    stack = s.stack;
  });
  const envOf = (fn: IConstruct) =>
    (resourceOf(template, idOf(stack, fn)).Properties.Environment as { Variables: Record<string, unknown> }).Variables;

  it('give the receiver its deadline', () => {
    expect(envOf(stack.receiver.function)[ENV.RECEIVER_DEADLINE_MS]).toBe('750');
    expect(envOf(stack.fanout.function)[ENV.RECEIVER_DEADLINE_MS]).toBeUndefined();
  });

  it('give both functions the namespace, and the alarms, the throttle filter and the dashboard read the same one', () => {
    expect(envOf(stack.receiver.function)[ENV.METRICS_NAMESPACE]).toBe('Acme/Webhooks');
    expect(envOf(stack.fanout.function)[ENV.METRICS_NAMESPACE]).toBe('Acme/Webhooks');
    const alarm = (name: string) =>
      Object.values(template.findResources('AWS::CloudWatch::Alarm')).find((a) => a.Properties.AlarmName === `SocialPlusWebhooks-${name}`)
        ?.Properties;
    expect(alarm('EventsSpilled')).toMatchObject({ Namespace: 'Acme/Webhooks', MetricName: 'Spilled' });
    expect(alarm('SignatureInvalid')).toMatchObject({ Namespace: 'Acme/Webhooks' });
    expect(alarm('ApiThrottled')).toMatchObject({ Namespace: 'Acme/Webhooks/SocialPlusWebhooks' });
    const body = onlyResource(template, 'AWS::CloudWatch::Dashboard').properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
    const text = body['Fn::Join'][1].filter((part) => typeof part === 'string').join('');
    // A namespace with a slash is quoted in the SEARCH schema.
    expect(text).toContain('SEARCH(\'{\\"Acme/Webhooks\\",handler,service} service=\\"fanout\\" MetricName=\\"HandlerFailed\\"\', \'Sum\', 60)');
    expect(text).not.toContain('"SocialPlusWebhooks"');
  });
});

describe('the inbox grants on their own', () => {
  function setup(encryption: s3.BucketEncryption) {
    const stack = new Stack(new App(), 'Grants');
    const bucket = new s3.Bucket(stack, 'Bucket', { encryption });
    const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const processor = new iam.Role(stack, 'Processor', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const inbox = new Inbox(bucket);
    inbox.grantWrites(writer);
    inbox.grantProcessing(processor);
    const template = Template.fromStack(stack);
    return { stack, bucket, template, writerId: idOf(stack, writer), processorId: idOf(stack, processor) };
  }

  it('add the key permissions S3 needs when the bucket uses a KMS key', () => {
    const { stack, bucket, template, writerId, processorId } = setup(s3.BucketEncryption.KMS);
    const keyArn = { 'Fn::GetAtt': [idOf(stack, bucket.encryptionKey as kms.IKey), 'Arn'] };
    const kmsOf = (roleId: string) => statementsOfRole(template, roleId).filter((s) => actionsOf(s).some((a) => a.startsWith('kms:')));
    expect(kmsOf(writerId)).toEqual([{ Effect: 'Allow', Action: 'kms:GenerateDataKey', Resource: keyArn }]);
    expect(kmsOf(processorId)).toEqual([{ Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn }]);
  });

  it('add none with SSE-S3', () => {
    const { template, writerId, processorId } = setup(s3.BucketEncryption.S3_MANAGED);
    for (const roleId of [writerId, processorId]) {
      expect(
        statementsOfRole(template, roleId)
          .flatMap(actionsOf)
          .filter((a) => a.startsWith('kms:')),
      ).toEqual([]);
    }
  });

  it('acknowledge wildcards only for a bucket of the same stack, whose logical id the finding names', () => {
    const stack = new Stack(new App(), 'Acks');
    const policy = new iam.CfnPolicy(stack, 'Policy', { policyName: 'p', policyDocument: {} });
    const acknowledged = () =>
      policy.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.keys(m.data as Record<string, string>));
    acknowledgeInboxWildcards(policy, s3.Bucket.fromBucketName(stack, 'Imported', 'someone-elses-bucket'), {
      'inbox/spill/': 'a reason long enough to be one',
    });
    expect(acknowledged()).toEqual([]);
    const bucket = new s3.Bucket(stack, 'Bucket');
    acknowledgeInboxWildcards(policy, bucket, { 'inbox/spill/': 'a reason long enough to be one' });
    expect(acknowledged().join(' ')).toContain(`AwsSolutions-IAM5[Resource::<${idOf(stack, bucket)}.Arn>/inbox/spill/*]`);
  });
});

describe('constructs refuse what would not work', () => {
  it('ScopedQueueDestination refuses a queue with a customer-managed key, whose key policy S3 could not use', () => {
    const stack = new Stack(new App(), 'Kms');
    const queue = new sqs.Queue(stack, 'Queue', { encryption: sqs.QueueEncryption.KMS });
    const bucket = new s3.Bucket(stack, 'Bucket');
    expect(() => bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new ScopedQueueDestination(queue))).toThrow(
      /customer-managed KMS key.*keep the queue on SQS-managed encryption/,
    );
  });

  it('ReceiverFunction refuses a deadline at or past its own timeout, naming both', () => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Deadline');
    expect(
      () =>
        new ReceiverFunction(stack, 'Receiver', {
          queue: new WebhookQueue(stack, 'Queue', { consumerTimeout: Duration.seconds(30) }),
          sourceSecrets: new WebhookSecrets(stack, 'Secrets', { sources: [] }),
          inbox: new Inbox(new s3.Bucket(stack, 'Bucket')),
          deadline: Duration.seconds(3),
        }),
    ).toThrow('ReceiverFunction deadline is 3000 ms; it must be a whole number of milliseconds above 0 and below the function timeout (3000 ms)');
  });
});
