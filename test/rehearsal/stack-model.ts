/**
 * What the deploy rehearsal reads from a synthesized stack, found by the resources' relations and
 * never by logical id: each Lambda function (its code as `cdk deploy` would upload it, handler,
 * environment and role), what triggers it (an API Gateway proxy integration, an SQS event source
 * mapping, a custom resource), the identity policies of its role, and the resource policies of
 * what it calls. {@link StackModel.authorizeCalls} judges recorded calls against those policies
 * with the evaluator of `./iam.ts`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  authorize,
  describeDecision,
  type AccessRequest,
  type CallerPrincipal,
  type ConditionContext,
  type Decision,
  type Policy,
  type PolicyDocument,
} from './iam.js';
import { IntrinsicResolver, UnsupportedTemplateError, type CfnResource, type CfnTemplate } from './intrinsics.js';

/** One AWS request as IAM sees it: the action, the resource and the request's own condition keys. */
export interface IamCall {
  /** `service:Operation`, e.g. `dynamodb:PutItem`. */
  readonly action: string;
  /** The resource's ARN (`*` for actions without one). */
  readonly resource: string;
  /** Service-specific keys of this request (the caller's global keys are added by the model). */
  readonly context: ConditionContext;
  /** What saw the call, e.g. `dynalite proxy`. */
  readonly via: string;
  /** Why the call is implied, for calls that are not a request the function sent itself. */
  readonly note?: string;
}

/** How a function is invoked, found from the resources that point at it. */
export type FunctionTrigger =
  | {
      readonly kind: 'api';
      readonly methodId: string;
      readonly route: string;
      readonly restApiId: string;
      readonly binaryMediaTypes: readonly string[];
    }
  | {
      readonly kind: 'sqs';
      readonly mappingId: string;
      readonly queueId: string;
      readonly batchSize?: number;
      readonly reportBatchItemFailures: boolean;
    }
  | { readonly kind: 'custom-resource'; readonly resourceId: string; readonly resourceType: string };

/** A Lambda function of the template, resolved into the rehearsal's fake account. */
export interface FunctionModel {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly runtime: string;
  /** `Handler`, e.g. `index.handler`. */
  readonly handler: string;
  readonly timeoutSeconds: number;
  readonly memorySize: number;
  readonly tracing: 'Active' | 'PassThrough';
  readonly description?: string;
  readonly code:
    | { readonly kind: 'asset'; readonly dir: string; readonly entryFile: string; readonly exportName: string }
    | { readonly kind: 'inline' | 'image' | 'external' | 'missing'; readonly detail: string };
  /** The environment variables as the template writes them (intrinsics unresolved). */
  readonly templateEnvironment: Readonly<Record<string, unknown>>;
  /** The role's logical id, when the role is in the template. */
  readonly roleId?: string;
  readonly roleArn: string;
  readonly roleName: string;
  /** The log group Lambda writes the function's output to. */
  readonly logGroupName: string;
  /** Lambda's `AWS_LAMBDA_LOG_FORMAT` (`Text` unless the template asks for JSON). */
  readonly logFormat: 'Text' | 'JSON';
  readonly applicationLogLevel?: string;
  readonly triggers: readonly FunctionTrigger[];
}

/** A recorded call with IAM's decision on it. */
export interface CallVerdict {
  readonly fn: FunctionModel;
  readonly call: IamCall;
  readonly decision: Decision;
}

type Json = Record<string, unknown>;

/** Logical ids referenced by `Ref` or `Fn::GetAtt` anywhere in a value. */
export function referencedIds(value: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) for (const v of value) referencedIds(v, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value as Json)) {
      if (k === 'Ref' && typeof v === 'string') out.add(v);
      else if (k === 'Fn::GetAtt') out.add(Array.isArray(v) ? String(v[0]) : (String(v).split('.')[0] as string));
      else if (k === 'Fn::Sub') {
        const text = Array.isArray(v) ? v[0] : v;
        if (typeof text === 'string') for (const m of text.matchAll(/\$\{([^!}][^}.]*)[^}]*\}/g)) out.add(m[1] as string);
        if (Array.isArray(v)) referencedIds(v[1], out);
      } else referencedIds(v, out);
    }
  }
  return out;
}

