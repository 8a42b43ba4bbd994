/**
 * The imaginary AWS account a deploy rehearsal runs the stack's bundles in: every resource of the
 * template at its fake physical id (`./intrinsics.ts`), backed by loopback stand-ins (dynalite for
 * DynamoDB and the S3 emulator for S3, each behind a recording proxy; the AWS double of
 * `test/support/aws-double.ts` for SQS, Firehose, Secrets Manager and API Gateway's account
 * settings, and for any service nothing else covers; a UDP socket per function for the X-Ray daemon), and a record of every AWS call each
 * function makes, as IAM would see it.
 *
 * Each function signs with credentials of its own, so every request is attributed to the function
 * that sent it by its access key, whichever stand-in it reached.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { createTableIfMissing } from '../../lambda/adapters/create-table.js';
import { ensureBucket, localDynamoDbClient, localS3Client, startDynalite, startS3rver, type RunningEmulator } from '../../local/emulators.js';
import { jsonAnswer, jsonError, startAwsDouble, type AwsAnswer, type AwsCall, type AwsDouble } from '../support/aws-double.js';
import { dynamoDbIamCalls, iamCallsOfDoubleCall, s3IamCalls, sigV4Scope, startRecordingProxy, type RecordingProxy } from './aws-calls.js';
import { deterministicId, IntrinsicResolver, type CfnTemplate } from './intrinsics.js';
import { LambdaSandbox, lambdaEnvironment, type Invocation, type SessionCredentials } from './lambda-sandbox.js';
import { StackModel, type FunctionModel, type IamCall } from './stack-model.js';

/** The fake account every rehearsal deploys into. */
export const REHEARSAL_ACCOUNT = { region: 'us-east-1', accountId: '123456789012' } as const;

/**
 * The SDK's per-service endpoint variables, `AWS_ENDPOINT_URL_` plus the client's service id in
 * upper case with spaces as underscores (the bundled SDK's rule). The rehearsal asserts that each
 * function read the ones of the clients it used, so a name that drifts fails instead of silently
 * falling through to `AWS_ENDPOINT_URL`.
 */
export const ENDPOINT_VARIABLES = {
  sqs: 'AWS_ENDPOINT_URL_SQS',
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  s3: 'AWS_ENDPOINT_URL_S3',
  firehose: 'AWS_ENDPOINT_URL_FIREHOSE',
  secretsmanager: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  apigateway: 'AWS_ENDPOINT_URL_API_GATEWAY',
} as const;

/** The account's API Gateway settings in the region, as `GET /account` answers them. */
export interface ApiGatewayAccount {
  /** The account's CloudWatch Logs role; none in a fresh account. */
  cloudwatchRoleArn?: string;
}

/** A started function, with the calls it made so far. */
export interface RehearsedFunction {
  readonly fn: FunctionModel;
  readonly sandbox: LambdaSandbox;
  /** Every AWS call the function made so far, in order per stand-in. */
  calls(): IamCall[];
  /**
   * Invokes it as its SQS event source mapping does, recording what Lambda's poller does with the
   * function's role: read the queue's attributes (when the mapping is created), receive the batch,
   * and delete the records the function did not report as failed.
   */
  invokeFromQueue<R extends { batchItemFailures?: ReadonlyArray<{ itemIdentifier: string }> }>(
    event: { Records: readonly unknown[] },
    requestId: string,
    traceId?: string,
  ): Promise<Invocation<R>>;
  /** Segments its X-Ray daemon stand-in received (JSON documents). */
  readonly traceSegments: readonly string[];
}

/** Options of {@link startRehearsalWorld}. */
export interface RehearsalWorldOptions {
  readonly template: CfnTemplate;
  /** The cloud assembly folder. */
  readonly outdir: string;
  readonly stackName: string;
  /** A folder the world may write to (the S3 emulator's files), removed by the caller. */
  readonly scratchDir: string;
}

