/**
 * A small IAM policy evaluator for the deploy rehearsal: decides whether one request (a principal,
 * an action on a resource, the request's condition context) is allowed by a set of resolved policy
 * documents, the way IAM decides a same-account request: an explicit `Deny` in any policy wins;
 * otherwise an `Allow` in an identity policy, or in a resource policy naming the principal, allows;
 * otherwise the request is implicitly denied.
 *
 * Pure (no I/O, no template): the documents come in with their intrinsics already resolved.
 *
 * Supported: `Action`/`NotAction` (case-insensitive, `*` and `?` wildcards), `Resource`/`NotResource`
 * (case-sensitive wildcards), `Principal`/`NotPrincipal` (`*` and `AWS` entries; other kinds never
 * name an IAM role), and the condition operators StringEquals, StringNotEquals,
 * StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike, StringNotLike, ArnEquals, ArnLike,
 * ArnNotEquals, ArnNotLike, Bool (each also with `IfExists`) and Null. Anything else throws
 * {@link UnsupportedPolicyError}: set operators (`ForAnyValue:`, `ForAllValues:`), numeric, date and
 * IP operators, policy variables.
 *
 * The condition context says, for every key it knows, the value or `null` (known to be absent from
 * the request). A condition on a key the context does not mention throws
 * {@link UnmodelledConditionKeyError}: the evaluator never guesses whether a key would be present.
 */

/** A key's value in a request: a string, a list (multi-valued keys), or null when the request has none. */
export type ContextValue = string | readonly string[] | null;

/** Condition keys (matched case-insensitively) and their values in one request. */
export type ConditionContext = Readonly<Record<string, ContextValue>>;

type OneOrMany<T> = T | readonly T[];

/** A policy statement with its intrinsics resolved. */
export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: OneOrMany<string>;
  readonly NotAction?: OneOrMany<string>;
  readonly Resource?: OneOrMany<string>;
  readonly NotResource?: OneOrMany<string>;
  readonly Principal?: '*' | Readonly<Record<string, OneOrMany<string>>>;
  readonly NotPrincipal?: '*' | Readonly<Record<string, OneOrMany<string>>>;
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, OneOrMany<string | boolean | number>>>>>;
}

export interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: OneOrMany<PolicyStatement>;
}

/** A policy and where it comes from (its name shows in decisions). */
export interface Policy {
  /** E.g. the logical id of the `AWS::IAM::Policy` or `AWS::SQS::QueuePolicy`. */
  readonly name: string;
  /** Identity policies are attached to the caller; resource policies to the resource called. */
  readonly kind: 'identity' | 'resource';
  readonly document: PolicyDocument;
}

/** Who makes the request: an IAM role session. */
export interface CallerPrincipal {
  /** The role's ARN (`aws:PrincipalArn`). */
  readonly roleArn: string;
  /** The session's ARN (`arn:aws:sts::<account>:assumed-role/<role>/<session>`). */
  readonly sessionArn: string;
  readonly accountId: string;
}

export interface AccessRequest {
  readonly principal: CallerPrincipal;
  /** `service:Operation`, e.g. `sqs:SendMessage`. */
  readonly action: string;
  /** The resource's ARN, or `*` for actions without a resource. */
  readonly resource: string;
  readonly context: ConditionContext;
}

/** One statement of one policy. */
export interface StatementRef {
  readonly policy: string;
  readonly kind: Policy['kind'];
  /** Position in the policy's `Statement` list. */
  readonly index: number;
  readonly sid?: string;
}

export type Decision =
  | { readonly decision: 'allow'; readonly allowedBy: readonly StatementRef[] }
  | { readonly decision: 'explicit-deny'; readonly deniedBy: readonly StatementRef[] }
  | { readonly decision: 'implicit-deny' };

/** The policy uses something this evaluator does not implement. */
export class UnsupportedPolicyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedPolicyError';
  }
}

/** A condition names a key the request context does not model (neither a value nor known absence). */
export class UnmodelledConditionKeyError extends Error {
  constructor(
    readonly key: string,
    where: string,
  ) {
    super(`${where}: condition key '${key}' is not modelled in the request context (give it a value, or null when the request would not carry it)`);
    this.name = 'UnmodelledConditionKeyError';
  }
}

const list = <T>(v: OneOrMany<T> | undefined): readonly T[] => (v === undefined ? [] : Array.isArray(v) ? (v as readonly T[]) : [v as T]);

/** Whether `text` matches `pattern`, where `*` matches any run of characters and `?` any one. */
export function wildcardMatch(pattern: string, text: string, ignoreCase = false): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(text);
}

/** `service:Action` against an action pattern: case-insensitive, with wildcards. */
export function actionMatches(pattern: string, action: string): boolean {
  return pattern === '*' || wildcardMatch(pattern, action, true);
}

