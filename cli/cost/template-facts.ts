/**
 * The facts of a synthesized CloudFormation template that drive the bill (docs/cost.md): what the
 * cost benchmark (bench/cost.ts) prices. Pure: reads the template's JSON, nothing else.
 *
 * Resources are recognised by type and by how they are wired, never by logical id: the receiver is
 * the function an API method integrates with, the fan-out the function of the SQS event source
 * mapping, the access log group the one the API stage's access log setting names, the archive
 * bucket the one the delivery stream writes to.
 */

/** A CloudFormation template as JSON (what `Template.toJSON()` or `cdk.out/*.template.json` holds). */
export interface CfnTemplate {
  readonly Resources?: Readonly<Record<string, { readonly Type: string; readonly Properties?: Record<string, unknown> }>>;
}

/** One Lambda function's facts. */
export interface FunctionFacts {
  readonly logicalId: string;
  /** MemorySize; Lambda's default 128 MB when absent. */
  readonly memoryMiB: number;
  readonly tracing: boolean;
  /** LoggingConfig.LogFormat; Text when absent. */
  readonly logFormat: 'Text' | 'JSON';
  /** LoggingConfig.SystemLogLevel (JSON format only); INFO, which logs START/END/REPORT, when absent. */
  readonly systemLogLevel: string;
  /** LoggingConfig.ApplicationLogLevel, else the `LOG_LEVEL` environment variable, else undefined. */
  readonly applicationLogLevel: string | undefined;
  /** Logical id of the log group LoggingConfig names, when it names one of the template's. */
  readonly logGroup: string | undefined;
}

/** What a log group holds; `api-execution` is API Gateway's own `API-Gateway-Execution-Logs_…` group, when the template creates it. */
export type LogGroupRole = 'receiver' | 'fanout' | 'api-access' | 'api-execution' | 'archive-delivery' | 'other';

export interface TemplateFacts {
  readonly webAcls: { readonly count: number; readonly rules: number };
  /** Metrics watched by alarms (a metric-math alarm bills each metric it reads), standard vs high resolution (< 60 s). */
  readonly alarms: { readonly count: number; readonly standardMetrics: number; readonly highResolutionMetrics: number };
  readonly dashboards: number;
  readonly kmsKeys: number;
  readonly secrets: number;
  readonly metricFilters: number;
  readonly samplingRules: ReadonlyArray<{ readonly fixedRate: number; readonly reservoirSize: number }>;
  readonly tracing: { readonly apiStage: boolean; readonly receiver: boolean; readonly fanout: boolean };
  readonly api: {
    /** API methods (each gets its own set of per-method metrics when detailed metrics are on). */
    readonly methods: number;
    readonly metricsEnabled: boolean;
    /** Execution logging level of the stage's `/*` method settings (OFF when absent). */
    readonly loggingLevel: string;
    readonly dataTraceEnabled: boolean;
    /** Length of the access log format, the proxy for its bytes per request; 0 without access logs. */
    readonly accessLogFormatChars: number;
    readonly accessLogFormat: string | undefined;
  };
  readonly receiver: FunctionFacts | undefined;
  readonly fanout: FunctionFacts | undefined;
  /** The other functions (custom resources, run at deploy time). */
  readonly otherFunctions: readonly FunctionFacts[];
  readonly eventSource: { readonly batchSize: number; readonly windowSeconds: number; readonly maxConcurrency: number | undefined } | undefined;
  readonly tables: ReadonlyArray<{ readonly gsis: ReadonlyArray<{ readonly name: string; readonly projection: string }> }>;
  readonly logGroups: ReadonlyArray<{
    readonly logicalId: string;
    readonly role: LogGroupRole;
    readonly retentionDays: number | undefined;
    readonly kms: boolean;
  }>;
  readonly buckets: ReadonlyArray<{
    readonly logicalId: string;
    readonly archive: boolean;
    readonly encryption: 'SSE-S3' | 'SSE-KMS' | 'SSE-KMS + bucket key';
  }>;
  readonly firehose: { readonly intervalSeconds: number; readonly sizeMiB: number; readonly compression: string } | undefined;
}

type Props = Record<string, unknown>;

