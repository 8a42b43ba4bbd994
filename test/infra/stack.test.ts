/**
 * Template assertions per construct for the default configuration (one source `default` in `us`),
 * synthesized once with real bundling.
 */
import { type Dirent, existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, posix, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { CfnElement } from 'aws-cdk-lib';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ARCHIVE_COLUMNS, FIREHOSE_ERRORS_PREFIX, FIREHOSE_EVENTS_PREFIX } from '../../lambda/core/archive-layout.js';
import { SECRET_PLACEHOLDER } from '../../lambda/core/secret-value.js';
import { SUPPRESSION_LIST_KEY } from '../../lambda/core/privacy/suppression.js';
import { ENV } from '../../lambda/common/env.js';
import { TABLE } from '../../lambda/common/table-schema.js';
import { ACCESS_LOG_FORMAT } from '../../lib/constructs/api.js';
import { ARCHIVE_COLUMN_TYPES, JSON_SERDE } from '../../lib/constructs/archive-catalog.js';
import { NAMED_QUERIES } from '../../lib/named-queries.js';
import type { SocialPlusWebhooksStack } from '../../lib/webhooks-stack.js';
import { onlyResource, synthesize, type SynthesizedApp } from './helpers.js';

let synth: SynthesizedApp;
let template: Template;
let stack: SocialPlusWebhooksStack;

beforeAll(() => {
  synth = synthesize({}, { bundle: true });
  template = synth.template;
  stack = synth.stack;
});

afterAll(() => synth.cleanup());

/** Logical id of a construct's CloudFormation resource (an L2's default child). */
function idOf(construct: IConstruct): string {
  const element = (construct.node.defaultChild ?? construct) as CfnElement;
  return stack.getLogicalId(element);
}

/** The synthesized asset folder (what Lambda unzips into /var/task) of a function's code. */
function assetDirOf(fn: IConstruct): string {
  const key = template.toJSON().Resources[idOf(fn)].Properties.Code.S3Key as string;
  return join(synth.outdir, `asset.${key.replace(/\.zip$/, '')}`);
}

/** Every file under a folder, as `/`-separated paths relative to it. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Dirent[])
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
}

/** The modules a cold start loads: `file` and every module it imports statically, transitively (`import("./…")` is lazy). */
function staticImportClosure(dir: string, file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  for (const m of readFileSync(join(dir, file), 'utf8').matchAll(/(?:\bfrom\s*|\bimport\s*)["'](\.{1,2}\/[^"']+)["']/g)) {
    staticImportClosure(dir, posix.normalize(posix.join(posix.dirname(file), m[1] as string)), seen);
  }
  return seen;
}

const getAtt = (construct: IConstruct, attribute = 'Arn') => ({ 'Fn::GetAtt': [idOf(construct), attribute] });
/** Logical id of a function's execution role. */
const roleOf = (fn: IConstruct) => template.toJSON().Resources[idOf(fn)].Properties.Role['Fn::GetAtt'][0] as string;
const ref = (construct: IConstruct) => ({ Ref: idOf(construct) });
/** A function's environment variables, by name. */
const variablesOf = (fn: IConstruct) => template.toJSON().Resources[idOf(fn)].Properties.Environment.Variables;
/** The variables both functions get: the inbox bucket, the log level and the metrics namespace. */
const SHARED_VARIABLES = [ENV.ARCHIVE_BUCKET_NAME, ENV.LOG_LEVEL, ENV.METRICS_NAMESPACE];

