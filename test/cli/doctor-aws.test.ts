/**
 * `doctor --aws`: every account and stack check against recorded AWS answers, served in each
 * service's wire format by the AWS double and read by the real SDK clients; then the whole CLI
 * in-process (`runCli`) against the same double: healthy, failing, without credentials, before
 * the first deploy. A secret value must never reach the output.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  apiGatewayRoleCheck,
  apiGatewayThrottleCheck,
  bootstrapCheck,
  CREDENTIALS_FIX,
  identityCheck,
  lambdaConcurrencyCheck,
} from '../../cli/doctor/account-checks.js';
import { readLatestBootstrapVersion } from '../../cli/doctor/aws-support.js';
import { runChecks, type Check, type Outcome, type ReportedCheck } from '../../cli/doctor/check.js';
import type { AwsContext, DoctorClients, DoctorContext } from '../../cli/doctor/context.js';
import { signatureFormsCheck } from '../../cli/doctor/signature-check.js';
import {
  alarmTopicCheck,
  deadLetterQueueCheck,
  eventQueueCheck,
  secretChecks,
  stackCheck,
  STACK_CHECKS,
  webAclCheck,
} from '../../cli/doctor/stack-checks.js';
import { buildConfig } from '../../lib/config.js';
import { SECRET_PLACEHOLDER } from '../../lambda/core/secret-value.js';
import {
  awsDoubleEnv,
  jsonAnswer,
  jsonError,
  queryAnswer,
  queryError,
  useAwsDouble,
  type AwsAnswer,
  type AwsAnswers,
  type AwsResponder,
} from '../support/aws-double.js';
import { isolatedAwsEnv } from '../support/aws-recorded-answers.js';
import { runCli } from './run-cli.js';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const FIXTURES = fileURLToPath(new URL('../fixtures/aws/doctor/', import.meta.url));
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');

/** The configuration of the fixture's cdk.json: two sources, a stage throttle of 2000/1000. */
const CONFIG = buildConfig((JSON.parse(fixture('cdk.json')) as { context: Record<string, unknown> }).context);

// ---- recorded answers ----

const STACK_NAME = 'SocialPlusWebhooks';
const SECRET_DEFAULT = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:SecretsSecretdefault7A1C3F2B-Xq3wTz`;
const SECRET_EU = `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:SecretsSecreteunetwork4D2E9A11-Lm8pQa`;
const WEB_ACL_ARN = `arn:aws:wafv2:${REGION}:${ACCOUNT}:regional/webacl/SocialPlusWebhooks-webhooks/3f6b2a1c-8d4e-4f5a-9b0c-1d2e3f4a5b6c`;
const STAGE_ARN = `arn:aws:apigateway:${REGION}::/restapis/k3x9q2v7hd/stages/prod`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:SocialPlusWebhooks-MonitoringAlarmTopic5E6F7A8B-ZyXwVuTsRqPo`;
const QUEUE_PATH = `/${ACCOUNT}/SocialPlusWebhooks-QueueEventQueue1F2E3D4C-AbCdEfGhIjKl`;
const DLQ_PATH = `/${ACCOUNT}/SocialPlusWebhooks-QueueDeadLetterQueue9A8B7C6D-MnOpQrStUvWx`;
/** A signing key as Social Plus shows it once; the tests assert it is never printed. */
const REAL_KEY = 'spk_live_7fQ2mZ9xR4vT1wB8nK3cH6jL0pD5sG';

const xml = (body: string): AwsAnswer => ({ status: 200, headers: { 'content-type': 'text/xml' }, body });

/** The deployed stack's DescribeStacks answer, its queue URLs on `queueOrigin`. */
function webhooksStack(opts: { queueOrigin?: string; status?: string; reason?: string; without?: readonly string[] } = {}): AwsAnswer {
  let body = fixture('describe-stacks-webhooks.xml').replaceAll('{{QUEUE_ORIGIN}}', opts.queueOrigin ?? `https://sqs.${REGION}.amazonaws.com`);
  if (opts.status)
    body = body.replace(
      '<StackStatus>UPDATE_COMPLETE</StackStatus>',
      `<StackStatus>${opts.status}</StackStatus>${opts.reason ? `<StackStatusReason>${opts.reason}</StackStatusReason>` : ''}`,
    );
  for (const key of opts.without ?? []) body = body.replace(new RegExp(`<member>\\s*<OutputKey>${key}</OutputKey>[\\s\\S]*?</member>`), '');
  return xml(body);
}

/** The CDK toolkit stack's DescribeStacks answer. */
function toolkitStack(version: number | string, status = 'UPDATE_COMPLETE'): AwsAnswer {
  return xml(
    fixture('describe-stacks-cdktoolkit.xml')
      .replace('{{BOOTSTRAP_VERSION}}', String(version))
      .replace('<StackStatus>UPDATE_COMPLETE</StackStatus>', `<StackStatus>${status}</StackStatus>`),
  );
}

/** DescribeStacks answering per stack name; any other name does not exist, as CloudFormation says it. */
function describeStacks(byName: Readonly<Record<string, AwsAnswer>>): AwsResponder {
  return (call) =>
    byName[String(call.input.StackName)] ?? queryError('ValidationError', `Stack with id ${String(call.input.StackName)} does not exist`);
}

