/**
 * The facts the cost benchmark reads from a template (cli/cost/template-facts.ts): from the real
 * stack synthesized at defaults, checked against the configuration that built it, and from small
 * hand-made templates for the cases the defaults do not show.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { PROFILES, synthProfile } from '../../cli/cost/template.js';
import { refersTo, templateFacts, type CfnTemplate, type TemplateFacts } from '../../cli/cost/template-facts.js';
import { buildConfig, type WebhooksConfig } from '../../lib/config.js';

describe.each(PROFILES)('facts of the stack synthesized with profile %s', (profile) => {
  let facts: TemplateFacts;
  let config: WebhooksConfig;

  beforeAll(() => {
    config = buildConfig({ profile });
    facts = templateFacts(synthProfile(profile).template);
  });

  it('finds the receiver behind the API and the fan-out behind the event source mapping', () => {
    expect(facts.receiver?.memoryMiB).toBeGreaterThanOrEqual(128);
    expect(facts.fanout?.memoryMiB).toBeGreaterThanOrEqual(128);
    expect(facts.receiver?.logicalId).not.toBe(facts.fanout?.logicalId);
    expect(facts.otherFunctions.map((f) => f.logicalId)).not.toContain(facts.receiver?.logicalId);
  });

  it('reads the batching, buffering, retention and tracing the configuration set', () => {
    expect(facts.eventSource).toEqual({
      batchSize: config.fanoutBatchSize,
      windowSeconds: config.fanoutMaxBatchingWindowSeconds,
      maxConcurrency: config.fanoutMaxConcurrency,
    });
    expect(facts.firehose).toMatchObject({ intervalSeconds: config.archiveBufferSeconds, sizeMiB: config.archiveBufferMiB, compression: 'GZIP' });
    expect(new Set(facts.logGroups.map((g) => g.retentionDays))).toEqual(new Set([config.logRetentionDays]));
    expect(facts.tracing).toEqual({ apiStage: config.tracing, receiver: config.tracing, fanout: config.tracing && config.fanoutTracing });
  });

  it('reads the keys the profile sets: sampling, system log level, memory, metrics, dashboard, keys', () => {
    expect(facts.samplingRules).toEqual(config.tracing ? [{ fixedRate: config.tracingSampleRate, reservoirSize: 0 }] : []);
    expect(facts.receiver?.systemLogLevel).toBe(config.lambdaSystemLogLevel);
    expect(facts.fanout?.systemLogLevel).toBe(config.lambdaSystemLogLevel);
    expect(facts.receiver?.memoryMiB).toBe(config.receiverMemoryMiB);
    expect(facts.api.metricsEnabled).toBe(config.apiDetailedMetrics);
    expect(facts.dashboards).toBe(config.dashboard ? 1 : 0);
    expect(facts.logGroups.every((g) => g.kms === config.customerManagedKeys)).toBe(true);
  });

  it('names the log groups of the receiver, the fan-out, the access log and the archive delivery', () => {
    const roles = facts.logGroups.map((g) => g.role);
    for (const role of ['receiver', 'fanout', 'api-access', 'archive-delivery'] as const) expect(roles.filter((r) => r === role)).toHaveLength(1);
    expect(facts.receiver?.logGroup).toBe(facts.logGroups.find((g) => g.role === 'receiver')?.logicalId);
  });

  it('counts the firewall, the secret per source, the alarm topic key, the API methods and the indexes', () => {
    expect(facts.webAcls.count).toBe(1);
    expect(facts.webAcls.rules).toBeGreaterThanOrEqual(1);
    expect(facts.secrets).toBe(config.sources.filter((s) => s.secretArn === undefined).length);
    expect(facts.kmsKeys).toBeGreaterThanOrEqual(1);
    expect(facts.alarms.count).toBeGreaterThan(0);
    expect(facts.alarms.standardMetrics + facts.alarms.highResolutionMetrics).toBeGreaterThanOrEqual(facts.alarms.count);
    expect(facts.api.methods).toBe(2);
    expect(facts.api.accessLogFormatChars).toBeGreaterThan(100);
    expect(facts.tables.some((t) => t.gsis.length === 2 && t.gsis.every((g) => g.projection === 'INCLUDE'))).toBe(true);
    expect(facts.buckets.filter((b) => b.archive)).toHaveLength(1);
  });
});

/** A template of the given resources, each `[logicalId, type, properties]`. */
function template(...resources: Array<[string, string, Record<string, unknown>]>): CfnTemplate {
  return { Resources: Object.fromEntries(resources.map(([id, Type, Properties]) => [id, { Type, Properties }])) };
}

