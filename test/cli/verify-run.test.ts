/**
 * `verify --aws`'s runner against the real pipeline: local mode stands in for the deployed API,
 * the event table (dynalite) and the archive (s3rver), so the posted events are really verified,
 * stored and archived by the same code as on AWS; CloudFormation and Secrets Manager are the
 * recording AWS double, talked to by real SDK clients; a small proxy stands in for the firewall.
 * The runner's sleep lets the pipeline settle and advances a virtual clock: nothing waits on time.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CliError } from '../../cli/errors.js';
import { renderReport, type VerifyReport } from '../../cli/verify/report.js';
import { runVerify, type VerifyDeps, type VerifyPlan } from '../../cli/verify/runner.js';
import type { HandlerContext } from '../../lambda/core/define-handler.js';
import { VERIFICATION_MARKER_KEY } from '../../lambda/core/envelope.js';
import { SECRET_PLACEHOLDER } from '../../lambda/core/secret-value.js';
import { localDynamoDbClient, localS3Client } from '../../local/emulators.js';
import type { LocalPipeline } from '../../local/pipeline.js';
import { escapeXml, jsonAnswer, queryAnswer, queryError, startAwsDouble, type AwsDouble } from '../support/aws-double.js';
import { startRecordingPipeline, stopTempPipeline } from '../support/local-pipeline.js';
import { runCli } from './run-cli.js';

const SECRET = 'verify-run-secret';
const STACK = 'SocialPlusWebhooks';
const SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:socialplus-webhook-default-AbC123';
const PARTNER_SECRET_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:socialplus-webhook-partner-DeF456';
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

let dir: string;
let pipeline: LocalPipeline;
let aws: AwsDouble;
let firewall: Firewall;
/** Every handler invocation in local mode: a verify run must add none. */
const handled: HandlerContext[] = [];

/** The WAF in front of the API: answers 403 {"message":"Forbidden"} unless the caller's address is allowed. */
interface Firewall {
  readonly url: string;
  readonly allowed: Set<string>;
  /** Requests seen, allowed or not. */
  seen: number;
  close(): Promise<void>;
}