/** Whether `value` holds a `Ref` or `Fn::GetAtt` of `logicalId`, at any depth. */
export function refersTo(value: unknown, logicalId: string): boolean {
  if (Array.isArray(value)) return value.some((v) => refersTo(v, logicalId));
  if (value === null || typeof value !== 'object') return false;
  const o = value as Props;
  if (o.Ref === logicalId) return true;
  const att = o['Fn::GetAtt'];
  if (Array.isArray(att) && att[0] === logicalId) return true;
  if (typeof att === 'string' && att.split('.')[0] === logicalId) return true;
  return Object.values(o).some((v) => refersTo(v, logicalId));
}

const obj = (v: unknown): Props => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Props) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const num = (v: unknown, fallback: number): number =>
  typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' && !isNaN(Number(v)) ? Number(v) : fallback;
const bool = (v: unknown): boolean => v === true || v === 'true';

/** Reads the facts of `template`. */
export function templateFacts(template: CfnTemplate): TemplateFacts {
  const all = Object.entries(template.Resources ?? {}).map(([id, r]) => ({ id, type: r.Type, props: r.Properties ?? {} }));
  const ofType = (type: string) => all.filter((r) => r.type === type);
  const stage = ofType('AWS::ApiGateway::Stage')[0];
  const methods = ofType('AWS::ApiGateway::Method');
  const mapping = ofType('AWS::Lambda::EventSourceMapping')[0];
  const stream = ofType('AWS::KinesisFirehose::DeliveryStream')[0];
  const functions = ofType('AWS::Lambda::Function');

  const receiverFn = functions.find((f) => methods.some((m) => refersTo(obj(m.props.Integration).Uri, f.id)));
  const fanoutFn = functions.find((f) => mapping !== undefined && refersTo(mapping.props.FunctionName, f.id));
  const fn = (f: (typeof functions)[number] | undefined) => (f === undefined ? undefined : functionFacts(f.id, f.props));

  const accessLog = obj(stage?.props.AccessLogSetting);
  const settings = arr(stage?.props.MethodSettings).map(obj);
  const stageWide = settings.find((s) => s.ResourcePath === '/*' && s.HttpMethod === '*') ?? settings[0] ?? {};
  const format = typeof accessLog.Format === 'string' ? accessLog.Format : undefined;

  const destination = obj(stream?.props.ExtendedS3DestinationConfiguration ?? stream?.props.S3DestinationConfiguration);
  const hints = obj(destination.BufferingHints);
  const roleOf = (id: string, props: Props): LogGroupRole => {
    if (receiverFn !== undefined && refersTo(obj(receiverFn.props.LoggingConfig).LogGroup, id)) return 'receiver';
    if (fanoutFn !== undefined && refersTo(obj(fanoutFn.props.LoggingConfig).LogGroup, id)) return 'fanout';
    if (refersTo(accessLog.DestinationArn, id)) return 'api-access';
    if (refersTo(destination.CloudWatchLoggingOptions, id)) return 'archive-delivery';
    if (JSON.stringify(props.LogGroupName ?? '').includes('API-Gateway-Execution-Logs')) return 'api-execution';
    return 'other';
  };

  return {
    webAcls: {
      count: ofType('AWS::WAFv2::WebACL').length,
      rules: ofType('AWS::WAFv2::WebACL').reduce((n, r) => n + arr(r.props.Rules).length, 0),
    },
    alarms: alarmFacts(ofType('AWS::CloudWatch::Alarm').map((r) => r.props)),
    dashboards: ofType('AWS::CloudWatch::Dashboard').length,
    kmsKeys: ofType('AWS::KMS::Key').length,
    secrets: ofType('AWS::SecretsManager::Secret').length,
    metricFilters: ofType('AWS::Logs::MetricFilter').length,
    samplingRules: ofType('AWS::XRay::SamplingRule').map((r) => {
      const rule = obj(r.props.SamplingRule ?? r.props.Rule);
      return { fixedRate: num(rule.FixedRate, 0), reservoirSize: num(rule.ReservoirSize, 0) };
    }),
    tracing: {
      apiStage: bool(stage?.props.TracingEnabled),
      receiver: obj(receiverFn?.props.TracingConfig).Mode === 'Active',
      fanout: obj(fanoutFn?.props.TracingConfig).Mode === 'Active',
    },
    api: {
      methods: methods.filter((m) => m.props.HttpMethod !== 'OPTIONS').length,
      metricsEnabled: bool(stageWide.MetricsEnabled),
      loggingLevel: typeof stageWide.LoggingLevel === 'string' ? stageWide.LoggingLevel : 'OFF',
      dataTraceEnabled: bool(stageWide.DataTraceEnabled),
      accessLogFormatChars: format?.length ?? 0,
      accessLogFormat: format,
    },
    receiver: fn(receiverFn),
    fanout: fn(fanoutFn),
    otherFunctions: functions.filter((f) => f !== receiverFn && f !== fanoutFn).map((f) => functionFacts(f.id, f.props)),
    eventSource:
      mapping === undefined
        ? undefined
        : {
            batchSize: num(mapping.props.BatchSize, 10),
            windowSeconds: num(mapping.props.MaximumBatchingWindowInSeconds, 0),
            maxConcurrency:
              obj(mapping.props.ScalingConfig).MaximumConcurrency === undefined
                ? undefined
                : num(obj(mapping.props.ScalingConfig).MaximumConcurrency, 0),
          },
    tables: [...ofType('AWS::DynamoDB::Table'), ...ofType('AWS::DynamoDB::GlobalTable')].map((t) => ({
      gsis: arr(t.props.GlobalSecondaryIndexes)
        .map(obj)
        .map((g) => ({ name: String(g.IndexName), projection: String(obj(g.Projection).ProjectionType ?? 'KEYS_ONLY') })),
    })),
    logGroups: ofType('AWS::Logs::LogGroup').map((g) => ({
      logicalId: g.id,
      role: roleOf(g.id, g.props),
      retentionDays: g.props.RetentionInDays === undefined ? undefined : num(g.props.RetentionInDays, 0),
      kms: g.props.KmsKeyId !== undefined,
    })),
    buckets: ofType('AWS::S3::Bucket').map((b) => ({
      logicalId: b.id,
      archive: refersTo(destination.BucketARN, b.id),
      encryption: bucketEncryption(b.props),
    })),
    firehose:
      stream === undefined
        ? undefined
        : {
            intervalSeconds: num(hints.IntervalInSeconds, 300),
            sizeMiB: num(hints.SizeInMBs, 5),
            compression: String(destination.CompressionFormat ?? 'UNCOMPRESSED'),
          },
  };
}