/** The running stand-ins, the stack model resolved against them, and the calls recorded. */
export class RehearsalWorld {
  /** Secret values by secret ARN: the template's `SecretString`s, then what a test puts. */
  readonly secretValues = new Map<string, string>();
  /** Optional test hook: answers (e.g. a failure) an SQS `SendMessage` before the normal answer. */
  sendMessageOverride: ((call: AwsCall) => AwsAnswer | undefined) | undefined;
  /**
   * API Gateway's account settings in the rehearsal's region: `GET /account` reads them, `PATCH
   * /account` changes them. A fresh account: no CloudWatch Logs role.
   */
  apiGatewayAccount: ApiGatewayAccount = {};
  private readonly started: Array<{ sandbox: LambdaSandbox; socket: Socket }> = [];
  private readonly keys = new Map<string, string>();

  private constructor(
    readonly model: StackModel,
    readonly double: AwsDouble,
    private readonly dynalite: RunningEmulator,
    private readonly s3rver: RunningEmulator,
    readonly dynamoDbProxy: RecordingProxy,
    readonly s3Proxy: RecordingProxy,
    private readonly scratchDir: string,
  ) {}

  /** Starts the stand-ins and creates every table, bucket and secret of the template in them. */
  static async start(o: RehearsalWorldOptions): Promise<RehearsalWorld> {
    const double = await startAwsDouble();
    const resolver = new IntrinsicResolver(o.template, { stackName: o.stackName, ...REHEARSAL_ACCOUNT, sqsOrigin: double.endpoint });
    const model = new StackModel(o.template, resolver, o.outdir);
    const scope = { accountId: resolver.accountId, partition: resolver.partition };
    await mkdir(o.scratchDir, { recursive: true });
    const dynalite = await startDynalite();
    const s3rver = await startS3rver({ dir: join(o.scratchDir, 's3rver') });
    const dynamoDbProxy = await startRecordingProxy(dynalite.endpoint, (x) =>
      dynamoDbIamCalls(
        String(x.headers['x-amz-target'] ?? ''),
        parseJsonObject(x.body),
        sigV4Scope(x.headers.authorization)?.region ?? 'unsigned',
        scope,
      ),
    );
    const s3Proxy = await startRecordingProxy(s3rver.endpoint, (x) => s3IamCalls(x.method, x.url, x.headers, x.status, scope));
    const world = new RehearsalWorld(model, double, dynalite, s3rver, dynamoDbProxy, s3Proxy, o.scratchDir);
    await world.createResources();
    world.answerAws();
    return world;
  }

  /** A DynamoDB client straight to dynalite (not recorded), for a test to look at the tables. */
  dynamoDbClient(): DynamoDBClient {
    return localDynamoDbClient(this.dynalite.endpoint);
  }

  /** An S3 client straight to s3rver (not recorded), for a test to look at the buckets. */
  s3Client(): S3Client {
    return localS3Client(this.s3rver.endpoint);
  }

  /** The variables that point every SDK client at the stand-ins. */
  endpointEnvironment(): Record<string, string> {
    return {
      // Anything without a variable of its own reaches the double, which records it and answers
      // UnknownOperation: a call to an unexpected service shows up instead of leaving the machine.
      AWS_ENDPOINT_URL: this.double.endpoint,
      [ENDPOINT_VARIABLES.sqs]: this.double.endpoint,
      [ENDPOINT_VARIABLES.firehose]: this.double.endpoint,
      [ENDPOINT_VARIABLES.secretsmanager]: this.double.endpoint,
      [ENDPOINT_VARIABLES.apigateway]: this.double.endpoint,
      [ENDPOINT_VARIABLES.dynamodb]: this.dynamoDbProxy.endpoint,
      [ENDPOINT_VARIABLES.s3]: this.s3Proxy.endpoint,
    };
  }

