/**
 * The stack side of the example handlers: `HANDLERS_CONFIG` always, and the state table, the bus and
 * the admin-token secret (each with its variable, its exact grant and its output) only when an
 * enabled handler needs it; the `handlers` key's validation merged into the configuration's errors.
 */
import type { CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOCIALPLUS_API_SECRET_PLACEHOLDER } from '../../lambda/fanout/handlers/env.js';
import { ENV } from '../../lambda/common/env.js';
import { HANDLER_STATE_TABLE } from '../../lambda/common/table-schema.js';
import { buildConfig, ConfigError, handlerResourceNeeds, handlersConfigValue } from '../../lib/config.js';
import { HANDLER_STATE_ACTIONS } from '../../lib/constructs/handler-resources.js';
import type { SocialPlusWebhooksStack } from '../../lib/webhooks-stack.js';
import { buildWebhooksApp } from '../../bin/app.js';
import { newApp, synthesize, type SynthesizedApp } from './helpers.js';

const HANDLER_VARIABLES = [ENV.HANDLER_STATE_TABLE_NAME, ENV.EVENT_BUS_NAME, ENV.SOCIALPLUS_API_SECRET_ARN, ENV.SOCIALPLUS_ADMIN_TOKEN];
const HANDLER_OUTPUTS = ['HandlerStateTableName', 'EventBusName', 'EventBusArn', 'SocialPlusApiSecretArn'];
const IMPORTED_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:socialplus/admin-Ab12Cd';

type Statement = { Effect: string; Action: string | string[]; Resource: unknown };

/** What one synthesis shows about the fan-out and the handler resources. */
class View {
  constructor(readonly synth: SynthesizedApp) {}

  get stack(): SocialPlusWebhooksStack {
    return this.synth.stack;
  }

  idOf(construct: IConstruct): string {
    return this.stack.getLogicalId((construct.node.defaultChild ?? construct) as CfnElement);
  }

  get env(): Record<string, unknown> {
    return this.synth.template.toJSON().Resources[this.idOf(this.stack.fanout.function)].Properties.Environment.Variables;
  }

  get handlersConfig(): Record<string, unknown> {
    return JSON.parse(this.env[ENV.HANDLERS_CONFIG] as string) as Record<string, unknown>;
  }

  /** The variables of the example handlers the fan-out has. */
  get handlerVariables(): string[] {
    return HANDLER_VARIABLES.filter((v) => v in this.env).sort();
  }

  get outputs(): string[] {
    return Object.keys(this.synth.template.toJSON().Outputs ?? {})
      .filter((o) => HANDLER_OUTPUTS.includes(o))
      .sort();
  }

  count(type: string): number {
    return Object.keys(this.synth.template.findResources(type)).length;
  }

  /** The fan-out role's statements that mention a resource (by logical id or literal ARN). */
  statementsOn(target: string): Statement[] {
    const roleId = this.idOf(this.stack.fanout.function.role as IConstruct);
    return Object.values(this.synth.template.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[])
      .filter((s) => JSON.stringify(s.Resource).includes(target));
  }
}

const views: View[] = [];
function synth(config: Record<string, unknown>): View {
  const view = new View(synthesize(config));
  views.push(view);
  return view;
}
afterAll(() => views.forEach((v) => v.synth.cleanup()));

const sorted = (xs: readonly string[]) => [...xs].sort();

describe('with every example handler off (the default)', () => {
  let v: View;
  beforeAll(() => {
    v = synth({});
  });

  it('sets only HANDLERS_CONFIG, everything off, with no Social Plus section', () => {
    expect(v.handlerVariables).toEqual([]);
    const config = v.handlersConfig;
    expect(config).toMatchObject({
      autoModeration: { enabled: false },
      keywordFilter: { enabled: false },
      dailyCounters: { enabled: false },
      eventBridge: { enabled: false },
    });
    expect(config).not.toHaveProperty('socialPlus');
  });

  it('creates no state table, bus or admin-token secret, and no outputs for them', () => {
    expect(v.count('AWS::DynamoDB::GlobalTable')).toBe(1);
    expect(v.count('AWS::Events::EventBus')).toBe(0);
    expect(v.count('AWS::SecretsManager::Secret')).toBe(1);
    expect(v.outputs).toEqual([]);
    expect(v.stack.handlerResources.stateTable).toBeUndefined();
  });

  it('keeps the claim lease at least twice the fan-out timeout', () => {
    expect(v.handlersConfig.claimLeaseSeconds).toBe(120);
  });
});