const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_AdministratorAccess_0f1e2d3c4b5a6978/mika.tan@example.com`;
const callerIdentity = queryAnswer(
  'GetCallerIdentity',
  `<Arn>${CALLER_ARN}</Arn><UserId>AROA3XFRBF535PLBIFPI4:mika.tan@example.com</UserId><Account>${ACCOUNT}</Account>`,
  'https://sts.amazonaws.com/doc/2011-06-15/',
);

function apiGatewayAccount(opts: { role?: string | null; rate?: number; burst?: number } = {}): AwsAnswer {
  return jsonAnswer({
    ...(opts.role === null ? {} : { cloudwatchRoleArn: opts.role ?? 'arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs' }),
    throttleSettings: { burstLimit: opts.burst ?? 5000, rateLimit: opts.rate ?? 10000.0 },
    features: ['UsagePlans'],
    apiKeyVersion: '4',
  });
}

function lambdaSettings(concurrent: number, unreserved: number): AwsAnswer {
  return jsonAnswer({
    AccountLimit: {
      TotalCodeSize: 80530636800,
      CodeSizeUnzipped: 262144000,
      CodeSizeZipped: 52428800,
      ConcurrentExecutions: concurrent,
      UnreservedConcurrentExecutions: unreserved,
    },
    AccountUsage: { TotalCodeSize: 48213011, FunctionCount: 9 },
  });
}

/** GetSecretValue per secret ARN. */
function secrets(values: Readonly<Record<string, string>>): AwsResponder {
  return (call) => {
    const arn = String(call.input.SecretId);
    const value = values[arn];
    if (value === undefined) return jsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return jsonAnswer({
      ARN: arn,
      Name: arn.split(':secret:')[1]?.slice(0, -7),
      VersionId: 'c2b7a9e4-1f3d-4e5a-8b6c-7d8e9f0a1b2c',
      SecretString: value,
      VersionStages: ['AWSCURRENT'],
      CreatedDate: 1751295164.12,
    });
  };
}

function webAcl(arn: string | undefined, name = 'SocialPlusWebhooks-webhooks'): AwsAnswer {
  if (arn === undefined) return jsonAnswer({});
  return jsonAnswer({
    WebACL: {
      Name: name,
      Id: arn.split('/').pop(),
      ARN: arn,
      DefaultAction: { Block: {} },
      Description: 'Only Social Plus webhook addresses',
      Rules: [],
      VisibilityConfig: { SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: 'webhooks' },
      Capacity: 2,
      ManagedByFirewallManager: false,
      LabelNamespace: `awswaf:${ACCOUNT}:webacl:${name}:`,
    },
  });
}

function subscriptions(...subs: Array<{ protocol: string; arn: string; endpoint: string }>): AwsAnswer {
  const members = subs
    .map(
      (s) =>
        `<member><TopicArn>${TOPIC_ARN}</TopicArn><Protocol>${s.protocol}</Protocol><SubscriptionArn>${s.arn}</SubscriptionArn><Owner>${ACCOUNT}</Owner><Endpoint>${s.endpoint}</Endpoint></member>`,
    )
    .join('');
  return queryAnswer('ListSubscriptionsByTopic', `<Subscriptions>${members}</Subscriptions>`, 'http://sns.amazonaws.com/doc/2010-03-31/');
}
const CONFIRMED_EMAIL = { protocol: 'email', arn: `${TOPIC_ARN}:0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d`, endpoint: 'oncall@example.com' };
const PENDING_EMAIL = { protocol: 'email', arn: 'PendingConfirmation', endpoint: 'new.hire@example.com' };

/** GetQueueAttributes: `dlq` messages in the dead-letter queue, the event queue shallow. */
function queues(dlq: { visible: number; inFlight?: number } = { visible: 0 }): AwsResponder {
  return (call) => {
    const url = String(call.input.QueueUrl);
    if (url.endsWith(DLQ_PATH))
      return jsonAnswer({
        Attributes: { ApproximateNumberOfMessages: String(dlq.visible), ApproximateNumberOfMessagesNotVisible: String(dlq.inFlight ?? 0) },
      });
    if (url.endsWith(QUEUE_PATH))
      return jsonAnswer({ Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '12' } });
    return jsonError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.');
  };
}

/** Everything healthy: bootstrapped at the installed CLI's version, deployed, keys pasted, nobody failing. */
function healthyAnswers(opts: { queueOrigin?: string; bootstrapVersion: number }): AwsAnswers {
  return {
    'sts:GetCallerIdentity': callerIdentity,
    'cloudformation:DescribeStacks': describeStacks({
      CDKToolkit: toolkitStack(opts.bootstrapVersion),
      [STACK_NAME]: webhooksStack({ queueOrigin: opts.queueOrigin }),
    }),
    'apigateway:GET /account': apiGatewayAccount(),
    'lambda:GET /2016-08-19/account-settings': lambdaSettings(1000, 1000),
    'secretsmanager:GetSecretValue': secrets({
      [SECRET_DEFAULT]: REAL_KEY,
      [SECRET_EU]: JSON.stringify({ current: REAL_KEY, previous: 'spk_live_old0000000000000000000000' }),
    }),
    'wafv2:GetWebACLForResource': webAcl(WEB_ACL_ARN),
    'sns:ListSubscriptionsByTopic': subscriptions(CONFIRMED_EMAIL),
    'sqs:GetQueueAttributes': queues(),
    'monitoring:GetMetricData': signatureMetrics({ base64: 120 }),
  };
}

const NOW = new Date('2026-12-02T12:00:00Z');

/** GetMetricData for the signature check: one day's sum per form id (`fbase64`, …) and `refused`. */
function signatureMetrics(sums: Partial<Record<'base64' | 'hex' | 'jsonbase64' | 'jsonhex' | 'refused', number>>): AwsResponder {
  return (call) => {
    const queries = call.input.MetricDataQueries as Array<{ Id: string }>;
    return jsonAnswer({
      MetricDataResults: queries.map((q) => {
        const value = sums[(q.Id === 'refused' ? 'refused' : q.Id.slice(1)) as keyof typeof sums];
        return {
          Id: q.Id,
          Label: q.Id,
          StatusCode: 'Complete',
          Timestamps: value === undefined ? [] : [NOW.getTime() / 1000 - 3600],
          Values: value === undefined ? [] : [value],
        };
      }),
      Messages: [],
    });
  };
}

// ---- check-level: real SDK clients pointed at the double ----

const LATEST_BOOTSTRAP = 33;
const double = useAwsDouble();
beforeEach(() => {
  double.answer(healthyAnswers({ bootstrapVersion: LATEST_BOOTSTRAP }));
});

function clientsAt(endpoint: string): DoctorClients {
  const config = {
    endpoint,
    region: REGION,
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    maxAttempts: 1,
  };
  return {
    sts: new STSClient(config),
    cloudFormation: new CloudFormationClient(config),
    apiGateway: new APIGatewayClient(config),
    lambda: new LambdaClient(config),
    secretsManager: new SecretsManagerClient(config),
    wafv2: new WAFV2Client(config),
    sns: new SNSClient(config),
    sqs: new SQSClient(config),
    cloudWatch: new CloudWatchClient(config),
  };
}

/** A context past the configuration and identity checks, as the runner would have it. */
function context(aws: Partial<AwsContext> = {}): DoctorContext {
  return {
    cwd: FIXTURES,
    nodeVersion: '22.11.0',
    probeEsbuild: () => ({ installed: true, version: '0.28.2' }),
    now: () => NOW,
    facts: { config: CONFIG, identity: { account: ACCOUNT, arn: CALLER_ARN } },
    aws: {
      clients: clientsAt(double.endpoint),
      region: REGION,
      stackName: STACK_NAME,
      toolkitStackName: 'CDKToolkit',
      latestBootstrapVersion: LATEST_BOOTSTRAP,
      cliFlags: '',
      ...aws,
    },
  };
}

/** A context whose stack check has run (against the current answers). */
async function deployedContext(): Promise<DoctorContext> {
  const ctx = context();
  const outcome = await stackCheck.run(ctx);
  expect(['pass', 'warn']).toContain(outcome.status);
  return ctx;
}

const run = (check: Check<DoctorContext>, ctx: DoctorContext = context()): Promise<Outcome> => Promise.resolve(check.run(ctx));

describe('credentials, account and region (STS GetCallerIdentity)', () => {
  it('passes with the account, the region and the caller, and records the account for later checks', async () => {
    const ctx = context();
    ctx.facts.identity = undefined;
    const outcome = await run(identityCheck, ctx);
    expect(outcome).toEqual({ status: 'pass', detail: `account ${ACCOUNT}, region ${REGION}, as ${CALLER_ARN}` });
    expect(ctx.facts.identity).toEqual({ account: ACCOUNT, arn: CALLER_ARN });
    expect(double.callsTo('sts:GetCallerIdentity')).toHaveLength(1);
  });

  it('fails on expired credentials with the commands that renew them', async () => {
    double.answer({ 'sts:GetCallerIdentity': queryError('ExpiredToken', 'The security token included in the request is expired', 403) });
    const outcome = await run(identityCheck);
    expect(outcome).toMatchObject({ status: 'fail', detail: 'the AWS credentials have expired (ExpiredToken)', fix: CREDENTIALS_FIX });
    expect(CREDENTIALS_FIX).toBe('aws configure / aws sso login / export AWS_PROFILE=…');
  });

  it('fails on credentials AWS does not know', async () => {
    double.answer({ 'sts:GetCallerIdentity': queryError('InvalidClientTokenId', 'The security token included in the request is invalid.', 403) });
    expect(await run(identityCheck)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^AWS rejected the credentials \(InvalidClientTokenId\)/),
      fix: CREDENTIALS_FIX,
    });
  });

  it('fails without a region before calling AWS, naming --region and AWS_REGION', async () => {
    const outcome = await run(identityCheck, context({ region: undefined }));
    expect(outcome).toMatchObject({ status: 'fail', fix: expect.stringMatching(/--region <region> or AWS_REGION/) });
    expect(double.calls).toHaveLength(0);
  });
});

describe('CDK bootstrap (CloudFormation DescribeStacks CDKToolkit)', () => {
  it('passes at the version the installed aws-cdk bootstraps', async () => {
    expect(await run(bootstrapCheck)).toEqual({ status: 'pass', detail: 'CDKToolkit UPDATE_COMPLETE, bootstrap version 33 (current)' });
    expect(double.callsTo('cloudformation:DescribeStacks')[0]?.input.StackName).toBe('CDKToolkit');
  });

  it('fails when the account and region are not bootstrapped, with the bootstrap command for them', async () => {
    double.answer({ 'cloudformation:DescribeStacks': describeStacks({}) });
    expect(await run(bootstrapCheck)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^not bootstrapped: no CDKToolkit stack/),
      fix: `npx cdk bootstrap aws://${ACCOUNT}/${REGION}`,
    });
  });

  it("fails below bootstrap version 6 and warns below the installed CLI's version", async () => {
    double.answer({ 'cloudformation:DescribeStacks': describeStacks({ CDKToolkit: toolkitStack(5) }) });
    expect(await run(bootstrapCheck)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/version 5; the CDK needs 6 or later/),
      fix: `npx cdk bootstrap aws://${ACCOUNT}/${REGION}`,
    });
    double.answer({ 'cloudformation:DescribeStacks': describeStacks({ CDKToolkit: toolkitStack(21) }) });
    expect(await run(bootstrapCheck)).toMatchObject({
      status: 'warn',
      detail: 'CDKToolkit is at bootstrap version 21; the installed aws-cdk bootstraps version 33',
      fix: `npx cdk bootstrap aws://${ACCOUNT}/${REGION}`,
    });
  });

  it('reads the toolkit stack named by --toolkit-stack-name, and fails when it is rolled back', async () => {
    double.answer({ 'cloudformation:DescribeStacks': describeStacks({ 'Toolkit-Team': toolkitStack(33, 'ROLLBACK_COMPLETE') }) });
    const outcome = await run(bootstrapCheck, context({ toolkitStackName: 'Toolkit-Team' }));
    expect(outcome.status).toBe('fail');
    expect(outcome.fix).toBe(
      `aws cloudformation delete-stack --stack-name Toolkit-Team --region ${REGION}, then npx cdk bootstrap aws://${ACCOUNT}/${REGION} --toolkit-stack-name Toolkit-Team ` +
        `(aws cloudformation describe-stack-events --stack-name Toolkit-Team --region ${REGION} shows why)`,
    );
  });
});

