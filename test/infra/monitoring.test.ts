/**
 * The monitoring of issue 6: every alarm (metric, namespace, dimensions, threshold, comparison,
 * period, missing data, actions), the topic and its policies, the e-mail subscription only when
 * configured, the dashboard's widgets, the outputs, X-Ray and log retention. The default stack is
 * synthesized once and a tuned one once, both without bundling.
 */
import { readFileSync } from 'node:fs';
import { App, type CfnElement, Duration, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { METRICS_NAMESPACE } from '../../lambda/common/metrics-contract.js';
import {
  ALARM_IDS,
  type AlarmId,
  RUNBOOK_PATH,
  SOCIALPLUS_TIMEOUT_MS,
  WebhooksMonitoring,
  type WebhooksMonitoringProps,
} from '../../lib/constructs/monitoring.js';
import type { IFunctionMetrics } from '../../lib/constructs/pipeline-function.js';
import { maxHealthyMessageAge, type SocialPlusWebhooksStack } from '../../lib/webhooks-stack.js';
import { onlyResource, synthesize, type SynthesizedApp } from './helpers.js';

const RUNBOOK = readFileSync(new URL(`../../${RUNBOOK_PATH}`, import.meta.url), 'utf8');

let synth: SynthesizedApp;
let tuned: SynthesizedApp;
let lean: SynthesizedApp;
let template: Template;
let stack: SocialPlusWebhooksStack;

beforeAll(() => {
  // With the dashboard, which the lean profile (the default) leaves out.
  synth = synthesize({ dashboard: true });
  lean = synthesize();
  template = synth.template;
  stack = synth.stack;
  tuned = synthesize({
    alarmEmail: 'ops@example.com',
    maxReceiveCount: 10,
    fanoutTimeoutSeconds: 60,
    archiveBufferSeconds: 900,
    logRetentionDays: 90,
    fanoutTracing: true,
  });
});

afterAll(() => {
  synth.cleanup();
  tuned.cleanup();
  lean.cleanup();
});

function idOf(construct: IConstruct, inStack: Stack = stack): string {
  return inStack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
}
const ref = (construct: IConstruct) => ({ Ref: idOf(construct) });

type AlarmProperties = Record<string, unknown> & { AlarmName: string; AlarmDescription: string };

function alarmsOf(t: Template): AlarmProperties[] {
  return Object.values(t.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as AlarmProperties);
}

function alarmNamed(t: Template, alarmId: AlarmId): AlarmProperties {
  const found = alarmsOf(t).filter((a) => a.AlarmName === `SocialPlusWebhooks-${alarmId}`);
  if (found.length !== 1) throw new Error(`expected one alarm SocialPlusWebhooks-${alarmId}, found ${found.length}`);
  return found[0] as AlarmProperties;
}

/** What each alarm must watch and when it fires, written out so a change to any of them is seen. */
function expectedAlarms(): Record<AlarmId, Record<string, unknown>> {
  const fn = (f: IConstruct) => [{ Name: 'FunctionName', Value: ref(f) }];
  const queueName = (q: IConstruct) => [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [idOf(q), 'QueueName'] } }];
  const custom = (metricName: string) => ({
    Namespace: METRICS_NAMESPACE,
    MetricName: metricName,
    Dimensions: [{ Name: 'service', Value: 'receiver' }],
  });
  const sum = { Statistic: 'Sum', Period: 300 };
  const max = { Statistic: 'Maximum', Period: 300 };
  const once = {
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    TreatMissingData: 'notBreaching',
  };
  return {
    ReceiverErrors: { ...once, ...sum, Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: fn(stack.receiver.function) },
    ReceiverThrottles: { ...once, ...sum, Namespace: 'AWS/Lambda', MetricName: 'Throttles', Dimensions: fn(stack.receiver.function) },
    ReceiverSlow: {
      Namespace: 'AWS/Lambda',
      MetricName: 'Duration',
      Dimensions: fn(stack.receiver.function),
      ExtendedStatistic: 'p99',
      Period: 300,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 1000,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
      TreatMissingData: 'notBreaching',
    },
    SignatureInvalid: { ...once, ...sum, ...custom('SignatureInvalid') },
    SocialPlusSignatureRefused: { ...once, ...sum, Namespace: 'SocialPlusWebhooks/SocialPlusWebhooks', MetricName: 'SocialPlusSignatureRefused' },
    EventsSpilled: { ...once, ...sum, ...custom('Spilled') },
    EventsRefused: { ...once, ...sum, ...custom('SpillFailed') },
    ApiServerErrors: {
      ...once,
      ...sum,
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
      Dimensions: [
        { Name: 'ApiName', Value: 'SocialPlusWebhooks-api' },
        { Name: 'Stage', Value: ref(stack.api.stage) },
      ],
    },
    ApiThrottled: { ...once, ...sum, Namespace: 'SocialPlusWebhooks/SocialPlusWebhooks', MetricName: 'ApiThrottled' },
    DeadLetterQueueNotEmpty: {
      ...once,
      ...max,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: queueName(stack.queue.deadLetterQueue),
    },
    QueueBacklogOld: {
      ...max,
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: queueName(stack.queue.queue),
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 1200,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
    },
    FanoutErrors: { ...once, ...sum, Namespace: 'AWS/Lambda', MetricName: 'Errors', Dimensions: fn(stack.fanout.function) },
    FanoutThrottles: {
      ...once,
      ...sum,
      Namespace: 'AWS/Lambda',
      MetricName: 'Throttles',
      Dimensions: fn(stack.fanout.function),
      EvaluationPeriods: 3,
      DatapointsToAlarm: 2,
    },
    ArchiveDeliveryStale: {
      ...max,
      Namespace: 'AWS/Firehose',
      MetricName: 'DeliveryToS3.DataFreshness',
      Dimensions: [{ Name: 'DeliveryStreamName', Value: ref(stack.archive.deliveryStream) }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 900,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      TreatMissingData: 'notBreaching',
    },
    WafBlockedSpike: {
      ...once,
      ...sum,
      Threshold: 100,
      Namespace: 'AWS/WAFV2',
      MetricName: 'BlockedRequests',
      Dimensions: [
        { Name: 'Region', Value: { Ref: 'AWS::Region' } },
        { Name: 'Rule', Value: 'ALL' },
        { Name: 'WebACL', Value: { 'Fn::Select': [0, { 'Fn::Split': ['|', ref(stack.firewall.webAcl)] }] } },
      ],
    },
  };
}

