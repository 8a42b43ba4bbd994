/**
 * The account's checks (`--aws`), before and after the first deploy: credentials, account and
 * region (STS); the CDK bootstrap (the toolkit stack and its version); API Gateway's account
 * settings (the CloudWatch role, the account throttle against the stage's); Lambda's concurrency
 * quota against what the fan-out may take.
 */
import { GetAccountCommand } from '@aws-sdk/client-api-gateway';
import type { Stack } from '@aws-sdk/client-cloudformation';
import { GetAccountSettingsCommand } from '@aws-sdk/client-lambda';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { awsError, classifyAwsError, firstLine } from '../aws-errors.js';
import { describeStack, outputsOf } from '../aws-stack.js';
import { fail, pass, warn, type Check, type Outcome } from './check.js';
import { awsOf, type DoctorContext } from './context.js';
import { callFailed, MIN_BOOTSTRAP_VERSION } from './aws-support.js';
import { stackHealth, statusFix, statusMeaning } from './stack-status.js';

/** The CDK's default toolkit stack name. */
export const DEFAULT_TOOLKIT_STACK_NAME = 'CDKToolkit';

/** How to get credentials into the shell, the fix of every credentials failure. */
export const CREDENTIALS_FIX = 'aws configure / aws sso login / export AWS_PROFILE=…';

/** How to name a region, the fix when none is configured. */
export const REGION_FIX = '--region <region> or AWS_REGION=<region> (the region to deploy to)';

/**
 * Concurrent executions the receiver must keep when the fan-out runs at its maximum. The receiver
 * answers in tens of milliseconds, so 5 executions carry on the order of a hundred events a
 * second: enough for a small network while a quota increase is pending; fewer, and Lambda
 * throttles the receiver while the fan-out drains a backlog, and Social Plus gets 5xx answers.
 */
export const RECEIVER_MIN_CONCURRENCY = 5;

/** Unreserved concurrency beyond the fan-out's below which the account is tight (a warning). */
export const CONCURRENCY_HEADROOM = 100;

/** Lambda's "Concurrent executions" quota in Service Quotas. */
export const LAMBDA_CONCURRENCY_QUOTA_CODE = 'L-B99A9384';

const IDENTITY = 'aws-identity';

/** Credentials, account and region: STS GetCallerIdentity. */
export const identityCheck: Check<DoctorContext> = {
  id: IDENTITY,
  title: 'AWS credentials and region',
  async run(ctx) {
    const aws = awsOf(ctx);
    if (aws.region === undefined) return NO_REGION;
    let out;
    try {
      out = await aws.clients.sts.send(new GetCallerIdentityCommand({}));
    } catch (err) {
      return identityFailure(err);
    }
    if (!out.Account) return fail('STS answered without an account id', CREDENTIALS_FIX);
    const arn = out.Arn ?? 'an unknown caller';
    ctx.facts.identity = { account: out.Account, arn };
    return pass(`account ${out.Account}, region ${aws.region}, as ${arn}`);
  },
};

const NO_REGION: Outcome = { ...fail('no AWS region configured, so no AWS call can be made', REGION_FIX), dependents: 'skipped: no AWS region' };

/** Why GetCallerIdentity failed; the AWS checks after it are skipped with the short reason. */
function identityFailure(err: unknown): Outcome {
  const { kind, name, message } = classifyAwsError(err);
  const noCredentials = (detail: string): Outcome => ({ ...fail(detail, CREDENTIALS_FIX), dependents: 'skipped: no usable AWS credentials' });
  switch (kind) {
    case 'no-region':
      return NO_REGION;
    case 'no-credentials':
      return noCredentials(`no usable AWS credentials: ${firstLine(message)}`);
    case 'expired-credentials':
      return noCredentials(`the AWS credentials have expired (${name})`);
    case 'rejected-credentials':
      return noCredentials(`AWS rejected the credentials (${name}): ${firstLine(message)}`);
    default:
      return {
        ...fail(
          awsError(err, 'call STS GetCallerIdentity').message,
          `check the network and the credentials (${CREDENTIALS_FIX}), then run doctor again`,
        ),
        dependents: "skipped: the caller's identity is unknown (STS GetCallerIdentity failed)",
      };
  }
}

/**
 * The CDK bootstrap: the toolkit stack (`--toolkit-stack-name`, default CDKToolkit) and its
 * `BootstrapVersion` output. Missing, broken, or older than {@link MIN_BOOTSTRAP_VERSION}: fail;
 * older than what the installed aws-cdk CLI bootstraps: warn.
 */