type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** The statements of the identity policies attached to a role. */
function statementsOfRole(roleId: string): Statement[] {
  return Object.values(template.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const actionsOf = (s: Statement): string[] => (Array.isArray(s.Action) ? s.Action : [s.Action]);
const resourcesOf = (s: Statement): unknown[] => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

describe('functions', () => {
  it('are nodejs22.x on arm64, with explicit memory, timeout, their own log group and advanced logging; the receiver traced', () => {
    for (const [fn, memory, timeout] of [
      [stack.receiver, 1024, 3],
      [stack.fanout, 512, 30],
    ] as const) {
      const { properties } = { properties: template.toJSON().Resources[idOf(fn.function)].Properties };
      expect(properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        MemorySize: memory,
        Timeout: timeout,
        // JSON lines; Lambda's own START/END/REPORT lines (INFO) left out at the lean default.
        LoggingConfig: { LogGroup: ref(fn.logGroup), LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'INFO' },
      });
    }
    expect(template.toJSON().Resources[idOf(stack.receiver.function)].Properties.TracingConfig).toEqual({ Mode: 'Active' });
    // The fan-out is traced only with fanoutTracing (test/infra/monitoring.test.ts).
    expect(template.toJSON().Resources[idOf(stack.fanout.function)].Properties.TracingConfig?.Mode).not.toBe('Active');
    // The two functions, the account-setup custom resource's, and CDK's deploy-time handler that
    // sets the archive bucket's notifications.
    template.resourceCountIs('AWS::Lambda::Function', 4);
  });

  it('give the receiver exactly the queue URL, the source secrets, the inbox bucket, its deadline, the signature forms, the log level and the metrics namespace (no source maps)', () => {
    const env = variablesOf(stack.receiver.function);
    expect(Object.keys(env).sort()).toEqual(
      [...SHARED_VARIABLES, ENV.QUEUE_URL, ENV.RECEIVER_DEADLINE_MS, ENV.SIGNATURE_FORMS, ENV.SOURCE_SECRETS].sort(),
    );
    expect(env[ENV.SIGNATURE_FORMS]).toBe('base64,hex');
    expect(env[ENV.QUEUE_URL]).toEqual(ref(stack.queue.queue));
    expect(env[ENV.SOURCE_SECRETS]).toEqual({ 'Fn::Join': ['', ['{"default":"', ref(stack.secrets.secrets.default as IConstruct), '"}']] });
    expect(env[ENV.ARCHIVE_BUCKET_NAME]).toEqual(ref(stack.archive.bucket));
    expect(env[ENV.RECEIVER_DEADLINE_MS]).toBe('1000');
    expect(env[ENV.LOG_LEVEL]).toBe('INFO');
    expect(env[ENV.METRICS_NAMESPACE]).toBe('SocialPlusWebhooks');
    // Its cold start is on Social Plus's request path; --enable-source-maps would add 7-10 ms to it.
    expect(env.NODE_OPTIONS).toBeUndefined();
  });

  it('give the fan-out the table, the delivery stream, the inbox bucket, the retention, the log level, the metrics namespace, the handlers configuration and source maps', () => {
    const env = variablesOf(stack.fanout.function);
    expect(Object.keys(env).sort()).toEqual(
      [
        ...SHARED_VARIABLES,
        ENV.DELIVERY_STREAM_NAME,
        ENV.EVENT_RETENTION_DAYS,
        ENV.HANDLERS_CONFIG,
        'NODE_OPTIONS',
        // Not traced (fanoutTracing off): Powertools' Tracer opens no subsegments.
        'POWERTOOLS_TRACE_ENABLED',
        ENV.TABLE_NAME,
      ].sort(),
    );
    // Every example handler off by default; the rest of the variables are in test/infra/handlers.test.ts.
    expect(JSON.parse(env[ENV.HANDLERS_CONFIG])).toMatchObject({
      autoModeration: { enabled: false },
      keywordFilter: { enabled: false },
      dailyCounters: { enabled: false },
      eventBridge: { enabled: false },
    });
    expect(env[ENV.TABLE_NAME]).toEqual(ref(stack.eventStore.table));
    expect(env[ENV.DELIVERY_STREAM_NAME]).toEqual(ref(stack.archive.deliveryStream));
    expect(env[ENV.ARCHIVE_BUCKET_NAME]).toEqual(ref(stack.archive.bucket));
    expect(env[ENV.EVENT_RETENTION_DAYS]).toBe('90');
    expect(env[ENV.METRICS_NAMESPACE]).toBe('SocialPlusWebhooks');
    expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
  });

  it('are bundled by esbuild into minified, code-split ESM: an index.mjs entry module and its chunks; source maps only where Node loads them', () => {
    const receiverDir = assetDirOf(stack.receiver.function);
    const fanoutDir = assetDirOf(stack.fanout.function);
    const dirs = [receiverDir, fanoutDir, assetDirOf(stack.api.accountRole.setup.function)];
    // CDK caches staged assets by source path and bundling options: each function must get its own bundle.
    expect(new Set(dirs).size).toBe(3);
    expect(
      readdirSync(synth.outdir)
        .filter((d) => d.startsWith('asset.'))
        .map((d) => join(synth.outdir, d))
        .sort(),
    ).toEqual([...dirs].sort());
    for (const dir of dirs) {
      const files = filesUnder(dir);
      expect(files).toContain('index.mjs');
      expect(files.some((f) => f.startsWith('chunks/'))).toBe(true);
      // The receiver runs without --enable-source-maps, so it ships none; the fan-out loads its own.
      const withMaps = dir === fanoutDir;
      for (const file of files) {
        expect(file).toMatch(withMaps ? /^(index|chunks\/[\w-]+-[A-Z0-9]{8})\.mjs(\.map)?$/ : /^(index|chunks\/[\w-]+-[A-Z0-9]{8})\.mjs$/);
        if (file.endsWith('.map')) continue;
        const code = readFileSync(join(dir, file), 'utf8');
        expect(code.startsWith("import{createRequire as __createRequire}from'node:module';")).toBe(true);
        if (withMaps) {
          expect(files).toContain(`${file}.map`);
          expect(code.trimEnd().endsWith(`//# sourceMappingURL=${file.split('/').pop() as string}.map`)).toBe(true);
        } else {
          expect(code).not.toContain('sourceMappingURL');
        }
      }
      const entry = readFileSync(join(dir, 'index.mjs'), 'utf8');
      // Minified: long lines (newlines survive only inside template literals), no indentation.
      expect(entry.length / entry.split('\n').length).toBeGreaterThan(1000);
    }
  });

  it("keep the receiver's S3 client out of its cold start: the SQS client loads with index.mjs, the S3 client only on first use", () => {
    const dir = assetDirOf(stack.receiver.function);
    const eager = staticImportClosure(dir, 'index.mjs');
    const lazy = filesUnder(dir).filter((f) => f.endsWith('.mjs') && !eager.has(f));
    const holding = (files: Iterable<string>, text: string) => [...files].filter((f) => readFileSync(join(dir, f), 'utf8').includes(text));
    // The SDK clients' service ids survive minification as strings.
    expect(holding(eager, '"AmazonSQS"')).not.toEqual([]);
    expect(holding(eager, '"AmazonS3"')).toEqual([]);
    expect(holding(lazy, '"AmazonS3"')).not.toEqual([]);
  });

  it('load as ESM from their asset folders and export handler', async () => {
    const assets = [assetDirOf(stack.receiver.function), assetDirOf(stack.fanout.function)];
    // The entry points read their environment at import time; give them what the stack gives them.
    const stackEnv: Record<string, string> = {
      AWS_REGION: 'us-east-1',
      [ENV.QUEUE_URL]: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      [ENV.SOURCE_SECRETS]: '{"default":"arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbC123"}',
      [ENV.TABLE_NAME]: 't',
      [ENV.DELIVERY_STREAM_NAME]: 's',
      [ENV.ARCHIVE_BUCKET_NAME]: 'b',
      [ENV.RECEIVER_DEADLINE_MS]: '1000',
      [ENV.METRICS_NAMESPACE]: 'SocialPlusWebhooks',
    };
    const saved = Object.fromEntries(Object.keys(stackEnv).map((k) => [k, process.env[k]]));
    Object.assign(process.env, stackEnv);
    // The bundled SDK warns that Node.js 20 (this machine, not the nodejs22.x runtime) nears its end of support.
    const emitWarning = process.emitWarning;
    process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
      if (/NodeVersionSupportWarning|will require node/.test(`${String(warning)} ${JSON.stringify(rest)}`)) return;
      (emitWarning as (...args: unknown[]) => void).call(process, warning, ...rest);
    }) as typeof process.emitWarning;
    try {
      for (const asset of assets) {
        const module = (await import(pathToFileURL(join(asset, 'index.mjs')).href)) as { handler?: unknown };
        expect(typeof module.handler).toBe('function');
      }
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
      process.emitWarning = emitWarning;
    }
  });

  it('write logs only to their own log groups, which have a retention', () => {
    // The three functions, the API's access log, Firehose's errors and the notification handler.
    template.resourceCountIs('AWS::Logs::LogGroup', 6);
    template.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
    for (const fn of [stack.receiver, stack.fanout, stack.api.accountRole.setup]) {
      const roleId = template.toJSON().Resources[idOf(fn.function)].Properties.Role['Fn::GetAtt'][0] as string;
      const logStatements = statementsOfRole(roleId).filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
      expect(logStatements).toEqual([{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: getAtt(fn.logGroup) }]);
    }
  });
});