describe('alarms', () => {
  it('are exactly the listed ones, each defined once', () => {
    expect(
      alarmsOf(template)
        .map((a) => a.AlarmName)
        .sort(),
    ).toEqual(ALARM_IDS.map((a) => `SocialPlusWebhooks-${a}`).sort());
    expect(Object.keys(expectedAlarms()).sort()).toEqual([...ALARM_IDS].sort());
  });

  it.each([...ALARM_IDS])('%s watches its metric with its threshold, period and missing-data treatment', (alarmId) => {
    const alarm = alarmNamed(template, alarmId);
    const expected = expectedAlarms()[alarmId];
    expect(alarm).toMatchObject(expected);
    // A plain metric alarm: no math, and no statistic besides the one expected.
    expect(alarm.Metrics).toBeUndefined();
    expect('Statistic' in expected ? alarm.ExtendedStatistic : alarm.Statistic).toBeUndefined();
  });

  it.each([...ALARM_IDS])('%s notifies the topic when it fires and when it recovers', (alarmId) => {
    const alarm = alarmNamed(template, alarmId);
    const topic = ref(stack.monitoring.topic);
    expect(alarm.AlarmActions).toEqual([topic]);
    expect(alarm.OKActions).toEqual([topic]);
    expect(alarm.ActionsEnabled ?? true).toBe(true);
  });

  it.each([...ALARM_IDS])('%s says what it means, links its runbook entry, which exists, and gives its missing-data reason', (alarmId) => {
    const alarm = alarmNamed(template, alarmId);
    expect(alarm.AlarmDescription).toMatch(new RegExp(`^.{40,}Runbook: ${RUNBOOK_PATH}#${alarmId.toLowerCase()}$`));
    expect(RUNBOOK).toMatch(new RegExp(`^### ${alarmId}$`, 'm'));
    expect(stack.monitoring.alarmDefinitions[alarmId].missingDataBecause.length).toBeGreaterThan(30);
  });

  it("find the web ACL's metrics under its generated name (the first part of its Ref), leaving the ACL unnamed", () => {
    const acl = onlyResource(template, 'AWS::WAFv2::WebACL');
    expect(acl.properties.Name).toBeUndefined();
    expect(alarmNamed(template, 'WafBlockedSpike').Dimensions).toContainEqual({
      Name: 'WebACL',
      Value: { 'Fn::Select': [0, { 'Fn::Split': ['|', { Ref: acl.logicalId }] }] },
    });
  });

  it('derive the backlog age from the retry window and the archive freshness from the buffering interval', () => {
    // 10 receives × (60 s × 6) visibility timeout + 5 minutes
    expect(alarmNamed(tuned.template, 'QueueBacklogOld').Threshold).toBe(3900);
    expect(alarmNamed(tuned.template, 'ArchiveDeliveryStale').Threshold).toBe(2700);
    expect(maxHealthyMessageAge({ maxReceiveCount: 5, fanoutTimeoutSeconds: 30 }).toSeconds()).toBe(1200);
    expect(maxHealthyMessageAge({ maxReceiveCount: 1000, fanoutTimeoutSeconds: 900 }).toSeconds()).toBe(86_400);
  });
});

