/**
 * The deployed stack's checks (`--aws`, once `npx cdk deploy` ran): the stack's status; each
 * webhook source's secret (still the placeholder?); the web ACL on the API stage; the alarm
 * topic's subscriptions; the queue and the dead-letter queue. Names and ARNs come from the
 * stack's outputs (`lib/webhooks-stack.ts` `addOutputs`). Before the first deploy every one of
 * them is skipped: "not deployed yet: npx cdk deploy".
 *
 * A secret's value is read only to compare it with the placeholder: it is never printed, logged
 * or kept.
 */
import type { Stack } from '@aws-sdk/client-cloudformation';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ListSubscriptionsByTopicCommand, type Subscription } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { GetWebACLForResourceCommand } from '@aws-sdk/client-wafv2';
import { sourceIdPart } from '../../lib/config.js';
import { SecretNotConfiguredError } from '../../lambda/core/errors.js';
import { parseSecretValue } from '../../lambda/core/secret-value.js';
import { SOURCE_OUTPUT_PREFIXES, STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { awsErrorName as errorName } from '../aws-errors.js';
import { describeStack, outputsOf } from '../aws-stack.js';
import { truncate } from '../output.js';
import { fail, pass, skip, warn, type Check, type CheckEntry, type Outcome } from './check.js';
import { awsOf, type DeployedStack, type DoctorContext } from './context.js';
import { callFailed } from './aws-support.js';
import { signatureFormsCheck } from './signature-check.js';
import { stackHealth, statusFix, statusMeaning } from './stack-status.js';

/** Secrets are the outputs `SecretArn<SourceIdPart>`. */
const SECRET_ARN_PREFIX = SOURCE_OUTPUT_PREFIXES.secretArn;

const STACK = 'stack';
const NOT_DEPLOYED = 'not deployed yet: npx cdk deploy';

/** The stack's status: complete passes; rolled back or in progress warns; failed states fail, with the way out. */
export const stackCheck: Check<DoctorContext> = {
  id: STACK,
  title: 'deployed stack',
  needs: ['aws-identity'],
  async run(ctx) {
    const aws = awsOf(ctx);
    const region = aws.region ?? '<region>';
    const name = aws.stackName;
    let stack: Stack | undefined;
    try {
      stack = await describeStack(aws.clients.cloudFormation, name);
    } catch (err) {
      return {
        ...callFailed(err, `describe the stack ${name}`, 'cloudformation:DescribeStacks'),
        dependents: `skipped: stack ${name} could not be read`,
      };
    }
    const where = `no stack ${name} in account ${ctx.facts.identity?.account ?? '?'}, ${region}; name another with --stack and --region`;
    if (stack === undefined) return { ...skip(`${NOT_DEPLOYED} (${where})`), dependents: NOT_DEPLOYED };
    const status = stack.StackStatus ?? 'UNKNOWN';
    const health = stackHealth(status);
    if (health === 'not-created')
      return { ...skip(`${NOT_DEPLOYED} (${name} is ${status}: a change set was never executed)`), dependents: NOT_DEPLOYED };
    const reason = stack.StackStatusReason ? `: ${truncate(stack.StackStatusReason, 200)}` : '';
    const fixTarget = { stackName: name, region, redeploy: 'npx cdk deploy' };
    if (health === 'broken') {
      return {
        ...fail(`${name} is ${status}${reason}; ${statusMeaning(status)}`, statusFix(status, fixTarget)),
        dependents: `skipped: stack ${name} is ${status}`,
      };
    }
    const outputs = outputsOf(stack);
    const descriptions: Record<string, string> = {};
    for (const o of stack.Outputs ?? [])
      if (o.OutputKey && o.OutputValue !== undefined && o.Description !== undefined) descriptions[o.OutputKey] = o.Description;
    ctx.facts.stack = { name, status, outputs, descriptions };
    const when = stack.LastUpdatedTime ?? stack.CreationTime;
    const since = when ? `, last deployed ${when.toISOString().slice(0, 16).replace('T', ' ')} UTC` : '';
    if (health === 'in-progress') return warn(`${name} is ${status}${reason}; ${statusMeaning(status)}`, statusFix(status, fixTarget));
    if (health === 'rolled-back') return warn(`${name} is ${status}${reason}; ${statusMeaning(status)}`, statusFix(status, fixTarget));
    return pass(`${name} ${status}${since}`);
  },
};

/** The deployed stack, or an error naming the wiring bug (a check ran though the stack check did not pass). */
function deployed(ctx: DoctorContext): DeployedStack {
  const stack = ctx.facts.stack;
  if (stack === undefined) throw new Error('a stack check ran without the deployed stack');
  return stack;
}

/** A warning for an output the stack lacks: deployed by an older version of this project. */
function missingOutput(stack: DeployedStack, key: string): Outcome {
  return warn(
    `stack ${stack.name} has no output ${key}: deployed with an older version of socialplus-webhooks, or not a socialplus-webhooks stack`,
    'npx cdk deploy',
  );
}

/** One source's secret: `SecretArn<part>`, compared with the placeholder. */
function secretCheck(source: string, outputKey: string): Check<DoctorContext> {
  return {
    id: `secret-${source}`,
    title: `secret of source '${source}'`,
    needs: [STACK],
    async run(ctx) {
      const aws = awsOf(ctx);
      const stack = deployed(ctx);
      const arn = stack.outputs[outputKey];
      if (arn === undefined) return missingOutput(stack, outputKey);
      let raw: string | undefined;
      try {
        raw = (await aws.clients.secretsManager.send(new GetSecretValueCommand({ SecretId: arn }))).SecretString;
      } catch (err) {
        if (errorName(err) === 'ResourceNotFoundException') {
          return fail(
            `the secret ${arn} does not exist (deleted?): the receiver answers 503 to source '${source}'`,
            'npx cdk deploy (or point sources[].secretArn at an existing secret)',
          );
        }
        return callFailed(err, `read the secret ${arn}`, `secretsmanager:GetSecretValue on ${arn}`);
      }
      let keys: number;
      try {
        // The value goes nowhere but here; only the number of keys it holds leaves this block.
        keys = parseSecretValue(source, raw).length;
      } catch (err) {
        if (!(err instanceof SecretNotConfiguredError)) throw err;
        return fail(
          `${err.message}; until then the receiver answers 503 to its events`,
          `aws secretsmanager put-secret-value --secret-id ${arn} --secret-string '<the secret key from the Social Plus console>' --region ${aws.region}`,
        );
      }
      return pass(`set${keys > 1 ? ', mid-rotation (current and previous key)' : ''}: ${arn}`);
    },
  };
}

/**
 * One secret check per source: from the deployed stack's `SecretArn*` outputs (named from their
 * descriptions, else the configuration), or, when there is no stack to read, from the
 * configuration so the skipped lines still name the sources.
 */
export const secretChecks: CheckEntry<DoctorContext> = (ctx) => {
  const configured = ctx.facts.config?.sources.map((s) => s.name) ?? [];
  const stack = ctx.facts.stack;
  if (stack === undefined) {
    if (configured.length === 0) return [secretCheck('default', `${SECRET_ARN_PREFIX}${sourceIdPart('default')}`)];
    return configured.map((name) => secretCheck(name, `${SECRET_ARN_PREFIX}${sourceIdPart(name)}`));
  }
  const keys = Object.keys(stack.outputs).filter((k) => k.startsWith(SECRET_ARN_PREFIX) && k.length > SECRET_ARN_PREFIX.length);
  if (keys.length === 0) {
    return [{ id: 'secrets', title: 'webhook secrets', needs: [STACK], run: () => missingOutput(stack, `${SECRET_ARN_PREFIX}<source>`) }];
  }
  const named = keys.map((key) => {
    const part = key.slice(SECRET_ARN_PREFIX.length);
    const described = /source '([a-z0-9-]+)'/.exec(stack.descriptions[key] ?? '')?.[1];
    const name = configured.find((n) => sourceIdPart(n) === part) ?? described ?? part;
    return { key, name, order: configured.includes(name) ? configured.indexOf(name) : configured.length };
  });
  named.sort((a, b) => a.order - b.order || a.name.localeCompare(b.name));
  return named.map((n) => secretCheck(n.name, n.key));
};

/** The web ACL on the API stage: the stack's (`WebAclArn`) passes; none or another fails. */
export const webAclCheck = stackResourceCheck(
  { id: 'web-acl', title: 'web ACL on the API stage', outputs: [STACK_OUTPUTS.apiStageArn, STACK_OUTPUTS.webAclArn] },
  async ([stageArn, aclArn], ctx) => {
    const aws = awsOf(ctx);
    let acl;
    try {
      acl = (await aws.clients.wafv2.send(new GetWebACLForResourceCommand({ ResourceArn: stageArn }))).WebACL;
    } catch (err) {
      if (errorName(err) === 'WAFNonexistentItemException') return fail(`WAF does not know the API stage ${stageArn}`, 'npx cdk deploy');
      return callFailed(err, `read the web ACL of ${stageArn}`, 'wafv2:GetWebACLForResource');
    }
    if (acl?.ARN === undefined) {
      return fail(
        `no web ACL guards the API stage ${stageArn}: anyone, not only Social Plus, can reach the receiver`,
        "npx cdk deploy (associates the stack's web ACL again)",
      );
    }
    if (acl.ARN !== aclArn) {
      return fail(
        `the API stage is guarded by another web ACL, ${acl.Name ?? '?'} (${acl.ARN}), not the stack's ${aclArn}: Social Plus's addresses may be blocked, or anyone let in`,
        "npx cdk deploy (associates the stack's web ACL again); if AWS Firewall Manager or another stack puts its own web ACL on this stage, exclude the stage there",
      );
    }
    return pass(`${acl.Name ?? acl.ARN}, the stack's, guards the API stage`);
  },
);

/** Most pages of subscriptions read (100 each): a topic with more is far beyond "nobody is told". */
const MAX_SUBSCRIPTION_PAGES = 10;

/** The alarm topic: a confirmed subscription passes; only pending ones, or none, warn. */
export const alarmTopicCheck = stackResourceCheck(
  { id: 'alarm-topic', title: 'alarm notifications', outputs: [STACK_OUTPUTS.alarmTopicArn] },
  async ([topic], ctx) => {
    const aws = awsOf(ctx);
    const subscriptions: Subscription[] = [];
    try {
      let token: string | undefined;
      let pages = 0;
      do {
        const out = await aws.clients.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topic, ...(token ? { NextToken: token } : {}) }));
        subscriptions.push(...(out.Subscriptions ?? []));
        token = out.NextToken;
        pages += 1;
      } while (token && pages < MAX_SUBSCRIPTION_PAGES);
    } catch (err) {
      return callFailed(err, `list the subscriptions of ${topic}`, 'sns:ListSubscriptionsByTopic');
    }
    // Protocols only: an endpoint can carry a token (a chat webhook's URL).
    const confirmed = subscriptions.filter((s) => s.SubscriptionArn?.startsWith('arn:'));
    const pending = subscriptions.filter((s) => s.SubscriptionArn === 'PendingConfirmation');
    const subscribe = `aws sns subscribe --topic-arn ${topic} --protocol email --notification-endpoint you@example.com --region ${aws.region} (or deploy with -c alarmEmail=you@example.com)`;
    if (confirmed.length > 0) {
      return pass(
        `${count(confirmed.length, 'confirmed subscription')} (${protocols(confirmed)})${pending.length > 0 ? `, ${pending.length} pending confirmation` : ''}`,
      );
    }
    if (pending.length > 0) {
      return warn(
        `${count(pending.length, 'subscription')} (${protocols(pending)}) pending confirmation: alarms reach nobody until the link AWS sent is followed`,
        `follow the link in the "AWS Notification - Subscription Confirmation" message; if it expired, subscribe again: ${subscribe}`,
      );
    }
    return warn('no subscription to the alarm topic: alarms (queue backing up, dead letters, receiver failures) reach nobody', subscribe);
  },
);