describe('queue', () => {
  it('holds 1 MiB messages for 14 days, encrypted, with a visibility timeout six times the fan-out timeout and a DLQ after 5 receives', () => {
    const fanoutTimeout = template.toJSON().Resources[idOf(stack.fanout.function)].Properties.Timeout as number;
    const queue = template.toJSON().Resources[idOf(stack.queue.queue)].Properties;
    expect(queue).toEqual({
      MaximumMessageSize: 1048576,
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
      VisibilityTimeout: 6 * fanoutTimeout,
      RedrivePolicy: { deadLetterTargetArn: getAtt(stack.queue.deadLetterQueue), maxReceiveCount: 5 },
    });
    const dlq = template.toJSON().Resources[idOf(stack.queue.deadLetterQueue)].Properties;
    // Marked as a dead-letter queue (SQS's default permission, stated).
    expect(dlq).toEqual({
      MaximumMessageSize: 1048576,
      MessageRetentionPeriod: 14 * 24 * 3600,
      SqsManagedSseEnabled: true,
      RedriveAllowPolicy: { redrivePermission: 'allowAll' },
    });
  });

  it('refuses requests without TLS on both queues', () => {
    for (const queue of [stack.queue.queue, stack.queue.deadLetterQueue]) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(queue)],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Action: 'sqs:*', Principal: { AWS: '*' }, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
  });

  it('triggers the fan-out with partial batch responses, batch size, window and maximum concurrency', () => {
    const mapping = onlyResource(template, 'AWS::Lambda::EventSourceMapping').properties;
    expect(mapping).toEqual({
      EventSourceArn: getAtt(stack.queue.queue),
      FunctionName: ref(stack.fanout.function),
      BatchSize: 100,
      MaximumBatchingWindowInSeconds: 1,
      ScalingConfig: { MaximumConcurrency: 10 },
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('event store', () => {
  it('has the docs/architecture.md §5 keys, sparse indexes with small projections, TTL, PITR, a stream, on-demand billing and encryption', () => {
    const table = onlyResource(template, 'AWS::DynamoDB::GlobalTable');
    expect(table.resource.DeletionPolicy).toBe('Retain');
    expect(table.resource.UpdateReplacePolicy).toBe('Retain');
    const index = (spec: { indexName: string; partitionKey: string; sortKey: string }) => ({
      IndexName: spec.indexName,
      KeySchema: [
        { AttributeName: spec.partitionKey, KeyType: 'HASH' },
        { AttributeName: spec.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: 'INCLUDE', NonKeyAttributes: [...TABLE.projectedAttributes] },
    });
    expect(table.properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'PK', KeyType: 'HASH' },
        { AttributeName: 'SK', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [index(TABLE.byActor), index(TABLE.byTarget)],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      StreamSpecification: { StreamViewType: 'NEW_IMAGE' },
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS' },
      Replicas: [expect.objectContaining({ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } })],
    });
    const attributes = table.properties.AttributeDefinitions as { AttributeName: string; AttributeType: string }[];
    expect(attributes.map((a) => a.AttributeType)).toEqual(Array(6).fill('S'));
    expect(attributes.map((a) => a.AttributeName).sort()).toEqual(['PK', 'SK', 'actorPK', 'actorSK', 'targetPK', 'targetSK']);
  });
});

describe('archive', () => {
  const securedBucket = {
    PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
    BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
  };

  it('keeps events in a retained, encrypted, private, versioned bucket that logs access elsewhere and moves to Standard-IA after 90 days', () => {
    const bucket = template.toJSON().Resources[idOf(stack.archive.bucket)];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      ...securedBucket,
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: ref(stack.archive.accessLogsBucket), LogFilePrefix: 'archive-bucket/' },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'archive-to-infrequent-access',
            Status: 'Enabled',
            Transitions: [{ StorageClass: 'STANDARD_IA', TransitionInDays: 90 }],
            NoncurrentVersionExpiration: { NoncurrentDays: 30 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 },
            ExpiredObjectDeleteMarker: true,
          },
          { Id: 'expire-athena-results', Status: 'Enabled', Prefix: 'athena-results/', ExpirationInDays: 30 },
          { Id: 'expire-leftover-spills', Status: 'Enabled', Prefix: 'inbox/spill/', ExpirationInDays: 28 },
        ],
      },
    });
    const logs = template.toJSON().Resources[idOf(stack.archive.accessLogsBucket)];
    expect(logs.DeletionPolicy).toBe('Retain');
    expect(logs.Properties).toMatchObject({ ...securedBucket, LifecycleConfiguration: { Rules: [{ ExpirationInDays: 365, Status: 'Enabled' }] } });
  });

  it('refuses requests without TLS on both buckets', () => {
    for (const bucket of [stack.archive.bucket, stack.archive.accessLogsBucket]) {
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: ref(bucket),
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      });
    }
  });

  it('has a direct-put delivery stream writing gzip under the dt=/hour= prefix, errors under errors/, encrypted and logged', () => {
    const stream = onlyResource(template, 'AWS::KinesisFirehose::DeliveryStream').properties;
    expect(stream).toMatchObject({
      DeliveryStreamType: 'DirectPut',
      DeliveryStreamEncryptionConfigurationInput: { KeyType: 'AWS_OWNED_CMK' },
      ExtendedS3DestinationConfiguration: {
        BucketARN: getAtt(stack.archive.bucket),
        Prefix: FIREHOSE_EVENTS_PREFIX,
        ErrorOutputPrefix: FIREHOSE_ERRORS_PREFIX,
        CompressionFormat: 'GZIP',
        BufferingHints: { IntervalInSeconds: 60, SizeInMBs: 64 },
        CloudWatchLoggingOptions: { Enabled: true, LogGroupName: ref(stack.archive.deliveryLogGroup) },
        RoleARN: getAtt(stack.archive.deliveryRole),
      },
    });
    expect(FIREHOSE_EVENTS_PREFIX).toBe('events/dt=!{timestamp:yyyy-MM-dd}/hour=!{timestamp:HH}/');
  });

  it('lets Firehose write only under events/ and errors/ of the bucket, and its own log group', () => {
    const statements = statementsOfRole(idOf(stack.archive.deliveryRole));
    const objects = (prefix: string) => ({ 'Fn::Join': ['', [getAtt(stack.archive.bucket), `/${prefix}*`]] });
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: getAtt(stack.archive.bucket) },
      { Effect: 'Allow', Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], Resource: [objects('errors/'), objects('events/')] },
      { Effect: 'Allow', Action: 'logs:PutLogEvents', Resource: getAtt(stack.archive.deliveryLogGroup) },
    ]);
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'firehose.amazonaws.com' } })] },
    });
  });

  it('describes the archive to Glue: JSON SerDe, typed columns, dt/hour partitions projected without a crawler', () => {
    const table = onlyResource(template, 'AWS::Glue::Table').properties as { DatabaseName: string; TableInput: Record<string, unknown> };
    expect(table.DatabaseName).toBe(stack.catalog.databaseName);
    const location = (suffix: string) => ({ 'Fn::Join': ['', ['s3://', ref(stack.archive.bucket), suffix]] });
    expect(table.TableInput).toEqual({
      Name: 'events',
      Description: expect.any(String),
      TableType: 'EXTERNAL_TABLE',
      Parameters: {
        classification: 'json',
        compressionType: 'gzip',
        'projection.enabled': 'true',
        'projection.dt.type': 'date',
        'projection.dt.format': 'yyyy-MM-dd',
        'projection.dt.range': '2025-01-01,NOW',
        'projection.dt.interval': '1',
        'projection.dt.interval.unit': 'DAYS',
        'projection.hour.type': 'integer',
        'projection.hour.range': '0,23',
        'projection.hour.digits': '2',
        'storage.location.template': location('/events/dt=${dt}/hour=${hour}/'),
      },
      PartitionKeys: [
        { Name: 'dt', Type: 'string', Comment: expect.any(String) },
        { Name: 'hour', Type: 'string', Comment: expect.any(String) },
      ],
      StorageDescriptor: {
        Location: location('/events/'),
        Columns: ARCHIVE_COLUMNS.map((name) => ({ Name: name, Type: ARCHIVE_COLUMN_TYPES[name] })),
        InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
        OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
        Compressed: true,
        SerdeInfo: { SerializationLibrary: JSON_SERDE },
      },
    });
    expect(JSON_SERDE).toBe('org.openx.data.jsonserde.JsonSerDe');
    expect(ARCHIVE_COLUMN_TYPES).toMatchObject({ deprecated: 'boolean', flags: 'array<string>', payload: 'string', event_id: 'string' });
    template.resourceCountIs('AWS::Glue::Crawler', 0);
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: stack.catalog.databaseName } });
  });

  it('has an Athena workgroup on engine v3 with an enforced, encrypted result location and a scan cutoff', () => {
    const workgroup = onlyResource(template, 'AWS::Athena::WorkGroup').properties;
    expect(workgroup).toMatchObject({
      Name: stack.catalog.workGroupName,
      State: 'ENABLED',
      RecursiveDeleteOption: true,
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', ref(stack.archive.bucket), '/athena-results/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      },
    });
  });

  it('saves the named queries in the workgroup, against the events database', () => {
    const saved = Object.values(template.findResources('AWS::Athena::NamedQuery')).map((r) => r.Properties);
    expect(saved.length).toBeGreaterThanOrEqual(5);
    expect(saved.map((q) => q.Name)).toEqual(NAMED_QUERIES.map((q) => q.name));
    for (const [i, query] of NAMED_QUERIES.entries()) {
      expect(saved[i]).toMatchObject({ QueryString: query.sql, Database: stack.catalog.databaseName, WorkGroup: ref(stack.catalog.workGroup) });
    }
  });
});