describe('the access-log counts', () => {
  const filters = () => Object.values(template.findResources('AWS::Logs::MetricFilter')).map((r) => r.Properties as Record<string, unknown>);
  const named = (name: string) => filters().find((f) => JSON.stringify(f.MetricTransformations).includes(`"MetricName":"${name}"`));

  it("counts 401s answered to Social Plus's own addresses (the us region's four by default), not to testers in allowedCidrs", () => {
    expect(filters()).toHaveLength(2);
    expect(named('SocialPlusSignatureRefused')).toEqual({
      LogGroupName: ref(stack.api.accessLogGroup),
      FilterPattern:
        '{ ($.status = "401") && (($.sourceIp = "52.70.191.115") || ($.sourceIp = "100.24.154.219") || ($.sourceIp = "52.44.28.213") || ($.sourceIp = "52.72.76.90")) }',
      MetricTransformations: [
        { MetricNamespace: 'SocialPlusWebhooks/SocialPlusWebhooks', MetricName: 'SocialPlusSignatureRefused', MetricValue: '1' },
      ],
    });
  });

  it('counts each 429 once', () => {
    const filter = named('ApiThrottled');
    expect(filter).toEqual({
      LogGroupName: ref(stack.api.accessLogGroup),
      FilterPattern: '{ $.status = "429" }',
      MetricTransformations: [{ MetricNamespace: 'SocialPlusWebhooks/SocialPlusWebhooks', MetricName: 'ApiThrottled', MetricValue: '1' }],
    });
  });
});

describe('alarm topic', () => {
  it("is encrypted with a rotated customer-managed key that only this stack's alarms may use through CloudWatch", () => {
    const topic = onlyResource(template, 'AWS::SNS::Topic');
    expect(topic.properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [idOf(stack.monitoring.topicKey), 'Arn'] });
    const key = onlyResource(template, 'AWS::KMS::Key').properties as {
      EnableKeyRotation: boolean;
      KeyPolicy: { Statement: Array<Record<string, unknown>> };
    };
    expect(key.EnableKeyRotation).toBe(true);
    const cloudwatchStatements = key.KeyPolicy.Statement.filter(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'cloudwatch.amazonaws.com' }),
    );
    expect(cloudwatchStatements).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', expect.arrayContaining([':alarm:SocialPlusWebhooks-*'])] } },
        },
      }),
    ]);
  });

  it("refuses publishing without TLS and lets only this stack's alarms publish", () => {
    const policy = onlyResource(template, 'AWS::SNS::TopicPolicy').properties as {
      Topics: unknown;
      PolicyDocument: { Statement: Array<Record<string, unknown>> };
    };
    const topic = ref(stack.monitoring.topic);
    expect(policy.Topics).toEqual([topic]);
    expect(policy.PolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Deny',
        Principal: '*',
        Action: 'sns:Publish',
        Resource: topic,
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      }),
      expect.objectContaining({
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: topic,
        Condition: {
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
          ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', expect.arrayContaining([':alarm:SocialPlusWebhooks-*'])] } },
        },
      }),
    ]);
  });

  it('has no subscription unless alarmEmail is set', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes alarmEmail by e-mail when it is set', () => {
    const subscription = onlyResource(tuned.template, 'AWS::SNS::Subscription').properties;
    expect(subscription).toEqual({
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: idOf(tuned.stack.monitoring.topic, tuned.stack) },
    });
  });
});

