/**
 * Resolves a synthesized CloudFormation template's intrinsic functions the way a deploy would, into
 * an imaginary account: every resource gets a deterministic fake physical id (its name, URL or
 * ARN, by resource type, in the shape AWS gives it), so the values a function's environment and
 * its role's policies hold after `cdk deploy` can be computed offline and compared.
 *
 * Supported: `Ref` (resources, parameters with a default, the pseudo parameters AWS::Region,
 * AWS::AccountId, AWS::Partition, AWS::URLSuffix, AWS::StackName, AWS::StackId, AWS::NoValue),
 * `Fn::GetAtt`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::Sub` and `Fn::Base64`. Anything else
 * (another intrinsic, a `Ref` or attribute of a resource type not listed in {@link RESOURCE_TYPES},
 * a condition) throws {@link UnsupportedTemplateError} naming where it is: a template change the
 * rehearsal does not understand fails loudly instead of passing with a made-up value.
 */
import { createHash } from 'node:crypto';

/** The imaginary account and stack a template is resolved into. */
export interface FakeDeployment {
  readonly stackName: string;
  readonly region: string;
  readonly accountId: string;
  /** @default 'aws' */
  readonly partition?: string;
  /** @default 'amazonaws.com' */
  readonly urlSuffix?: string;
  /**
   * The origin queue URLs start with. The SDK's SQS client sends to its queue URL's host, whatever
   * endpoint it is configured with, so a rehearsal pointing SQS at a stand-in puts the stand-in here.
   * @default `https://sqs.<region>.<urlSuffix>`
   */
  readonly sqsOrigin?: string;
}

/** A template construct the resolver does not support (or a reference to something missing). */
export class UnsupportedTemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedTemplateError';
  }
}

/** The parts of a template the resolver reads. */
export interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnResource>>;
  readonly Parameters?: Readonly<Record<string, { readonly Type: string; readonly Default?: unknown }>>;
  readonly Conditions?: Readonly<Record<string, unknown>>;
}

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Readonly<Record<string, unknown>>;
  readonly Condition?: string;
}

/** What a resource type resolves to: its physical name, its `Ref`, its attributes. */
interface ResourceType {
  /** Property holding an explicit physical name, if the type has one. */
  readonly nameProperty?: string;
  /** Longest generated name (CloudFormation shortens stack name and logical id to fit). */
  readonly maxNameLength: number;
  /** Generated names in lower case (S3 buckets). */
  readonly lowerCase?: boolean;
  readonly ref: (r: Ctx) => string;
  readonly attributes: Readonly<Record<string, (r: Ctx) => string>>;
}

/** What a resource type's functions get: the names and ARN parts of one resource. */
interface Ctx {
  readonly logicalId: string;
  readonly name: string;
  readonly properties: Readonly<Record<string, unknown>>;
  readonly region: string;
  readonly account: string;
  readonly partition: string;
  readonly urlSuffix: string;
  readonly sqsOrigin: string;
  /** A deterministic id of `length` characters from `alphabet` for this resource and `purpose`. */
  readonly id: (purpose: string, length: number, alphabet?: string) => string;
}

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const MIXED_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';

const arn = (r: Ctx, service: string, resource: string, region = r.region, account = r.account) =>
  `arn:${r.partition}:${service}:${region}:${account}:${resource}`;

/** A DynamoDB table's attributes (a global table's are its replica's in this region). */
const DYNAMODB_TABLE_ATTRIBUTES: ResourceType['attributes'] = {
  Arn: (r) => arn(r, 'dynamodb', `table/${r.name}`),
  StreamArn: (r) => arn(r, 'dynamodb', `table/${r.name}/stream/2025-07-02T09:54:03.221`),
};

/**
 * The resource types the resolver knows, with the `Ref` and attributes CloudFormation documents for
 * each (only those this project's templates use or are likely to).
 */
