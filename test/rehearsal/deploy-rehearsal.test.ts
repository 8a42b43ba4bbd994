/**
 * Deploy rehearsal: runs the Lambda bundles exactly as `cdk synth` writes them to the cloud assembly
 * (asset folder, `Handler`, the template's environment with its references resolved into a fake
 * account), each in a process of its own against loopback stand-ins for AWS, and checks what a
 * deploy would find out the hard way:
 * - the receiver answers Social Plus and buffers each event (queued, claim-checked, spilled) and the
 *   fan-out takes those very messages and objects (and S3's notifications) into the store and the
 *   archive;
 * - the account-setup custom resource, sent CloudFormation's requests built from the template, sets
 *   API Gateway's CloudWatch Logs role when the account has none, keeps one that is set, does
 *   nothing on delete, and answers each at the request's presigned response URL;
 * - every AWS call each function makes (including what Lambda does with its role: logs, traces) is
 *   allowed by its role's policies and not denied by the target's resource policy, in the same template;
 * - every variable of the environment contract a function reads is set by its template.
 *
 * Nothing here names a logical id: the functions are found by what invokes them, their resources
 * through the template's references.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HeadObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyResult, CloudFormationCustomResourceEvent, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbEventStore } from '../../lambda/adapters/dynamodb-store.js';
import { ENV } from '../../lambda/common/env.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { parseInboxKey, s3NotificationBody } from '../../lambda/core/inbox.js';
import { SUPPRESSION_LIST_KEY } from '../../lambda/core/privacy/suppression.js';
import { jsonError, type AwsCall } from '../support/aws-double.js';
import { signedWebhookEvent } from '../support/api-gateway.js';
import { sampleBody } from '../support/samples.js';
import { synthesize, type SynthesizedApp } from '../infra/helpers.js';
import { deterministicId, type CfnTemplate } from './intrinsics.js';
import { ENDPOINT_VARIABLES, REHEARSAL_ACCOUNT, RehearsalWorld, type RehearsedFunction } from './rehearsal-world.js';
import { assertAllAllowed, formatVerdicts, type FunctionModel, type IamCall, type StackModel } from './stack-model.js';
import { contractReadsNotSet, contractSetNotRead, cutStatements, notificationTargets, SET_NOT_READ_ON_AWS } from './checks.js';
import { startResponseBucket, type ResponseBucket, type ResponseUrlRequest } from './cloudformation-responses.js';

const SECRET = 'rehearsal-webhook-secret-3c9a';
/** The custom resource type of the API Gateway account setup (lib/constructs/api-account-role.ts). */
const ACCOUNT_SETUP_TYPE = 'Custom::ApiGatewayAccountCloudWatchRole';

let synth: SynthesizedApp;
let scratch: string;
let world: RehearsalWorld;
let model: StackModel;
let receiver: RehearsedFunction;
let fanout: RehearsedFunction;
let setup: RehearsedFunction;
let responses: ResponseBucket;
let ddb: DynamoDBClient;
let s3: S3Client;
const started = performance.now();

const phases: string[] = [];
const lap = (what: string, since: number) => phases.push(`${what} ${((performance.now() - since) / 1000).toFixed(1)} s`);

beforeAll(async () => {
  let t = performance.now();
  synth = synthesize({}, { bundle: true });
  lap('synth with bundling', t);
  t = performance.now();
  scratch = await mkdtemp(join(tmpdir(), 'spw-rehearsal-'));
  world = await RehearsalWorld.start({
    template: synth.template.toJSON() as CfnTemplate,
    outdir: synth.outdir,
    stackName: synth.stack.stackName,
    scratchDir: scratch,
  });
  model = world.model;
  ddb = world.dynamoDbClient();
  s3 = world.s3Client();
  // The key the user pastes from the Social Plus console into each source's secret.
  for (const arn of world.secretValues.keys()) world.secretValues.set(arn, SECRET);
  lap('stand-ins', t);
  t = performance.now();
  [receiver, fanout, setup, responses] = await Promise.all([
    world.startFunction(model.receiver()),
    world.startFunction(model.fanout()),
    world.startFunction(model.customResourceHandler(ACCOUNT_SETUP_TYPE)),
    startResponseBucket(model.resolver.region),
  ]);
  lap(
    `cold starts (init: receiver ${receiver.sandbox.initMs.toFixed(0)} ms, fan-out ${fanout.sandbox.initMs.toFixed(0)} ms, account setup ${setup.sandbox.initMs.toFixed(0)} ms)`,
    t,
  );
});