/** A resource ARN against a `Resource` pattern: case-sensitive, wildcards may span `:` and `/`. */
export function resourceMatches(pattern: string, resource: string): boolean {
  if (pattern.includes('${')) throw new UnsupportedPolicyError(`resource '${pattern}': policy variables are not supported`);
  return pattern === '*' || wildcardMatch(pattern, resource);
}

/** ARN matching of the Arn* operators: each of the six `:`-separated parts separately, with wildcards. */
export function arnMatches(pattern: string, value: string): boolean {
  const split = (arn: string) => {
    const parts = arn.split(':');
    return parts.length < 6 ? undefined : [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const p = split(pattern);
  const v = split(value);
  if (p === undefined || v === undefined) return false;
  return p.every((part, i) => wildcardMatch(part, v[i] as string));
}

type Matcher = (policyValue: string, requestValue: string) => boolean;

const OPERATORS: Readonly<Record<string, { readonly match: Matcher; readonly negated: boolean }>> = {
  StringEquals: { match: (p, v) => p === v, negated: false },
  StringNotEquals: { match: (p, v) => p === v, negated: true },
  StringEqualsIgnoreCase: { match: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
  StringNotEqualsIgnoreCase: { match: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: true },
  StringLike: { match: (p, v) => wildcardMatch(p, v), negated: false },
  StringNotLike: { match: (p, v) => wildcardMatch(p, v), negated: true },
  ArnEquals: { match: arnMatches, negated: false },
  ArnLike: { match: arnMatches, negated: false },
  ArnNotEquals: { match: arnMatches, negated: true },
  ArnNotLike: { match: arnMatches, negated: true },
  Bool: { match: (p, v) => p.toLowerCase() === v.toLowerCase(), negated: false },
};

/** Looks a key up case-insensitively; undefined when the context does not model it. */
function lookup(context: ConditionContext, key: string): ContextValue | undefined {
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(context)) if (k.toLowerCase() === wanted) return v;
  return undefined;
}

function conditionValues(values: OneOrMany<string | boolean | number>, where: string): string[] {
  return list(values).map((v) => {
    const s = String(v);
    if (s.includes('${')) throw new UnsupportedPolicyError(`${where}: policy variables are not supported ('${s}')`);
    return s;
  });
}

/**
 * Whether a statement's `Condition` block holds for the context: every operator, every key of each
 * operator (AND); any of a key's values (OR; NOR for a negated operator).
 */
export function conditionsHold(condition: PolicyStatement['Condition'], context: ConditionContext, where = 'condition'): boolean {
  if (condition === undefined) return true;
  for (const [rawOperator, keys] of Object.entries(condition)) {
    if (rawOperator.includes(':')) throw new UnsupportedPolicyError(`${where}: set operator '${rawOperator}' is not supported`);
    for (const [key, rawValues] of Object.entries(keys)) {
      const values = conditionValues(rawValues, `${where} ${rawOperator} ${key}`);
      const actual = lookup(context, key);
      if (actual === undefined) throw new UnmodelledConditionKeyError(key, where);
      if (Array.isArray(actual))
        throw new UnsupportedPolicyError(`${where}: '${key}' has several values in the request, which only set operators (not supported) compare`);
      const present = actual !== null;
      if (rawOperator === 'Null') {
        // Null: "true" holds when the key is absent, "false" when it is present.
        if (!values.some((v) => (v.toLowerCase() === 'true') === !present)) return false;
        continue;
      }
      const ifExists = rawOperator.endsWith('IfExists');
      const operator = ifExists ? rawOperator.slice(0, -'IfExists'.length) : rawOperator;
      const op = Object.hasOwn(OPERATORS, operator) ? OPERATORS[operator] : undefined;
      if (op === undefined) throw new UnsupportedPolicyError(`${where}: condition operator '${rawOperator}' is not supported`);
      if (!present) {
        // A missing key fails a positive operator and satisfies a negated one; IfExists satisfies both.
        if (ifExists || op.negated) continue;
        return false;
      }
      const anyMatch = values.some((v) => op.match(v, actual as string));
      if (op.negated ? anyMatch : !anyMatch) return false;
    }
  }
  return true;
}

/** The identifiers a caller goes by in a `Principal` element. */
function callerIds(p: CallerPrincipal): { exact: string[]; account: string[] } {
  const partition = p.roleArn.split(':')[1] ?? 'aws';
  return { exact: [p.roleArn, p.sessionArn], account: [p.accountId, `arn:${partition}:iam::${p.accountId}:root`] };
}

const PRINCIPAL_KINDS = ['AWS', 'Service', 'Federated', 'CanonicalUser'];

/**
 * How a `Principal` element names the caller: `exact` (`*`, the role or its session), `account`
 * (the caller's account: for an Allow this only delegates to the account's own policies), or not at all.
 */
function principalMatch(principal: PolicyStatement['Principal'], caller: CallerPrincipal, where: string): 'exact' | 'account' | 'none' {
  if (principal === '*') return 'exact';
  if (principal === undefined) return 'none';
  const ids = callerIds(caller);
  let match: 'exact' | 'account' | 'none' = 'none';
  for (const [kind, values] of Object.entries(principal)) {
    if (!PRINCIPAL_KINDS.includes(kind)) throw new UnsupportedPolicyError(`${where}: principal kind '${kind}' is not supported`);
    if (kind !== 'AWS') continue; // A service, a federated identity or a canonical user is never an IAM role session.
    for (const v of list(values)) {
      if (v === '*' || ids.exact.includes(v)) return 'exact';
      if (ids.account.includes(v)) match = 'account';
    }
  }
  return match;
}

/** Whether a statement applies to the request (ignoring its effect); throws on what it cannot judge. */
function statementApplies(
  s: PolicyStatement,
  policy: Policy,
  index: number,
  req: AccessRequest,
): { applies: boolean; principal: 'exact' | 'account' | 'none' } {
  const where = `${policy.name} statement ${index}${s.Sid ? ` (${s.Sid})` : ''}`;
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny')
    throw new UnsupportedPolicyError(`${where}: Effect must be Allow or Deny, got ${JSON.stringify(s.Effect)}`);
  if ((s.Action === undefined) === (s.NotAction === undefined))
    throw new UnsupportedPolicyError(`${where}: exactly one of Action and NotAction is required`);
  if (s.Resource !== undefined && s.NotResource !== undefined) throw new UnsupportedPolicyError(`${where}: both Resource and NotResource`);

  let principal: 'exact' | 'account' | 'none' = 'exact';
  if (policy.kind === 'identity') {
    if (s.Principal !== undefined || s.NotPrincipal !== undefined)
      throw new UnsupportedPolicyError(`${where}: an identity policy statement has a Principal`);
    if (s.Resource === undefined && s.NotResource === undefined)
      throw new UnsupportedPolicyError(`${where}: an identity policy statement needs Resource or NotResource`);
  } else if (s.NotPrincipal !== undefined) {
    const named = s.NotPrincipal === '*' ? 'exact' : principalMatch(s.NotPrincipal, req.principal, where);
    principal = named === 'none' ? 'exact' : 'none';
  } else {
    if (s.Principal === undefined) throw new UnsupportedPolicyError(`${where}: a resource policy statement needs Principal or NotPrincipal`);
    principal = principalMatch(s.Principal, req.principal, where);
  }
  if (principal === 'none') return { applies: false, principal };

  const actionHit = list(s.Action ?? s.NotAction).some((a) => actionMatches(a, req.action));
  if (s.Action !== undefined ? !actionHit : actionHit) return { applies: false, principal };

  // A resource policy without Resource covers the resource it is attached to.
  if (s.Resource !== undefined || s.NotResource !== undefined) {
    const resourceHit = list(s.Resource ?? s.NotResource).some((r) => resourceMatches(r, req.resource));
    if (s.Resource !== undefined ? !resourceHit : resourceHit) return { applies: false, principal };
  }
  return { applies: conditionsHold(s.Condition, req.context, where), principal };
}

/**
 * Decides a request against identity and resource policies: any applicable Deny → explicit deny;
 * else any applicable Allow (a resource policy's only when it names the caller, not just its
 * account) → allow; else implicit deny.
 */
export function authorize(req: AccessRequest, policies: readonly Policy[]): Decision {
  const allows: StatementRef[] = [];
  const denies: StatementRef[] = [];
  for (const policy of policies) {
    list(policy.document.Statement).forEach((s, index) => {
      const { applies, principal } = statementApplies(s, policy, index, req);
      if (!applies) return;
      const ref: StatementRef = { policy: policy.name, kind: policy.kind, index, ...(s.Sid ? { sid: s.Sid } : {}) };
      if (s.Effect === 'Deny') denies.push(ref);
      else if (policy.kind === 'identity' || principal === 'exact') allows.push(ref);
    });
  }
  if (denies.length > 0) return { decision: 'explicit-deny', deniedBy: denies };
  if (allows.length > 0) return { decision: 'allow', allowedBy: allows };
  return { decision: 'implicit-deny' };
}

/** A decision in words, e.g. `denied by QueuePolicy statement 2 (DenyOthers)`. */
export function describeDecision(d: Decision): string {
  const refs = (rs: readonly StatementRef[]) => rs.map((r) => `${r.policy} statement ${r.index}${r.sid ? ` (${r.sid})` : ''}`).join(', ');
  switch (d.decision) {
    case 'allow':
      return `allowed by ${refs(d.allowedBy)}`;
    case 'explicit-deny':
      return `explicitly denied by ${refs(d.deniedBy)}`;
    case 'implicit-deny':
      return 'no statement allows it';
  }
}