export const RESOURCE_TYPES: Readonly<Record<string, ResourceType>> = {
  'AWS::SQS::Queue': {
    nameProperty: 'QueueName',
    maxNameLength: 80,
    ref: (r) => `${r.sqsOrigin}/${r.account}/${r.name}`,
    attributes: {
      Arn: (r) => arn(r, 'sqs', r.name),
      QueueName: (r) => r.name,
      QueueUrl: (r) => `${r.sqsOrigin}/${r.account}/${r.name}`,
    },
  },
  'AWS::DynamoDB::Table': {
    nameProperty: 'TableName',
    maxNameLength: 255,
    ref: (r) => r.name,
    attributes: DYNAMODB_TABLE_ATTRIBUTES,
  },
  'AWS::DynamoDB::GlobalTable': {
    nameProperty: 'TableName',
    maxNameLength: 255,
    ref: (r) => r.name,
    // A global table's names and ARNs are those of its replica table in this region.
    attributes: { ...DYNAMODB_TABLE_ATTRIBUTES, TableId: (r) => r.id('table-id', 32, HEX) },
  },
  'AWS::S3::Bucket': {
    nameProperty: 'BucketName',
    maxNameLength: 63,
    lowerCase: true,
    ref: (r) => r.name,
    attributes: {
      Arn: (r) => `arn:${r.partition}:s3:::${r.name}`,
      DomainName: (r) => `${r.name}.s3.${r.urlSuffix}`,
      RegionalDomainName: (r) => `${r.name}.s3.${r.region}.${r.urlSuffix}`,
    },
  },
  'AWS::SecretsManager::Secret': {
    nameProperty: 'Name',
    maxNameLength: 256,
    // Secrets Manager adds a hyphen and six random characters to the name in the ARN.
    ref: (r) => arn(r, 'secretsmanager', `secret:${r.name}-${r.id('arn', 6, MIXED_ALNUM)}`),
    attributes: { Id: (r) => arn(r, 'secretsmanager', `secret:${r.name}-${r.id('arn', 6, MIXED_ALNUM)}`) },
  },
  'AWS::KinesisFirehose::DeliveryStream': {
    nameProperty: 'DeliveryStreamName',
    maxNameLength: 64,
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'firehose', `deliverystream/${r.name}`) },
  },
  'AWS::IAM::Role': {
    nameProperty: 'RoleName',
    maxNameLength: 64,
    ref: (r) => r.name,
    attributes: {
      Arn: (r) => `arn:${r.partition}:iam::${r.account}:role/${r.name}`,
      RoleId: (r) => `AROA${r.id('role-id', 17, UPPER_ALNUM)}`,
    },
  },
  'AWS::IAM::ManagedPolicy': {
    nameProperty: 'ManagedPolicyName',
    maxNameLength: 128,
    ref: (r) => `arn:${r.partition}:iam::${r.account}:policy/${r.name}`,
    attributes: { PolicyArn: (r) => `arn:${r.partition}:iam::${r.account}:policy/${r.name}` },
  },
  'AWS::Lambda::Function': {
    nameProperty: 'FunctionName',
    maxNameLength: 64,
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'lambda', `function:${r.name}`) },
  },
  'AWS::Logs::LogGroup': {
    nameProperty: 'LogGroupName',
    maxNameLength: 512,
    ref: (r) => r.name,
    // CloudFormation's Arn attribute of a log group ends in `:*` (it covers the group's streams).
    attributes: { Arn: (r) => arn(r, 'logs', `log-group:${r.name}:*`) },
  },
  'AWS::SNS::Topic': {
    nameProperty: 'TopicName',
    maxNameLength: 256,
    ref: (r) => arn(r, 'sns', r.name),
    attributes: { TopicArn: (r) => arn(r, 'sns', r.name), TopicName: (r) => r.name },
  },
  'AWS::Events::EventBus': {
    nameProperty: 'Name',
    maxNameLength: 256,
    ref: (r) => r.name,
    attributes: { Arn: (r) => arn(r, 'events', `event-bus/${r.name}`), Name: (r) => r.name },
  },
  'AWS::KMS::Key': {
    maxNameLength: 36,
    ref: (r) => keyId(r),
    attributes: { Arn: (r) => arn(r, 'kms', `key/${keyId(r)}`), KeyId: (r) => keyId(r) },
  },
  'AWS::ApiGateway::RestApi': {
    maxNameLength: 10,
    ref: (r) => r.id('rest-api', 10, LOWER_ALNUM),
    attributes: { RootResourceId: (r) => r.id('root-resource', 10, LOWER_ALNUM), RestApiId: (r) => r.id('rest-api', 10, LOWER_ALNUM) },
  },
  'AWS::ApiGateway::Resource': {
    maxNameLength: 6,
    ref: (r) => r.id('resource', 6, LOWER_ALNUM),
    attributes: { ResourceId: (r) => r.id('resource', 6, LOWER_ALNUM) },
  },
  'AWS::ApiGateway::Stage': {
    nameProperty: 'StageName',
    maxNameLength: 128,
    ref: (r) => r.name,
    attributes: {},
  },
  'AWS::Glue::Database': {
    maxNameLength: 255,
    ref: (r) =>
      literalString((r.properties.DatabaseInput as Record<string, unknown> | undefined)?.Name, `${r.logicalId}.DatabaseInput.Name`) ??
      r.name.toLowerCase(),
    attributes: {},
  },
  'AWS::Athena::WorkGroup': {
    nameProperty: 'Name',
    maxNameLength: 128,
    ref: (r) => r.name,
    attributes: {},
  },
};