describe('API Gateway account (GET /account)', () => {
  it('passes showing the CloudWatch role when one is set', async () => {
    expect(await run(apiGatewayRoleCheck)).toEqual({ status: 'pass', detail: 'set: arn:aws:iam::123456789012:role/apigateway-cloudwatch-logs' });
  });

  it('passes with a note when none is set: the stack sets it on its first deploy', async () => {
    double.answer({ 'apigateway:GET /account': apiGatewayAccount({ role: null }) });
    expect(await run(apiGatewayRoleCheck)).toMatchObject({
      status: 'pass',
      detail: expect.stringMatching(/^none set in eu-west-1 yet: the stack sets one on its first deploy/),
    });
  });

  it('warns, not fails, when the caller may not read the account settings', async () => {
    double.answer({
      'apigateway:GET /account': jsonError(
        'AccessDeniedException',
        'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: apigateway:GET',
        403,
      ),
    });
    expect(await run(apiGatewayRoleCheck)).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/access denied, so this was not checked/),
      fix: expect.stringMatching(/^allow apigateway:GET/),
    });
  });

  it('asks API Gateway once for both the role and the throttle', async () => {
    const ctx = context();
    await run(apiGatewayRoleCheck, ctx);
    await run(apiGatewayThrottleCheck, ctx);
    expect(double.callsTo('apigateway:GET /account')).toHaveLength(1);
  });

  it("passes when the stage throttle is within the account's", async () => {
    expect(await run(apiGatewayThrottleCheck)).toEqual({
      status: 'pass',
      detail: "the stage's 2000 requests/s (burst 1000) are within the account's 10000 requests/s (burst 5000)",
    });
  });

  it("warns when the configured throttle is above the account's: Social Plus would get 429s", async () => {
    double.answer({ 'apigateway:GET /account': apiGatewayAccount({ rate: 1000, burst: 500 }) });
    const outcome = await run(apiGatewayThrottleCheck);
    expect(outcome.status).toBe('warn');
    expect(outcome.detail).toBe(
      "apiRateLimit 2000 is above the account's 1000 requests/s; apiBurstLimit 1000 is above the account's burst of 500: the account's limit applies, and Social Plus gets 429s beyond it, which are lost events",
    );
    expect(outcome.fix).toMatch(/API Gateway throttle quota increase for eu-west-1 .*-c apiRateLimit=1000 -c apiBurstLimit=500/);
  });
});