describe('secrets', () => {
  it('creates one secret per source holding the placeholder, never a generated value', () => {
    template.resourceCountIs('AWS::SecretsManager::Secret', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', { SecretString: SECRET_PLACEHOLDER, GenerateSecretString: Match.absent() });
  });
});

describe('IAM', () => {
  const inbox = (prefix: string) => ({ 'Fn::Join': ['', [getAtt(stack.archive.bucket), `/inbox/${prefix}/*`]] });
  const suppressionList = () => ({ 'Fn::Join': ['', [getAtt(stack.archive.bucket), `/${SUPPRESSION_LIST_KEY}`]] });

  it("lets the receiver only send to the queue, read the sources' secrets and put spills and claim checks (besides logs and X-Ray)", () => {
    const statements = statementsOfRole(roleOf(stack.receiver.function)).filter(
      (s) => !actionsOf(s).some((a) => a.startsWith('logs:') || a.startsWith('xray:')),
    );
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'], Resource: getAtt(stack.queue.queue) },
      {
        Effect: 'Allow',
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Resource: ref(stack.secrets.secrets.default as IConstruct),
      },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: [inbox('large'), inbox('spill')] },
    ]);
  });

  it('lets the fan-out write the table (not its indexes), put records to the stream, read and clear the inbox, read the suppression list, and consume the queue', () => {
    const statements = statementsOfRole(roleOf(stack.fanout.function)).filter(
      (s) => !actionsOf(s).some((a) => a.startsWith('logs:') || a.startsWith('xray:')),
    );
    expect(statements).toEqual([
      { Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], Resource: getAtt(stack.eventStore.table) },
      { Effect: 'Allow', Action: ['firehose:PutRecord', 'firehose:PutRecordBatch'], Resource: getAtt(stack.archive.deliveryStream) },
      { Effect: 'Allow', Action: 's3:GetObject', Resource: [suppressionList(), inbox('large'), inbox('spill')] },
      { Effect: 'Allow', Action: 's3:PutObject', Resource: inbox('large') },
      { Effect: 'Allow', Action: 's3:DeleteObject', Resource: inbox('spill') },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: getAtt(stack.archive.bucket), Condition: { StringLike: { 's3:prefix': ['inbox/*'] } } },
      // The suppression list (docs/privacy.md): that one key, listed to tell a missing list from a refused read.
      {
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: getAtt(stack.archive.bucket),
        Condition: { StringEquals: { 's3:prefix': SUPPRESSION_LIST_KEY } },
      },
      {
        Effect: 'Allow',
        Action: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
        Resource: getAtt(stack.queue.queue),
      },
    ]);
  });

  it('uses Resource * only for X-Ray, no wildcard actions and no AWS managed policies', () => {
    const all = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(all.length).toBeGreaterThan(0);
    for (const statement of all) {
      expect(statement.Effect).toBe('Allow');
      for (const action of actionsOf(statement)) expect(action).not.toContain('*');
      if (resourcesOf(statement).includes('*')) expect(actionsOf(statement).every((a) => a.startsWith('xray:'))).toBe(true);
    }
    // One managed policy in the whole stack: the one AWS documents for API Gateway's account-wide logging role.
    const managed = Object.entries(template.findResources('AWS::IAM::Role')).filter(([, role]) => role.Properties.ManagedPolicyArns !== undefined);
    expect(managed.map(([id]) => id)).toEqual([idOf(stack.api.accountRole.role)]);
  });
});