/** The logical id of `{ "Fn::GetAtt": [id, attribute] }` or `{ "Ref": id }`, else undefined. */
function targetOf(value: unknown, attribute?: string): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Json;
  if (typeof v.Ref === 'string' && attribute === undefined) return v.Ref;
  const att = v['Fn::GetAtt'];
  if (Array.isArray(att) && typeof att[0] === 'string' && (attribute === undefined || att[1] === attribute)) return att[0];
  return undefined;
}

/**
 * Resource types whose resource policies this model does not read: a call to a service one of them
 * belongs to throws rather than being judged without the policy.
 */
const UNREAD_RESOURCE_POLICIES: Readonly<Record<string, string>> = {
  'AWS::SNS::TopicPolicy': 'sns',
  'AWS::Events::EventBusPolicy': 'events',
  'AWS::KMS::Key': 'kms',
  'AWS::Lambda::Permission': 'lambda',
  'AWS::Logs::ResourcePolicy': 'logs',
  'AWS::KinesisFirehose::ResourcePolicy': 'firehose',
};

/**
 * AWS managed policies a role may carry, by ARN suffix, with their documents (they are not in the
 * template). Only the basic execution role, which CDK attaches to functions by default; any other
 * managed policy throws, naming it.
 */
const AWS_MANAGED_POLICIES: Readonly<Record<string, PolicyDocument>> = {
  'policy/service-role/AWSLambdaBasicExecutionRole': {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }],
  },
};

/** The stack's functions, roles and policies, resolved into the rehearsal's fake account. */
export class StackModel {
  readonly functions: readonly FunctionModel[];
  private readonly resources: Readonly<Record<string, CfnResource>>;

  /**
   * @param template The synthesized template (`Template.toJSON()`).
   * @param resolver Resolves its intrinsics into the fake account.
   * @param outdir The cloud assembly folder holding the assets (`synthesize().outdir`).
   */
  constructor(
    readonly template: CfnTemplate,
    readonly resolver: IntrinsicResolver,
    readonly outdir: string,
  ) {
    this.resources = template.Resources;
    this.functions = Object.entries(this.resources)
      .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
      .map(([id, r]) => this.functionModel(id, r));
  }

  /** A model of another template (e.g. this one, edited) in the same fake account and cloud assembly. */
  withTemplate(template: CfnTemplate): StackModel {
    return new StackModel(template, new IntrinsicResolver(template, this.resolver.deployment), this.outdir);
  }

  /** The one function a predicate picks, failing with what was found otherwise. */
  only(what: string, pick: (fn: FunctionModel) => boolean): FunctionModel {
    const found = this.functions.filter(pick);
    if (found.length !== 1) {
      throw new Error(
        `expected exactly one ${what}, found ${found.length}: ${found.map((f) => f.logicalId).join(', ') || 'none'} (functions: ${this.functions.map((f) => `${f.logicalId} [${f.triggers.map((t) => t.kind).join(', ') || 'no trigger'}]`).join('; ')})`,
      );
    }
    return found[0] as FunctionModel;
  }

  /** The function API Gateway invokes through a proxy integration (the receiver). */
  receiver(): FunctionModel {
    return this.only('function behind an API Gateway proxy integration', (f) => f.triggers.some((t) => t.kind === 'api'));
  }

  /** The function an SQS event source mapping invokes (the fan-out). */
  fanout(): FunctionModel {
    return this.only('function with an SQS event source mapping', (f) => f.triggers.some((t) => t.kind === 'sqs'));
  }