afterAll(async () => {
  ddb?.destroy();
  s3?.destroy();
  await world?.close();
  await responses?.close();
  synth?.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
  console.info(
    `deploy rehearsal: ${((performance.now() - started) / 1000).toFixed(1)} s in all; ${phases.join(', ')}; receiver invocations: ${durations.join(', ')}; account setup invocations: ${setupDurations.join(', ')}`,
  );
});

/** The API trigger of the receiver, and whether API Gateway hands it bodies base64-encoded. */
function apiOf(fn: FunctionModel): { routes: string[]; base64: boolean } {
  const api = fn.triggers.filter((t) => t.kind === 'api');
  // `*/*` among the binary media types: API Gateway base64-encodes every body (as application/json matches it).
  return {
    routes: api.map((t) => t.route).sort(),
    base64: api.every((t) => t.binaryMediaTypes.some((m) => m === '*/*' || m === 'application/json')),
  };
}

let requests = 0;
/** How long each receiver invocation took, for the summary. */
const durations: string[] = [];

/** Invokes the receiver as the deployed API does: POST `/webhook` (no source) or `/webhook/{source}`. */
async function deliver(body: string, opts: { source?: string; signWith?: string } = {}): Promise<APIGatewayProxyResult> {
  const requestId = `rehearsal-${++requests}`;
  const event = signedWebhookEvent(body, opts.signWith ?? SECRET, {
    base64: apiOf(receiver.fn).base64,
    requestId,
    // API Gateway stamps the request as it arrives; the receiver's answer budget counts from it.
    requestTimeEpoch: Date.now(),
    ...(opts.source === undefined ? {} : { source: opts.source }),
  });
  const out = await receiver.sandbox.invoke<APIGatewayProxyResult>(event, requestId, traceHeader(requestId));
  durations.push(`${requestId} ${out.durationMs.toFixed(0)} ms`);
  if (out.error) throw new Error(`the receiver threw: ${out.error.name}: ${out.error.message}\n${out.error.stack}`);
  return out.result as APIGatewayProxyResult;
}

/** An X-Ray trace header for an invocation, sampled so the segments reach the daemon. */
function traceHeader(requestId: string): string {
  return `Root=1-68650000-${deterministicId(requestId, 24, '0123456789abcdef')};Parent=53995c3f42cd8ad8;Sampled=1`;
}

/** The SendMessage calls the double took, in order (the refused attempts of the spilled body left out). */
function sentMessages(): AwsCall[] {
  return world.double.callsTo('sqs:SendMessage').filter((c) => !String(c.input.MessageBody ?? '').includes(SPILL_MARKER));
}

/** The one message the receiver sent for a body (its event id attribute). */
function sentFor(body: string): AwsCall {
  const found = sentMessages().filter(
    (c) => (c.input.MessageAttributes as Record<string, { StringValue?: string }>).eventId?.StringValue === eventIdOf(body),
  );
  if (found.length !== 1) throw new Error(`expected one message for event ${eventIdOf(body)}, found ${found.length}`);
  return found[0] as AwsCall;
}

/** A sent message's string attribute. */
const attributeOf = (call: AwsCall, name: string) => (call.input.MessageAttributes as Record<string, { StringValue?: string }>)[name]?.StringValue;