describe('API', () => {
  it('is a regional REST API that passes every body through as bytes', () => {
    const api = onlyResource(template, 'AWS::ApiGateway::RestApi').properties;
    expect(api).toMatchObject({ EndpointConfiguration: { Types: ['REGIONAL'] }, BinaryMediaTypes: ['*/*'] });
  });

  it('makes sure the account has a CloudWatch Logs role before the stage is created, without taking over or ever removing one', () => {
    // Not AWS::ApiGateway::Account: it would replace a role the account already has, whoever set it.
    template.resourceCountIs('AWS::ApiGateway::Account', 0);
    const setting = onlyResource(template, 'Custom::ApiGatewayAccountCloudWatchRole');
    const role = stack.api.accountRole.role;
    expect(setting.properties).toEqual({ ServiceToken: getAtt(stack.api.accountRole.setup.function), RoleArn: getAtt(role) });
    // Its function holds its permissions before CloudFormation calls it.
    expect(setting.resource.DependsOn).toEqual(expect.arrayContaining([roleOf(stack.api.accountRole.setup.function)]));
    expect(onlyResource(template, 'AWS::ApiGateway::Stage').resource.DependsOn).toContain(setting.logicalId);

    // The role the account is set to when it has none: API Gateway's, the documented managed policy, kept on destroy.
    const roleResource = template.toJSON().Resources[idOf(role)];
    expect(roleResource).toMatchObject({
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'apigateway.amazonaws.com' } }] },
        ManagedPolicyArns: [
          { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs']] },
        ],
      },
    });

    // The function may read and change the account setting and pass only that role, only to API Gateway.
    const statements = statementsOfRole(roleOf(stack.api.accountRole.setup.function)).filter(
      (s) => !actionsOf(s).some((a) => a.startsWith('logs:') || a.startsWith('xray:')),
    );
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['apigateway:GET', 'apigateway:PATCH'],
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:', { Ref: 'AWS::Region' }, '::/account']] },
      },
      {
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: getAtt(role),
        Condition: { StringEquals: { 'iam:PassedToService': 'apigateway.amazonaws.com' } },
      },
    ]);
  });

  it('has only POST /webhook and POST /webhook/{source}, both Lambda proxy to the receiver', () => {
    const resources = Object.values(template.findResources('AWS::ApiGateway::Resource')).map((r) => r.Properties.PathPart);
    expect(resources.sort()).toEqual(['webhook', '{source}']);
    const methods = Object.values(template.findResources('AWS::ApiGateway::Method')).map((r) => r.Properties);
    expect(methods).toHaveLength(2);
    for (const method of methods) {
      expect(method).toMatchObject({
        HttpMethod: 'POST',
        AuthorizationType: 'NONE',
        Integration: {
          Type: 'AWS_PROXY',
          IntegrationHttpMethod: 'POST',
          Uri: { 'Fn::Join': ['', expect.arrayContaining([getAtt(stack.receiver.function), '/invocations'])] },
        },
      });
    }
  });

  it('has a prod stage with throttling, X-Ray and JSON access logs that never include headers or bodies', () => {
    const stage = onlyResource(template, 'AWS::ApiGateway::Stage').properties as Record<string, unknown> & { AccessLogSetting: { Format: string } };
    expect(stage).toMatchObject({
      StageName: 'prod',
      TracingEnabled: true,
      MethodSettings: [{ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: 10_000, ThrottlingBurstLimit: 5_000, DataTraceEnabled: false }],
      AccessLogSetting: { DestinationArn: { 'Fn::Join': ['', expect.arrayContaining([ref(stack.api.accessLogGroup)])] } },
    });
    const format = JSON.parse(stage.AccessLogSetting.Format) as Record<string, string>;
    expect(format).toEqual(ACCESS_LOG_FORMAT);
    expect(Object.values(format).join(' ')).not.toMatch(/requestOverride|input\.body|\.header/i);
  });
});