  /** The function behind the template's custom resources of a type (found through their `ServiceToken`). */
  customResourceHandler(resourceType: string): FunctionModel {
    return this.only(`function behind ${resourceType}`, (f) =>
      f.triggers.some((t) => t.kind === 'custom-resource' && t.resourceType === resourceType),
    );
  }

  /**
   * The request CloudFormation sends a custom resource's function: the resource's properties
   * resolved (CloudFormation hands every scalar as a string), the stack's id, the request's id and
   * where to answer; an Update also carries the old properties, an Update or Delete the physical id
   * the resource last answered.
   */
  customResourceRequest(
    resourceId: string,
    o: {
      readonly requestType: 'Create' | 'Update' | 'Delete';
      readonly requestId: string;
      /** The presigned URL to answer at, for this stack, resource and request. */
      readonly responseUrl: (request: { readonly stackId: string; readonly logicalResourceId: string; readonly requestId: string }) => string;
      readonly physicalResourceId?: string;
      readonly oldResourceProperties?: Readonly<Record<string, unknown>>;
    },
  ): CloudFormationCustomResourceEvent {
    const resource = this.resources[resourceId];
    if (resource === undefined || !(resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource')) {
      throw new UnsupportedTemplateError(`${resourceId} is not a custom resource of the template`);
    }
    const properties = cfnStrings(this.resolver.resolve(resource.Properties ?? {}, `${resourceId}.Properties`)) as Record<string, unknown>;
    const serviceToken = properties.ServiceToken;
    if (typeof serviceToken !== 'string') throw new UnsupportedTemplateError(`${resourceId} has no ServiceToken`);
    const stackId = this.resolver.pseudo('AWS::StackId');
    if (o.requestType !== 'Create' && o.physicalResourceId === undefined)
      throw new Error(`${o.requestType} of ${resourceId}: CloudFormation sends the physical id the resource answered`);
    return {
      RequestType: o.requestType,
      ServiceToken: serviceToken,
      ResponseURL: o.responseUrl({ stackId, logicalResourceId: resourceId, requestId: o.requestId }),
      StackId: stackId,
      RequestId: o.requestId,
      LogicalResourceId: resourceId,
      ResourceType: resource.Type,
      ResourceProperties: { ...properties, ServiceToken: serviceToken },
      ...(o.physicalResourceId === undefined ? {} : { PhysicalResourceId: o.physicalResourceId }),
      ...(o.requestType === 'Update' ? { OldResourceProperties: o.oldResourceProperties ?? {} } : {}),
    } as CloudFormationCustomResourceEvent;
  }

  /** The function's environment with every intrinsic resolved (throws on what the resolver cannot). */
  environmentOf(fn: FunctionModel): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(fn.templateEnvironment)) {
      out[name] = this.resolver.resolveString(value, `${fn.logicalId}.Environment.Variables.${name}`);
    }
    return out;
  }

  /** Who the function calls AWS as: its role's session (Lambda names the session after the function). */
  principalOf(fn: FunctionModel): CallerPrincipal {
    return {
      roleArn: fn.roleArn,
      sessionArn: `arn:${this.resolver.partition}:sts::${this.resolver.accountId}:assumed-role/${fn.roleName}/${fn.name}`,
      accountId: this.resolver.accountId,
    };
  }

  /**
   * The global condition keys of every request the function's code makes in AWS: its role session,
   * over TLS (the SDK's default endpoints are HTTPS; the rehearsal's loopback stand-ins are not, which
   * changes nothing the policies see), from no VPC, not through another service.
   */
  callerContext(fn: FunctionModel): ConditionContext {
    const roleId = fn.roleId === undefined ? 'AROAEXTERNALROLE' : this.resolver.getAtt(fn.roleId, 'RoleId');
    return {
      'aws:PrincipalArn': fn.roleArn,
      'aws:PrincipalAccount': this.resolver.accountId,
      'aws:PrincipalType': 'AssumedRole',
      'aws:userid': `${roleId}:${fn.name}`,
      'aws:username': null,
      'aws:PrincipalIsAWSService': 'false',
      'aws:PrincipalServiceName': null,
      'aws:SecureTransport': 'true',
      'aws:RequestedRegion': this.resolver.region,
      'aws:ResourceAccount': this.resolver.accountId,
      'aws:SourceArn': null,
      'aws:SourceAccount': null,
      'aws:SourceOwner': null,
      'aws:SourceVpc': null,
      'aws:SourceVpce': null,
      'aws:VpcSourceIp': null,
      'aws:ViaAWSService': 'false',
      'aws:CalledVia': null,
      'aws:CalledViaFirst': null,
      'aws:CalledViaLast': null,
      'aws:MultiFactorAuthPresent': null,
      'lambda:SourceFunctionArn': fn.arn,
    };
  }

  /**
   * The identity policies of the function's role: `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy`
   * resources attached to it, its inline `Policies`, and its `ManagedPolicyArns`.
   */
  identityPolicies(fn: FunctionModel): Policy[] {
    const roleId = fn.roleId;
    if (roleId === undefined)
      throw new UnsupportedTemplateError(`${fn.logicalId}: its role (${fn.roleArn}) is not in the template, so its policies cannot be read`);
    const policies: Policy[] = [];
    const attached = (roles: unknown) => Array.isArray(roles) && roles.some((r) => targetOf(r) === roleId);
    for (const [id, r] of Object.entries(this.resources)) {
      if ((r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && attached(r.Properties?.Roles)) {
        policies.push({ name: id, kind: 'identity', document: this.document(r.Properties?.PolicyDocument, `${id}.PolicyDocument`) });
      }
    }
    const role = this.resources[roleId]?.Properties ?? {};
    for (const [i, p] of (Array.isArray(role.Policies) ? role.Policies : []).entries()) {
      const inline = p as Json;
      policies.push({
        name: `${roleId}.Policies[${String(inline.PolicyName ?? i)}]`,
        kind: 'identity',
        document: this.document(inline.PolicyDocument, `${roleId}.Policies[${i}]`),
      });
    }
    const managed = this.resolver.resolve(role.ManagedPolicyArns ?? [], `${roleId}.ManagedPolicyArns`) as unknown[];
    for (const arn of managed) {
      if (typeof arn !== 'string') throw new UnsupportedTemplateError(`${roleId}.ManagedPolicyArns holds ${JSON.stringify(arn)}`);
      const inTemplate = Object.entries(this.resources).find(([id, r]) => r.Type === 'AWS::IAM::ManagedPolicy' && this.resolver.ref(id) === arn);
      if (inTemplate) {
        if (!policies.some((p) => p.name === inTemplate[0]))
          policies.push({
            name: inTemplate[0],
            kind: 'identity',
            document: this.document(inTemplate[1].Properties?.PolicyDocument, `${inTemplate[0]}.PolicyDocument`),
          });
        continue;
      }
      const known = Object.entries(AWS_MANAGED_POLICIES).find(([suffix]) => arn === `arn:${this.resolver.partition}:iam::aws:${suffix}`);
      if (!known) throw new UnsupportedTemplateError(`${roleId} has managed policy ${arn}, whose document the rehearsal does not know`);
      policies.push({ name: arn, kind: 'identity', document: known[1] });
    }
    return policies;
  }

  /** The resource policies that apply to a resource ARN (queue, bucket and its objects, secret, table). */
  resourcePoliciesFor(resourceArn: string): Policy[] {
    const policies: Policy[] = [];
    const add = (name: string, doc: unknown, arns: readonly string[], where: string) => {
      const covers = arns.some((a) => resourceArn === a || resourceArn.startsWith(`${a}/`));
      if (covers) policies.push({ name, kind: 'resource', document: this.document(doc, where) });
    };
    for (const [id, r] of Object.entries(this.resources)) {
      const p = r.Properties ?? {};
      switch (r.Type) {
        case 'AWS::SQS::QueuePolicy': {
          const urls = this.resolver.resolve(p.Queues, `${id}.Queues`) as string[];
          const arns = urls.map((url) => this.queueArnOfUrl(url, `${id}.Queues`));
          add(id, p.PolicyDocument, arns, `${id}.PolicyDocument`);
          break;
        }
        case 'AWS::S3::BucketPolicy': {
          const bucket = this.resolver.resolveString(p.Bucket, `${id}.Bucket`);
          add(id, p.PolicyDocument, [`arn:${this.resolver.partition}:s3:::${bucket}`], `${id}.PolicyDocument`);
          break;
        }
        case 'AWS::SecretsManager::ResourcePolicy':
          add(id, p.ResourcePolicy, [this.resolver.resolveString(p.SecretId, `${id}.SecretId`)], `${id}.ResourcePolicy`);
          break;
        case 'AWS::DynamoDB::Table':
          if (p.ResourcePolicy !== undefined)
            add(`${id}.ResourcePolicy`, (p.ResourcePolicy as Json).PolicyDocument, [this.resolver.getAtt(id, 'Arn')], `${id}.ResourcePolicy`);
          break;
        case 'AWS::DynamoDB::GlobalTable':
          for (const [i, replica] of (Array.isArray(p.Replicas) ? (p.Replicas as Json[]) : []).entries()) {
            const region = this.resolver.resolve(replica.Region, `${id}.Replicas[${i}].Region`);
            if (replica.ResourcePolicy !== undefined && region === this.resolver.region) {
              add(
                `${id}.Replicas[${i}].ResourcePolicy`,
                (replica.ResourcePolicy as Json).PolicyDocument,
                [this.resolver.getAtt(id, 'Arn')],
                `${id}.Replicas[${i}].ResourcePolicy`,
              );
            }
          }
          break;
        default:
          break;
      }
    }
    return policies;
  }

  /** The ARN of the template's queue with this URL. */
  queueArnOfUrl(url: string, where = 'queue URL'): string {
    const id = Object.keys(this.resources).find((qid) => this.resources[qid]?.Type === 'AWS::SQS::Queue' && this.resolver.ref(qid) === url);
    if (id === undefined) throw new UnsupportedTemplateError(`${where}: ${url} is not the URL of a queue in the template`);
    return this.resolver.getAtt(id, 'Arn');
  }

  /** Decides each call the function made against its role's policies and the target's resource policies. */
  authorizeCalls(fn: FunctionModel, calls: readonly IamCall[], identity: readonly Policy[] = this.identityPolicies(fn)): CallVerdict[] {
    const principal = this.principalOf(fn);
    const caller = this.callerContext(fn);
    return calls.map((call) => {
      const service = call.action.split(':')[0] ?? '';
      for (const [type, svc] of Object.entries(UNREAD_RESOURCE_POLICIES)) {
        if (svc === service && Object.values(this.resources).some((r) => r.Type === type)) {
          throw new UnsupportedTemplateError(
            `${fn.logicalId} calls ${call.action}, and the template has ${type} resources, which the rehearsal does not read`,
          );
        }
      }
      const request: AccessRequest = { principal, action: call.action, resource: call.resource, context: { ...caller, ...call.context } };
      return { fn, call, decision: authorize(request, [...identity, ...this.resourcePoliciesFor(call.resource)]) };
    });
  }

  private document(doc: unknown, where: string): PolicyDocument {
    const resolved = this.resolver.resolve(doc, where) as PolicyDocument | undefined;
    if (resolved === undefined || typeof resolved !== 'object' || !('Statement' in resolved))
      throw new UnsupportedTemplateError(`${where} is not a policy document`);
    return resolved;
  }

  private functionModel(id: string, r: CfnResource): FunctionModel {
    const p = r.Properties ?? {};
    const roleId = targetOf(p.Role, 'Arn');
    const roleArn = this.resolver.resolveString(p.Role, `${id}.Role`);
    const logging = (p.LoggingConfig ?? {}) as Json;
    const name = this.resolver.physicalName(id);
    return {
      logicalId: id,
      name,
      arn: this.resolver.getAtt(id, 'Arn'),
      runtime: String(p.Runtime ?? (p.PackageType === 'Image' ? 'image' : 'unknown')),
      handler: String(p.Handler ?? ''),
      timeoutSeconds: Number(p.Timeout ?? 3),
      memorySize: Number(p.MemorySize ?? 128),
      tracing: (p.TracingConfig as Json | undefined)?.Mode === 'Active' ? 'Active' : 'PassThrough',
      ...(typeof p.Description === 'string' ? { description: p.Description } : {}),
      code: this.codeOf(id, p),
      templateEnvironment: ((p.Environment as Json | undefined)?.Variables ?? {}) as Record<string, unknown>,
      ...(roleId === undefined ? {} : { roleId }),
      roleArn,
      roleName: roleArn.slice(roleArn.lastIndexOf('/') + 1),
      logGroupName:
        logging.LogGroup === undefined ? `/aws/lambda/${name}` : this.resolver.resolveString(logging.LogGroup, `${id}.LoggingConfig.LogGroup`),
      logFormat: logging.LogFormat === 'JSON' ? 'JSON' : 'Text',
      ...(typeof logging.ApplicationLogLevel === 'string' ? { applicationLogLevel: logging.ApplicationLogLevel } : {}),
      triggers: this.triggersOf(id),
    };
  }

  /** The asset folder `cdk deploy` would zip and upload for the function, found through the assets manifest. */
  private codeOf(id: string, p: Readonly<Record<string, unknown>>): FunctionModel['code'] {
    const code = (p.Code ?? {}) as Json;
    if (code.ZipFile !== undefined) return { kind: 'inline', detail: `inline code (${String(p.Runtime)})` };
    if (code.ImageUri !== undefined) return { kind: 'image', detail: 'container image' };
    if (typeof code.S3Key !== 'string') return { kind: 'external', detail: `code at ${JSON.stringify(code)}` };
    const key = code.S3Key;
    const bucket = this.resolver.resolveString(code.S3Bucket, `${id}.Code.S3Bucket`);
    for (const manifest of readdirSync(this.outdir).filter((f) => f.endsWith('.assets.json'))) {
      const files =
        (
          JSON.parse(readFileSync(join(this.outdir, manifest), 'utf8')) as {
            files?: Record<
              string,
              { source: { path?: string; packaging?: string }; destinations: Record<string, { bucketName: string; objectKey: string }> }
            >;
          }
        ).files ?? {};
      for (const asset of Object.values(files)) {
        const dest = Object.values(asset.destinations).find(
          (d) => d.objectKey === key && this.resolver.resolveString({ 'Fn::Sub': d.bucketName }, `${manifest} bucketName`) === bucket,
        );
        if (dest === undefined || asset.source.path === undefined) continue;
        if (asset.source.packaging !== 'zip')
          return { kind: 'missing', detail: `asset ${key} is packaged as ${String(asset.source.packaging)}, not a zip of a folder` };
        const dir = join(this.outdir, asset.source.path);
        const handler = String(p.Handler ?? '');
        const dot = handler.lastIndexOf('.');
        const base = handler.slice(0, dot);
        const entryFile = ['.mjs', '.js', '.cjs'].map((ext) => join(dir, base + ext)).find((f) => existsSync(f));
        if (dot <= 0 || entryFile === undefined) return { kind: 'missing', detail: `no module for handler '${handler}' in ${dir}` };
        return { kind: 'asset', dir, entryFile, exportName: handler.slice(dot + 1) };
      }
    }
    return { kind: 'missing', detail: `no asset of the cloud assembly is uploaded to s3://${bucket}/${key}` };
  }

  private triggersOf(fnId: string): FunctionTrigger[] {
    const triggers: FunctionTrigger[] = [];
    for (const [id, r] of Object.entries(this.resources)) {
      const p = r.Properties ?? {};
      if (r.Type === 'AWS::ApiGateway::Method') {
        const integration = (p.Integration ?? {}) as Json;
        if (integration.Type !== 'AWS_PROXY' || !referencedIds(integration.Uri).has(fnId)) continue;
        const restApiId = targetOf(p.RestApiId) ?? '';
        const api = this.resources[restApiId]?.Properties ?? {};
        triggers.push({
          kind: 'api',
          methodId: id,
          route: `${String(p.HttpMethod)} ${this.pathOf(p.ResourceId)}`,
          restApiId,
          binaryMediaTypes: (api.BinaryMediaTypes as string[] | undefined) ?? [],
        });
      } else if (r.Type === 'AWS::Lambda::EventSourceMapping') {
        if (targetOf(p.FunctionName) !== fnId) continue;
        const queueId = targetOf(p.EventSourceArn, 'Arn');
        if (queueId === undefined || this.resources[queueId]?.Type !== 'AWS::SQS::Queue') continue;
        triggers.push({
          kind: 'sqs',
          mappingId: id,
          queueId,
          ...(typeof p.BatchSize === 'number' ? { batchSize: p.BatchSize } : {}),
          reportBatchItemFailures: Array.isArray(p.FunctionResponseTypes) && p.FunctionResponseTypes.includes('ReportBatchItemFailures'),
        });
      } else if (targetOf(p.ServiceToken, 'Arn') === fnId) {
        triggers.push({ kind: 'custom-resource', resourceId: id, resourceType: r.Type });
      }
    }
    return triggers;
  }

  /** An API Gateway resource's path, from its `PathPart`s up to the API's root. */
  private pathOf(resourceRef: unknown): string {
    const parts: string[] = [];
    let current = resourceRef;
    for (let depth = 0; depth < 50; depth++) {
      const id = targetOf(current);
      const resource = id === undefined ? undefined : this.resources[id];
      if (resource?.Type !== 'AWS::ApiGateway::Resource') break;
      parts.unshift(String(resource.Properties?.PathPart));
      current = resource.Properties?.ParentId;
    }
    return `/${parts.join('/')}`;
  }
}