/** The dashboard body with every CloudFormation token replaced by a marker, parsed. */
function dashboardBody(t: Template): { widgets: Array<{ type: string; properties: Record<string, unknown> }> } {
  const body = onlyResource(t, 'AWS::CloudWatch::Dashboard').properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : 'TOKEN')).join('');
  return JSON.parse(text) as { widgets: Array<{ type: string; properties: Record<string, unknown> }> };
}

describe('dashboard', () => {
  const titles = [
    'Alarms',
    'WAF: allowed and blocked requests',
    'API: requests, 4xx, 5xx and 429',
    'API: latency p99 (total and receiver integration)',
    'Receiver: acknowledgements',
    'Receiver: refusals and failures',
    'Receiver: signature forms accepted, and 401s to Social Plus',
    'Receiver: duration p50, p90, p99',
    'Queue: depth and oldest message age',
    'Dead-letter queue: messages',
    'Fan-out: invocations, errors, throttles',
    'Fan-out: stored, duplicates, archived',
    'Handlers: succeeded and failed, by handler',
    'Fan-out: flagged events and the inbox',
    'Archive: Firehose delivery to S3',
    'Archive: records in and delivered',
    'Recent errors and warnings (receiver and fan-out)',
  ];
  const widget = (title: string) => {
    const found = dashboardBody(template).widgets.find((w) => w.properties.title === title);
    if (!found) throw new Error(`no widget titled '${title}'`);
    return found.properties as {
      metrics: unknown[][];
      annotations?: { horizontal: Array<{ value: number; label: string }> };
      query?: string;
      alarms?: string[];
    };
  };
  /** The metric names a graph plots, from CloudWatch's `[namespace, name, dim, value, ..., options]` rows. */
  const metricNames = (title: string) => widget(title).metrics.map((row) => row[1]);

  it('is one dashboard whose widgets follow the flow, in order', () => {
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    expect(
      dashboardBody(template)
        .widgets.map((w) => w.properties.title)
        .filter((t) => t !== undefined),
    ).toEqual(titles);
  });

  it("shows every alarm's state", () => {
    expect(widget('Alarms').alarms).toHaveLength(ALARM_IDS.length);
  });

  it("shows the receiver's acknowledgements by outcome", () => {
    expect(metricNames('Receiver: acknowledgements')).toEqual([
      'Accepted',
      'LegacyDropped',
      'SignatureInvalid',
      'SignatureMissing',
      'Spilled',
      'ClaimChecked',
    ]);
    expect(metricNames('Receiver: signature forms accepted, and 401s to Social Plus')).toEqual([
      'SignatureFormBase64',
      'SignatureFormHex',
      'SignatureFormJsonBase64',
      'SignatureFormJsonHex',
      'SocialPlusSignatureRefused',
    ]);
    for (const row of widget('Receiver: acknowledgements').metrics)
      expect(row.slice(0, 4)).toEqual([METRICS_NAMESPACE, row[1], 'service', 'receiver']);
  });

  it('shows receiver latency percentiles against the 1.5 s Social Plus timeout', () => {
    const duration = widget('Receiver: duration p50, p90, p99');
    expect(duration.metrics.map((row) => (row.at(-1) as { stat: string }).stat)).toEqual(['p50', 'p90', 'p99']);
    expect(duration.annotations?.horizontal).toEqual(
      expect.arrayContaining([expect.objectContaining({ value: SOCIALPLUS_TIMEOUT_MS }), expect.objectContaining({ value: 1000 })]),
    );
  });

  it('shows queue depth and age, the DLQ, and fan-out outcomes', () => {
    expect(metricNames('Queue: depth and oldest message age')).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesNotVisible',
      'ApproximateAgeOfOldestMessage',
    ]);
    expect(metricNames('Dead-letter queue: messages')).toEqual(['ApproximateNumberOfMessagesVisible']);
    expect(metricNames('Fan-out: stored, duplicates, archived')).toEqual([
      'RecordsReceived',
      'Stored',
      'Duplicate',
      'Archived',
      'ArchiveFailed',
      'StoreFailed',
    ]);
    expect(metricNames('WAF: allowed and blocked requests')).toEqual(['AllowedRequests', 'BlockedRequests']);
    expect(metricNames('API: requests, 4xx, 5xx and 429')).toEqual(['Count', '4XXError', '5XXError', 'ApiThrottled']);
    expect(metricNames('Archive: Firehose delivery to S3')).toEqual(['DeliveryToS3.Success', 'DeliveryToS3.DataFreshness']);
  });

  it("finds every handler's outcomes with a SEARCH over the handler dimension", () => {
    const expressions = widget('Handlers: succeeded and failed, by handler').metrics.map((row) => row[0] as { expression: string; label: string });
    expect(expressions.map((e) => e.expression)).toEqual([
      `SEARCH('{${METRICS_NAMESPACE},handler,service} service="fanout" MetricName="HandlerSucceeded"', 'Sum', 60)`,
      `SEARCH('{${METRICS_NAMESPACE},handler,service} service="fanout" MetricName="HandlerFailed"', 'Sum', 60)`,
    ]);
    for (const e of expressions) expect(e.label).toContain("${PROP('Dim.handler')}");
  });

  it("lists recent errors and warnings from both functions' structured logs", () => {
    const query = widget('Recent errors and warnings (receiver and fan-out)').query as string;
    expect(query.match(/SOURCE 'TOKEN'/g)).toHaveLength(2);
    expect(query).toContain('filter level in ["ERROR", "WARN"]');
  });
});