describe('firewall', () => {
  it('allows exactly the four us webhook IPs and blocks everything else on the API stage', () => {
    const ipSet = onlyResource(template, 'AWS::WAFv2::IPSet').properties;
    expect(ipSet).toMatchObject({ Scope: 'REGIONAL', IPAddressVersion: 'IPV4' });
    expect(ipSet.Addresses).toEqual(['52.70.191.115/32', '100.24.154.219/32', '52.44.28.213/32', '52.72.76.90/32']);
    const acl = onlyResource(template, 'AWS::WAFv2::WebACL');
    expect(acl.properties).toMatchObject({
      Scope: 'REGIONAL',
      DefaultAction: { Block: {} },
      VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true },
      Rules: [
        {
          Priority: 0,
          Action: { Allow: {} },
          Statement: { IPSetReferenceStatement: { Arn: getAtt(stack.firewall.ipv4Set) } },
          VisibilityConfig: { CloudWatchMetricsEnabled: true, SampledRequestsEnabled: true },
        },
      ],
    });
    const association = onlyResource(template, 'AWS::WAFv2::WebACLAssociation');
    expect(association.properties.WebACLArn).toEqual(getAtt(stack.firewall.webAcl));
    expect(JSON.stringify(association.properties.ResourceArn)).toContain(JSON.stringify(ref(stack.api.stage)));
    expect(association.resource.DependsOn).toContain(idOf(stack.api.stage));
  });
});