describe('Lambda concurrency (GetAccountSettings)', () => {
  it('passes with room to spare', async () => {
    expect(await run(lambdaConcurrencyCheck)).toEqual({
      status: 'pass',
      detail: "1000 unreserved concurrent executions of the account's 1000; the fan-out takes at most 10",
    });
  });

  it("fails on a new account's quota of 10: the fan-out would starve the receiver", async () => {
    double.answer({ 'lambda:GET /2016-08-19/account-settings': lambdaSettings(10, 10) });
    const outcome = await run(lambdaConcurrencyCheck);
    expect(outcome.status).toBe('fail');
    expect(outcome.detail).toMatch(
      /the fan-out may take 10 \(fanoutMaxConcurrency\), leaving the receiver 0: it would be throttled and answer Social Plus 5xx/,
    );
    expect(outcome.fix).toBe(
      `aws service-quotas request-service-quota-increase --service-code lambda --quota-code L-B99A9384 --desired-value 1000 --region ${REGION}, or -c fanoutMaxConcurrency=2`,
    );
  });

  it("warns when less than 100 beyond the fan-out's is unreserved", async () => {
    double.answer({ 'lambda:GET /2016-08-19/account-settings': lambdaSettings(1000, 80) });
    const outcome = await run(lambdaConcurrencyCheck);
    expect(outcome).toMatchObject({ status: 'warn', detail: expect.stringMatching(/^80 unreserved .* leaving 70 for the receiver/) });
    // 920 are reserved by other functions: 1030 leaves the fan-out's 10 and 100 more.
    expect(outcome.fix).toMatch(/--desired-value 1100 /);
  });
});