describe('outputs', () => {
  it('name the three log groups the runbook queries and the web ACL', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.ReceiverLogGroupName?.Value).toEqual(ref(stack.receiver.logGroup));
    expect(outputs.FanoutLogGroupName?.Value).toEqual(ref(stack.fanout.logGroup));
    expect(outputs.ApiAccessLogGroupName?.Value).toEqual(ref(stack.api.accessLogGroup));
    expect(outputs.WebAclName?.Value).toEqual({ 'Fn::Select': [0, { 'Fn::Split': ['|', ref(stack.firewall.webAcl)] }] });
  });

  it('give no dashboard name or URL when there is no dashboard (the lean default), and the same alarms', () => {
    const outputs = lean.template.toJSON().Outputs as Record<string, unknown>;
    expect(outputs).toHaveProperty('AlarmTopicArn');
    expect(outputs).not.toHaveProperty('DashboardName');
    expect(outputs).not.toHaveProperty('DashboardUrl');
    lean.template.resourceCountIs('AWS::CloudWatch::Dashboard', 0);
    expect(
      alarmsOf(lean.template)
        .map((a) => a.AlarmName)
        .sort(),
    ).toEqual(
      alarmsOf(template)
        .map((a) => a.AlarmName)
        .sort(),
    );
  });

  it('give the topic ARN, the dashboard name and its console URL', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(outputs.AlarmTopicArn?.Value).toEqual(ref(stack.monitoring.topic));
    expect(outputs.DashboardName?.Value).toEqual(ref(stack.monitoring.dashboard as IConstruct));
    expect(outputs.DashboardUrl?.Value).toEqual({
      'Fn::Join': [
        '',
        [
          'https://console.aws.amazon.com/cloudwatch/home?region=',
          { Ref: 'AWS::Region' },
          '#dashboards/dashboard/',
          ref(stack.monitoring.dashboard as IConstruct),
        ],
      ],
    });
  });
});