/** A record as Lambda's SQS poller hands it to the function. */
function lambdaSqsRecord(n: number, body: string, messageAttributes: SQSRecord['messageAttributes'], queueArn: string, senderId: string): SQSRecord {
  return {
    messageId: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    receiptHandle: `AQEB-rehearsal-${n}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1751450043221',
      SenderId: senderId,
      ApproximateFirstReceiveTimestamp: '1751450043226',
    },
    messageAttributes,
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: model.resolver.region,
  };
}

/** The record of a message the receiver sent: its body and attributes exactly as sent. */
function recordOf(call: AwsCall, queueArn: string, n: number): SQSRecord {
  const attributes = (call.input.MessageAttributes ?? {}) as Record<string, { DataType: string; StringValue?: string }>;
  const messageAttributes = Object.fromEntries(
    Object.entries(attributes).map(([k, v]) => [k, { dataType: v.DataType, stringValue: v.StringValue, stringListValues: [], binaryListValues: [] }]),
  );
  return lambdaSqsRecord(n, String(call.input.MessageBody), messageAttributes, queueArn, `AROAEXAMPLE:${receiver.fn.name}`);
}

/** A record S3 puts on the queue: no message attributes, S3's JSON as the body. */
function s3Record(body: string, queueArn: string, n: number): SQSRecord {
  return lambdaSqsRecord(n, body, {}, queueArn, 'AIDAS3NOTIFICATIONS');
}

/** Marks the body the SQS double refuses to take, so the receiver spills it. */
const SPILL_MARKER = 'rehearsal-spill-this-one';
const QUEUED = sampleBody('message.didCreate');
const LARGE = JSON.stringify({ ...JSON.parse(sampleBody('v3.post.didCreate')), padding: 'p'.repeat(1_100_000) });
const SPILLED = JSON.stringify({ ...JSON.parse(sampleBody('message.didFlag')), note: SPILL_MARKER });
/** Fits a queue message, but not safely a table item: the fan-out copies it to inbox/large/ for the store. */
const MEDIUM = JSON.stringify({ ...JSON.parse(sampleBody('v3.comment.didCreate')), padding: 'm'.repeat(400_000) });

describe('the template', () => {
  it('has a receiver behind the API (POST /webhook and /webhook/{source}), a fan-out behind the queue, and every function environment resolves', () => {
    expect(apiOf(model.receiver()).routes).toEqual(['POST /webhook', 'POST /webhook/{source}']);
    expect(model.fanout().triggers).toEqual([expect.objectContaining({ kind: 'sqs', reportBatchItemFailures: true })]);
    const lines: string[] = [];
    for (const fn of model.functions) {
      // Every function, run here or not: its variables must resolve to values a deploy would give them.
      const env = model.environmentOf(fn);
      const runs = fn === model.receiver() || fn === model.fanout() || fn === model.customResourceHandler(ACCOUNT_SETUP_TYPE);
      const how =
        fn.triggers
          .map((t) => (t.kind === 'api' ? t.route : t.kind === 'sqs' ? `SQS ${t.queueId}` : `${t.resourceType} ${t.resourceId}`))
          .join(', ') || 'no trigger in the template';
      lines.push(
        `${runs ? 'invoked' : 'skipped'}  ${fn.logicalId} (${fn.runtime}, ${fn.code.kind === 'asset' ? fn.handler : fn.code.detail}; ${Object.keys(env).length} variables) ← ${how}${runs ? '' : ': the rehearsal has no event for it'}`,
      );
    }
    console.info(`functions of the template:\n${lines.join('\n')}`);
    expect(model.functions.length).toBeGreaterThanOrEqual(3);
    // One account-setup resource, whose function is the one the rehearsal runs.
    expect(
      model
        .customResourceHandler(ACCOUNT_SETUP_TYPE)
        .triggers.filter((tr) => tr.kind === 'custom-resource' && tr.resourceType === ACCOUNT_SETUP_TYPE),
    ).toHaveLength(1);
  });
});

describe('the receiver bundle', () => {
  it('answers a signed delivery 200 {} and sends it to the queue with its attributes', async () => {
    const res = await deliver(QUEUED);
    expect(res).toMatchObject({ statusCode: 200, body: '{}' });
    const [sent] = sentMessages();
    expect(sent?.input).toMatchObject({
      QueueUrl: model.environmentOf(receiver.fn)[ENV.QUEUE_URL],
      MessageBody: QUEUED,
      MessageAttributes: {
        eventId: { DataType: 'String', StringValue: eventIdOf(QUEUED) },
        eventType: { DataType: 'String', StringValue: 'message.didCreate' },
        source: { DataType: 'String', StringValue: 'default' },
        requestId: { DataType: 'String', StringValue: 'rehearsal-1' },
        receivedAt: { DataType: 'String', StringValue: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) },
      },
    });
  });

  it('answers a wrong signature 401 and sends nothing', async () => {
    const before = { aws: world.double.calls.length, s3: world.s3Proxy.requests.length, dynamoDb: world.dynamoDbProxy.requests.length };
    const res = await deliver(sampleBody('v3.comment.didCreate'), { source: 'default', signWith: 'not-the-secret' });
    expect(res).toMatchObject({ statusCode: 401, body: JSON.stringify({ message: 'invalid signature' }) });
    // The secret was already cached; nothing went out, to the queue or anywhere else.
    expect(world.double.calls.slice(before.aws).map((c) => `${c.service}:${c.operation}`)).toEqual([]);
    expect({ s3: world.s3Proxy.requests.length, dynamoDb: world.dynamoDbProxy.requests.length }).toEqual({
      s3: before.s3,
      dynamoDb: before.dynamoDb,
    });
  });

  // Before the claim check: the first S3 use loads the receiver's S3 client (lazily, off the cold
  // start), and a spill has more of the answer's budget left for that than a claim check does.
  it('spills to inbox/spill/ when the queue keeps failing, and still answers 200 {}', async () => {
    world.sendMessageOverride = (call) =>
      String(call.input.MessageBody ?? '').includes(SPILL_MARKER) ? jsonError('InternalError', 'rehearsal: the queue is failing', 500) : undefined;
    try {
      const res = await deliver(SPILLED);
      expect(res).toMatchObject({ statusCode: 200, body: '{}' });
    } finally {
      world.sendMessageOverride = undefined;
    }
    // The SDK tried the queue (with its retries) before the receiver spilled.
    expect(world.double.callsTo('sqs:SendMessage').filter((c) => String(c.input.MessageBody).includes(SPILL_MARKER)).length).toBeGreaterThanOrEqual(
      1,
    );
    const puts = world.s3Proxy.requests.filter((r) => r.method === 'PUT' && r.url.includes('/inbox/spill/'));
    expect(puts).toHaveLength(1);
    expect(puts[0]?.body.toString('utf8')).toBe(SPILLED);
    expect(puts[0]?.headers).toMatchObject({ 'x-amz-meta-event-id': eventIdOf(SPILLED), 'x-amz-meta-source': 'default' });
  });

  it('claim-checks a body too large for a queue message: the object under inbox/large/, a pointer on the queue', async () => {
    const res = await deliver(LARGE, { source: 'default' });
    expect(res).toMatchObject({ statusCode: 200, body: '{}' });
    const pointer = sentFor(LARGE);
    expect(parseInboxKey(attributeOf(pointer, 'claimCheckKey') ?? '')).toMatchObject({ kind: 'large', eventId: eventIdOf(LARGE) });
    expect(JSON.parse(String(pointer.input.MessageBody))).toEqual({
      claimCheckKey: attributeOf(pointer, 'claimCheckKey'),
      bodyBytes: Buffer.byteLength(LARGE),
    });
  });

  it('queues a body that fits a message as it is, however large', async () => {
    expect(await deliver(MEDIUM)).toMatchObject({ statusCode: 200, body: '{}' });
    expect(sentFor(MEDIUM).input.MessageBody).toBe(MEDIUM);
    expect(attributeOf(sentFor(MEDIUM), 'claimCheckKey')).toBeUndefined();
  });
});

describe('the fan-out bundle', () => {
  let batch: SQSEvent;
  let spillKey: string;
  let bucket: string;
  let queueArn: string;

  it("takes one batch of what the receiver buffered, and S3's notifications, with no failures", async () => {
    const trigger = fanout.fn.triggers.find((t) => t.kind === 'sqs');
    if (trigger?.kind !== 'sqs') throw new Error('the fan-out has no SQS trigger');
    queueArn = model.resolver.getAtt(trigger.queueId, 'Arn');
    // The receiver sent to the queue the fan-out consumes.
    expect(model.queueArnOfUrl(model.environmentOf(receiver.fn)[ENV.QUEUE_URL] as string)).toBe(queueArn);

    const spillPut = world.s3Proxy.requests.find((r) => r.method === 'PUT' && r.url.includes('/inbox/spill/'));
    const [bucketPart, ...keyParts] = new URL(spillPut?.url ?? '/', 'http://s3').pathname.slice(1).split('/');
    bucket = decodeURIComponent(bucketPart ?? '');
    spillKey = keyParts.map(decodeURIComponent).join('/');
    // S3 tells the queue about the spill only if the template's notification configuration says so.
    const targets = notificationTargets(model, bucket, spillKey, 'ObjectCreated:Put');
    expect(targets).toContain(queueArn);

    batch = {
      Records: [
        recordOf(sentFor(QUEUED), queueArn, 1),
        recordOf(sentFor(LARGE), queueArn, 2),
        recordOf(sentFor(MEDIUM), queueArn, 3),
        s3Record(s3NotificationBody(bucket, [spillKey]), queueArn, 4),
        s3Record(
          JSON.stringify({
            Service: 'Amazon S3',
            Event: 's3:TestEvent',
            Time: '2025-07-02T09:54:03.221Z',
            Bucket: bucket,
            RequestId: 'R1',
            HostId: 'H1',
          }),
          queueArn,
          5,
        ),
      ],
    };
    const out = await fanout.invokeFromQueue<SQSBatchResponse>(batch, 'rehearsal-batch-1', traceHeader('rehearsal-batch-1'));
    expect(out.error).toBeUndefined();
    expect(out.result).toEqual({ batchItemFailures: [] });
  });

  it('stored each event once in the table and archived each in one PutRecordBatch', async () => {
    const env = model.environmentOf(fanout.fn);
    const store = new DynamoDbEventStore(ddb, env[ENV.TABLE_NAME] as string);
    for (const body of [QUEUED, LARGE, MEDIUM, SPILLED]) {
      const item = await store.get(eventIdOf(body));
      expect(item, `item of ${eventIdOf(body)}`).toBeDefined();
      expect(item?.source).toBe('default');
    }
    expect((await store.get(eventIdOf(QUEUED)))?.payload).toBe(QUEUED);
    const puts = world.double.callsTo('firehose:PutRecordBatch');
    expect(puts).toHaveLength(1);
    expect(puts[0]?.input.DeliveryStreamName).toBe(env[ENV.DELIVERY_STREAM_NAME]);
    const lines = (puts[0]?.input.Records as Array<{ Data: string }>).map(
      (r) => JSON.parse(Buffer.from(r.Data, 'base64').toString('utf8')) as { event_id: string; payload: string },
    );
    expect(lines.map((l) => l.event_id).sort()).toEqual([QUEUED, LARGE, MEDIUM, SPILLED].map((b) => eventIdOf(b)).sort());
    expect(lines.find((l) => l.event_id === eventIdOf(QUEUED))?.payload).toBe(QUEUED);
  });

  it('deleted the spill, kept the claim check and copied the large queued body to inbox/large/', async () => {
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: spillKey }))).rejects.toMatchObject({ name: 'NotFound' });
    await expect(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: attributeOf(sentFor(LARGE), 'claimCheckKey') }))).resolves.toMatchObject({
      ContentLength: Buffer.byteLength(LARGE),
    });
    const copy = world.s3Proxy.requests.filter((r) => r.method === 'PUT' && r.url.includes(`/inbox/large/`) && r.url.includes(eventIdOf(MEDIUM)));
    expect(copy.map((r) => r.body.length)).toEqual([Buffer.byteLength(MEDIUM)]);
  });

  it('takes a redelivered message and a repeated notification of a spill it already processed without a failure, storing nothing twice', async () => {
    const store = new DynamoDbEventStore(ddb, model.environmentOf(fanout.fn)[ENV.TABLE_NAME] as string);
    const before = await store.get(eventIdOf(QUEUED));
    const redelivered = {
      ...(batch.Records[0] as SQSRecord),
      attributes: { ...(batch.Records[0] as SQSRecord).attributes, ApproximateReceiveCount: '2' },
    };
    const again = { Records: [redelivered, batch.Records[3] as SQSRecord] };
    const out = await fanout.invokeFromQueue<SQSBatchResponse>(again, 'rehearsal-batch-2', traceHeader('rehearsal-batch-2'));
    expect(out.result).toEqual({ batchItemFailures: [] });
    expect(await store.get(eventIdOf(QUEUED))).toEqual(before);
  });
});

/** The account-setup custom resource of the template (found through its function's trigger). */
function accountSetupResourceId(): string {
  const trigger = setup.fn.triggers.find((tr) => tr.kind === 'custom-resource' && tr.resourceType === ACCOUNT_SETUP_TYPE);
  if (trigger?.kind !== 'custom-resource') throw new Error(`${setup.fn.logicalId} is not behind a ${ACCOUNT_SETUP_TYPE}`);
  return trigger.resourceId;
}

/** How long each account-setup invocation took, for the summary. */
const setupDurations: string[] = [];

/**
 * Sends the account-setup function a request as CloudFormation does (Lambda's asynchronous
 * invocation of the ServiceToken), and returns the request and what reached its response URL.
 */
async function customResource(
  requestType: 'Create' | 'Update' | 'Delete',
  physicalResourceId?: string,
): Promise<{ request: CloudFormationCustomResourceEvent; answers: ResponseUrlRequest[] }> {
  const requestId = randomUUID();
  const request = model.customResourceRequest(accountSetupResourceId(), {
    requestType,
    requestId,
    responseUrl: (r) => responses.urlFor(r),
    ...(physicalResourceId === undefined ? {} : { physicalResourceId }),
  });
  // CloudFormation invokes the function its ServiceToken names.
  expect(request.ServiceToken).toBe(setup.fn.arn);
  const out = await setup.sandbox.invoke<null>(request, requestId, traceHeader(requestId));
  setupDurations.push(`${requestType} ${out.durationMs.toFixed(0)} ms`);
  if (out.error) throw new Error(`the account setup threw: ${out.error.name}: ${out.error.message}\n${out.error.stack}`);
  return { request, answers: responses.requestsFor(requestId) };
}

/** The API Gateway calls the double took from the account-setup function since `from`. */
const apiGatewayCallsSince = (from: number) => world.double.calls.slice(from).filter((c) => c.service === 'apigateway');

/** The one answer CloudFormation received, checked as its presigned URL needs it: a PUT of JSON with an empty content type. */
function theAnswer(answers: readonly ResponseUrlRequest[]): Record<string, unknown> {
  expect(answers.map((a) => ({ method: a.method, contentType: a.headers['content-type'], status: a.status }))).toEqual([
    { method: 'PUT', contentType: '', status: 200 },
  ]);
  expect(answers[0]?.json, `not JSON: ${answers[0]?.body}`).toBeDefined();
  return answers[0]?.json ?? {};
}

const THEIR_ROLE = `arn:aws:iam::${REHEARSAL_ACCOUNT.accountId}:role/their-apigateway-cloudwatch-logs`;
/** The physical id the create answered, which CloudFormation sends back on delete. */
let setupPhysicalId: string | undefined;
/** The role the template makes for API Gateway's logs (the resource's RoleArn), which the create set. */
let ourRole: string | undefined;

describe('the account-setup bundle (the API Gateway account custom resource)', () => {
  it("Create in an account with no CloudWatch Logs role: sets the template's role and answers SUCCESS, Action set", async () => {
    world.apiGatewayAccount = {};
    const from = world.double.calls.length;
    const { request, answers } = await customResource('Create');
    const ours = request.ResourceProperties.RoleArn as string;
    ourRole = ours;
    expect(ours).toMatch(new RegExp(`^arn:aws:iam::${REHEARSAL_ACCOUNT.accountId}:role/`));
    expect(apiGatewayCallsSince(from).map((c) => c.operation)).toEqual(['GET /account', 'PATCH /account']);
    expect(apiGatewayCallsSince(from)[1]?.input).toEqual({ patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: ours }] });
    expect(world.apiGatewayAccount.cloudwatchRoleArn).toBe(ours);
    const answer = theAnswer(answers);
    expect(answer).toEqual({
      Status: 'SUCCESS',
      Reason: 'done',
      PhysicalResourceId: expect.any(String),
      StackId: model.resolver.pseudo('AWS::StackId'),
      RequestId: request.RequestId,
      LogicalResourceId: accountSetupResourceId(),
      Data: { Action: 'set', RoleArn: ours },
    });
    setupPhysicalId = answer.PhysicalResourceId as string;
  });

  it('Create in an account whose role is already set: keeps it, no PATCH, answers SUCCESS, Action keep', async () => {
    world.apiGatewayAccount = { cloudwatchRoleArn: THEIR_ROLE };
    const from = world.double.calls.length;
    const { answers } = await customResource('Create');
    expect(apiGatewayCallsSince(from).map((c) => c.operation)).toEqual(['GET /account']);
    expect(world.apiGatewayAccount.cloudwatchRoleArn).toBe(THEIR_ROLE);
    expect(theAnswer(answers)).toMatchObject({ Status: 'SUCCESS', Data: { Action: 'keep', RoleArn: THEIR_ROLE } });
  });

  it("Delete: calls nothing in API Gateway, leaves the account's role, answers SUCCESS with the physical id", async () => {
    expect(setupPhysicalId).toBeDefined();
    const from = world.double.calls.length;
    const { answers } = await customResource('Delete', setupPhysicalId);
    expect(apiGatewayCallsSince(from)).toEqual([]);
    expect(world.apiGatewayAccount.cloudwatchRoleArn).toBe(THEIR_ROLE);
    expect(theAnswer(answers)).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: setupPhysicalId, Data: { Action: 'none' } });
  });
});

describe('what the bundles did, against the template', () => {
  it('every AWS call each function made is allowed by its role and not denied by the resource', () => {
    const verdicts = [receiver, fanout, setup].flatMap((f) => model.authorizeCalls(f.fn, dedupe(f.calls())));
    console.info(`AWS calls of the rehearsal (function, action, resource):\n${formatVerdicts(verdicts)}`);
    assertAllAllowed(verdicts);
    const made = (f: RehearsedFunction) => [...new Set(f.calls().map((c) => c.action))].sort();
    expect(made(receiver)).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:PutObject',
      'secretsmanager:GetSecretValue',
      'sqs:SendMessage',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // GetItem: the duplicate's conditional put asks for the stored item back (ALL_OLD), which
    // dynalite does not return, so the store reads it; DynamoDB itself would spare that read.
    expect(made(fanout)).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'firehose:PutRecordBatch',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      's3:DeleteObject',
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:ReceiveMessage',
      // No X-Ray: the fan-out is not traced unless fanoutTracing is set (the lean default).
    ]);
    expect(made(setup)).toEqual([
      'apigateway:GET',
      'apigateway:PATCH',
      'iam:PassRole',
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'xray:PutTelemetryRecords',
      'xray:PutTraceSegments',
    ]);
    // The role handed to API Gateway is the one the template makes for it, passed to API Gateway only.
    const passRole = setup.calls().filter((c) => c.action === 'iam:PassRole');
    expect(passRole.map((c) => ({ resource: c.resource, context: c.context }))).toEqual([
      { resource: ourRole, context: { 'iam:PassedToService': 'apigateway.amazonaws.com' } },
    ]);
  });

  it('the fan-out lists the suppression list (docs/privacy.md) with its key as prefix, which its own grant alone allows', () => {
    const listings = fanout.calls().filter((c) => c.action === 's3:ListBucket' && c.context['s3:prefix'] === SUPPRESSION_LIST_KEY);
    expect(listings.length).toBeGreaterThan(0);
    expect(model.authorizeCalls(fanout.fn, dedupe(listings)).map((v) => v.decision.decision)).toEqual(['allow']);
    // Its statement cut out (the inbox's prefix-scoped ListBucket does not cover erasures/), the listing is refused.
    const cut = cutStatements(model.identityPolicies(fanout.fn), (s) => JSON.stringify(s.Condition ?? {}).includes(SUPPRESSION_LIST_KEY));
    expect(model.authorizeCalls(fanout.fn, dedupe(listings), cut).map((v) => v.decision.decision)).toEqual(['implicit-deny']);
  });

  it('every variable of the environment contract a function reads is set by its template', () => {
    const contract = new Set<string>(Object.values(ENV));
    for (const f of [receiver, fanout, setup]) {
      const reads = f.sandbox.envReads
        .filter((r) => contract.has(r.name))
        .map((r) => `${r.name}${Object.hasOwn(model.environmentOf(f.fn), r.name) ? '' : ' (not set)'}@${r.when}`);
      console.info(
        `${f.fn.logicalId} read these contract variables: ${reads.join(', ')}; and ${f.sandbox.envReads
          .filter((r) => !contract.has(r.name))
          .map((r) => r.name)
          .join(', ')}`,
      );
    }
    const exempted = new Set<string>();
    for (const f of [receiver, fanout, setup]) {
      const env = model.environmentOf(f.fn);
      const read = new Set(f.sandbox.envReads.map((r) => r.name));
      expect(contractReadsNotSet(read, env), `${f.fn.logicalId} reads variables its template does not set`).toEqual([]);
      // And the other way round: no contract variable set for nothing (less the exemptions, shown).
      expect(contractSetNotRead(read, env, f.fn), `${f.fn.logicalId}'s template sets variables it never reads`).toEqual([]);
      for (const name of Object.keys(env).filter((k) => contract.has(k) && !read.has(k))) {
        exempted.add(name);
        console.info(`${f.fn.logicalId}'s template sets ${name}, which it never reads: exempt (${SET_NOT_READ_ON_AWS[name]?.why ?? '?'})`);
      }
      // A bundle that copied the environment would read the copy, unseen: the check would be blind.
      expect(f.sandbox.enumeratedEnv, `${f.fn.logicalId} lists the whole environment`).toBe(false);
    }
    // An exemption nothing needs any more is deleted, not kept.
    expect(
      Object.keys(SET_NOT_READ_ON_AWS).filter((name) => !exempted.has(name)),
      'exemptions no function needs (delete them from SET_NOT_READ_ON_AWS)',
    ).toEqual([]);
  });

  it('each SDK client took its endpoint from its own AWS_ENDPOINT_URL_<SERVICE>, and nothing reached an unexpected service', () => {
    const read = (f: RehearsedFunction) => f.sandbox.envReads.map((r) => r.name);
    expect(read(receiver)).toEqual(expect.arrayContaining([ENDPOINT_VARIABLES.sqs, ENDPOINT_VARIABLES.secretsmanager, ENDPOINT_VARIABLES.s3]));
    expect(read(fanout)).toEqual(expect.arrayContaining([ENDPOINT_VARIABLES.dynamodb, ENDPOINT_VARIABLES.firehose, ENDPOINT_VARIABLES.s3]));
    expect(read(setup)).toEqual(expect.arrayContaining([ENDPOINT_VARIABLES.apigateway]));
    expect(new Set(world.double.calls.map((c) => c.service))).toEqual(new Set(['sqs', 'secretsmanager', 'firehose', 'apigateway']));
  });

  it('fails, naming the call, when a grant is cut out of the synthesized policy or a resource policy denies it', () => {
    // The statement that grants the archive's PutRecordBatch, found by its action, cut out of the fan-out's policies.
    const cut = cutStatements(model.identityPolicies(fanout.fn), (s) => [s.Action].flat().includes('firehose:PutRecordBatch'));
    const stream = model.environmentOf(fanout.fn)[ENV.DELIVERY_STREAM_NAME] as string;
    const withoutGrant = failureOf(() => assertAllAllowed(model.authorizeCalls(fanout.fn, dedupe(fanout.calls()), cut)));
    console.info(`with firehose:PutRecordBatch cut from the fan-out's policy:\n${withoutGrant}`);
    expect(withoutGrant).toContain(
      `(${fanout.fn.logicalId}, firehose:PutRecordBatch, arn:aws:firehose:${model.resolver.region}:${model.resolver.accountId}:deliverystream/${stream}): no statement allows it`,
    );
    expect(withoutGrant.split('\n')).toHaveLength(2);

    // The same template with the queue's policy denying SendMessage to every role but the fan-out's.
    const queueUrl = model.environmentOf(receiver.fn)[ENV.QUEUE_URL] as string;
    const denied = failureOf(() =>
      assertAllAllowed(withQueueDeny(model, queueUrl, fanout.fn.roleArn).authorizeCalls(receiver.fn, dedupe(receiver.calls()))),
    );
    console.info(`with the queue policy denying SendMessage to all but the fan-out's role:\n${denied}`);
    expect(denied).toMatch(
      new RegExp(
        `\\(${receiver.fn.logicalId}, sqs:SendMessage, ${escape(model.queueArnOfUrl(queueUrl))}\\): explicitly denied by \\S+ statement \\d+ \\(RehearsalDeny\\)`,
      ),
    );

    // The account setup's iam:PassRole grant (its only one), cut: UpdateAccount could not hand API Gateway the role.
    const noPassRole = cutStatements(model.identityPolicies(setup.fn), (s) => [s.Action].flat().includes('iam:PassRole'));
    const role = setup.calls().find((c) => c.action === 'iam:PassRole')?.resource;
    const withoutPassRole = failureOf(() => assertAllAllowed(model.authorizeCalls(setup.fn, dedupe(setup.calls()), noPassRole)));
    console.info(`with iam:PassRole cut from the account setup's policy:\n${withoutPassRole}`);
    expect(withoutPassRole).toContain(`(${setup.fn.logicalId}, iam:PassRole, ${role}): no statement allows it`);
    expect(withoutPassRole.split('\n')).toHaveLength(2);
    // The grant is for API Gateway only: the same role passed to another service is refused.
    const toLambda = setup
      .calls()
      .filter((c) => c.action === 'iam:PassRole')
      .map((c) => ({ ...c, context: { 'iam:PassedToService': 'lambda.amazonaws.com' } }));
    expect(model.authorizeCalls(setup.fn, toLambda).map((v) => v.decision.decision)).toEqual(['implicit-deny']);
  });
});