describe('the deployed stack (DescribeStacks)', () => {
  it('passes when complete, and keeps its outputs for the checks after it', async () => {
    const ctx = context();
    expect(await run(stackCheck, ctx)).toEqual({ status: 'pass', detail: 'SocialPlusWebhooks UPDATE_COMPLETE, last deployed 2025-07-01 14:03 UTC' });
    expect(ctx.facts.stack?.outputs.WebAclArn).toBe(WEB_ACL_ARN);
  });

  it('is skipped before the first deploy, and so is every check that needs it', async () => {
    double.answer({ 'cloudformation:DescribeStacks': describeStacks({ CDKToolkit: toolkitStack(33) }) });
    const results = await runChecks(STACK_CHECKS, context(), [
      { id: 'aws-identity', title: 'AWS credentials and region', status: 'pass', detail: '' },
    ]);
    expect(results.map((r) => [r.id, r.status, r.detail])).toEqual([
      [
        'stack',
        'skip',
        `not deployed yet: npx cdk deploy (no stack SocialPlusWebhooks in account ${ACCOUNT}, ${REGION}; name another with --stack and --region)`,
      ],
      ['secret-default', 'skip', 'not deployed yet: npx cdk deploy'],
      ['secret-eu-network', 'skip', 'not deployed yet: npx cdk deploy'],
      ['web-acl', 'skip', 'not deployed yet: npx cdk deploy'],
      ['alarm-topic', 'skip', 'not deployed yet: npx cdk deploy'],
      ['event-queue', 'skip', 'not deployed yet: npx cdk deploy'],
      ['dead-letter-queue', 'skip', 'not deployed yet: npx cdk deploy'],
      ['signature-forms', 'skip', 'not deployed yet: npx cdk deploy'],
    ]);
  });

  it('fails in ROLLBACK_COMPLETE with delete-stack then deploy, and the checks after it are skipped', async () => {
    double.answer({
      'cloudformation:DescribeStacks': describeStacks({
        [STACK_NAME]: webhooksStack({ status: 'ROLLBACK_COMPLETE', reason: 'The following resource(s) failed to create: [ReceiverFunction].' }),
      }),
    });
    const results = await runChecks(STACK_CHECKS, context(), [
      { id: 'aws-identity', title: 'AWS credentials and region', status: 'pass', detail: '' },
    ]);
    expect(results[0]).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(
        /^SocialPlusWebhooks is ROLLBACK_COMPLETE: The following resource\(s\) failed to create: \[ReceiverFunction\]\.; its creation failed/,
      ),
      fix: `aws cloudformation delete-stack --stack-name SocialPlusWebhooks --region ${REGION}, then npx cdk deploy (aws cloudformation describe-stack-events --stack-name SocialPlusWebhooks --region ${REGION} shows why)`,
    });
    expect(results.slice(1).every((r) => r.status === 'skip' && r.detail === 'skipped: stack SocialPlusWebhooks is ROLLBACK_COMPLETE')).toBe(true);
  });

  it('warns while an update is in progress, and still checks the rest', async () => {
    double.answer({ 'cloudformation:DescribeStacks': describeStacks({ [STACK_NAME]: webhooksStack({ status: 'UPDATE_IN_PROGRESS' }) }) });
    const ctx = context();
    expect(await run(stackCheck, ctx)).toMatchObject({ status: 'warn', fix: expect.stringMatching(/^wait until it ends/) });
    expect(ctx.facts.stack).toBeDefined();
  });
});

describe("each source's secret (GetSecretValue)", () => {
  const secretChecksOf = (ctx: DoctorContext) => (typeof secretChecks === 'function' ? secretChecks(ctx) : [secretChecks]);

  it("lists one check per source from the stack's SecretArn outputs, and passes when the keys are pasted", async () => {
    const ctx = await deployedContext();
    const checks = secretChecksOf(ctx);
    expect(checks.map((c) => c.id)).toEqual(['secret-default', 'secret-eu-network']);
    const outcomes = await Promise.all(checks.map((c) => run(c, ctx)));
    expect(outcomes).toEqual([
      { status: 'pass', detail: `set: ${SECRET_DEFAULT}` },
      { status: 'pass', detail: `set, mid-rotation (current and previous key): ${SECRET_EU}` },
    ]);
    expect(JSON.stringify(outcomes)).not.toContain(REAL_KEY);
  });

  it('fails while a secret holds the placeholder, with the put-secret-value command', async () => {
    double.answer({ 'secretsmanager:GetSecretValue': secrets({ [SECRET_DEFAULT]: REAL_KEY, [SECRET_EU]: SECRET_PLACEHOLDER }) });
    const ctx = await deployedContext();
    const [, eu] = secretChecksOf(ctx);
    const outcome = await run(eu as Check<DoctorContext>, ctx);
    expect(outcome).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^webhook secret for source 'eu-network' is not configured: the secret still holds the placeholder/),
      fix: `aws secretsmanager put-secret-value --secret-id ${SECRET_EU} --secret-string '<the secret key from the Social Plus console>' --region ${REGION}`,
    });
  });

  it('fails when the secret is gone', async () => {
    double.answer({ 'secretsmanager:GetSecretValue': secrets({}) });
    const ctx = await deployedContext();
    const [first] = secretChecksOf(ctx);
    expect(await run(first as Check<DoctorContext>, ctx)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/does not exist/),
      fix: expect.stringMatching(/^npx cdk deploy/),
    });
  });
});

