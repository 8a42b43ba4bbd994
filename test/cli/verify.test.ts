/**
 * `verify`'s pure parts (latency figures, marked events, answers and advice, stack outputs) and
 * its command line: option checks, the refusal without --aws, and a run through `main()` with real
 * SDK clients against the recording AWS double that stops at a placeholder secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configuredArchiveBufferSeconds, configuredSecretArn } from '../../cli/commands/verify.js';
import { CliError } from '../../cli/errors.js';
import { markedBody, newRunId, readVerifySample, verificationEvents } from '../../cli/verify/events.js';
import { latencySummary, SOCIALPLUS_TIMEOUT_MS } from '../../cli/verify/latency.js';
import { lookupPublicIp } from '../../cli/verify/public-ip.js';
import {
  cidrOf,
  classifyAnswer,
  eventProblems,
  latencyLine,
  latencyProblem,
  stopsRun,
  type AdviceContext,
  type EventCheck,
} from '../../cli/verify/report.js';
import { archivePrefixes, eventIdsInArchiveObject } from '../../cli/verify/follow.js';
import { targetFromOutputs } from '../../cli/verify/target.js';
import { parseEvent, VERIFICATION_MARKER_KEY } from '../../lambda/core/envelope.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { SECRET_PLACEHOLDER } from '../../lambda/core/secret-value.js';
import { gzipSync } from 'node:zlib';
import { awsDoubleEnv, escapeXml, jsonAnswer, queryAnswer, startAwsDouble, type AwsDouble } from '../support/aws-double.js';
import { runCli } from './run-cli.js';

describe('latencySummary: the first request apart, then nearest-rank percentiles of the rest', () => {
  it('eleven requests: first 812.3 ms; p50 101, p95 240, p99 240 of the other ten; within 1.5 s', () => {
    expect(latencySummary([812.34, 120, 95, 101, 130, 99, 110, 240, 105, 100, 98])).toEqual({
      firstMs: 812.3,
      warm: { count: 10, p50: 101, p95: 240, p99: 240, max: 240 },
      budgetMs: SOCIALPLUS_TIMEOUT_MS,
      verdict: 'within',
      firstOverBudget: false,
    });
  });

  it('a first request of 1000 ms and 100 more of 1..100 ms: p50 50, p95 95, p99 99, max 100', () => {
    const rest = Array.from({ length: 100 }, (_, i) => 100 - i);
    expect(latencySummary([1000, ...rest]).warm).toEqual({ count: 100, p50: 50, p95: 95, p99: 99, max: 100 });
  });

  it('warm p99 above 1.5 s is over; a slow first request is noted on its own', () => {
    expect(latencySummary([2100.04, 1400, 1600])).toEqual({
      firstMs: 2100,
      warm: { count: 2, p50: 1400, p95: 1600, p99: 1600, max: 1600 },
      budgetMs: 1500,
      verdict: 'over',
      firstOverBudget: true,
    });
    expect(latencySummary([1700, 90, 95])).toMatchObject({ verdict: 'within', firstOverBudget: true });
    expect(latencySummary([1500, 1500])).toMatchObject({ verdict: 'within', firstOverBudget: false });
  });

  it('one request: no warm figures, judged on its own; none: unknown', () => {
    expect(latencySummary([300.06])).toEqual({ firstMs: 300.1, warm: null, budgetMs: 1500, verdict: 'within', firstOverBudget: false });
    expect(latencySummary([])).toEqual({ firstMs: null, warm: null, budgetMs: 1500, verdict: 'unknown', firstOverBudget: false });
  });

  it('rejects a latency that is not a finite number >= 0', () => {
    expect(() => latencySummary([10, -1])).toThrow(RangeError);
    expect(() => latencySummary([Number.NaN])).toThrow(RangeError);
  });

  it('prints the comparison with the timeout', () => {
    expect(latencyLine(latencySummary([812.34, 120, 95, 101, 130, 99, 110, 240, 105, 100, 98]))).toBe(
      "latency   first 812 ms (includes a cold start); then p50 101 ms, p95 240 ms, p99 240 ms over 10 requests — p99 within Social Plus's 1.5 s timeout (16% of it)",
    );
    expect(latencyLine(latencySummary([2100, 1400, 1600]))).toContain("p99 OVER Social Plus's 1.5 s timeout");
    expect(latencyLine(latencySummary([]))).toBe('latency   no request was answered');
    expect(latencyProblem(latencySummary([2100, 1400, 1600]))?.step).toBe('latency');
    expect(latencyProblem(latencySummary([90, 95]))).toBeUndefined();
  });
});

describe('verification events', () => {
  const sample = readVerifySample();

  it('each body is the sample plus the marker { runId, seq }, with its own event id', () => {
    const events = verificationEvents(sample, 'run-x', 4);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(4);
    const original = parseEvent(sample.toString('utf8'));
    for (const e of events) {
      expect(e.eventId).toBe(eventIdOf(e.body));
      const parsed = parseEvent(e.body.toString('utf8'));
      expect(parsed.flags).toEqual([...original.flags, 'verification']);
      expect(parsed.eventType).toBe(original.eventType);
      const { [VERIFICATION_MARKER_KEY]: marker, ...rest } = parsed.payload as Record<string, unknown>;
      expect(marker).toEqual({ runId: 'run-x', seq: e.seq });
      expect(rest).toEqual(original.payload);
    }
  });

  it('two runs never share an event id', () => {
    const a = verificationEvents(sample, 'run-a', 3).map((e) => e.eventId);
    const b = verificationEvents(sample, 'run-b', 3).map((e) => e.eventId);
    expect(a.filter((id) => b.includes(id))).toEqual([]);
  });

  it('replaces a marker already in the sample, and refuses a body that is not an envelope', () => {
    const already = Buffer.from(`{"event":"x.y","${VERIFICATION_MARKER_KEY}":{"runId":"old","seq":9},"data":{}}`);
    expect(JSON.parse(markedBody(already, { runId: 'new', seq: 1 }).toString())).toEqual({
      event: 'x.y',
      data: {},
      [VERIFICATION_MARKER_KEY]: { runId: 'new', seq: 1 },
    });
    expect(() => markedBody('{"hello":"world"}', { runId: 'r', seq: 1 })).toThrow(RangeError);
    expect(() => verificationEvents(sample, 'r', 0)).toThrow(RangeError);
  });

  it('run ids sort by their UTC start', () => {
    expect(newRunId(new Date('2026-01-02T03:04:05.678Z'), () => 'abcd1234')).toBe('20260102T030405Z-abcd1234');
    expect(newRunId(new Date())).toMatch(/^\d{8}T\d{6}Z-[0-9a-f]{8}$/);
  });
});

describe('answers and advice', () => {
  const response = (status: number, body: string) => ({ kind: 'response' as const, status, body, latencyMs: 10 });

  it.each([
    ['200 {}', response(200, '{}'), 'accepted', false],
    ['403 {"message":"Forbidden"}', response(403, '{"message":"Forbidden"}'), 'firewall', true],
    ['403 {"message":"Missing Authentication Token"}', response(403, '{"message":"Missing Authentication Token"}'), 'forbidden', true],
    ['401 {"message":"invalid signature"}', response(401, '{"message":"invalid signature"}'), 'signature', true],
    ['404 {"message":"unknown webhook source \'eu\'"}', response(404, '{"message":"unknown webhook source \'eu\'"}'), 'unknown-source', true],
    ['429 {"message":"Too Many Requests"}', response(429, '{"message":"Too Many Requests"}'), 'throttled', false],
    ['503 {"message":"webhook secret not configured"}', response(503, '{"message":"webhook secret not configured"}'), 'secret-not-configured', true],
    ['503 {"message":"temporarily unavailable"}', response(503, '{"message":"temporarily unavailable"}'), 'server-error', false],
    ['502 Bad Gateway', response(502, 'Bad Gateway'), 'server-error', false],
    ['413 {"message":"Request Too Long"}', response(413, '{"message":"Request Too Long"}'), 'refused', true],
    ['no answer (ECONNREFUSED)', { kind: 'error' as const, error: 'ECONNREFUSED', message: 'connect ECONNREFUSED', latencyMs: 1 }, 'no-answer', true],
    ['no answer (TIMEOUT)', { kind: 'error' as const, error: 'TIMEOUT', message: 'no answer within 10000 ms', latencyMs: 10000 }, 'no-answer', false],
  ])('%s → %s (stops the run: %s)', (_label, outcome, kind, stops) => {
    expect(classifyAnswer(outcome)).toBe(kind);
    expect(stopsRun(classifyAnswer(outcome), outcome)).toBe(stops);
  });

  it('the allowedCidrs value: /32 for IPv4, /128 for IPv6, a placeholder when unknown', () => {
    expect(cidrOf('203.0.113.9')).toBe('203.0.113.9/32');
    expect(cidrOf('2001:db8::1')).toBe('2001:db8::1/128');
    expect(cidrOf(null)).toBe('<your-public-ip>/32');
  });

  const ctx: AdviceContext = { stack: 'SocialPlusWebhooks', region: null, source: 'default', url: 'https://x/prod/webhook', secretArn: 'arn:secret' };
  const check = (over: Partial<EventCheck>): EventCheck => ({
    seq: 1,
    eventId: 'e1',
    stored: true,
    flags: ['verification'],
    handlers: [],
    archived: null,
    ...over,
  });
  const meta = (checked: boolean) => ({
    store: { table: 't', timeoutSeconds: 60, found: 0 },
    archive: { bucket: 'b', checked, timeoutSeconds: checked ? 120 : null, found: 0 },
  });

  it('events: nothing to report when stored, marked, skipped and (when checked) archived', () => {
    expect(eventProblems([check({ archived: true })], meta(true), ctx)).toEqual([]);
    expect(eventProblems([check({})], meta(false), ctx)).toEqual([]);
  });

  it('events: not stored, stored without the marker (an older fan-out), not archived', () => {
    const problems = eventProblems(
      [check({ stored: false, flags: null, handlers: null, archived: false }), check({ eventId: 'e2', flags: [], handlers: ['h'], archived: true })],
      meta(true),
      ctx,
    );
    expect(problems.map((p) => p.step)).toEqual(['store', 'marker', 'archive']);
    expect(problems[0]?.message).toContain('1 of 2 accepted events were not in the event table t after 60 s: e1');
    expect(problems[1]?.fix).toEqual(['deploy this version: npx cdk deploy']);
    expect(problems[2]?.message).toContain('1 of 2 events were not in the archive bucket b after 120 s: e1');
  });
});

describe('the stack outputs verify reads', () => {
  const outputs = {
    WebhookUrlDefault: 'https://a/prod/webhook',
    SecretArnDefault: 'arn:default',
    WebhookUrlEuApp: 'https://a/prod/webhook/eu-app',
    EventTableName: 'events',
    ArchiveBucketName: 'archive',
  };

  it('per-source keys follow the source name (eu-app → EuApp)', () => {
    expect(targetFromOutputs(outputs, 'S', 'default')).toEqual({
      url: 'https://a/prod/webhook',
      secretArn: 'arn:default',
      table: 'events',
      bucket: 'archive',
    });
    expect(targetFromOutputs(outputs, 'S', 'eu-app', 'arn:own').secretArn).toBe('arn:own');
  });

  it('names what is missing', () => {
    expect(() => targetFromOutputs(outputs, 'S', 'sg')).toThrow(
      /no webhook URL for source 'sg' \(output WebhookUrlSg\); it has WebhookUrlDefault, WebhookUrlEuApp/,
    );
    expect(() => targetFromOutputs(outputs, 'S', 'eu-app')).toThrow(/no output SecretArnEuApp: source 'eu-app' uses a secret of its own/);
    expect(() => targetFromOutputs({ WebhookUrlDefault: 'u', SecretArnDefault: 'a' }, 'S', 'default')).toThrow(/no output EventTableName/);
    expect(() => targetFromOutputs({}, 'S', 'default')).toThrow(CliError);
  });

  it("cdk.json: a source's own secretArn, and archiveBufferSeconds", () => {
    expect(configuredSecretArn({ sources: [{ name: 'eu', region: 'eu', secretArn: 'arn:eu' }] }, 'eu')).toBe('arn:eu');
    expect(configuredSecretArn({ sources: '[{"name":"eu","secretArn":"arn:eu"}]' }, 'eu')).toBe('arn:eu');
    expect(configuredSecretArn({ sources: [{ name: 'default' }] }, 'default')).toBeUndefined();
    expect(configuredSecretArn({}, 'default')).toBeUndefined();
    expect(configuredArchiveBufferSeconds({ archiveBufferSeconds: 300 })).toBe(300);
    expect(configuredArchiveBufferSeconds({ archiveBufferSeconds: 'x' })).toBe(60);
    expect(configuredArchiveBufferSeconds({})).toBe(60);
  });
});

describe('the archive as verify reads it', () => {
  it('lists every UTC hour from the start to now', () => {
    expect(archivePrefixes(Date.parse('2026-01-01T22:55:00Z'), Date.parse('2026-01-02T00:05:00Z'))).toEqual([
      'events/dt=2026-01-01/hour=22/',
      'events/dt=2026-01-01/hour=23/',
      'events/dt=2026-01-02/hour=00/',
    ]);
  });

  it('reads event ids from gzip NDJSON (and plain NDJSON), skipping lines cut short', () => {
    const text = '{"event_id":"a"}\n{"event_id":"b"}\n{"event_i';
    expect(eventIdsInArchiveObject(gzipSync(text))).toEqual(['a', 'b']);
    expect(eventIdsInArchiveObject(Buffer.from(text))).toEqual(['a', 'b']);
  });

  it('the public IP lookup returns an address, or undefined on anything else', async () => {
    const answering = (status: number, body: string) => (async () => new Response(body, { status })) as unknown as typeof fetch;
    expect(await lookupPublicIp({ fetch: answering(200, '198.51.100.4\n') })).toBe('198.51.100.4');
    expect(await lookupPublicIp({ fetch: answering(200, '<html>captive portal</html>') })).toBeUndefined();
    expect(await lookupPublicIp({ fetch: answering(500, '') })).toBeUndefined();
    expect(await lookupPublicIp({ fetch: (async () => Promise.reject(new TypeError('fetch failed'))) as unknown as typeof fetch })).toBeUndefined();
  });
});

describe('verify on the command line', () => {
  it('refuses without --aws, saying what to use for local mode', async () => {
    const run = await runCli(['verify']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('verify checks a deployed stack: run it with --aws');
    expect(run.stderr).toContain('socialplus-webhooks send message.didCreate');
  });

  it.each(['0', '101', 'five', '2.5'])('refuses --count %s', async (count) => {
    const run = await runCli(['verify', '--aws', '--count', count]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`--count must be a whole number from 1 to 100, got '${count}'`);
  });

  it('refuses a bad --timeout and a bad --stack', async () => {
    expect((await runCli(['verify', '--aws', '--timeout', '0'])).stderr).toContain('--timeout must be a whole number from 1 to 3600');
    expect((await runCli(['verify', '--aws', '--stack', '9lives'])).stderr).toContain("--stack '9lives' is not a stack name");
  });

  it('--help explains the marker and the latency, with examples', async () => {
    const run = await runCli(['verify', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("where not contains(flags, 'verification')");
    expect(run.stdout).toContain('$ socialplus-webhooks verify --aws --count 20 --wait-archive');
  });

  describe('against the AWS double (real SDK clients through main())', () => {
    const ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:socialplus-webhook-default-AbC123';
    let aws: AwsDouble;
    beforeAll(async () => {
      const outputs: Record<string, string> = {
        WebhookUrlDefault: 'http://127.0.0.1:9/prod/webhook',
        SecretArnDefault: ARN,
        EventTableName: 'events',
        ArchiveBucketName: 'archive',
      };
      const members = Object.entries(outputs)
        .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${escapeXml(v)}</OutputValue></member>`)
        .join('');
      aws = await startAwsDouble({
        'cloudformation:DescribeStacks': queryAnswer(
          'DescribeStacks',
          `<Stacks><member><StackName>SocialPlusWebhooks</StackName><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks>`,
        ),
        'secretsmanager:GetSecretValue': jsonAnswer({ ARN, Name: 'socialplus-webhook-default', SecretString: SECRET_PLACEHOLDER }),
      });
    });
    afterAll(async () => {
      await aws?.close();
    });

    it('stops at a placeholder secret with the command that stores the key, before posting anything', async () => {
      const run = await runCli(['verify', '--aws', '--stack', 'SocialPlusWebhooks', '--json'], awsDoubleEnv(aws.endpoint));
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain("webhook secret for source 'default' is not configured: the secret still holds the placeholder");
      expect(run.stderr).toContain(
        `aws secretsmanager put-secret-value --secret-id '${ARN}' --secret-string '<the secret key from the Social Plus console>'`,
      );
      expect(aws.callsTo('cloudformation:DescribeStacks')[0]?.input).toMatchObject({ StackName: 'SocialPlusWebhooks' });
      expect(aws.callsTo('secretsmanager:GetSecretValue')[0]?.input).toEqual({ SecretId: ARN });
      // Nothing else was asked of AWS: no store or archive reads, and the URL (a closed port) was never posted to.
      expect(aws.calls.map((c) => `${c.service}:${c.operation}`)).toEqual(['cloudformation:DescribeStacks', 'secretsmanager:GetSecretValue']);
    });
  });
});