/** A resolved value as CloudFormation hands it to a custom resource: numbers and booleans as strings. */
function cfnStrings(value: unknown): unknown {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(cfnStrings);
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, cfnStrings(v)]));
  return value;
}

/** One line per call: `function  action  resource  (decision)`. */
export function formatVerdicts(verdicts: readonly CallVerdict[]): string {
  return verdicts
    .map(
      (v) =>
        `${v.fn.logicalId}  ${v.call.action}  ${v.call.resource}  [${v.call.via}${v.call.note ? `; ${v.call.note}` : ''}]  → ${describeDecision(v.decision)}`,
    )
    .join('\n');
}

/**
 * Throws when any call is not allowed, naming each (function, action, resource) and why; returns
 * the verdicts otherwise.
 */
export function assertAllAllowed(verdicts: readonly CallVerdict[]): readonly CallVerdict[] {
  const refused = verdicts.filter((v) => v.decision.decision !== 'allow');
  if (refused.length > 0) {
    throw new Error(
      `${refused.length} AWS call(s) the deployed policies would refuse:\n` +
        refused
          .map(
            (v) =>
              `  (${v.fn.logicalId}, ${v.call.action}, ${v.call.resource}): ${describeDecision(v.decision)}${v.call.note ? ` [${v.call.note}]` : ''}`,
          )
          .join('\n'),
    );
  }
  return verdicts;
}