describe('web ACL on the API stage (WAFv2 GetWebACLForResource)', () => {
  it("passes when the stack's web ACL guards the stage", async () => {
    const ctx = await deployedContext();
    expect(await run(webAclCheck, ctx)).toEqual({ status: 'pass', detail: "SocialPlusWebhooks-webhooks, the stack's, guards the API stage" });
    expect(double.callsTo('wafv2:GetWebACLForResource')[0]?.input).toEqual({ ResourceArn: STAGE_ARN });
  });

  it('fails when no web ACL guards the stage', async () => {
    double.answer({ 'wafv2:GetWebACLForResource': webAcl(undefined) });
    const ctx = await deployedContext();
    expect(await run(webAclCheck, ctx)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^no web ACL guards the API stage/),
      fix: expect.stringMatching(/^npx cdk deploy/),
    });
  });

  it('fails when another web ACL guards it', async () => {
    double.answer({
      'wafv2:GetWebACLForResource': webAcl(
        'arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/FMManagedWebACLV2-org/9a8b7c6d-0000-4000-8000-000000000001',
        'FMManagedWebACLV2-org',
      ),
    });
    const ctx = await deployedContext();
    expect(await run(webAclCheck, ctx)).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/guarded by another web ACL, FMManagedWebACLV2-org/),
    });
  });

  it('warns when the stack predates the ApiStageArn output', async () => {
    double.answer({ 'cloudformation:DescribeStacks': describeStacks({ [STACK_NAME]: webhooksStack({ without: ['ApiStageArn'] }) }) });
    const ctx = await deployedContext();
    expect(await run(webAclCheck, ctx)).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/has no output ApiStageArn/),
      fix: 'npx cdk deploy',
    });
  });
});

describe('alarm notifications (SNS ListSubscriptionsByTopic)', () => {
  it('passes with a confirmed subscription, naming protocols but not endpoints', async () => {
    double.answer({ 'sns:ListSubscriptionsByTopic': subscriptions(CONFIRMED_EMAIL, PENDING_EMAIL) });
    const ctx = await deployedContext();
    const outcome = await run(alarmTopicCheck, ctx);
    expect(outcome).toEqual({ status: 'pass', detail: '1 confirmed subscription (email), 1 pending confirmation' });
  });

  it('warns with no subscription, giving the subscribe command and alarmEmail', async () => {
    double.answer({ 'sns:ListSubscriptionsByTopic': subscriptions() });
    const ctx = await deployedContext();
    expect(await run(alarmTopicCheck, ctx)).toMatchObject({
      status: 'warn',
      fix: `aws sns subscribe --topic-arn ${TOPIC_ARN} --protocol email --notification-endpoint you@example.com --region ${REGION} (or deploy with -c alarmEmail=you@example.com)`,
    });
  });

  it('warns while the only subscription waits for confirmation', async () => {
    double.answer({ 'sns:ListSubscriptionsByTopic': subscriptions(PENDING_EMAIL) });
    const ctx = await deployedContext();
    expect(await run(alarmTopicCheck, ctx)).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^1 subscription \(email\) pending confirmation/),
    });
  });
});

describe('queue and dead-letter queue (SQS GetQueueAttributes)', () => {
  it("reports the queue's depth, and passes an empty dead-letter queue", async () => {
    const ctx = await deployedContext();
    expect(await run(eventQueueCheck, ctx)).toEqual({ status: 'pass', detail: '3 waiting, 12 in flight' });
    expect(await run(deadLetterQueueCheck, ctx)).toEqual({ status: 'pass', detail: 'empty' });
  });

  it('fails when the queue is gone', async () => {
    double.answer({ 'sqs:GetQueueAttributes': () => jsonError('AWS.SimpleQueueService.NonExistentQueue', 'The specified queue does not exist.') });
    const ctx = await deployedContext();
    expect(await run(eventQueueCheck, ctx)).toMatchObject({ status: 'fail', fix: 'npx cdk deploy' });
  });

  it('warns when the dead-letter queue holds messages, with the redrive command', async () => {
    double.answer({ 'sqs:GetQueueAttributes': queues({ visible: 4, inFlight: 1 }) });
    const ctx = await deployedContext();
    expect(await run(deadLetterQueueCheck, { ...ctx, aws: { ...(ctx.aws as AwsContext), cliFlags: ' --region eu-west-1' } })).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/^5 messages: /),
      fix: expect.stringMatching(/^npx socialplus-webhooks redrive --aws --region eu-west-1 /),
    });
  });
});