describe('outputs', () => {
  it('give the webhook URL and secret of each source and the names the CLI needs', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    for (const key of [
      'WebhookUrlDefault',
      'SecretArnDefault',
      'EventTableName',
      'ArchiveBucketName',
      'EventQueueName',
      'EventQueueUrl',
      'EventQueueArn',
      'DeadLetterQueueName',
      'DeadLetterQueueUrl',
      'DeadLetterQueueArn',
      'DeliveryStreamName',
      'GlueDatabaseName',
      'AthenaWorkGroupName',
    ]) {
      expect(outputs, key).toHaveProperty(key);
    }
    // What the CLI's --aws redrive, replay and status read.
    expect(outputs.EventQueueUrl?.Value).toEqual(ref(stack.queue.queue));
    expect(outputs.EventQueueArn?.Value).toEqual(getAtt(stack.queue.queue));
    expect(outputs.DeadLetterQueueUrl?.Value).toEqual(ref(stack.queue.deadLetterQueue));
    expect(outputs.DeadLetterQueueArn?.Value).toEqual(getAtt(stack.queue.deadLetterQueue));
    expect(outputs.ArchiveBucketName?.Value).toEqual(ref(stack.archive.bucket));
    expect(outputs.EventTableName?.Value).toEqual(ref(stack.eventStore.table));
    const url = JSON.stringify(outputs.WebhookUrlDefault?.Value);
    expect(url).toMatch(/\/webhook"\]\]\}$/);
    expect(outputs.SecretArnDefault?.Value).toEqual(ref(stack.secrets.secrets.default as IConstruct));
    expect(outputs.AthenaWorkGroupName?.Value).toBe('SocialPlusWebhooks');
    expect(outputs.GlueDatabaseName?.Value).toBe('socialpluswebhooks');
  });
});

describe('synthesis', () => {
  it('writes a cloud assembly with the template and no nag findings in the validation report', () => {
    expect(existsSync(join(synth.outdir, 'SocialPlusWebhooks.template.json'))).toBe(true);
    const report = JSON.parse(readFileSync(join(synth.outdir, 'validation-report.json'), 'utf8')) as { pluginReports: unknown[] };
    expect(report.pluginReports).toEqual([]);
  });
});