describe('with daily counters on', () => {
  let v: View;
  beforeAll(() => {
    v = synth({ handlers: { dailyCounters: { enabled: true } } });
  });

  it('creates the state table: PK/SK strings, on-demand, TTL on expiresAt, PITR, retained', () => {
    const table = v.stack.handlerResources.stateTable;
    expect(table).toBeDefined();
    const resource = v.synth.template.toJSON().Resources[v.idOf(table as IConstruct)];
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(resource.UpdateReplacePolicy).toBe('Retain');
    expect(resource.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: HANDLER_STATE_TABLE.partitionKey, KeyType: 'HASH' },
        { AttributeName: HANDLER_STATE_TABLE.sortKey, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: HANDLER_STATE_TABLE.partitionKey, AttributeType: 'S' },
        { AttributeName: HANDLER_STATE_TABLE.sortKey, AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: HANDLER_STATE_TABLE.ttlAttribute, Enabled: true },
      Replicas: [{ PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }],
    });
    expect(resource.Properties.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('sets only HANDLER_STATE_TABLE_NAME and grants exactly GetItem, PutItem, UpdateItem and Query on the table, not its indexes', () => {
    const tableId = v.idOf(v.stack.handlerResources.stateTable as IConstruct);
    expect(v.handlerVariables).toEqual([ENV.HANDLER_STATE_TABLE_NAME]);
    expect(v.env[ENV.HANDLER_STATE_TABLE_NAME]).toEqual({ Ref: tableId });
    const statements = v.statementsOn(tableId);
    expect(statements).toEqual([{ Effect: 'Allow', Action: sorted(HANDLER_STATE_ACTIONS), Resource: { 'Fn::GetAtt': [tableId, 'Arn'] } }]);
  });

  it('creates no bus or admin-token secret, and outputs only the table', () => {
    expect(v.count('AWS::Events::EventBus')).toBe(0);
    expect(v.count('AWS::SecretsManager::Secret')).toBe(1);
    expect(v.outputs).toEqual(['HandlerStateTableName']);
  });
});

describe('with the EventBridge forwarder on', () => {
  let v: View;
  beforeAll(() => {
    v = synth({ handlers: { eventBridge: { enabled: true, events: ['message.*'] } } });
  });

  it('creates a bus, sets only EVENT_BUS_NAME and grants events:PutEvents on that bus only', () => {
    const busId = v.idOf(v.stack.handlerResources.eventBus as IConstruct);
    expect(v.count('AWS::Events::EventBus')).toBe(1);
    expect(v.handlerVariables).toEqual([ENV.EVENT_BUS_NAME]);
    expect(v.env[ENV.EVENT_BUS_NAME]).toEqual({ Ref: busId });
    expect(v.statementsOn(busId)).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: { 'Fn::GetAtt': [busId, 'Arn'] } }]);
    expect(v.count('AWS::DynamoDB::GlobalTable')).toBe(1);
    expect(v.outputs).toEqual(['EventBusArn', 'EventBusName']);
  });
});

describe('with handlers that call the Social Plus API', () => {
  let v: View;
  beforeAll(() => {
    v = synth({
      sources: [{ name: 'default', region: 'eu' }],
      handlers: { keywordFilter: { enabled: true, words: ['free crypto'] } },
      fanoutTimeoutSeconds: 90,
    });
  });

  it('takes the API region from the sources when they share one', () => {
    expect(v.handlersConfig.socialPlus).toMatchObject({ region: 'eu', dryRun: false });
  });

  it('creates the admin-token secret holding the placeholder, sets SOCIALPLUS_API_SECRET_ARN and grants reading it', () => {
    const secret = v.stack.handlerResources.socialPlusSecret as IConstruct;
    const secretId = v.idOf(secret);
    expect(v.synth.template.toJSON().Resources[secretId].Properties.SecretString).toBe(SOCIALPLUS_API_SECRET_PLACEHOLDER);
    expect(v.handlerVariables).toEqual([ENV.SOCIALPLUS_API_SECRET_ARN]);
    expect(v.env[ENV.SOCIALPLUS_API_SECRET_ARN]).toEqual({ Ref: secretId });
    expect(v.statementsOn(secretId)).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: { Ref: secretId } },
    ]);
    expect(v.outputs).toEqual(['SocialPlusApiSecretArn']);
  });

  it('raises the claim lease to twice the fan-out timeout', () => {
    expect(v.handlersConfig.claimLeaseSeconds).toBe(180);
  });
});