describe("signature forms (CloudWatch GetMetricData, the receiver's metrics over 24 hours)", () => {
  it('shows which forms were accepted, and when fewer forms arrive than are accepted, that the list could be narrowed', async () => {
    const ctx = await deployedContext();
    expect(await run(signatureFormsCheck, ctx)).toEqual({
      status: 'pass',
      detail: '120 base64; 0 refused for their signature (401) (only base64 seen: signatureForms could be narrowed to that)',
    });
    const [call] = double.callsTo('monitoring:GetMetricData');
    const queries = call?.input.MetricDataQueries as Array<{
      Id: string;
      MetricStat: { Metric: { Namespace: string; MetricName: string; Dimensions: unknown } };
    }>;
    expect(queries.map((q) => [q.Id, q.MetricStat.Metric.Namespace, q.MetricStat.Metric.MetricName, q.MetricStat.Metric.Dimensions])).toEqual([
      ['fbase64', CONFIG.metricsNamespace, 'SignatureFormBase64', [{ Name: 'service', Value: 'receiver' }]],
      ['fhex', CONFIG.metricsNamespace, 'SignatureFormHex', [{ Name: 'service', Value: 'receiver' }]],
      ['fjsonbase64', CONFIG.metricsNamespace, 'SignatureFormJsonBase64', [{ Name: 'service', Value: 'receiver' }]],
      ['fjsonhex', CONFIG.metricsNamespace, 'SignatureFormJsonHex', [{ Name: 'service', Value: 'receiver' }]],
      ['refused', CONFIG.metricsNamespace, 'SignatureInvalid', [{ Name: 'service', Value: 'receiver' }]],
    ]);
  });

  it('passes with a note before any delivery', async () => {
    double.answer({ 'monitoring:GetMetricData': signatureMetrics({}) });
    expect(await run(signatureFormsCheck, await deployedContext())).toEqual({
      status: 'pass',
      detail: 'no deliveries in the last 24 hours (the forms show once Social Plus sends)',
    });
  });

  it('warns when deliveries were refused for their signature, pointing at the runbook entry that reads the matched form', async () => {
    double.answer({ 'monitoring:GetMetricData': signatureMetrics({ refused: 7 }) });
    expect(await run(signatureFormsCheck, await deployedContext())).toEqual({
      status: 'warn',
      detail: 'none accepted; 7 refused for their signature (401): refused deliveries are lost events',
      fix: "see docs/runbook.md#socialplussignaturerefused: the receiver's WARN lines name the form that matched (matchedForm), if any",
    });
  });
});

// ---- the whole CLI, in-process ----