function functionFacts(logicalId: string, props: Props): FunctionFacts {
  const logging = obj(props.LoggingConfig);
  const env = obj(obj(props.Environment).Variables);
  const group = obj(logging.LogGroup).Ref;
  return {
    logicalId,
    memoryMiB: num(props.MemorySize, 128),
    tracing: obj(props.TracingConfig).Mode === 'Active',
    logFormat: logging.LogFormat === 'JSON' ? 'JSON' : 'Text',
    systemLogLevel: typeof logging.SystemLogLevel === 'string' ? logging.SystemLogLevel : 'INFO',
    applicationLogLevel:
      typeof logging.ApplicationLogLevel === 'string' ? logging.ApplicationLogLevel : typeof env.LOG_LEVEL === 'string' ? env.LOG_LEVEL : undefined,
    logGroup: typeof group === 'string' ? group : undefined,
  };
}

/** Alarms by the metrics they bill: one per metric (each metric a metric-math alarm reads), high resolution under 60 s. */
function alarmFacts(alarms: readonly Props[]): TemplateFacts['alarms'] {
  let standardMetrics = 0;
  let highResolutionMetrics = 0;
  for (const a of alarms) {
    const stats = arr(a.Metrics)
      .map(obj)
      .filter((m) => m.MetricStat !== undefined)
      .map((m) => num(obj(m.MetricStat).Period, 60));
    const periods = stats.length > 0 ? stats : [num(a.Period, 60)];
    for (const p of periods)
      if (p < 60) highResolutionMetrics++;
      else standardMetrics++;
  }
  return { count: alarms.length, standardMetrics, highResolutionMetrics };
}

function bucketEncryption(props: Props): TemplateFacts['buckets'][number]['encryption'] {
  const rule = obj(arr(obj(props.BucketEncryption).ServerSideEncryptionConfiguration)[0]);
  const algorithm = obj(rule.ServerSideEncryptionByDefault).SSEAlgorithm;
  // Without a configuration S3 encrypts new objects with SSE-S3 anyway.
  if (algorithm === undefined || algorithm === 'AES256') return 'SSE-S3';
  return bool(rule.BucketKeyEnabled) ? 'SSE-KMS + bucket key' : 'SSE-KMS';
}