/** The event queue's depth: information (it passes unless it cannot be read). */
export const eventQueueCheck = queueCheck('event-queue', 'event queue', STACK_OUTPUTS.queueUrl, (depth) =>
  pass(`${depth.visible} waiting, ${depth.inFlight} in flight`),
);

/** The dead-letter queue: empty passes; any message warns, with the redrive command. */
export const deadLetterQueueCheck = queueCheck('dead-letter-queue', 'dead-letter queue', STACK_OUTPUTS.deadLetterQueueUrl, (depth, ctx) => {
  const total = depth.visible + depth.inFlight;
  if (total === 0) return pass('empty');
  return warn(
    `${count(total, 'message')}: events a handler failed on every try; they wait there (up to 14 days) to be moved back`,
    `npx socialplus-webhooks redrive --aws${awsOf(ctx).cliFlags} (once the handler is fixed; the fan-out's logs name the failure)`,
  );
});

/**
 * A check of resources the deployed stack names in its outputs: it needs the stack check, warns
 * when the stack lacks one of `outputs` (deployed by an older version), and otherwise runs
 * `inspect` with their values, in the order of `outputs`.
 */
function stackResourceCheck<const K extends readonly string[]>(
  spec: { readonly id: string; readonly title: string; readonly outputs: K },
  inspect: (values: { readonly [I in keyof K]: string }, ctx: DoctorContext) => Promise<Outcome>,
): Check<DoctorContext> {
  return {
    id: spec.id,
    title: spec.title,
    needs: [STACK],
    async run(ctx) {
      const stack = deployed(ctx);
      const values: string[] = [];
      for (const key of spec.outputs) {
        const value = stack.outputs[key];
        if (value === undefined) return missingOutput(stack, key);
        values.push(value);
      }
      return inspect(values as unknown as { readonly [I in keyof K]: string }, ctx);
    },
  };
}