function keyId(r: Ctx): string {
  const h = r.id('key-id', 32, HEX);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function literalString(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string')
    throw new UnsupportedTemplateError(`${where}: only a literal string is supported here, got ${JSON.stringify(value)}`);
  return value;
}

/** `length` characters of `alphabet`, derived from `seed` by SHA-256 (stable across runs and machines). */
export function deterministicId(seed: string, length: number, alphabet = UPPER_ALNUM): string {
  let out = '';
  for (let round = 0; out.length < length; round++) {
    for (const byte of createHash('sha256').update(`${seed}#${round}`).digest()) {
      if (out.length === length) break;
      out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

const PSEUDO = ['AWS::Region', 'AWS::AccountId', 'AWS::Partition', 'AWS::URLSuffix', 'AWS::StackName', 'AWS::StackId'] as const;

/** Marks a value `Ref: AWS::NoValue` removed from its object or list. */
const NO_VALUE = Symbol('AWS::NoValue');

/**
 * Resolves a template's intrinsics into {@link FakeDeployment}. Physical ids are a function of the
 * stack name and logical id only, so two resolvers of one template agree, and a test can compute
 * the URL, name or ARN it expects a function to use.
 */
export class IntrinsicResolver {
  readonly region: string;
  readonly accountId: string;
  readonly partition: string;
  readonly urlSuffix: string;
  readonly stackName: string;
  private readonly sqsOrigin: string;
  private readonly resolving = new Set<string>();

  constructor(
    private readonly template: CfnTemplate,
    readonly deployment: FakeDeployment,
  ) {
    this.region = deployment.region;
    this.accountId = deployment.accountId;
    this.partition = deployment.partition ?? 'aws';
    this.urlSuffix = deployment.urlSuffix ?? 'amazonaws.com';
    this.stackName = deployment.stackName;
    this.sqsOrigin = (deployment.sqsOrigin ?? `https://sqs.${this.region}.${this.urlSuffix}`).replace(/\/+$/, '');
  }

  /** The value of a pseudo parameter. */
  pseudo(name: (typeof PSEUDO)[number]): string {
    switch (name) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.accountId;
      case 'AWS::Partition':
        return this.partition;
      case 'AWS::URLSuffix':
        return this.urlSuffix;
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:${this.partition}:cloudformation:${this.region}:${this.accountId}:stack/${this.stackName}/${deterministicId(this.stackName, 8, HEX)}-0000-4000-8000-000000000000`;
    }
  }

  /** A resource's `Ref`. */
  ref(logicalId: string): string {
    if ((PSEUDO as readonly string[]).includes(logicalId)) return this.pseudo(logicalId as (typeof PSEUDO)[number]);
    const parameter = this.template.Parameters?.[logicalId];
    if (parameter !== undefined) {
      if (typeof parameter.Default !== 'string')
        throw new UnsupportedTemplateError(`Ref ${logicalId}: a parameter without a literal string default (${parameter.Type}) has no value offline`);
      return parameter.Default;
    }
    const { type, ctx } = this.resource(logicalId);
    return type.ref(ctx);
  }

  /** A resource's `Fn::GetAtt`. */
  getAtt(logicalId: string, attribute: string): string {
    const { type, ctx, resource } = this.resource(logicalId);
    const get = Object.hasOwn(type.attributes, attribute) ? type.attributes[attribute] : undefined;
    if (get === undefined)
      throw new UnsupportedTemplateError(
        `Fn::GetAtt ${logicalId}.${attribute}: attribute ${attribute} of ${resource.Type} is not supported by the rehearsal's resolver`,
      );
    return get(ctx);
  }

  /** The physical name of a resource (explicit, or generated as CloudFormation does). */
  physicalName(logicalId: string): string {
    return this.resource(logicalId).ctx.name;
  }

  /** The template's resource, or a thrown error naming the missing id. */
  resourceOf(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (resource === undefined) throw new UnsupportedTemplateError(`the template has no resource '${logicalId}'`);
    return resource;
  }

  private resource(logicalId: string): { type: ResourceType; ctx: Ctx; resource: CfnResource } {
    const resource = this.resourceOf(logicalId);
    if (resource.Condition !== undefined)
      throw new UnsupportedTemplateError(
        `${logicalId} has Condition '${resource.Condition}': conditions are not supported by the rehearsal's resolver`,
      );
    const type = RESOURCE_TYPES[resource.Type];
    if (type === undefined)
      throw new UnsupportedTemplateError(
        `${logicalId}: resources of type ${resource.Type} are not supported by the rehearsal's resolver (add the type's Ref and attributes to RESOURCE_TYPES)`,
      );
    const properties = resource.Properties ?? {};
    const name = this.nameOf(logicalId, type, properties);
    const ctx: Ctx = {
      logicalId,
      name,
      properties,
      region: this.region,
      account: this.accountId,
      partition: this.partition,
      urlSuffix: this.urlSuffix,
      sqsOrigin: this.sqsOrigin,
      id: (purpose, length, alphabet) => deterministicId(`${this.stackName}/${logicalId}/${purpose}`, length, alphabet),
    };
    return { type, ctx, resource };
  }

  private nameOf(logicalId: string, type: ResourceType, properties: Readonly<Record<string, unknown>>): string {
    const explicit = type.nameProperty === undefined ? undefined : properties[type.nameProperty];
    if (explicit !== undefined) {
      if (this.resolving.has(logicalId)) throw new UnsupportedTemplateError(`${logicalId}.${type.nameProperty} refers to itself`);
      this.resolving.add(logicalId);
      try {
        const value = this.resolve(explicit, `${logicalId}.Properties.${type.nameProperty}`);
        if (typeof value !== 'string') throw new UnsupportedTemplateError(`${logicalId}.${type.nameProperty} does not resolve to a string`);
        return value;
      } finally {
        this.resolving.delete(logicalId);
      }
    }
    // CloudFormation's generated names: <stack name>-<logical id>-<random suffix>, shortened to fit.
    const suffix = deterministicId(`${this.stackName}/${logicalId}/name`, 12);
    const room = type.maxNameLength - suffix.length - 1;
    let base = `${this.stackName}-${logicalId}`;
    if (base.length > room) base = `${this.stackName.slice(0, Math.max(1, Math.floor(room / 2)))}-${logicalId}`.slice(0, room);
    const name = room > 0 ? `${base}-${suffix}` : suffix.slice(0, type.maxNameLength);
    return type.lowerCase ? name.toLowerCase() : name;
  }

  /**
   * Resolves every intrinsic in `value` (deeply). `where` names the value in error messages, e.g.
   * `FanoutHandlerFunction.Environment.Variables.TABLE_NAME`.
   */
  resolve(value: unknown, where = 'value'): unknown {
    const out = this.walk(value, where);
    return out === NO_VALUE ? undefined : out;
  }

  /** Resolves a value that must come out as a string. */
  resolveString(value: unknown, where: string): string {
    const out = this.resolve(value, where);
    if (typeof out !== 'string') throw new UnsupportedTemplateError(`${where} resolves to ${JSON.stringify(out)}, not a string`);
    return out;
  }

  private walk(value: unknown, where: string): unknown {
    if (Array.isArray(value)) return value.map((v, i) => this.walk(v, `${where}[${i}]`)).filter((v) => v !== NO_VALUE);
    if (typeof value !== 'object' || value === null) return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, arg] = entries[0] as [string, unknown];
      if (key === 'Ref' || key.startsWith('Fn::')) return this.intrinsic(key, arg, where);
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries) {
      const resolved = this.walk(v, `${where}.${k}`);
      if (resolved !== NO_VALUE) out[k] = resolved;
    }
    return out;
  }

  private intrinsic(fn: string, arg: unknown, where: string): unknown {
    const at = `${where} (${fn})`;
    switch (fn) {
      case 'Ref': {
        if (typeof arg !== 'string') throw new UnsupportedTemplateError(`${at}: Ref takes a logical id`);
        if (arg === 'AWS::NoValue') return NO_VALUE;
        if (arg === 'AWS::NotificationARNs') throw new UnsupportedTemplateError(`${at}: AWS::NotificationARNs has no value offline`);
        return this.ref(arg);
      }
      case 'Fn::GetAtt': {
        const [id, attribute] = typeof arg === 'string' ? splitOnce(arg, '.') : (arg as unknown[]);
        if (typeof id !== 'string' || typeof attribute !== 'string')
          throw new UnsupportedTemplateError(`${at}: expected [logicalId, attribute] with a literal attribute`);
        return this.getAtt(id, attribute);
      }
      case 'Fn::Join': {
        const [sep, list] = expectArray(arg, 2, at);
        const items = this.walk(list, at);
        if (typeof sep !== 'string' || !Array.isArray(items)) throw new UnsupportedTemplateError(`${at}: expected [separator, list]`);
        return items
          .map((item, i) => {
            if (typeof item !== 'string') throw new UnsupportedTemplateError(`${at}: item ${i} resolves to ${JSON.stringify(item)}, not a string`);
            return item;
          })
          .join(sep);
      }
      case 'Fn::Select': {
        const [index, list] = expectArray(arg, 2, at);
        const i = Number(this.walk(index, at));
        const items = this.walk(list, at);
        if (!Array.isArray(items) || !Number.isInteger(i) || i < 0 || i >= items.length)
          throw new UnsupportedTemplateError(`${at}: index ${String(index)} is not in the list`);
        return items[i];
      }
      case 'Fn::Split': {
        const [sep, source] = expectArray(arg, 2, at);
        const text = this.walk(source, at);
        if (typeof sep !== 'string' || typeof text !== 'string') throw new UnsupportedTemplateError(`${at}: expected [separator, string]`);
        return text.split(sep);
      }
      case 'Fn::Sub': {
        const [text, vars] = typeof arg === 'string' ? [arg, {}] : expectArray(arg, 2, at);
        if (typeof text !== 'string' || typeof vars !== 'object' || vars === null)
          throw new UnsupportedTemplateError(`${at}: expected a string or [string, variables]`);
        const values = this.walk(vars, at) as Record<string, unknown>;
        return text.replace(/\$\{([^}]*)\}/g, (whole, name: string) => {
          if (name.startsWith('!')) return `\${${name.slice(1)}}`;
          if (Object.hasOwn(values, name)) {
            const v = values[name];
            if (typeof v !== 'string') throw new UnsupportedTemplateError(`${at}: variable ${name} is not a string`);
            return v;
          }
          const dot = name.indexOf('.');
          if (dot > 0 && !name.startsWith('AWS::')) return this.getAtt(name.slice(0, dot), name.slice(dot + 1));
          return this.ref(name);
        });
      }
      case 'Fn::Base64': {
        const text = this.walk(arg, at);
        if (typeof text !== 'string') throw new UnsupportedTemplateError(`${at}: expected a string`);
        return Buffer.from(text, 'utf8').toString('base64');
      }
      default:
        throw new UnsupportedTemplateError(`${at}: ${fn} is not supported by the rehearsal's resolver`);
    }
  }
}

function splitOnce(text: string, sep: string): [string, string] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, ''] : [text.slice(0, i), text.slice(i + 1)];
}

function expectArray(arg: unknown, length: number, at: string): unknown[] {
  if (!Array.isArray(arg) || arg.length !== length) throw new UnsupportedTemplateError(`${at}: expected a list of ${length}`);
  return arg;
}
