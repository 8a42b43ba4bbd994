import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { buildWebhooksApp } from '../../bin/app.js';
import { buildConfig, CONFIG_DEFAULTS, CONFIG_KEYS, ConfigError, retryWindowSeconds, sourceIdPart } from '../../lib/config.js';
import * as defaults from '../../lambda/common/defaults.js';
import { PROFILE_DEFAULTS } from '../../lib/config/profiles.js';
import { cdkJsonContext, newApp } from './helpers.js';

/** The problems buildConfig reports for a context, or [] when it accepts it. */
function problemsOf(context: Record<string, unknown>): readonly string[] {
  try {
    buildConfig(context);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:socialplus/default-AbC123';

describe('buildConfig defaults', () => {
  it('gives every default with an empty context, one source named default in us', () => {
    const config = buildConfig({});
    expect(config.sources).toEqual([{ name: 'default', region: 'us' }]);
    expect(config).toMatchObject({
      stackName: 'SocialPlusWebhooks',
      eventTableDeletionProtection: true,
      allowedCidrs: [],
      eventRetentionDays: 90,
      archiveTransitionDays: 90,
      archiveBufferSeconds: 60,
      archiveBufferMiB: 64,
      fanoutBatchSize: 100,
      fanoutMaxBatchingWindowSeconds: 1,
      fanoutMaxConcurrency: 10,
      fanoutTimeoutSeconds: 30,
      maxReceiveCount: 5,
      apiRateLimit: 10_000,
      apiBurstLimit: 5_000,
      apiStageName: 'prod',
      athenaScanLimitGiB: 10,
      logRetentionDays: 30,
      logLevel: 'INFO',
      receiverDeadlineMs: 1000,
      tracing: true,
      metricsNamespace: 'SocialPlusWebhooks',
    });
    expect(config.alarmEmail).toBeUndefined();
  });

  it('ignores context keys that are not its own (feature flags, CDK internals, unrelated keys)', () => {
    expect(problemsOf({ ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], 'acknowledged-issue-numbers': [1], myOwnSetting: 'x' })).toEqual([]);
  });
});

describe('buildConfig accepts what -c key=value and cdk.json give it', () => {
  it('takes sources as a JSON string, normalising region case', () => {
    const config = buildConfig({ sources: `[{"name":"default","region":"EU"},{"name":"app-2","region":"sg","secretArn":"${ARN}"}]` });
    expect(config.sources).toEqual([
      { name: 'default', region: 'eu' },
      { name: 'app-2', region: 'sg', secretArn: ARN },
    ]);
  });

  it('takes allowedCidrs as a JSON array, a comma-separated string or bare addresses, normalised and de-duplicated', () => {
    expect(buildConfig({ allowedCidrs: '["203.0.113.7/32","2001:DB8::/32"]' }).allowedCidrs).toEqual(['203.0.113.7/32', '2001:db8::/32']);
    expect(buildConfig({ allowedCidrs: '203.0.113.7, 198.51.100.0/24,203.0.113.7/32' }).allowedCidrs).toEqual(['203.0.113.7/32', '198.51.100.0/24']);
    expect(buildConfig({ allowedCidrs: ['2001:db8::1'] }).allowedCidrs).toEqual(['2001:db8::1/128']);
  });

  it('takes numbers as strings and log levels in any case', () => {
    const config = buildConfig({
      eventRetentionDays: '30',
      fanoutBatchSize: ' 10 ',
      fanoutMaxBatchingWindowSeconds: '0',
      logLevel: 'debug',
      logRetentionDays: '365',
    });
    expect(config).toMatchObject({
      eventRetentionDays: 30,
      fanoutBatchSize: 10,
      fanoutMaxBatchingWindowSeconds: 0,
      logLevel: 'DEBUG',
      logRetentionDays: 365,
    });
  });

  it('takes an alarm email', () => {
    expect(buildConfig({ alarmEmail: 'ops@example.com' }).alarmEmail).toBe('ops@example.com');
  });

  it('takes the receiver deadline at both ends of its range, as a number or a string', () => {
    expect(buildConfig({ receiverDeadlineMs: 100 }).receiverDeadlineMs).toBe(100);
    expect(buildConfig({ receiverDeadlineMs: '1300' }).receiverDeadlineMs).toBe(1300);
  });

  it.each<[unknown, boolean]>([
    [false, false],
    [true, true],
    ['false', false],
    [' TRUE ', true],
  ])('takes tracing %j as %s', (raw, expected) => {
    expect(buildConfig({ tracing: raw }).tracing).toBe(expected);
  });

  it('takes a metrics namespace with dots, slashes, underscores and hyphens', () => {
    expect(buildConfig({ metricsNamespace: 'MyCompany/Webhooks.v2_eu-1' }).metricsNamespace).toBe('MyCompany/Webhooks.v2_eu-1');
    expect(buildConfig({ metricsNamespace: 'a'.repeat(127) }).metricsNamespace).toHaveLength(127);
  });
});

describe('buildConfig names each bad key, its value and what is allowed', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['unknown region', { sources: [{ name: 'default', region: 'ap' }] }, "sources[0].region: 'ap' is not one of sg, eu, us"],
    [
      'missing region',
      { sources: [{ name: 'default' }] },
      'sources[0].region: is missing; set the Social Plus region of the network, one of sg, eu, us',
    ],
    ['bad source name', { sources: [{ name: 'My App', region: 'us' }] }, "sources[0].name: 'My App' is not a source name"],
    [
      'duplicate source',
      {
        sources: [
          { name: 'a', region: 'us' },
          { name: 'a', region: 'eu' },
        ],
      },
      "sources[1].name: 'a' is already used by sources[0]; source names must be unique",
    ],
    [
      'output name clash',
      {
        sources: [
          { name: 'a-b', region: 'us' },
          { name: 'a--b', region: 'us' },
        ],
      },
      "sources[1].name: 'a--b' would share stack output names with sources[0] (both become 'AB'); rename one",
    ],
    [
      'unknown source key',
      { sources: [{ name: 'default', region: 'us', regoin: 'eu' }] },
      'sources[0].regoin: is not a source key; allowed keys are name, region, secretArn',
    ],
    [
      'partial secret ARN',
      { sources: [{ name: 'default', region: 'us', secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x' }] },
      "sources[0].secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:x' is not a complete Secrets Manager secret ARN",
    ],
    ['sources not JSON', { sources: '[{name:default}]' }, "sources: '[{name:default}]' is not valid JSON"],
    ['sources empty', { sources: [] }, 'sources: [] is not a non-empty array of {name, region, secretArn?}'],
    ['source not an object', { sources: ['default'] }, "sources[0]: 'default' is not an object like"],
    [
      'CIDR with host bits',
      { allowedCidrs: ['10.0.0.1/24'] },
      "allowedCidrs[0]: '10.0.0.1/24' has host bits set after the /24 prefix; use '10.0.0.0/24'",
    ],
    ['CIDR /0', { allowedCidrs: ['0.0.0.0/0'] }, "allowedCidrs[0]: '0.0.0.0/0' would allow every address; AWS WAF refuses /0"],
    ['not a CIDR', { allowedCidrs: 'localhost' }, "allowedCidrs[0]: 'localhost' is not an IPv4 or IPv6 address or CIDR"],
    ['CIDR list of numbers', { allowedCidrs: [42] }, 'allowedCidrs[0]: 42 is not a CIDR string'],
    ['CIDRs not a list', { allowedCidrs: { a: 1 } }, 'allowedCidrs: {"a":1} is not a list of CIDRs'],
    ['retention not a number', { eventRetentionDays: 'ninety' }, "eventRetentionDays: 'ninety' is not an integer from 1 to 3650"],
    ['retention zero', { eventRetentionDays: 0 }, 'eventRetentionDays: 0 is not an integer from 1 to 3650'],
    ['transition under 30 days', { archiveTransitionDays: 7 }, 'archiveTransitionDays: 7 is not an integer from 30 to 3650'],
    ['archive retention zero', { archiveRetentionDays: 0 }, 'archiveRetentionDays: 0 is not an integer from 1 to 36500'],
    ['archive retention text', { archiveRetentionDays: 'forever' }, "archiveRetentionDays: 'forever' is not an integer from 1 to 36500"],
    [
      'archive kept less than the table',
      { archiveRetentionDays: 30, eventRetentionDays: 60 },
      'archiveRetentionDays: 30 is shorter than eventRetentionDays (60): an event item would outlive the archive',
    ],
    ['buffer too long', { archiveBufferSeconds: 901 }, 'archiveBufferSeconds: 901 is not an integer from 0 to 900'],
    ['buffer too big', { archiveBufferMiB: 129 }, 'archiveBufferMiB: 129 is not an integer from 1 to 128'],
    ['batch size fractional', { fanoutBatchSize: 10.5 }, 'fanoutBatchSize: 10.5 is not an integer from 1 to 10000'],
    ['window over 300', { fanoutMaxBatchingWindowSeconds: 301 }, 'fanoutMaxBatchingWindowSeconds: 301 is not an integer from 0 to 300'],
    [
      'no window for a big batch',
      { fanoutBatchSize: 50, fanoutMaxBatchingWindowSeconds: 0 },
      'fanoutMaxBatchingWindowSeconds: 0 must be at least 1 when fanoutBatchSize (50) is above 10',
    ],
    ['concurrency 1', { fanoutMaxConcurrency: 1 }, 'fanoutMaxConcurrency: 1 is not an integer from 2 to 1000'],
    ['timeout over 15 minutes', { fanoutTimeoutSeconds: 901 }, 'fanoutTimeoutSeconds: 901 is not an integer from 1 to 900'],
    ['maxReceiveCount 1', { maxReceiveCount: 1 }, 'maxReceiveCount: 1 is too low'],
    ['maxReceiveCount huge', { maxReceiveCount: 5000 }, 'maxReceiveCount: 5000 is not an integer from 2 to 1000'],
    ['rate limit negative', { apiRateLimit: -1 }, 'apiRateLimit: -1 is not an integer from 1 to 100000'],
    ['burst limit text', { apiBurstLimit: 'lots' }, "apiBurstLimit: 'lots' is not an integer from 1 to 50000"],
    [
      'stage name with a dash',
      { apiStageName: 'my-stage' },
      "apiStageName: 'my-stage' is not a stage name: letters, digits and underscores, 1 to 128 characters",
    ],
    ['scan limit zero', { athenaScanLimitGiB: 0 }, 'athenaScanLimitGiB: 0 is not an integer from 1 to 10240'],
    ['log retention CloudWatch refuses', { logRetentionDays: 45 }, 'logRetentionDays: 45 is not one of 1, 3, 5, 7, 14, 30, 60, 90'],
    ['log level', { logLevel: 'TRACE' }, "logLevel: 'TRACE' is not one of DEBUG, INFO, WARN, ERROR"],
    ['alarm email', { alarmEmail: 'ops at example' }, "alarmEmail: 'ops at example' is not an email address"],
    ['deadline below 100 ms', { receiverDeadlineMs: 99 }, 'receiverDeadlineMs: 99 is not an integer from 100 to 1300'],
    ['deadline past 1300 ms', { receiverDeadlineMs: '1500' }, "receiverDeadlineMs: '1500' is not an integer from 100 to 1300"],
    ['deadline in seconds', { receiverDeadlineMs: 1.2 }, 'receiverDeadlineMs: 1.2 is not an integer from 100 to 1300'],
    ['tracing yes', { tracing: 'yes' }, "tracing: 'yes' is not true or false"],
    ['tracing 0', { tracing: 0 }, 'tracing: 0 is not true or false'],
    [
      'namespace with a colon',
      { metricsNamespace: 'My:Webhooks' },
      "metricsNamespace: 'My:Webhooks' is not a metrics namespace: 1 to 127 letters, digits, '.', '_', '-' and '/'",
    ],
    ['namespace with a space', { metricsNamespace: 'My Webhooks' }, "metricsNamespace: 'My Webhooks' is not a metrics namespace"],
    ['namespace empty', { metricsNamespace: '' }, "metricsNamespace: '' is not a metrics namespace"],
    ['namespace too long', { metricsNamespace: 'a'.repeat(128) }, 'is not a metrics namespace: 1 to 127 letters'],
    ['namespace not a string', { metricsNamespace: 42 }, 'metricsNamespace: 42 is not a metrics namespace'],
    [
      'namespace reserved by AWS',
      { metricsNamespace: 'AWS/Lambda' },
      "metricsNamespace: 'AWS/Lambda' starts with 'AWS/', which CloudWatch reserves for AWS services",
    ],
    ['misspelt namespace key', { metricNamespace: 'Mine' }, 'metricNamespace: is not a configuration key; did you mean metricsNamespace?'],
    [
      'stack name with an underscore',
      { stackName: 'My_Stack' },
      "stackName: 'My_Stack' is not a stack name: a letter, then letters, digits and hyphens, at most 64 characters",
    ],
    ['stack name starting with a digit', { stackName: '1Webhooks' }, "stackName: '1Webhooks' is not a stack name"],
    ['stack name too long', { stackName: `S${'a'.repeat(64)}` }, 'is not a stack name'],
    [
      'signature form unknown',
      { signatureForms: ['base64', 'sha1'] },
      `signatureForms: ["base64","sha1"] is not a non-empty list of signature forms; allowed: base64, hex, json-base64, json-hex`,
    ],
    ['signature forms empty', { signatureForms: '' }, "signatureForms: '' is not a non-empty list of signature forms"],
    ['deletion protection yes', { eventTableDeletionProtection: 'yes' }, "eventTableDeletionProtection: 'yes' is not true or false"],
    [
      'retry window past the queue retention',
      { maxReceiveCount: 300, fanoutTimeoutSeconds: 900 },
      'maxReceiveCount: 300 receives × a 5400 s visibility timeout (6 × fanoutTimeoutSeconds 900) is 1620000 s',
    ],
    [
      'retry window one receive too many',
      { maxReceiveCount: 225, fanoutTimeoutSeconds: 900 },
      'longer than the 1209600 s (14 days) the queue keeps a message: a failing event would expire before reaching the dead-letter queue. Use maxReceiveCount 224 or less',
    ],
    ['misspelt key', { eventRetentionDay: 30 }, 'eventRetentionDay: is not a configuration key; did you mean eventRetentionDays?'],
    ['wrong case key', { LOGLEVEL: 'INFO' }, 'LOGLEVEL: is not a configuration key; did you mean logLevel?'],
  ])('%s', (_label, context, expected) => {
    const problems = problemsOf(context);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(expected);
  });

  it('collects every problem before throwing, and the message lists each on its own line', () => {
    let thrown: unknown;
    try {
      buildConfig({ sources: [{ name: 'default', region: 'ap' }], eventRetentionDays: -3, logLevel: 'LOUD' });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    const error = thrown as ConfigError;
    expect(error.problems).toEqual([
      "sources[0].region: 'ap' is not one of sg, eu, us",
      'eventRetentionDays: -3 is not an integer from 1 to 3650',
      "logLevel: 'LOUD' is not one of DEBUG, INFO, WARN, ERROR",
    ]);
    expect(error.message).toContain("\n  - sources[0].region: 'ap' is not one of sg, eu, us\n");
    expect(error.name).toBe('ConfigError');
  });

  it('lists problems in the order the keys are read: misspelt keys, sources and the fan-out batching first, the retry window last', () => {
    expect(
      problemsOf({
        stackName: '1bad',
        logLevel: 'LOUD',
        maxReceiveCount: 300,
        fanoutTimeoutSeconds: 900,
        apiStageName: 'bad stage',
        fanoutBatchSize: 50,
        fanoutMaxBatchingWindowSeconds: 0,
        allowedCidrs: [42],
        eventRetentionDay: 30,
      }).map((p) => p.slice(0, p.indexOf(':'))),
    ).toEqual(['eventRetentionDay', 'allowedCidrs[0]', 'fanoutMaxBatchingWindowSeconds', 'apiStageName', 'stackName', 'logLevel', 'maxReceiveCount']);
  });

  it('takes signatureForms as a list or, from -c, a comma-separated string', () => {
    expect(buildConfig({}).signatureForms).toEqual(['base64', 'hex']);
    expect(buildConfig({ signatureForms: 'base64, json-base64' }).signatureForms).toEqual(['base64', 'json-base64']);
    expect(buildConfig({ signatureForms: '["hex"]' }).signatureForms).toEqual(['hex']);
  });

  it("accepts a retry window that exactly fills the queue's retention, and the stack name and deletion protection as -c strings", () => {
    // 224 × 6 × 900 s = 1,209,600 s = 14 days.
    expect(problemsOf({ maxReceiveCount: 224, fanoutTimeoutSeconds: 900 })).toEqual([]);
    expect(buildConfig({ stackName: 'SocialPlusWebhooks-staging', eventTableDeletionProtection: 'false' })).toMatchObject({
      stackName: 'SocialPlusWebhooks-staging',
      eventTableDeletionProtection: false,
    });
  });

  it('lists every key it reads in CONFIG_KEYS with a default', () => {
    expect(CONFIG_KEYS).toEqual(Object.keys(CONFIG_DEFAULTS));
    expect(CONFIG_KEYS).toContain('sources');
    expect(CONFIG_KEYS).toContain('alarmEmail');
    for (const key of ['receiverDeadlineMs', 'tracing', 'metricsNamespace']) expect(CONFIG_KEYS).toContain(key);
  });

  it('takes each default from the one module that states it', () => {
    expect(CONFIG_DEFAULTS).toMatchObject({
      eventRetentionDays: defaults.DEFAULT_EVENT_RETENTION_DAYS,
      fanoutBatchSize: defaults.DEFAULT_FANOUT_BATCH_SIZE,
      fanoutTimeoutSeconds: defaults.DEFAULT_FANOUT_TIMEOUT_SECONDS,
      maxReceiveCount: defaults.DEFAULT_MAX_RECEIVE_COUNT,
      apiRateLimit: defaults.API_ACCOUNT_DEFAULT_THROTTLE.rateLimit,
      apiBurstLimit: defaults.API_ACCOUNT_DEFAULT_THROTTLE.burstLimit,
      logRetentionDays: defaults.DEFAULT_LOG_RETENTION_DAYS,
    });
  });

  it('derives the retry window: maxReceiveCount visibility timeouts of 6 × fanoutTimeoutSeconds', () => {
    expect(retryWindowSeconds(buildConfig({}))).toBe(5 * 6 * 30);
    expect(retryWindowSeconds({ maxReceiveCount: 224, fanoutTimeoutSeconds: 900 })).toBe(14 * 24 * 60 * 60);
  });

  it('turns source names into output id parts', () => {
    expect(sourceIdPart('default')).toBe('Default');
    expect(sourceIdPart('eu-app-2')).toBe('EuApp2');
  });
});

describe('profiles', () => {
  it('lean is the default and sets nothing beyond CONFIG_DEFAULTS', () => {
    const lean = buildConfig({});
    expect(lean.profile).toBe('lean');
    expect(buildConfig({ profile: 'lean' })).toEqual(lean);
    for (const key of CONFIG_KEYS) if (key !== 'sources' && key !== 'handlers') expect(lean[key], key).toEqual(CONFIG_DEFAULTS[key]);
  });

  it('hardened chooses the defaults PROFILE_DEFAULTS lists, and only those', () => {
    const lean = buildConfig({});
    const hardened = buildConfig({ profile: 'HARDENED' });
    expect(hardened.profile).toBe('hardened');
    const changed = CONFIG_KEYS.filter((k) => k !== 'profile' && JSON.stringify(hardened[k]) !== JSON.stringify(lean[k]));
    expect(changed.sort()).toEqual(Object.keys(PROFILE_DEFAULTS.hardened).sort());
    for (const [key, value] of Object.entries(PROFILE_DEFAULTS.hardened)) expect(hardened[key as keyof typeof hardened], key).toEqual(value);
    expect(hardened.logRetentionDays).toBeGreaterThanOrEqual(365);
  });

  it('a key given in the context wins over its profile, as -c gives it (strings) and as cdk.json does', () => {
    const c = buildConfig({ profile: 'hardened', logRetentionDays: '30', dashboard: 'false', customerManagedKeys: false });
    expect(c).toMatchObject({
      profile: 'hardened',
      logRetentionDays: 30,
      dashboard: false,
      customerManagedKeys: false,
      apiExecutionLogging: 'ERROR',
    });
  });

  it('refuses an unknown profile and a sampling rate outside (0, 1], naming what is allowed', () => {
    expect(() => buildConfig({ profile: 'cheap' })).toThrow(/profile: 'cheap' is not one of lean, hardened/);
    for (const bad of [0, -0.1, 1.5, 'often'])
      expect(() => buildConfig({ tracingSampleRate: bad }), String(bad)).toThrow(
        /tracingSampleRate: .* is not a share of requests above 0 and at most 1/,
      );
    expect(buildConfig({ tracingSampleRate: '0.25' }).tracingSampleRate).toBe(0.25);
  });
});

describe('documentation', () => {
  it("documents every configuration key in the README's Deploy section table", () => {
    const documents = ['../../README.md']
      .map((path) => fileURLToPath(new URL(path, import.meta.url)))
      .filter((path) => existsSync(path))
      .map((path) => readFileSync(path, 'utf8'))
      .filter((text) => text.includes('### Configuration keys'));
    expect(documents.length).toBeGreaterThan(0);
    for (const key of CONFIG_KEYS)
      expect(
        documents.some((text) => text.includes(`| \`${key}\` |`)),
        key,
      ).toBe(true);
  });
});

describe('configuration errors through the app', () => {
  it('buildWebhooksApp fails before building anything, naming the key from the app context', () => {
    const { app, cleanup } = newApp({ sources: '[{"name":"default","region":"ap"}]' });
    try {
      expect(() => buildWebhooksApp(app, undefined)).toThrow(/sources\[0\]\.region: 'ap' is not one of sg, eu, us/);
      expect(app.node.children).toHaveLength(0);
    } finally {
      cleanup();
    }
  });

  it('bin/app.ts run by the CDK CLI prints the problems without a stack trace and exits 1', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const outdir = mkdtempSync(join(tmpdir(), 'spw-cdk-'));
    let result: SpawnSyncReturns<string>;
    try {
      result = spawnSync(process.execPath, ['--import', 'tsx', 'bin/app.ts'], {
        cwd: root,
        encoding: 'utf8',
        // What the CDK CLI hands the app: the merged context as JSON, and where to write.
        env: {
          ...process.env,
          CDK_OUTDIR: outdir,
          CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), fanoutMaxConcurrency: '1', logLevel: 'LOUD' }),
        },
      });
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("fanoutMaxConcurrency: '1' is not an integer from 2 to 1000");
    expect(result.stderr).toContain("logLevel: 'LOUD' is not one of DEBUG, INFO, WARN, ERROR");
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});