interface QueueDepth {
  readonly visible: number;
  readonly inFlight: number;
}

/** A queue the stack names in output `outputKey`: its depth, read with GetQueueAttributes, then judged by `judge`. */
function queueCheck(id: string, title: string, outputKey: string, judge: (depth: QueueDepth, ctx: DoctorContext) => Outcome): Check<DoctorContext> {
  return stackResourceCheck({ id, title, outputs: [outputKey] }, async ([url], ctx) => {
    const depth = await queueDepth(ctx, url);
    return 'outcome' in depth ? depth.outcome : judge(depth, ctx);
  });
}

async function queueDepth(ctx: DoctorContext, url: string): Promise<QueueDepth | { outcome: Outcome }> {
  try {
    const out = await awsOf(ctx).clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    const a = out.Attributes ?? {};
    return { visible: Number(a.ApproximateNumberOfMessages ?? 0), inFlight: Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) };
  } catch (err) {
    if (/QueueDoesNotExist|NonExistentQueue/.test(errorName(err))) return { outcome: fail(`the queue ${url} does not exist`, 'npx cdk deploy') };
    return { outcome: callFailed(err, `read the queue ${url}`, 'sqs:GetQueueAttributes') };
  }
}

function protocols(subs: readonly Subscription[]): string {
  return [...new Set(subs.map((s) => s.Protocol ?? '?'))].join(', ');
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** The deployed stack's checks, in report order. */
export const STACK_CHECKS: ReadonlyArray<CheckEntry<DoctorContext>> = [
  stackCheck,
  secretChecks,
  webAclCheck,
  alarmTopicCheck,
  eventQueueCheck,
  deadLetterQueueCheck,
  signatureFormsCheck,
];