export const bootstrapCheck: Check<DoctorContext> = {
  id: 'cdk-bootstrap',
  title: 'CDK bootstrap',
  needs: [IDENTITY],
  async run(ctx) {
    const aws = awsOf(ctx);
    const account = ctx.facts.identity?.account ?? '<account>';
    const region = aws.region ?? '<region>';
    const toolkit = aws.toolkitStackName;
    const bootstrap = `npx cdk bootstrap aws://${account}/${region}${toolkit === DEFAULT_TOOLKIT_STACK_NAME ? '' : ` --toolkit-stack-name ${toolkit}`}`;
    let stack: Stack | undefined;
    try {
      stack = await describeStack(aws.clients.cloudFormation, toolkit);
    } catch (err) {
      return callFailed(err, `describe the stack ${toolkit}`, 'cloudformation:DescribeStacks');
    }
    if (stack === undefined) {
      return fail(`not bootstrapped: no ${toolkit} stack in account ${account}, ${region}; npx cdk deploy needs its bucket and roles`, bootstrap);
    }
    const status = stack.StackStatus ?? 'UNKNOWN';
    const health = stackHealth(status);
    const fixTarget = { stackName: toolkit, region, redeploy: bootstrap };
    if (health === 'broken' || health === 'not-created')
      return fail(`${toolkit} is ${status}: ${statusMeaning(status)}`, statusFix(status, fixTarget));
    if (health === 'in-progress') return warn(`${toolkit} is ${status}: being bootstrapped or changed right now`, statusFix(status, fixTarget));
    const raw = outputsOf(stack).BootstrapVersion;
    const version = raw !== undefined && /^\d+$/.test(raw) ? Number(raw) : undefined;
    if (version === undefined) {
      return fail(`${toolkit} (${status}) has no BootstrapVersion output: a legacy bootstrap, which cannot deploy this stack's assets`, bootstrap);
    }
    if (version < MIN_BOOTSTRAP_VERSION) {
      return fail(`${toolkit} is at bootstrap version ${version}; the CDK needs ${MIN_BOOTSTRAP_VERSION} or later to deploy this stack`, bootstrap);
    }
    const latest = aws.latestBootstrapVersion;
    if (latest !== undefined && version < latest) {
      return warn(`${toolkit} is at bootstrap version ${version}; the installed aws-cdk bootstraps version ${latest}`, bootstrap);
    }
    const rolledBack = health === 'rolled-back' ? ` (its last update was rolled back: ${statusFix(status, fixTarget)})` : '';
    return pass(`${toolkit} ${status}, bootstrap version ${version}${latest === undefined ? '' : ' (current)'}${rolledBack}`);
  },
};

/** API Gateway's account settings, asked once for both checks that read them. */
function apiGatewayAccount(ctx: DoctorContext) {
  ctx.facts.apiGatewayAccount ??= awsOf(ctx).clients.apiGateway.send(new GetAccountCommand({}));
  return ctx.facts.apiGatewayAccount;
}

const APIGW_ACCOUNT_PERMISSION = 'apigateway:GET on arn:aws:apigateway:<region>::/account';

/**
 * API Gateway's CloudWatch role (account-wide, per region): set passes, showing it; unset passes
 * too, with the note that the stack's first deploy sets one (and never removes it).
 */
export const apiGatewayRoleCheck: Check<DoctorContext> = {
  id: 'apigateway-cloudwatch-role',
  title: 'API Gateway CloudWatch role',
  needs: [IDENTITY],
  async run(ctx) {
    let account;
    try {
      account = await apiGatewayAccount(ctx);
    } catch (err) {
      return callFailed(err, "read API Gateway's account settings", APIGW_ACCOUNT_PERMISSION);
    }
    const role = account.cloudwatchRoleArn;
    if (role) return pass(`set: ${role}`);
    return pass(`none set in ${awsOf(ctx).region} yet: the stack sets one on its first deploy (the API's access logs need it) and never removes it`);
  },
};

/**
 * The account's API Gateway throttle (per region) against the stage's `apiRateLimit` and
 * `apiBurstLimit`: a stage limit above the account's is not honoured, the account's applies, and
 * the requests beyond it get 429s, which Social Plus does not retry: a warning.
 */