describe('tracing and log retention', () => {
  /** The X-Ray actions a function's role may call. */
  function xrayActionsOf(t: Template, fn: IConstruct, inStack: Stack): string[] {
    const roleId = t.toJSON().Resources[idOf(fn, inStack)].Properties.Role['Fn::GetAtt'][0] as string;
    const statements = Object.values(t.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } })).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Array<{ Action: string | string[] }>,
    );
    return statements.flatMap((st) => (Array.isArray(st.Action) ? st.Action : [st.Action])).filter((a) => a.startsWith('xray:'));
  }

  it('traces the API stage and the receiver with X-Ray, 1 % of requests by a sampling rule for the stage, and lets the receiver send traces', () => {
    expect(onlyResource(template, 'AWS::ApiGateway::Stage').properties.TracingEnabled).toBe(true);
    const receiver = template.toJSON().Resources[idOf(stack.receiver.function)];
    expect(receiver.Properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(xrayActionsOf(template, stack.receiver.function, stack).sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    const rule = onlyResource(template, 'AWS::XRay::SamplingRule').properties.SamplingRule as Record<string, unknown>;
    expect(rule).toMatchObject({
      FixedRate: 0.01,
      ReservoirSize: 0,
      ServiceName: `${stack.api.restApiName}/prod`,
      ServiceType: 'AWS::ApiGateway::Stage',
      HTTPMethod: 'POST',
    });
    expect(String(rule.RuleName).length).toBeLessThanOrEqual(32);
  });

  it('traces the fan-out only with fanoutTracing: Lambda samples its queue-triggered invocations at a rate no rule lowers', () => {
    const fanout = template.toJSON().Resources[idOf(stack.fanout.function)].Properties;
    expect(fanout.TracingConfig?.Mode).not.toBe('Active');
    expect(fanout.Environment.Variables.POWERTOOLS_TRACE_ENABLED).toBe('false');
    expect(xrayActionsOf(template, stack.fanout.function, stack)).toEqual([]);
    const traced = tuned.template.toJSON().Resources[idOf(tuned.stack.fanout.function, tuned.stack)].Properties;
    expect(traced.TracingConfig).toEqual({ Mode: 'Active' });
    expect(xrayActionsOf(tuned.template, tuned.stack.fanout.function, tuned.stack).sort()).toEqual([
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
  });

  it.each([
    ['default', () => template, 30],
    ['tuned', () => tuned.template, 90],
  ] as const)('gives every log group of the %s stack a retention, and uses no log-retention custom resource', (_name, templateOf, days) => {
    const t = templateOf();
    const groups = Object.values(t.findResources('AWS::Logs::LogGroup'));
    expect(groups.length).toBeGreaterThanOrEqual(4);
    for (const group of groups) expect(group.Properties.RetentionInDays).toBe(days);
    expect(Object.keys(t.findResources('Custom::LogRetention'))).toEqual([]);
    // A function without its own log group would write to one Lambda creates, without a retention.
    for (const fn of Object.values(t.findResources('AWS::Lambda::Function')))
      expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: expect.any(String) });
  });
});

