/**
 * The deploy rehearsal's checks that are neither IAM nor running code: which variables of the
 * environment contract a function may read without its template setting them (and set without
 * reading them), how S3 notifies the queue of a new object, and cutting statements out of a policy
 * to show the IAM check bites.
 */
import { ENV } from '../../lambda/common/env.js';
import { parseHandlersConfigJson } from '../../lambda/fanout/handlers/config.js';
import { wildcardMatch, type Policy, type PolicyStatement } from './iam.js';
import type { FunctionModel, StackModel } from './stack-model.js';

/** Why a contract variable may be read without the template setting it, and when. */
export interface NotSetExemption {
  readonly why: string;
  /** Whether the exemption holds for a function with this (template) environment. */
  readonly applies: (environment: Readonly<Record<string, string>>) => boolean;
}

/**
 * Variables of the contract a function may read although its template does not set them. Two:
 * one the contract documents as local-only, one the fan-out reads before it knows it needs it.
 */
export const NOT_SET_ON_AWS: Readonly<Partial<Record<string, NotSetExemption>>> = {
  [ENV.SOCIALPLUS_ADMIN_TOKEN]: {
    why: 'local mode only ("Never set on AWS", lambda/common/env.ts); the fan-out looks for it next to SOCIALPLUS_API_SECRET_ARN',
    applies: () => true,
  },
  [ENV.SOCIALPLUS_API_SECRET_ARN]: {
    why:
      'lambda/fanout/handlers/from-env.ts reads it at every cold start, before it looks at HANDLERS_CONFIG; the stack sets it only ' +
      'with a socialPlus configuration, and without a live one (no socialPlus section, no region or base URL, or a dry run) the ' +
      'fan-out builds no Social Plus client whatever the variable says. With a live one, unset is a failure here.',
    applies: (environment) => {
      const sp = parseHandlersConfigJson(environment[ENV.HANDLERS_CONFIG]).socialPlus;
      return sp === undefined || (sp.region === undefined && sp.baseUrl === undefined) || sp.dryRun === true;
    },
  },
};

/**
 * The contract variables (`ENV`) among `reads` that `environment` (the function's template
 * environment) does not set, less the exemptions of {@link NOT_SET_ON_AWS} that apply to it.
 */
export function contractReadsNotSet(reads: Iterable<string>, environment: Readonly<Record<string, string>>): string[] {
  const contract = new Set<string>(Object.values(ENV));
  return [...new Set(reads)]
    .filter((name) => contract.has(name) && !Object.hasOwn(environment, name) && NOT_SET_ON_AWS[name]?.applies(environment) !== true)
    .sort();
}

/** Why a template may set a contract variable its function never reads, and for which functions. */
export interface SetNotReadExemption {
  readonly why: string;
  readonly applies: (fn: FunctionModel) => boolean;
}

/**
 * Contract variables a template may set for a function that never reads them. One: a known
 * mismatch, kept visible here until lib/ is changed (then delete the entry).
 */
export const SET_NOT_READ_ON_AWS: Readonly<Partial<Record<string, SetNotReadExemption>>> = {};

/**
 * The contract variables (`ENV`) `environment` (the function's template environment) sets that the
 * function never read (`reads`), less the exemptions of {@link SET_NOT_READ_ON_AWS} that apply to it.
 */
export function contractSetNotRead(reads: Iterable<string>, environment: Readonly<Record<string, string>>, fn: FunctionModel): string[] {
  const contract = new Set<string>(Object.values(ENV));
  const read = new Set(reads);
  return Object.keys(environment)
    .filter((name) => contract.has(name) && !read.has(name) && SET_NOT_READ_ON_AWS[name]?.applies(fn) !== true)
    .sort();
}

/** The policies with every statement `pick` selects removed; throws when it selects none. */
export function cutStatements(policies: readonly Policy[], pick: (s: PolicyStatement) => boolean): Policy[] {
  let removed = 0;
  const out = policies.map((p) => {
    const statements = [p.document.Statement].flat() as PolicyStatement[];
    const kept = statements.filter((s) => !pick(s));
    removed += statements.length - kept.length;
    return { ...p, document: { ...p.document, Statement: kept } };
  });
  if (removed === 0) throw new Error('no statement matched: nothing was cut');
  return out;
}

type Json = Record<string, unknown>;

/**
 * The queue ARNs S3 notifies when `eventName` (e.g. `ObjectCreated:Put`) happens to `key` in
 * `bucket`, by the template's notification configurations (CDK's `Custom::S3BucketNotifications`,
 * or a bucket's own `NotificationConfiguration`), with their event patterns and prefix/suffix filters.
 */
export function notificationTargets(model: StackModel, bucket: string, key: string, eventName: string): string[] {
  const { template, resolver } = model;
  const configs: Array<{ config: Json; where: string }> = [];
  for (const [id, r] of Object.entries(template.Resources)) {
    const p = r.Properties ?? {};
    if (r.Type === 'Custom::S3BucketNotifications' && resolver.resolveString(p.BucketName, `${id}.BucketName`) === bucket) {
      configs.push({ config: p.NotificationConfiguration as Json, where: `${id}.NotificationConfiguration` });
    } else if (r.Type === 'AWS::S3::Bucket' && p.NotificationConfiguration !== undefined && resolver.ref(id) === bucket) {
      configs.push({ config: p.NotificationConfiguration as Json, where: `${id}.NotificationConfiguration` });
    }
  }
  const targets: string[] = [];
  for (const { config, where } of configs) {
    for (const [i, q] of ((config.QueueConfigurations ?? []) as Json[]).entries()) {
      const events = [q.Events ?? q.Event].flat() as string[];
      if (!events.some((e) => wildcardMatch(e, `s3:${eventName}`))) continue;
      const rules =
        (((q.Filter as Json | undefined)?.Key ?? (q.Filter as Json | undefined)?.S3Key) as Json | undefined)?.FilterRules ??
        ((q.Filter as Json | undefined)?.S3Key as Json | undefined)?.Rules;
      const fits = ((rules ?? []) as Array<{ Name: string; Value: string }>).every((rule) =>
        rule.Name.toLowerCase() === 'prefix' ? key.startsWith(rule.Value) : rule.Name.toLowerCase() === 'suffix' ? key.endsWith(rule.Value) : false,
      );
      if (fits) targets.push(resolver.resolveString(q.QueueArn ?? q.Queue, `${where}.QueueConfigurations[${i}]`));
    }
  }
  return targets;
}