export const apiGatewayThrottleCheck: Check<DoctorContext> = {
  id: 'apigateway-throttle',
  title: 'API Gateway account throttle',
  needs: [IDENTITY, 'config'],
  async run(ctx) {
    const config = ctx.facts.config;
    if (config === undefined) throw new Error('the configuration check passed without a configuration');
    let account;
    try {
      account = await apiGatewayAccount(ctx);
    } catch (err) {
      return callFailed(err, "read API Gateway's account settings", APIGW_ACCOUNT_PERMISSION);
    }
    const rate = account.throttleSettings?.rateLimit;
    const burst = account.throttleSettings?.burstLimit;
    if (rate === undefined || burst === undefined) return pass("API Gateway reported no account throttle to compare the stage's with");
    const over: string[] = [];
    const lower: string[] = [];
    if (config.apiRateLimit > rate) {
      over.push(`apiRateLimit ${config.apiRateLimit} is above the account's ${rate} requests/s`);
      lower.push(`apiRateLimit=${Math.floor(rate)}`);
    }
    if (config.apiBurstLimit > burst) {
      over.push(`apiBurstLimit ${config.apiBurstLimit} is above the account's burst of ${burst}`);
      lower.push(`apiBurstLimit=${burst}`);
    }
    if (over.length > 0) {
      return warn(
        `${over.join('; ')}: the account's limit applies, and Social Plus gets 429s beyond it, which are lost events`,
        `request an API Gateway throttle quota increase for ${awsOf(ctx).region} (Service Quotas console, Amazon API Gateway), or lower the keys: ${lower.map((l) => `-c ${l}`).join(' ')} (or in cdk.json)`,
      );
    }
    return pass(
      `the stage's ${config.apiRateLimit} requests/s (burst ${config.apiBurstLimit}) are within the account's ${rate} requests/s (burst ${burst})`,
    );
  },
};

/**
 * Lambda's concurrency against the fan-out's `fanoutMaxConcurrency` (the stack reserves none: both
 * functions draw on the unreserved pool). Fail when the fan-out at its maximum would leave the
 * receiver fewer than {@link RECEIVER_MIN_CONCURRENCY}; warn when less than
 * {@link CONCURRENCY_HEADROOM} beyond the fan-out's is unreserved (a new account's quota can be 10).
 */
export const lambdaConcurrencyCheck: Check<DoctorContext> = {
  id: 'lambda-concurrency',
  title: 'Lambda concurrency',
  needs: [IDENTITY, 'config'],
  async run(ctx) {
    const aws = awsOf(ctx);
    const config = ctx.facts.config;
    if (config === undefined) throw new Error('the configuration check passed without a configuration');
    let out;
    try {
      out = await aws.clients.lambda.send(new GetAccountSettingsCommand({}));
    } catch (err) {
      return callFailed(err, "read Lambda's account settings", 'lambda:GetAccountSettings');
    }
    const quota = out.AccountLimit?.ConcurrentExecutions;
    const unreserved = out.AccountLimit?.UnreservedConcurrentExecutions ?? quota;
    if (unreserved === undefined)
      return warn(
        'Lambda reported no concurrency limit',
        'run doctor again; if it persists, look the quota up in the Service Quotas console (AWS Lambda, Concurrent executions)',
      );
    const fanout = config.fanoutMaxConcurrency;
    const left = unreserved - fanout;
    const of = quota !== undefined ? ` of the account's ${quota}` : '';
    const wanted = Math.max(1000, Math.ceil(((quota ?? unreserved) + fanout + CONCURRENCY_HEADROOM - unreserved) / 100) * 100);
    const fix =
      `aws service-quotas request-service-quota-increase --service-code lambda --quota-code ${LAMBDA_CONCURRENCY_QUOTA_CODE} --desired-value ${wanted} --region ${aws.region}` +
      (fanout > 2 ? ', or -c fanoutMaxConcurrency=2' : '');
    if (left < RECEIVER_MIN_CONCURRENCY) {
      return fail(
        `${unreserved} unreserved concurrent executions${of}; the fan-out may take ${fanout} (fanoutMaxConcurrency), leaving the receiver ${Math.max(0, left)}: ` +
          `it would be throttled and answer Social Plus 5xx (it needs at least ${RECEIVER_MIN_CONCURRENCY})`,
        fix,
      );
    }
    if (unreserved < fanout + CONCURRENCY_HEADROOM) {
      return warn(
        `${unreserved} unreserved concurrent executions${of}; the fan-out may take ${fanout}, leaving ${left} for the receiver and every other function in the account`,
        fix,
      );
    }
    return pass(`${unreserved} unreserved concurrent executions${of}; the fan-out takes at most ${fanout}`);
  },
};

/** The account checks, in report order. */
export const ACCOUNT_CHECKS: ReadonlyArray<Check<DoctorContext>> = [
  identityCheck,
  bootstrapCheck,
  apiGatewayRoleCheck,
  apiGatewayThrottleCheck,
  lambdaConcurrencyCheck,
];