  /** The role session credentials a function signs with (distinct per function: the recording proxies tell the functions' calls apart by them). */
  credentialsFor(fn: FunctionModel): SessionCredentials {
    const accessKeyId = `ASIA${deterministicId(`${fn.logicalId}/access-key`, 16)}`;
    const secretAccessKey = deterministicId(`${fn.logicalId}/secret-key`, 40, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/+');
    this.keys.set(accessKeyId, fn.logicalId);
    return { accessKeyId, secretAccessKey, sessionToken: `IQoJb3JpZ2luX2VjE${deterministicId(`${fn.logicalId}/token`, 60)}` };
  }

  /**
   * Starts the function's execution environment (its init phase runs), with the environment Lambda
   * would give it pointed at the stand-ins.
   */
  async startFunction(fn: FunctionModel): Promise<RehearsedFunction> {
    const socket = createSocket('udp4');
    const segments: string[] = [];
    socket.on('message', (m) => segments.push(m.toString('utf8')));
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    const xrayDaemon = `127.0.0.1:${(socket.address() as AddressInfo).port}`;
    const logStreamName = `2025/07/02/[$LATEST]${deterministicId(fn.logicalId, 32, '0123456789abcdef')}`;
    const environment = lambdaEnvironment({
      fn,
      variables: this.model.environmentOf(fn),
      region: this.model.resolver.region,
      credentials: this.credentialsFor(fn),
      endpoints: this.endpointEnvironment(),
      xrayDaemon,
      scratchDir: this.scratchDir,
      logStreamName,
    });
    let sandbox: LambdaSandbox;
    try {
      sandbox = await LambdaSandbox.start(fn, environment);
    } catch (err) {
      socket.close();
      throw err;
    }
    this.started.push({ sandbox, socket });
    const platform: IamCall[] = [];
    const poller = (action: string, resource: string, note: string): IamCall => ({ action, resource, context: {}, via: 'Lambda SQS poller', note });
    return {
      fn,
      sandbox,
      traceSegments: segments,
      calls: () => [...this.callsOf(fn, sandbox, segments, logStreamName), ...platform],
      invokeFromQueue: async <R extends { batchItemFailures?: ReadonlyArray<{ itemIdentifier: string }> }>(
        event: { Records: readonly unknown[] },
        requestId: string,
        traceId?: string,
      ) => {
        const trigger = fn.triggers.find((t) => t.kind === 'sqs');
        if (trigger?.kind !== 'sqs') throw new Error(`${fn.logicalId} has no SQS event source mapping`);
        const queueArn = this.model.resolver.getAtt(trigger.queueId, 'Arn');
        if (!platform.some((c) => c.action === 'sqs:GetQueueAttributes'))
          platform.push(poller('sqs:GetQueueAttributes', queueArn, 'checked when the event source mapping is created'));
        platform.push(poller('sqs:ReceiveMessage', queueArn, 'receives the batch'));
        const out = await sandbox.invoke<R>(event, requestId, traceId);
        const failed = out.error ? event.Records.length : (out.result?.batchItemFailures?.length ?? 0);
        if (failed < event.Records.length) platform.push(poller('sqs:DeleteMessage', queueArn, 'deletes the records not reported as failed'));
        return out;
      },
    };
  }

  /**
   * The calls a function made: its requests to every stand-in, and what Lambda does with its role
   * on its behalf: write to its log group and, with active tracing, upload trace segments.
   */
  private callsOf(fn: FunctionModel, sandbox: LambdaSandbox, segments: readonly string[], logStreamName: string): IamCall[] {
    const mine = (accessKeyId: string) => this.keys.get(accessKeyId) === fn.logicalId;
    const scope = { accountId: this.model.resolver.accountId, partition: this.model.resolver.partition };
    const calls: IamCall[] = [
      ...this.double.calls
        .filter((c) => mine(sigV4Scope(c.headers.authorization)?.accessKeyId ?? ''))
        .flatMap((c) => iamCallsOfDoubleCall(c, scope, (id) => this.secretArnOf(id))),
      ...this.dynamoDbProxy.calls.filter((c) => mine(c.accessKeyId)),
      ...this.s3Proxy.calls.filter((c) => mine(c.accessKeyId)),
    ];
    // Lambda writes its own lines (INIT_START, START, END, REPORT) and the function's output to the
    // function's log group, with the role, whatever the function does.
    const stream = `arn:${scope.partition}:logs:${this.model.resolver.region}:${scope.accountId}:log-group:${fn.logGroupName}:log-stream:${logStreamName}`;
    calls.push(
      { action: 'logs:CreateLogStream', resource: stream, context: {}, via: 'Lambda', note: "the execution environment's log stream" },
      {
        action: 'logs:PutLogEvents',
        resource: stream,
        context: {},
        via: 'Lambda',
        note: `Lambda's lines and the function's output (${sandbox.logs.split('\n').filter(Boolean).length} lines here)`,
      },
    );
    // With active tracing, the X-Ray daemon in the execution environment uploads Lambda's own
    // segments, and those the function's code sends it, with the role.
    if (fn.tracing === 'Active') {
      calls.push(
        {
          action: 'xray:PutTraceSegments',
          resource: '*',
          context: {},
          via: 'X-Ray daemon',
          note: `Lambda's segments, and ${segments.length} from the function's code`,
        },
        { action: 'xray:PutTelemetryRecords', resource: '*', context: {}, via: 'X-Ray daemon', note: "the daemon's own telemetry" },
      );
    }
    return calls;
  }

  /** The full ARN of a template secret from a `SecretId` (its ARN, or its name). */
  secretArnOf(secretId: string): string {
    const secrets = Object.keys(this.model.template.Resources).filter(
      (id) => this.model.template.Resources[id]?.Type === 'AWS::SecretsManager::Secret',
    );
    for (const id of secrets) {
      const arn = this.model.resolver.ref(id);
      if (secretId === arn || secretId === this.model.resolver.physicalName(id)) return arn;
    }
    return secretId.startsWith('arn:')
      ? secretId
      : `arn:${this.model.resolver.partition}:secretsmanager:${this.model.resolver.region}:${this.model.resolver.accountId}:secret:${secretId}`;
  }

  /** Ends the functions and the stand-ins. */
  async close(): Promise<void> {
    await Promise.all(
      this.started.map(async ({ sandbox, socket }) => {
        await sandbox.close();
        socket.close();
      }),
    );
    await Promise.all([this.double.close(), this.dynamoDbProxy.close(), this.s3Proxy.close()]);
    await Promise.all([this.dynalite.close(), this.s3rver.close()]);
  }

  /** Every table (with the template's keys and indexes), bucket and secret value of the template. */
  private async createResources(): Promise<void> {
    const { template, resolver } = this.model;
    const ddb = this.dynamoDbClient();
    const s3 = this.s3Client();
    try {
      for (const [id, r] of Object.entries(template.Resources)) {
        const p = r.Properties ?? {};
        if (r.Type === 'AWS::DynamoDB::Table' || r.Type === 'AWS::DynamoDB::GlobalTable') {
          const indexes = (p.GlobalSecondaryIndexes ?? []) as Array<{ IndexName: string; KeySchema: unknown; Projection: unknown }>;
          await createTableIfMissing(ddb, {
            TableName: resolver.ref(id),
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: p.AttributeDefinitions as never,
            KeySchema: p.KeySchema as never,
            ...(indexes.length > 0
              ? {
                  GlobalSecondaryIndexes: indexes.map((g) => ({ IndexName: g.IndexName, KeySchema: g.KeySchema, Projection: g.Projection })) as never,
                }
              : {}),
          });
        } else if (r.Type === 'AWS::S3::Bucket') {
          await ensureBucket(s3, resolver.ref(id));
        } else if (r.Type === 'AWS::SecretsManager::Secret' && typeof p.SecretString === 'string') {
          this.secretValues.set(resolver.ref(id), p.SecretString);
        }
      }
    } finally {
      ddb.destroy();
      s3.destroy();
    }
  }

  /** The double's answers for the template's queues, delivery streams and secrets, and API Gateway's account settings. */
  private answerAws(): void {
    const { template, resolver } = this.model;
    const ids = (type: string) => Object.keys(template.Resources).filter((id) => template.Resources[id]?.Type === type);
    const queueUrls = new Set(ids('AWS::SQS::Queue').map((id) => resolver.ref(id)));
    const streams = new Set(ids('AWS::KinesisFirehose::DeliveryStream').map((id) => resolver.ref(id)));
    const putRecords = (count: number) =>
      jsonAnswer({ FailedPutCount: 0, Encrypted: false, RequestResponses: Array.from({ length: count }, (_, i) => ({ RecordId: `record-${i}` })) });
    this.double.answer({
      'sqs:SendMessage': (call) => {
        const override = this.sendMessageOverride?.(call);
        if (override) return override;
        if (!queueUrls.has(String(call.input.QueueUrl)))
          return jsonError('AWS.SimpleQueueService.NonExistentQueue', `no queue ${String(call.input.QueueUrl)}`);
        return jsonAnswer({
          MessageId: randomUUID(),
          // The SDK checks the body's MD5 and rejects an answer without it.
          MD5OfMessageBody: createHash('md5')
            .update(String(call.input.MessageBody ?? ''))
            .digest('hex'),
        });
      },
      'firehose:PutRecordBatch': (call) =>
        streams.has(String(call.input.DeliveryStreamName))
          ? putRecords(Array.isArray(call.input.Records) ? call.input.Records.length : 0)
          : jsonError('ResourceNotFoundException', `no delivery stream ${String(call.input.DeliveryStreamName)}`),
      'firehose:PutRecord': (call) =>
        streams.has(String(call.input.DeliveryStreamName))
          ? jsonAnswer({ RecordId: 'record-0', Encrypted: false })
          : jsonError('ResourceNotFoundException', `no delivery stream ${String(call.input.DeliveryStreamName)}`),
      'secretsmanager:GetSecretValue': (call) => {
        const arn = this.secretArnOf(String(call.input.SecretId ?? ''));
        const value = this.secretValues.get(arn);
        if (value === undefined) return jsonError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
        return jsonAnswer({
          ARN: arn,
          Name: arn.split(':')[6]?.replace(/-[A-Za-z0-9]{6}$/, ''),
          SecretString: value,
          VersionId: '00000000-0000-4000-8000-000000000001',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1_751_450_000,
        });
      },
      'apigateway:GET /account': () => this.apiGatewayAccountAnswer(),
      'apigateway:PATCH /account': (call) => {
        const operations = Array.isArray(call.input.patchOperations) ? (call.input.patchOperations as Array<Record<string, unknown>>) : [];
        for (const op of operations) {
          if (op.path !== '/cloudwatchRoleArn' || (op.op !== 'replace' && op.op !== 'add')) {
            return jsonError(
              'BadRequestException',
              `Invalid patch operation specified. Must be one of: [replace /cloudwatchRoleArn] (rehearsal: ${JSON.stringify(op)})`,
            );
          }
          const role = typeof op.value === 'string' ? op.value : '';
          const refusal = role === '' ? undefined : this.apiGatewayRoleRefusal(role);
          if (refusal !== undefined) return jsonError('BadRequestException', refusal);
        }
        for (const op of operations) {
          const role = typeof op.value === 'string' ? op.value : '';
          this.apiGatewayAccount = role === '' ? {} : { ...this.apiGatewayAccount, cloudwatchRoleArn: role };
        }
        return this.apiGatewayAccountAnswer();
      },
    });
  }

  /** `GetAccount`'s answer for {@link apiGatewayAccount}. */
  private apiGatewayAccountAnswer(): AwsAnswer {
    const role = this.apiGatewayAccount.cloudwatchRoleArn;
    return jsonAnswer({
      ...(role === undefined ? {} : { cloudwatchRoleArn: role }),
      throttleSettings: { burstLimit: 5000, rateLimit: 10000 },
      features: ['UsagePlans'],
      apiKeyVersion: '4',
    });
  }

  /**
   * Why API Gateway would refuse a role of the template as the account's CloudWatch Logs role (it
   * checks that it may assume it): a trust policy that does not let `apigateway.amazonaws.com`
   * assume it. A role from outside the template is taken as it is.
   */
  private apiGatewayRoleRefusal(roleArn: string): string | undefined {
    const { template, resolver } = this.model;
    const id = Object.keys(template.Resources).find(
      (rid) => template.Resources[rid]?.Type === 'AWS::IAM::Role' && resolver.getAtt(rid, 'Arn') === roleArn,
    );
    if (id === undefined) return undefined;
    const trust = resolver.resolve(template.Resources[id]?.Properties?.AssumeRolePolicyDocument, `${id}.AssumeRolePolicyDocument`) as
      { Statement?: unknown } | undefined;
    const statements = [trust?.Statement ?? []].flat() as Array<{ Effect?: string; Action?: unknown; Principal?: { Service?: unknown } }>;
    const trusts = statements.some(
      (st) =>
        st.Effect === 'Allow' && [st.Action].flat().includes('sts:AssumeRole') && [st.Principal?.Service].flat().includes('apigateway.amazonaws.com'),
    );
    return trusts ? undefined : 'The role ARN does not have required permissions set to API Gateway';
  }
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  try {
    const v = JSON.parse(body.toString('utf8')) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