describe('with every example handler on and an existing admin-token secret', () => {
  let v: View;
  beforeAll(() => {
    v = synth({
      handlers: JSON.stringify({
        autoModeration: { enabled: true, ban: 'scoped', deleteFlaggedContent: true },
        keywordFilter: { enabled: true, words: ['spam'] },
        dailyCounters: { enabled: true },
        eventBridge: { enabled: true },
      }),
      socialPlusApiSecretArn: IMPORTED_ARN,
    });
  });

  it('reads the handlers key as a JSON string, as -c gives it', () => {
    expect(v.handlersConfig).toMatchObject({ autoModeration: { enabled: true, ban: 'scoped' }, socialPlus: { region: 'us' } });
  });

  it('sets every handler variable (never SOCIALPLUS_ADMIN_TOKEN) and uses the existing secret instead of creating one', () => {
    expect(v.handlerVariables).toEqual(sorted([ENV.HANDLER_STATE_TABLE_NAME, ENV.EVENT_BUS_NAME, ENV.SOCIALPLUS_API_SECRET_ARN]));
    expect(v.env[ENV.SOCIALPLUS_API_SECRET_ARN]).toBe(IMPORTED_ARN);
    expect(v.count('AWS::SecretsManager::Secret')).toBe(1);
    expect(v.statementsOn(IMPORTED_ARN)).toEqual([
      { Effect: 'Allow', Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: IMPORTED_ARN },
    ]);
    expect(v.outputs).toEqual(sorted(HANDLER_OUTPUTS));
  });

  it("keeps the handler resources' logical ids", () => {
    expect(Object.keys(v.synth.template.findResources('AWS::DynamoDB::GlobalTable')).sort()).toEqual([
      'EventStoreTable9A84AAAA',
      'HandlersStateTable3AAF8CC6',
    ]);
    expect(Object.keys(v.synth.template.findResources('AWS::Events::EventBus'))).toEqual(['HandlersEventBus5A951E14']);
  });
});

describe('which handler configurations need the admin-token secret', () => {
  const needs = (handlers: unknown) => handlerResourceNeeds(buildConfig({ handlers }).handlers);

  it('a dry run needs none, and neither does counting flags without banning or deleting', () => {
    expect(needs({ autoModeration: { enabled: true }, socialPlus: { dryRun: true } })).toEqual({
      stateTable: true,
      eventBus: false,
      socialPlusSecret: false,
    });
    expect(needs({ autoModeration: { enabled: true, ban: 'none' } })).toEqual({ stateTable: true, eventBus: false, socialPlusSecret: false });
    expect(needs({ autoModeration: { enabled: true, ban: 'none', deleteFlaggedContent: true } }).socialPlusSecret).toBe(true);
    expect(needs({ socialPlus: { baseUrl: 'https://proxy.example.com' } }).socialPlusSecret).toBe(true);
  });

  it("a region given with nothing enabled still configures the client, for the user's own handlers", () => {
    const synthView = synth({ handlers: { socialPlus: { region: 'sg' } } });
    expect(synthView.handlerVariables).toEqual([ENV.SOCIALPLUS_API_SECRET_ARN]);
    expect(synthView.count('AWS::SecretsManager::Secret')).toBe(2);
  });

  it('with a dry run the secret is not created even when handlers would call the API', () => {
    const synthView = synth({ handlers: { keywordFilter: { enabled: true, words: ['x'] }, socialPlus: { dryRun: true } } });
    expect(synthView.handlerVariables).toEqual([]);
    expect(synthView.count('AWS::SecretsManager::Secret')).toBe(1);
    expect(synthView.outputs).toEqual([]);
  });
});