describe('socialplus-webhooks doctor --aws (runCli, env pointing every SDK client at the double)', () => {
  let dir: string;
  const cwd = process.cwd();
  /** No credentials or region from this machine's profile or an instance role: only what the test sets. */
  const isolated = (extra: Record<string, string | undefined>) => isolatedAwsEnv(dir, extra);
  const env = () => isolated(awsDoubleEnv(double.endpoint, REGION));
  const installedBootstrap = readLatestBootstrapVersion();

  beforeEach(() => {
    // The fixture's cdk.json, read from the working directory like npx cdk deploy does.
    dir = mkdtempSync(join(tmpdir(), 'doctor-'));
    writeFileSync(join(dir, 'cdk.json'), fixture('cdk.json'));
    process.chdir(dir);
    double.answer(healthyAnswers({ queueOrigin: double.endpoint, bootstrapVersion: installedBootstrap ?? LATEST_BOOTSTRAP }));
  });
  afterEach(() => {
    process.chdir(cwd);
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints one JSON object, every check passing, and exits 0', async () => {
    const r = await runCli(['doctor', '--aws', '--json'], env());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { checks: ReportedCheck[]; summary: Record<string, number> };
    expect(out.checks.map((c) => [c.id, c.status])).toEqual([
      ['node', 'pass'],
      ['esbuild', 'pass'],
      ['config', 'pass'],
      ['aws-identity', 'pass'],
      ['cdk-bootstrap', 'pass'],
      ['apigateway-cloudwatch-role', 'pass'],
      ['apigateway-throttle', 'pass'],
      ['lambda-concurrency', 'pass'],
      ['stack', 'pass'],
      ['secret-default', 'pass'],
      ['secret-eu-network', 'pass'],
      ['web-acl', 'pass'],
      ['alarm-topic', 'pass'],
      ['event-queue', 'pass'],
      ['dead-letter-queue', 'pass'],
      ['signature-forms', 'pass'],
    ]);
    expect(out.summary).toEqual({ pass: 16, warn: 0, fail: 0, skip: 0 });
    expect(out.checks.every((c) => c.fix === undefined)).toBe(true);
    expect(out.checks.find((c) => c.id === 'aws-identity')?.detail).toBe(`account ${ACCOUNT}, region ${REGION}, as ${CALLER_ARN}`);
    expect(r.stdout).not.toContain(REAL_KEY);
    expect(r.stdout).not.toContain('spk_live_old');
    // Exactly the read-only calls the help lists, each once (both DescribeStacks: toolkit and app).
    expect(double.calls.map((c) => `${c.service}:${c.operation}`).sort()).toEqual([
      'apigateway:GET /account',
      'cloudformation:DescribeStacks',
      'cloudformation:DescribeStacks',
      'lambda:GET /2016-08-19/account-settings',
      'monitoring:GetMetricData',
      'secretsmanager:GetSecretValue',
      'secretsmanager:GetSecretValue',
      'sns:ListSubscriptionsByTopic',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueAttributes',
      'sts:GetCallerIdentity',
      'wafv2:GetWebACLForResource',
    ]);
  });

  it('prints a line per check, a fix under each problem, never a secret, and exits 1 on a failure', async () => {
    double.answer({
      'secretsmanager:GetSecretValue': secrets({ [SECRET_DEFAULT]: REAL_KEY, [SECRET_EU]: SECRET_PLACEHOLDER }),
      'sqs:GetQueueAttributes': queues({ visible: 2 }),
      'sns:ListSubscriptionsByTopic': subscriptions(),
    });
    const r = await runCli(['doctor', '--aws', '--stack', STACK_NAME], env());
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('socialplus-webhooks: doctor: 1 check failed (13 passed, 2 warnings, 1 failed, 0 skipped); see the fix: lines above\n');
    const lines = r.stdout.split('\n');
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    expect(lines[at("FAIL  secret of source 'eu-network'")]).toMatch(/the secret still holds the placeholder/);
    expect(lines[at("FAIL  secret of source 'eu-network'") + 1]).toBe(
      `      fix: aws secretsmanager put-secret-value --secret-id ${SECRET_EU} --secret-string '<the secret key from the Social Plus console>' --region ${REGION}`,
    );
    expect(lines[at('WARN  dead-letter queue') + 1]).toMatch(/^ {6}fix: npx socialplus-webhooks redrive --aws --stack SocialPlusWebhooks /);
    expect(lines[at('WARN  alarm notifications') + 1]).toMatch(/^ {6}fix: aws sns subscribe --topic-arn /);
    expect(lines[at("pass  secret of source 'default'") + 1]).not.toMatch(/fix:/);
    expect(r.stdout).toContain('13 passed, 2 warnings, 1 failed, 0 skipped');
    expect(r.stdout + r.stderr).not.toContain(REAL_KEY);
  });

  it('without credentials: runs the local checks, fails the credentials check, skips every other AWS check, calls nothing', async () => {
    const r = await runCli(
      ['doctor', '--aws', '--json'],
      isolated({ AWS_REGION: REGION, AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined, AWS_ENDPOINT_URL: double.endpoint }),
    );
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { checks: ReportedCheck[]; summary: Record<string, number> };
    const byId = Object.fromEntries(out.checks.map((c) => [c.id, c]));
    expect(['node', 'esbuild', 'config'].map((id) => byId[id]?.status)).toEqual(['pass', 'pass', 'pass']);
    expect(byId['aws-identity']).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/^no usable AWS credentials/),
      fix: 'aws configure / aws sso login / export AWS_PROFILE=…',
    });
    const skipped = out.checks.filter((c) => c.status === 'skip');
    expect(skipped.map((c) => c.id)).toEqual([
      'cdk-bootstrap',
      'apigateway-cloudwatch-role',
      'apigateway-throttle',
      'lambda-concurrency',
      'stack',
      'secret-default',
      'secret-eu-network',
      'web-acl',
      'alarm-topic',
      'event-queue',
      'dead-letter-queue',
      'signature-forms',
    ]);
    expect(skipped.every((c) => c.detail === 'skipped: no usable AWS credentials')).toBe(true);
    expect(out.summary).toEqual({ pass: 3, warn: 0, fail: 1, skip: 12 });
    expect(double.calls).toHaveLength(0);
  });

  it('before the first deploy: the account checks run, the stack\'s are skipped "not deployed yet", exit 0', async () => {
    double.answer({ 'cloudformation:DescribeStacks': describeStacks({ CDKToolkit: toolkitStack(installedBootstrap ?? LATEST_BOOTSTRAP) }) });
    const r = await runCli(['doctor', '--aws'], env());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^skip {2}deployed stack +not deployed yet: npx cdk deploy \(no stack SocialPlusWebhooks/m);
    expect(r.stdout).toMatch(/^skip {2}web ACL on the API stage +not deployed yet: npx cdk deploy$/m);
    expect(r.stdout).toContain('8 passed, 0 warnings, 0 failed, 8 skipped');
  });

  it("reads the stack named by cdk.json's stackName, the way npx cdk deploy names it", async () => {
    writeFileSync(join(dir, 'cdk.json'), JSON.stringify({ context: { stackName: 'SocialPlusWebhooks-staging' } }));
    const r = await runCli(['doctor', '--aws', '--json'], env());
    const stack = (JSON.parse(r.stdout) as { checks: ReportedCheck[] }).checks.find((c) => c.id === 'stack');
    expect(stack).toMatchObject({ status: 'skip', detail: expect.stringMatching(/no stack SocialPlusWebhooks-staging in account/) });
    expect(double.callsTo('cloudformation:DescribeStacks').map((c) => c.input.StackName)).toEqual(['CDKToolkit', 'SocialPlusWebhooks-staging']);
  });

  it('keeps control characters from AWS answers off the terminal', async () => {
    double.answer({
      'apigateway:GET /account': apiGatewayAccount({ role: 'arn:aws:iam::123456789012:role/x\u001b[2J\u001b]0;pwned\u0007\nFAKE  line' }),
    });
    const r = await runCli(['doctor', '--aws'], env());
    const line = r.stdout.split('\n').find((l) => l.startsWith('pass  API Gateway CloudWatch role'));
    expect(line?.endsWith('  set: arn:aws:iam::123456789012:role/x\\u001b[2J\\u001b]0;pwned\\u0007\\nFAKE  line')).toBe(true);
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    expect(r.stdout.split('\n').some((l) => l.startsWith('FAKE'))).toBe(false);
  });
});