/** The message of what `fn` throws; fails when it does not throw. */
function failureOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('expected the check to fail, and it passed');
}

/** One call per (action, resource, note): the check does not need repeats. */
function dedupe(calls: readonly IamCall[]): IamCall[] {
  const seen = new Map<string, IamCall>();
  for (const c of calls) seen.set(`${c.action} ${c.resource} ${c.note ?? ''} ${JSON.stringify(c.context)}`, c);
  return [...seen.values()];
}

/** `text` as a literal inside a regular expression. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A model of the same template whose queue policy also denies `sqs:SendMessage` to every principal but `allowedRoleArn`. */
function withQueueDeny(m: StackModel, queueUrl: string, allowedRoleArn: string): StackModel {
  const template = structuredClone(m.template) as {
    Resources: Record<string, { Type: string; Properties: { Queues: unknown[]; PolicyDocument: { Statement: unknown[] } } }>;
  };
  const policy = Object.values(template.Resources).find(
    (r) => r.Type === 'AWS::SQS::QueuePolicy' && (m.resolver.resolve(r.Properties.Queues) as string[]).includes(queueUrl),
  );
  if (!policy) throw new Error(`no queue policy for ${queueUrl}`);
  policy.Properties.PolicyDocument.Statement.push({
    Sid: 'RehearsalDeny',
    Effect: 'Deny',
    Principal: { AWS: '*' },
    Action: 'sqs:SendMessage',
    Resource: m.queueArnOfUrl(queueUrl),
    Condition: { ArnNotEquals: { 'aws:PrincipalArn': allowedRoleArn } },
  });
  return m.withTemplate(template as unknown as CfnTemplate);
}