describe('validation of the handlers key', () => {
  const problems = (context: Record<string, unknown>): string[] => {
    try {
      buildConfig(context);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return [...(err as ConfigError).problems];
    }
    throw new Error('expected a ConfigError');
  };

  it("merges the handlers' problems with the other keys' problems, naming the context key", () => {
    const found = problems({
      fanoutBatchSize: 0,
      handlers: { autoModeration: { enabled: true, threshhold: 3 }, dailyCounters: { retentionDays: 0 } },
    });
    expect(found.some((p) => p.startsWith('fanoutBatchSize:'))).toBe(true);
    expect(found).toContain("context key 'handlers'.autoModeration: unknown key(s) 'threshhold'");
    expect(found.some((p) => p.startsWith("context key 'handlers'.dailyCounters.retentionDays:") && p.includes('got 0'))).toBe(true);
  });

  it('asks for socialPlus.region when the sources are in several regions and a handler calls the API', () => {
    const found = problems({
      sources: [
        { name: 'default', region: 'us' },
        { name: 'eu-app', region: 'eu' },
      ],
      handlers: { keywordFilter: { enabled: true, words: ['x'] } },
    });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^context key 'handlers'\.socialPlus\.region: an enabled handler calls the Social Plus API/);
  });

  it('rejects handlers that are not a JSON object, and JSON that does not parse', () => {
    expect(problems({ handlers: '[1]' })).toEqual([expect.stringMatching(/^handlers: \[1\] is not a JSON object \(e\.g\. \{/)]);
    expect(problems({ handlers: 'autoModeration' })).toEqual([expect.stringMatching(/^handlers: 'autoModeration' is not a JSON object/)]);
    expect(problems({ handlers: '{"autoModeration":' })).toEqual([expect.stringMatching(/^handlers: .* is not valid JSON/)]);
  });

  it('takes socialPlus.baseUrl over https, or over plain http only to this machine (the admin token travels with every request)', () => {
    for (const baseUrl of ['http://proxy.example.com', 'http://10.0.0.5:8080', 'http://127.0.0.1.example.com']) {
      expect(problems({ handlers: { socialPlus: { baseUrl, dryRun: true } } }), baseUrl).toEqual([
        expect.stringMatching(
          /socialPlus\.baseUrl: must be https:\/\/ \(plain http:\/\/ only for this machine: localhost, 127\.0\.0\.0\/8 or \[::1\]\)/,
        ),
      ]);
    }
    for (const baseUrl of ['https://proxy.example.com', 'http://localhost:8080', 'http://127.0.0.1:9000', 'http://[::1]:9000']) {
      expect(buildConfig({ handlers: { socialPlus: { baseUrl, dryRun: true } } }).handlers.socialPlus?.baseUrl, baseUrl).toBe(baseUrl);
    }
  });

  it('rejects a socialPlusApiSecretArn that is not a complete secret ARN', () => {
    expect(problems({ socialPlusApiSecretArn: 'socialplus/admin' })).toEqual([
      expect.stringMatching(/^socialPlusApiSecretArn: 'socialplus\/admin' is not a complete Secrets Manager secret ARN/),
    ]);
  });

  it('HANDLERS_CONFIG carries the parsed configuration with the raised lease, and no more', () => {
    const c = buildConfig({ handlers: { claimLeaseSeconds: 600 } });
    expect(JSON.parse(handlersConfigValue(c.handlers, 30)).claimLeaseSeconds).toBe(600);
    expect(JSON.parse(handlersConfigValue(c.handlers, 400)).claimLeaseSeconds).toBe(800);
  });

  it("fails synthesis with a clear message when the configuration would not fit Lambda's 4 KB environment", () => {
    const words = Array.from({ length: 400 }, (_, i) => `forbidden-word-${i}`);
    const { app, cleanup } = newApp({
      'aws:cdk:bundling-stacks': [],
      handlers: { keywordFilter: { enabled: true, words }, socialPlus: { dryRun: true } },
    });
    let error: unknown;
    try {
      buildWebhooksApp(app, undefined);
    } catch (err) {
      error = err;
    } finally {
      cleanup();
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual([
      expect.stringMatching(
        /^handlers: the fan-out's environment would be about \d+ bytes, and Lambda allows 4096 .*HANDLERS_CONFIG.*keywordFilter\.words/,
      ),
    ]);
  });

  it('accepts a configuration that fits', () => {
    const words = Array.from({ length: 40 }, (_, i) => `forbidden-word-${i}`);
    const v = synth({ handlers: { keywordFilter: { enabled: true, words }, socialPlus: { dryRun: true } } });
    expect((v.handlersConfig.keywordFilter as { words: string[] }).words).toHaveLength(40);
  });
});