async function startFirewall(upstream: string): Promise<Firewall> {
  const fw = { allowed: new Set<string>(), seen: 0 } as { allowed: Set<string>; seen: number };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      fw.seen++;
      const from = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
      if (!fw.allowed.has(from)) {
        res.writeHead(403, { 'content-type': 'application/json' });
        res.end('{"message":"Forbidden"}');
        return;
      }
      const headers = Object.fromEntries(
        Object.entries(req.headers)
          .filter(([k]) => k === 'content-type' || k.startsWith('x-'))
          .map(([k, v]) => [k, String(v)]),
      );
      void fetch(`${upstream}${req.url ?? ''}`, { method: req.method ?? 'POST', headers, body: Buffer.concat(chunks) }).then(async (up) => {
        res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'application/json' });
        res.end(await up.text());
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(fw, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** CloudFormation's DescribeStacks answer (query protocol XML) for a stack with these outputs. */
function describeStacks(outputs: Readonly<Record<string, string>>) {
  const members = Object.entries(outputs)
    .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${escapeXml(v)}</OutputValue></member>`)
    .join('');
  return queryAnswer(
    'DescribeStacks',
    `<Stacks><member><StackName>${STACK}</StackName><StackStatus>UPDATE_COMPLETE</StackStatus><Outputs>${members}</Outputs></member></Stacks>`,
  );
}

/** The outputs of a stack whose API is local mode (or the firewall in front of it). */
function outputs(over: Record<string, string> = {}): Record<string, string> {
  return {
    WebhookUrlDefault: `${pipeline.url}/webhook`,
    SecretArnDefault: SECRET_ARN,
    WebhookUrlPartner: `${pipeline.url}/webhook/partner`,
    SecretArnPartner: PARTNER_SECRET_ARN,
    EventTableName: pipeline.tableName,
    ArchiveBucketName: pipeline.bucket,
    ...over,
  };
}

/** Serves the stack's outputs and one secret value for every secret. */
function answerAws(stackOutputs: Record<string, string>, secretString: string): void {
  aws.answer({
    'cloudformation:DescribeStacks': (call) =>
      call.input.StackName === STACK
        ? describeStacks(stackOutputs)
        : queryError('ValidationError', `Stack with id ${String(call.input.StackName)} does not exist`),
    'secretsmanager:GetSecretValue': (call) => jsonAnswer({ ARN: call.input.SecretId, Name: 'socialplus-webhook', SecretString: secretString }),
  });
}

/** Real SDK clients: CloudFormation and Secrets Manager on the double, DynamoDB and S3 on local mode's emulators. */
function deps(over: Partial<VerifyDeps> = {}): VerifyDeps & { readonly clock: { t: number } } {
  const clock = { t: Date.now() };
  const sdk = { endpoint: aws.endpoint, region: 'us-east-1', credentials: CREDENTIALS, maxAttempts: 1 };
  return {
    clients: {
      cloudFormation: new CloudFormationClient(sdk),
      secretsManager: new SecretsManagerClient(sdk),
      dynamodb: localDynamoDbClient(pipeline.endpoints.dynamodb, { credentials: pipeline.credentials }),
      s3: localS3Client(pipeline.endpoints.s3, { credentials: pipeline.credentials }),
    },
    now: () => clock.t,
    // Time passing is the pipeline doing its work: the queue drained, the delivery stream flushed.
    sleep: async (ms) => {
      clock.t += ms;
      await pipeline.settle();
    },
    lookupPublicIp: async () => {
      throw new Error('the public IP is looked up only after a firewall refusal');
    },
    clock,
    ...over,
  };
}

const plan = (over: Partial<VerifyPlan> = {}): VerifyPlan => ({ stack: STACK, source: 'default', count: 5, storeTimeoutMs: 60_000, ...over });

beforeAll(async () => {
  ({ dir, pipeline } = await startRecordingPipeline('verify-run-', { secret: SECRET, handlerName: 'catch-all', handled }));
  aws = await startAwsDouble();
  firewall = await startFirewall(pipeline.url);
});

afterAll(async () => {
  await firewall?.close();
  await aws?.close();
  await stopTempPipeline(pipeline, dir);
});

beforeEach(() => {
  aws.calls.length = 0;
  firewall.seen = 0;
  firewall.allowed.clear();
});

afterEach(() => {
  expect(handled.splice(0), 'a verify run never reaches a handler').toEqual([]);
});

/** The report as the command prints it, and as JSON, must never hold the secret. */
function expectNoSecret(report: VerifyReport, secret: string): void {
  expect(renderReport(report)).not.toContain(secret);
  expect(JSON.stringify(report)).not.toContain(secret);
}

describe('verify --aws, all the way through', () => {
  it('all N accepted, stored flagged verification, skipped by the handlers, and archived', async () => {
    answerAws(outputs(), SECRET);
    const d = deps({ runId: 'run-all-ok' });
    const report = await runVerify(plan({ archiveTimeoutMs: 120_000 }), d);

    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.requests.map((r) => [r.seq, r.status, r.answer, r.kind])).toEqual([1, 2, 3, 4, 5].map((seq) => [seq, 200, '{}', 'accepted']));
    expect(new Set(report.requests.map((r) => r.eventId)).size).toBe(5);
    expect(report.latency.firstMs).toBe(report.requests[0]?.latencyMs);
    expect(report.latency.warm?.count).toBe(4);
    expect(report.latency.verdict).toBe('within');
    expect(report.events).toHaveLength(5);
    for (const e of report.events) {
      expect(e).toMatchObject({ stored: true, handlers: [], archived: true });
      expect(e.flags).toContain('verification');
      expect(e.archiveKey).toMatch(/^events\/dt=\d{4}-\d{2}-\d{2}\/hour=\d{2}\//);
    }
    expect(report.store.found).toBe(5);
    expect(report.archive).toMatchObject({ bucket: pipeline.bucket, checked: true, timeoutSeconds: 120, found: 5 });
    // Each stored event is the signed body byte for byte, marked with the run and its number.
    for (const r of report.requests) {
      const item = await pipeline.store.get(r.eventId);
      expect(JSON.parse(item?.payload ?? '{}')[VERIFICATION_MARKER_KEY]).toEqual({ runId: 'run-all-ok', seq: r.seq });
    }
    expect(aws.callsTo('secretsmanager:GetSecretValue').map((c) => c.input.SecretId)).toEqual([SECRET_ARN]);
    expectNoSecret(report, SECRET);

    const text = renderReport(report);
    expect(text).toContain(`verify    stack ${STACK}, source 'default' → POST ${pipeline.url}/webhook`);
    expect(text).toContain(
      'events    stored 5/5 in socialplus-webhooks-events; flagged verification 5/5; handlers: none ran (skipped by the marker); archived 5/5',
    );
    expect(text).toContain('OK        every event was accepted, stored, archived and skipped by the handlers');
    expect(text).toMatch(/p99 within Social Plus's 1\.5 s timeout/);

    // The documented filter leaves them out of queries over the archive (DuckDB, as Athena).
    const q = await runCli([
      'query',
      [
        "select count(distinct event_id) filter (where contains(flags, 'verification')) as marked,",
        "       count(distinct event_id) filter (where not contains(flags, 'verification')) as others,",
        "       count(distinct event_id) filter (where json_extract_scalar(payload, '$.socialplusWebhooksVerification.runId') = 'run-all-ok') as this_run",
        'from events',
      ].join('\n'),
      '--dir',
      dir,
      '--json',
    ]);
    expect(q.code, q.stderr).toBe(0);
    expect(JSON.parse(q.stdout)).toEqual([{ marked: 5, others: 0, this_run: 5 }]);
  });

  it('another source: its own URL and secret; without --wait-archive the archive is not read', async () => {
    answerAws(outputs(), SECRET);
    const report = await runVerify(plan({ source: 'partner', count: 2 }), deps());
    expect(report.ok).toBe(true);
    expect(report.url).toBe(`${pipeline.url}/webhook/partner`);
    expect(aws.callsTo('secretsmanager:GetSecretValue').map((c) => c.input.SecretId)).toEqual([PARTNER_SECRET_ARN]);
    expect(report.events.map((e) => [e.stored, e.archived])).toEqual([
      [true, null],
      [true, null],
    ]);
    expect(report.archive.checked).toBe(false);
    expect(renderReport(report)).toContain('archived not checked (add --wait-archive)');
    for (const e of report.events) expect((await pipeline.store.get(e.eventId))?.source).toBe('partner');
  });
});

describe('verify --aws, when something is wrong', () => {
  it('a 403 from the firewall: stops after one request and gives the allowedCidrs command with the looked-up IP', async () => {
    answerAws(outputs({ WebhookUrlDefault: `${firewall.url}/webhook` }), SECRET);
    const accepted = pipeline.metrics().Accepted ?? 0;
    const report = await runVerify(plan(), deps({ lookupPublicIp: async () => '198.51.100.23' }));

    expect(report.ok).toBe(false);
    expect(report.requests.map((r) => [r.status, r.kind])).toEqual([[403, 'firewall']]);
    expect(firewall.seen).toBe(1);
    expect(pipeline.metrics().Accepted ?? 0).toBe(accepted);
    expect(report.publicIp).toBe('198.51.100.23');
    expect(report.events).toEqual([]);
    expect(report.problems.map((p) => p.step)).toEqual(['request']);
    expect(report.problems[0]?.message).toContain('the firewall blocked your IP 198.51.100.23: 403 {"message":"Forbidden"}');
    expect(report.problems[0]?.fix[0]).toBe('allow it: npx cdk deploy -c allowedCidrs=198.51.100.23/32');
    const text = renderReport(report);
    expect(text).toContain('(4 not sent: every one would have got the same answer)');
    expect(text).toContain('→ allow it: npx cdk deploy -c allowedCidrs=198.51.100.23/32');
    expect(text).toContain('latency   no request was answered');

    // Once the address is allowed, the same run passes.
    firewall.allowed.add('127.0.0.1');
    const again = await runVerify(plan({ count: 2 }), deps());
    expect(again.ok, JSON.stringify(again.problems)).toBe(true);
    expect(again.requests.map((r) => r.status)).toEqual([200, 200]);
  });

  it('a 403 when the public IP cannot be looked up: a placeholder and how to find it', async () => {
    answerAws(outputs({ WebhookUrlDefault: `${firewall.url}/webhook` }), SECRET);
    const report = await runVerify(plan({ count: 1 }), deps({ lookupPublicIp: async () => undefined }));
    expect(report.publicIp).toBeNull();
    expect(report.problems[0]?.fix[0]).toBe(
      'allow it: npx cdk deploy -c allowedCidrs=<your-public-ip>/32   (your public IP: curl https://checkip.amazonaws.com)',
    );
  });

  it('a placeholder secret stops before anything is posted, with the put-secret-value command', async () => {
    answerAws(outputs({ WebhookUrlDefault: `${firewall.url}/webhook` }), SECRET_PLACEHOLDER);
    const accepted = pipeline.metrics().Accepted ?? 0;
    const run = runVerify(plan(), deps());
    await expect(run).rejects.toBeInstanceOf(CliError);
    await expect(run).rejects.toThrow(
      `aws secretsmanager put-secret-value --secret-id '${SECRET_ARN}' --secret-string '<the secret key from the Social Plus console>'`,
    );
    await expect(run).rejects.toThrow(/Nothing was sent/);
    expect(firewall.seen).toBe(0);
    expect(pipeline.metrics().Accepted ?? 0).toBe(accepted);
  });

  it('a placeholder left as "current" of a rotation pair stops the same way', async () => {
    answerAws(outputs(), JSON.stringify({ current: SECRET_PLACEHOLDER, previous: SECRET }));
    await expect(runVerify(plan(), deps())).rejects.toThrow(/still holds the placeholder/);
  });

  it('a wrong secret: the receiver answers 401, and the advice names the secret (never its value)', async () => {
    const wrong = 'not-the-key-the-receiver-checks';
    answerAws(outputs(), wrong);
    const report = await runVerify(plan(), deps());

    expect(report.ok).toBe(false);
    expect(report.requests.map((r) => [r.status, r.answer, r.kind])).toEqual([[401, '{"message":"invalid signature"}', 'signature']]);
    expect(await pipeline.store.get(report.requests[0]?.eventId ?? '')).toBeUndefined();
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]?.message).toContain(
      `the receiver refused the signature: 401 {"message":"invalid signature"}. The events were signed with the key in ${SECRET_ARN}`,
    );
    expect(report.problems[0]?.fix.join('\n')).toContain(`aws secretsmanager put-secret-value --secret-id '${SECRET_ARN}'`);
    expect(report.problems[0]?.fix.join('\n')).toContain('socialplus-webhooks doctor --aws');
    expectNoSecret(report, wrong);
  });

  it('an event table that cannot be read: the requests are still reported, with the store problem', async () => {
    answerAws(outputs({ EventTableName: 'no-such-table' }), SECRET);
    const report = await runVerify(plan({ count: 1 }), deps());
    expect(report.requests.map((r) => r.status)).toEqual([200]);
    expect(report.problems.map((p) => p.step)).toEqual(['store']);
    expect(report.problems[0]?.message).toMatch(/^could not read the event table no-such-table: ResourceNotFoundException/);
  });

  it('an unknown stack and an unknown source are named before anything is posted', async () => {
    answerAws(outputs(), SECRET);
    await expect(runVerify(plan({ stack: 'Elsewhere' }), deps())).rejects.toThrow("stack 'Elsewhere' was not found in this account and region");
    await expect(runVerify(plan({ source: 'sg' }), deps())).rejects.toThrow(
      "no webhook URL for source 'sg' (output WebhookUrlSg); it has WebhookUrlDefault, WebhookUrlPartner",
    );
    expect(aws.callsTo('secretsmanager:GetSecretValue')).toEqual([]);
  });
});
