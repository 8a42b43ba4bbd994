/**
 * The cdk-nag gate: the AwsSolutions and Serverless packs find nothing that is not acknowledged,
 * and every acknowledgment sits on the one resource it excuses, with a reason, and is still needed.
 */
import { type App, CfnResource, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it } from 'vitest';
import { buildWebhooksApp } from '../../bin/app.js';
import { newApp } from './helpers.js';

interface Finding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

interface Acknowledgment {
  readonly rule: string;
  readonly reason: string;
  readonly construct: IConstruct;
}

/** Runs both packs over the app; with `ignoreAcknowledgments`, reports what the acknowledgments hide. */
function findings(app: App, ignoreAcknowledgments = false): Finding[] {
  const packs = [new AwsSolutionsChecks(), new ServerlessChecks()];
  if (ignoreAcknowledgments) {
    for (const pack of packs) (pack as unknown as { isAcknowledged: () => boolean }).isAcknowledged = () => false;
  }
  return packs.flatMap((pack) =>
    pack
      .validateScope(app)
      .violations.flatMap((v) =>
        v.violatingResources.map((r) => ({ rule: v.ruleName, severity: v.severity ?? 'unknown', path: r.constructPath ?? '' })),
      ),
  );
}

function acknowledgments(app: App): Acknowledgment[] {
  return app.node
    .findAll()
    .flatMap((construct) =>
      construct.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) =>
          Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({ rule: id.replace(/^annotation::/i, ''), reason, construct })),
        ),
    );
}

const VARIANTS: Record<string, Record<string, unknown>> = {
  default: {},
  'three regions, an imported secret, IPv6, an alarm e-mail and tuned settings': {
    sources: [
      { name: 'default', region: 'us' },
      { name: 'eu-app', region: 'eu', secretArn: 'arn:aws:secretsmanager:eu-central-1:123456789012:secret:socialplus/eu-app-Xy12Za' },
      { name: 'sg-app', region: 'sg' },
    ],
    allowedCidrs: ['203.0.113.0/24', '2001:db8::/64'],
    fanoutBatchSize: 10,
    fanoutMaxBatchingWindowSeconds: 0,
    logLevel: 'DEBUG',
    alarmEmail: 'ops@example.com',
  },
  'every example handler on (state table, bus, admin-token secret)': {
    handlers: {
      socialPlus: { region: 'eu' },
      autoModeration: { enabled: true, ban: 'scoped', deleteFlaggedContent: true },
      keywordFilter: { enabled: true, words: ['free crypto'], targets: ['messages', 'comments', 'posts'] },
      dailyCounters: { enabled: true },
      eventBridge: { enabled: true, events: ['message.*', 'post.didFlag'] },
    },
  },
  'every example handler on with an existing admin-token secret': {
    handlers: JSON.stringify({
      autoModeration: { enabled: true },
      keywordFilter: { enabled: true, words: ['spam'] },
      dailyCounters: { enabled: true },
      eventBridge: { enabled: true },
    }),
    socialPlusApiSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:socialplus/admin-Ab12Cd',
  },
  'hardened profile (customer-managed keys, execution logging, a year of logs, the dashboard, fan-out traces)': { profile: 'hardened' },
  'lean profile with the dashboard, per-method metrics and INFO execution logging turned back on': {
    dashboard: true,
    apiDetailedMetrics: true,
    apiExecutionLogging: 'INFO',
  },
  'tracing off, another metrics namespace and a short receiver deadline': {
    tracing: false,
    metricsNamespace: 'Acme/Webhooks',
    receiverDeadlineMs: 300,
  },
};

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((cleanup) => cleanup()));

function buildApp(config: Record<string, unknown>): App {
  // Bundling is irrelevant to the rules; skipping it keeps this file fast.
  const { app, cleanup } = newApp({ 'aws:cdk:bundling-stacks': [], ...config });
  cleanups.push(cleanup);
  buildWebhooksApp(app, undefined);
  return app;
}

describe.each(Object.entries(VARIANTS))('cdk-nag with the %s configuration', (_name, config) => {
  const app = buildApp(config);

  it('reports no unacknowledged error or warning from AwsSolutions or Serverless', () => {
    expect(findings(app)).toEqual([]);
  });

  it('acknowledges each finding on the CloudFormation resource it concerns, with a specific reason', () => {
    const acks = acknowledgments(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(CfnResource.isCfnResource(ack.construct), `${ack.rule} on ${ack.construct.node.path}`).toBe(true);
      expect(ack.reason.length, `${ack.rule} on ${ack.construct.node.path}`).toBeGreaterThanOrEqual(60);
      expect(ack.rule).toMatch(/^(AwsSolutions|Serverless)-[A-Za-z0-9]+(\[.+\])?$/);
    }
  });

  it('has no stale acknowledgment: each one hides a finding on exactly its resource', () => {
    const hidden = findings(app, true);
    for (const ack of acknowledgments(app)) {
      const matched = hidden.filter((f) => f.rule === ack.rule && f.path === ack.construct.node.path);
      expect(matched, `${ack.rule} on ${ack.construct.node.path}`).toHaveLength(1);
    }
  });

  it('acknowledges IAM wildcards one exact finding at a time', () => {
    const iam = acknowledgments(app).filter((a) => a.rule.startsWith('AwsSolutions-IAM5'));
    expect(iam.length).toBeGreaterThan(0);
    for (const ack of iam) expect(ack.rule).toMatch(/^AwsSolutions-IAM5\[(Resource|Action)::.+\]$/);
  });
});