describe('the construct on its own', () => {
  /** The monitoring around imported resources, in a stack of its own. */
  function standalone(overrides: Partial<WebhooksMonitoringProps> = {}): { stack: Stack; monitoring: WebhooksMonitoring } {
    const s = new Stack(new App(), 'Standalone');
    const restApi = new apigateway.RestApi(s, 'Api');
    restApi.root.addMethod('POST', new apigateway.MockIntegration());
    const stage = restApi.deploymentStage;
    const accessLog = logs.LogGroup.fromLogGroupName(s, 'AccessLogs', 'api-access');
    const fn = (name: string): IFunctionMetrics => {
      const f = lambda.Function.fromFunctionName(s, name, `${name.toLowerCase()}-fn`);
      return {
        metricErrors: (props) => f.metricErrors(props),
        metricThrottles: (props) => f.metricThrottles(props),
        metricDuration: (props) => f.metricDuration(props),
        metricInvocations: (props) => f.metricInvocations(props),
        logGroupName: `/aws/lambda/${name.toLowerCase()}-fn`,
      };
    };
    const queue = sqs.Queue.fromQueueArn(s, 'Queue', 'arn:aws:sqs:eu-central-1:123456789012:events');
    const dlq = sqs.Queue.fromQueueArn(s, 'Dlq', 'arn:aws:sqs:eu-central-1:123456789012:events-dlq');
    const stream = firehose.DeliveryStream.fromDeliveryStreamName(s, 'Stream', 'archive');
    const monitoring = new WebhooksMonitoring(s, 'Monitoring', {
      receiver: fn('Receiver'),
      fanout: fn('Fanout'),
      queue: {
        metricApproximateNumberOfMessagesVisible: (props) => queue.metricApproximateNumberOfMessagesVisible(props),
        metricApproximateNumberOfMessagesNotVisible: (props) => queue.metricApproximateNumberOfMessagesNotVisible(props),
        metricApproximateAgeOfOldestMessage: (props) => queue.metricApproximateAgeOfOldestMessage(props),
        metricDeadLetterMessagesVisible: (props) => dlq.metricApproximateNumberOfMessagesVisible(props),
      },
      api: {
        metricCount: (props) => stage.metricCount(props),
        metricClientError: (props) => stage.metricClientError(props),
        metricServerError: (props) => stage.metricServerError(props),
        metricLatency: (props) => stage.metricLatency(props),
        metricIntegrationLatency: (props) => stage.metricIntegrationLatency(props),
        countAccessLogLines: (scope, id, options) => new logs.MetricFilter(scope, id, { logGroup: accessLog, ...options }),
      },
      archive: {
        metricDataFreshness: (props) => stream.metric('DeliveryToS3.DataFreshness', props),
        metricDeliverySuccess: (props) => stream.metric('DeliveryToS3.Success', props),
        metricIncomingRecords: (props) => stream.metricIncomingRecords(props),
        metricDeliveredRecords: (props) => stream.metric('DeliveryToS3.Records', props),
      },
      firewall: {
        metricAllowedRequests: (props) => new cloudwatch.Metric({ namespace: 'AWS/WAFV2', metricName: 'AllowedRequests', ...props }),
        metricBlockedRequests: (props) => new cloudwatch.Metric({ namespace: 'AWS/WAFV2', metricName: 'BlockedRequests', ...props }),
      },
      ...overrides,
    });
    return { stack: s, monitoring };
  }

  it('takes its thresholds and namespace from props', () => {
    const { stack: s } = standalone({
      metricsNamespace: 'StagingWebhooks',
      receiverP99ThresholdMs: 800,
      signatureInvalidThreshold: 5,
      wafBlockedThreshold: 1000,
      maxMessageAge: Duration.minutes(30),
      maxArchiveFreshness: Duration.minutes(20),
    });
    const t = Template.fromStack(s);
    const byName = (n: AlarmId) => alarmsOf(t).find((a) => a.AlarmName === `Standalone-${n}`) as AlarmProperties;
    expect(byName('ReceiverSlow').Threshold).toBe(800);
    expect(byName('SignatureInvalid')).toMatchObject({ Namespace: 'StagingWebhooks', Threshold: 5 });
    expect(byName('WafBlockedSpike').Threshold).toBe(1000);
    expect(byName('QueueBacklogOld').Threshold).toBe(1800);
    expect(byName('ArchiveDeliveryStale').Threshold).toBe(1200);
    expect(byName('DeadLetterQueueNotEmpty').Dimensions).toEqual([{ Name: 'QueueName', Value: 'events-dlq' }]);
    t.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Condition: Match.objectLike({ ArnLike: { 'aws:SourceArn': Match.anyValue() } }) })]),
      },
    });
  });

  it('refuses a p99 threshold at or above the Social Plus timeout, naming the prop and the limit', () => {
    expect(() => standalone({ receiverP99ThresholdMs: 1500 })).toThrow(
      /receiverP99ThresholdMs is 1500; it must be below Social Plus's 1500 ms timeout/,
    );
  });
});