describe('facts of hand-made templates', () => {
  it('reads nothing from an empty template', () => {
    const f = templateFacts({});
    expect(f).toMatchObject({ webAcls: { count: 0, rules: 0 }, dashboards: 0, kmsKeys: 0, secrets: 0, receiver: undefined, fanout: undefined });
    expect(f.eventSource).toBeUndefined();
    expect(f.firehose).toBeUndefined();
    expect(f.api).toMatchObject({ methods: 0, metricsEnabled: false, loggingLevel: 'OFF', accessLogFormatChars: 0 });
  });

  it('identifies the functions by wiring, whatever their logical ids', () => {
    const f = templateFacts(
      template(
        [
          'A1',
          'AWS::Lambda::Function',
          { MemorySize: 2048, LoggingConfig: { LogFormat: 'JSON', SystemLogLevel: 'WARN', ApplicationLogLevel: 'ERROR' } },
        ],
        ['B2', 'AWS::Lambda::Function', { TracingConfig: { Mode: 'Active' }, Environment: { Variables: { LOG_LEVEL: 'DEBUG' } } }],
        ['C3', 'AWS::Lambda::Function', {}],
        [
          'M',
          'AWS::ApiGateway::Method',
          { HttpMethod: 'POST', Integration: { Uri: { 'Fn::Join': ['', ['arn:', { 'Fn::GetAtt': ['A1', 'Arn'] }]] } } },
        ],
        ['O', 'AWS::ApiGateway::Method', { HttpMethod: 'OPTIONS', Integration: { Type: 'MOCK' } }],
        ['E', 'AWS::Lambda::EventSourceMapping', { FunctionName: { Ref: 'B2' }, BatchSize: 25 }],
      ),
    );
    expect(f.receiver).toMatchObject({
      logicalId: 'A1',
      memoryMiB: 2048,
      logFormat: 'JSON',
      systemLogLevel: 'WARN',
      applicationLogLevel: 'ERROR',
      tracing: false,
    });
    expect(f.fanout).toMatchObject({
      logicalId: 'B2',
      memoryMiB: 128,
      logFormat: 'Text',
      systemLogLevel: 'INFO',
      applicationLogLevel: 'DEBUG',
      tracing: true,
    });
    expect(f.otherFunctions.map((o) => o.logicalId)).toEqual(['C3']);
    expect(f.eventSource).toEqual({ batchSize: 25, windowSeconds: 0, maxConcurrency: undefined });
    expect(f.api.methods).toBe(1);
  });

  it('bills each metric an alarm reads, high resolution below 60 s', () => {
    const f = templateFacts(
      template(
        ['A', 'AWS::CloudWatch::Alarm', { Period: 300 }],
        ['B', 'AWS::CloudWatch::Alarm', { Period: 10 }],
        ['C', 'AWS::CloudWatch::Alarm', { Metrics: [{ MetricStat: { Period: 60 } }, { MetricStat: { Period: 30 } }, { Expression: 'm1+m2' }] }],
      ),
    );
    expect(f.alarms).toEqual({ count: 3, standardMetrics: 2, highResolutionMetrics: 2 });
  });

  it('reads sampling rules, stage settings and the access log group', () => {
    const f = templateFacts(
      template(
        ['R', 'AWS::XRay::SamplingRule', { SamplingRule: { FixedRate: 0.01, ReservoirSize: 0, ServiceName: '*' } }],
        ['G', 'AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: { 'Fn::GetAtt': ['K', 'Arn'] } }],
        ['X', 'AWS::Logs::LogGroup', { LogGroupName: { 'Fn::Join': ['', ['API-Gateway-Execution-Logs_', { Ref: 'Api' }, '/prod']] } }],
        [
          'S',
          'AWS::ApiGateway::Stage',
          {
            TracingEnabled: true,
            AccessLogSetting: { DestinationArn: { 'Fn::GetAtt': ['G', 'Arn'] }, Format: '$context.requestId' },
            MethodSettings: [{ ResourcePath: '/*', HttpMethod: '*', MetricsEnabled: false, LoggingLevel: 'ERROR', DataTraceEnabled: false }],
          },
        ],
      ),
    );
    expect(f.samplingRules).toEqual([{ fixedRate: 0.01, reservoirSize: 0 }]);
    expect(f.tracing.apiStage).toBe(true);
    expect(f.api).toMatchObject({ metricsEnabled: false, loggingLevel: 'ERROR', dataTraceEnabled: false, accessLogFormatChars: 18 });
    expect(f.logGroups).toEqual([
      { logicalId: 'G', role: 'api-access', retentionDays: 365, kms: true },
      { logicalId: 'X', role: 'api-execution', retentionDays: undefined, kms: false },
    ]);
  });

  it('tells SSE-S3 from SSE-KMS with and without a bucket key, and finds the archive bucket by the delivery stream', () => {
    const kms = (bucketKey: boolean) => ({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' }, BucketKeyEnabled: bucketKey }],
      },
    });
    const f = templateFacts(
      template(
        ['Plain', 'AWS::S3::Bucket', {}],
        ['Keyed', 'AWS::S3::Bucket', kms(true)],
        ['Costly', 'AWS::S3::Bucket', kms(false)],
        [
          'D',
          'AWS::KinesisFirehose::DeliveryStream',
          {
            ExtendedS3DestinationConfiguration: {
              BucketARN: { 'Fn::GetAtt': ['Costly', 'Arn'] },
              BufferingHints: { IntervalInSeconds: 900, SizeInMBs: 128 },
            },
          },
        ],
      ),
    );
    expect(f.buckets).toEqual([
      { logicalId: 'Plain', archive: false, encryption: 'SSE-S3' },
      { logicalId: 'Keyed', archive: false, encryption: 'SSE-KMS + bucket key' },
      { logicalId: 'Costly', archive: true, encryption: 'SSE-KMS' },
    ]);
    expect(f.firehose).toEqual({ intervalSeconds: 900, sizeMiB: 128, compression: 'UNCOMPRESSED' });
  });

  it('finds references in every form CloudFormation writes them', () => {
    expect(refersTo({ Ref: 'A' }, 'A')).toBe(true);
    expect(refersTo({ 'Fn::GetAtt': 'A.Arn' }, 'A')).toBe(true);
    expect(refersTo({ 'Fn::Join': ['', [{ 'Fn::GetAtt': ['A', 'Arn'] }]] }, 'A')).toBe(true);
    expect(refersTo({ Ref: 'AB' }, 'A')).toBe(false);
    expect(refersTo('A', 'A')).toBe(false);
  });
});
