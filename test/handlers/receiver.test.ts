import type { APIGatewayProxyEvent } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SecretNotConfiguredError } from '../../lambda/core/errors.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { sign, signAs, SIGNATURE_FORMS, SIGNATURE_HEADER } from '../../lambda/core/signature.js';
import { lowerCaseHeaders, precheckWebhook, type WebhookHead } from '../../lambda/core/precheck.js';
import { SIGNATURE_FORM_METRICS, type ReceiveDeps } from '../../lambda/core/receive.js';
import { StaticSecretSource } from '../../lambda/adapters/static-secret-source.js';
import { SECRET_PLACEHOLDER } from '../../lambda/core/secret-value.js';
import type { SecretSource } from '../../lambda/core/ports.js';
import { createReceiverHandler } from '../../lambda/receiver/handler.js';
import { apiGatewayEvent, DEFAULT_REQUEST_TIME_EPOCH, signedWebhookEvent } from '../support/api-gateway.js';
import { FakeSecretSource, InMemoryQueue, RecordingLogger, RecordingMetrics } from '../support/fakes.js';
import { SAMPLE_NAMES, sampleBody } from '../support/samples.js';

const SECRET = 'sp-test-secret-6f1c0d';
const PREVIOUS = 'sp-previous-secret-91ab';

/** A receiver with an in-memory queue; `signatureForms` as the receiver's default unless given. */
function setup(
  secrets: SecretSource = new FakeSecretSource({ default: [SECRET], 'eu-app': [SECRET, PREVIOUS] }),
  extra: Pick<ReceiveDeps, 'signatureForms'> = {},
) {
  const queue = new InMemoryQueue();
  const logger = new RecordingLogger();
  const metrics = new RecordingMetrics();
  const handler = createReceiverHandler({ queue, secrets, logger, metrics, ...extra });
  /** Asserts nothing logged carries the secret or the body (or a recognisable part of it). */
  const assertLogsClean = (body: string) => {
    const text = logger.lines().join('\n');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(PREVIOUS);
    if (body.length > 0) expect(text).not.toContain(body);
    for (const fragment of body.match(/"text":"[^"]+"/g) ?? []) expect(text).not.toContain(fragment);
  };
  return { queue, logger, metrics, handler, assertLogsClean };
}

const JSON_CONTENT = { 'content-type': 'application/json' };

describe('receiver: signature forms', () => {
  const spaced = '{ "event": "message.didCreate", "data": { "messages": [ { "messageId": "m1" } ] } }';

  it('accepts the MAC of the exact bytes written in hex, counted under its own metric, named in the accepted line', async () => {
    const { handler, queue, metrics, logger } = setup();
    const res = await handler(apiGatewayEvent({ body: spaced, headers: { 'x-amity-signature': signAs(spaced, SECRET, 'hex') } }));
    expect(res.statusCode).toBe(200);
    expect(queue.messages.map((m) => m.attributes.eventId)).toEqual([eventIdOf(spaced)]);
    expect(metrics.total('SignatureFormHex')).toBe(1);
    expect(metrics.total('SignatureFormBase64')).toBe(0);
    expect(logger.at('info')[0]?.fields).toMatchObject({ signatureForm: 'hex' });
  });

  it.each(SIGNATURE_FORMS)('counts each accepted form under its own name: %s', async (form) => {
    const { handler, metrics } = setup(undefined, { signatureForms: SIGNATURE_FORMS });
    const res = await handler(apiGatewayEvent({ body: spaced, headers: { 'x-amity-signature': signAs(spaced, SECRET, form) } }));
    expect(res.statusCode).toBe(200);
    const counted = metrics.calls.filter((c) => c.name.startsWith('SignatureForm')).map((c) => c.name);
    expect(counted).toEqual([SIGNATURE_FORM_METRICS[form]]);
  });

  it('refuses a MAC over the re-serialized JSON by default, and the WARN line says so without the secret or the body', async () => {
    const { handler, queue, metrics, logger, assertLogsClean } = setup();
    const res = await handler(apiGatewayEvent({ body: spaced, headers: { 'x-amity-signature': signAs(spaced, SECRET, 'json-base64') } }));
    expect(res).toEqual({ statusCode: 401, headers: JSON_CONTENT, body: '{"message":"invalid signature"}' });
    expect(queue.messages).toEqual([]);
    expect(metrics.calls.filter((c) => c.name === 'SignatureRejected')).toEqual([
      { name: 'SignatureRejected', value: 1, dimensions: { source: 'default' } },
    ]);
    expect(logger.at('warn')[0]?.fields).toMatchObject({
      reason: 'form-not-accepted',
      signatureEncoding: 'base64',
      formsTried: ['base64', 'json-base64'],
      bodyIsJson: true,
      matchedForm: 'json-base64',
      source: 'default',
    });
    assertLogsClean(spaced);
  });

  it('a signature made with another secret fails in every form, even with every form accepted', async () => {
    for (const form of SIGNATURE_FORMS) {
      const { handler, queue, logger } = setup(undefined, { signatureForms: SIGNATURE_FORMS });
      const res = await handler(apiGatewayEvent({ body: spaced, headers: { 'x-amity-signature': signAs(spaced, 'another-secret', form) } }));
      expect(res.statusCode, form).toBe(401);
      expect(queue.messages, form).toEqual([]);
      expect(logger.at('warn')[0]?.fields, form).toMatchObject({
        reason: 'no-secret-matched',
        formsTried: form.endsWith('hex') ? ['hex', 'json-hex'] : ['base64', 'json-base64'],
      });
    }
  });
});

describe('receiver: a valid x-amity-signature', () => {
  it.each(SAMPLE_NAMES)('%s → 200 {} and the raw body enqueued with its attributes', async (name) => {
    const body = sampleBody(name);
    const { handler, queue, metrics, assertLogsClean } = setup();
    const res = await handler(signedWebhookEvent(body, SECRET, { requestId: 'req-abc' }));

    expect(res).toEqual({ statusCode: 200, headers: JSON_CONTENT, body: '{}' });
    expect(queue.messages).toHaveLength(1);
    const [message] = queue.messages;
    expect(message?.body).toBe(body);
    expect(message?.attributes).toEqual({
      eventId: eventIdOf(body),
      eventType: expect.any(String),
      receivedAt: new Date(DEFAULT_REQUEST_TIME_EPOCH).toISOString(),
      source: 'default',
      requestId: 'req-abc',
    });
    expect(metrics.total('Accepted')).toBe(1);
    assertLogsClean(body);
  });

  it.each([
    ['v3.post.didCreate', 'post.didCreate'],
    ['v5.message.didCreate', 'message.didCreate'],
    ['push-notification.message.created', 'push-notification.message.created'],
  ])('%s is enqueued with the routing name %s', async (name, eventType) => {
    const { handler, queue } = setup();
    await handler(signedWebhookEvent(sampleBody(name), SECRET));
    expect(queue.messages[0]?.attributes.eventType).toBe(eventType);
  });

  it("receivedAt is API Gateway's request time, in ISO-8601 UTC", async () => {
    const { handler, queue } = setup();
    await handler(signedWebhookEvent(sampleBody('message.didCreate'), SECRET, { requestTimeEpoch: Date.UTC(2024, 11, 31, 23, 59, 59, 5) }));
    expect(queue.messages[0]?.attributes.receivedAt).toBe('2024-12-31T23:59:59.005Z');
  });

  it('the source comes from the path; its own secret list applies (previous secret still verifies)', async () => {
    const { handler, queue } = setup();
    const res = await handler(signedWebhookEvent(sampleBody('message.didFlag'), PREVIOUS, { source: 'eu-app' }));
    expect(res.statusCode).toBe(200);
    expect(queue.messages[0]?.attributes.source).toBe('eu-app');
  });

  it('a secret of another source does not verify', async () => {
    const { handler, queue } = setup(new FakeSecretSource({ default: [SECRET], other: ['other-secret'] }));
    const res = await handler(signedWebhookEvent(sampleBody('message.didFlag'), 'other-secret'));
    expect(res).toEqual({ statusCode: 401, headers: JSON_CONTENT, body: '{"message":"invalid signature"}' });
    expect(queue.messages).toHaveLength(0);
  });

  it.each([
    ['lower case', 'x-amity-signature'],
    ['as documented', 'X-Amity-Signature'],
    ['upper case', 'X-AMITY-SIGNATURE'],
  ])('the header name is case-insensitive (%s)', async (_label, header) => {
    const body = sampleBody('message.didCreate');
    const { handler, queue } = setup();
    const res = await handler(apiGatewayEvent({ body, headers: { 'Content-Type': 'application/json', [header]: sign(body, SECRET) } }));
    expect(res.statusCode).toBe(200);
    expect(queue.messages).toHaveLength(1);
  });

  it('a body API Gateway marks base64 is verified over its decoded bytes', async () => {
    const body = sampleBody('v3.comment.didCreate').replace('"text":', '"text":"สวัสดี 👋🏽",\n"t2":');
    const { handler, queue } = setup();
    const res = await handler(signedWebhookEvent(body, SECRET, { base64: true }));
    expect(res.statusCode).toBe(200);
    expect(queue.messages[0]?.body).toBe(body);
    expect(queue.messages[0]?.attributes.eventId).toBe(eventIdOf(Buffer.from(body, 'utf8')));
  });

  it('a base64-flagged body signed over its base64 text (not the bytes) is rejected', async () => {
    const body = sampleBody('message.didCreate');
    const encoded = Buffer.from(body, 'utf8').toString('base64');
    const { handler, queue } = setup();
    const res = await handler(apiGatewayEvent({ body: encoded, isBase64Encoded: true, headers: { 'x-amity-signature': sign(encoded, SECRET) } }));
    expect(res.statusCode).toBe(401);
    expect(queue.messages).toHaveLength(0);
  });

  it('verified bytes that are not UTF-8 travel base64-encoded, flagged by bodyEncoding', async () => {
    const bytes = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0xff, 0xfe, 0x7d]);
    const { handler, queue } = setup();
    const res = await handler(signedWebhookEvent(bytes, SECRET, { base64: true }));
    expect(res.statusCode).toBe(200);
    expect(queue.messages[0]?.body).toBe(bytes.toString('base64'));
    expect(queue.messages[0]?.attributes).toMatchObject({ bodyEncoding: 'base64', eventId: eventIdOf(bytes), eventType: 'unknown' });
  });

  it.each([
    ['JSON with a raw U+FFFE in a string', '{"event":"message.didCreate","data":{"t":"a\uFFFEb"}}'],
    ['JSON with a raw U+FFFF in a string', '{"event":"message.didCreate","data":{"t":"\uFFFF"}}'],
    ['not JSON, with a raw control character', 'oops \u0001 not json'],
  ])('%s (not allowed in an SQS body) travels base64-encoded', async (_label, text) => {
    const { handler, queue } = setup();
    expect((await handler(signedWebhookEvent(text, SECRET))).statusCode).toBe(200);
    expect(queue.messages[0]?.attributes.bodyEncoding).toBe('base64');
    expect(Buffer.from(queue.messages[0]?.body ?? '', 'base64').toString('utf8')).toBe(text);
  });

  it('JSON with escaped control characters and U+0080–U+009F travels as text', async () => {
    const text = '{"event":"message.didCreate","data":{"t":"\\u0001 \u0085 \u009f é"}}';
    const { handler, queue } = setup();
    expect((await handler(signedWebhookEvent(text, SECRET))).statusCode).toBe(200);
    expect(queue.messages[0]?.body).toBe(text);
    expect(queue.messages[0]?.attributes.bodyEncoding).toBeUndefined();
  });

  it('a text body with a lone surrogate is handled as the bytes it encodes to (U+FFFD)', async () => {
    const text = '{"event":"message.didCreate","data":{"t":"\uD83D"}}';
    const bytes = Buffer.from(text, 'utf8');
    const { handler, queue } = setup();
    const res = await handler(apiGatewayEvent({ body: text, headers: { 'x-amity-signature': sign(bytes, SECRET) } }));
    expect(res.statusCode).toBe(200);
    expect(queue.messages[0]?.body).toBe(bytes.toString('utf8'));
    expect(queue.messages[0]?.body).toContain('\uFFFD');
    expect(queue.messages[0]?.attributes.eventId).toBe(eventIdOf(bytes));
  });

  it('verified but not JSON → 200 {}, enqueued as received (flagged downstream)', async () => {
    const body = 'this is not JSON {';
    const { handler, queue } = setup();
    const res = await handler(signedWebhookEvent(body, SECRET));
    expect(res).toEqual({ statusCode: 200, headers: JSON_CONTENT, body: '{}' });
    expect(queue.messages[0]?.body).toBe(body);
    expect(queue.messages[0]?.attributes.eventType).toBe('unknown');
  });

  it('an unknown event type → 200 {}, enqueued under its name', async () => {
    const body = '{"event":"v3.story.didCreate","data":{}}';
    const { handler, queue } = setup();
    expect((await handler(signedWebhookEvent(body, SECRET))).statusCode).toBe(200);
    expect(queue.messages[0]?.attributes.eventType).toBe('story.didCreate');
  });

  it('works with the static secret source used locally', async () => {
    const { handler, queue } = setup(new StaticSecretSource({ default: JSON.stringify({ current: 'new', previous: SECRET }) }));
    expect((await handler(signedWebhookEvent(sampleBody('follow.didCreate'), SECRET))).statusCode).toBe(200);
    expect(queue.messages).toHaveLength(1);
  });
});

describe('receiver: requests that are not enqueued', () => {
  const body = sampleBody('message.didFlag');

  it('only x-eko-signature (legacy duplicate) → 200 {}, dropped and counted', async () => {
    const { handler, queue, metrics, assertLogsClean } = setup();
    const res = await handler(apiGatewayEvent({ body, headers: { 'X-Eko-Signature': sign(body, SECRET) } }));
    expect(res).toEqual({ statusCode: 200, headers: JSON_CONTENT, body: '{}' });
    expect(queue.messages).toHaveLength(0);
    expect(metrics.total('LegacyDropped')).toBe(1);
    assertLogsClean(body);
  });

  it('both headers: the x-amity-signature is verified and the event enqueued', async () => {
    const { handler, queue } = setup();
    const res = await handler(apiGatewayEvent({ body, headers: { 'x-eko-signature': 'whatever', 'x-amity-signature': sign(body, SECRET) } }));
    expect(res.statusCode).toBe(200);
    expect(queue.messages).toHaveLength(1);
  });

  it.each([
    ['no signature header', {}, 401, '{"message":"missing x-amity-signature"}', 'SignatureMissing', 'missing'],
    ['an empty signature header', { 'x-amity-signature': '' }, 401, '{"message":"missing x-amity-signature"}', 'SignatureMissing', 'missing'],
    [
      'a signature by another secret',
      { 'x-amity-signature': sign(body, 'wrong-secret') },
      401,
      '{"message":"invalid signature"}',
      'SignatureInvalid',
      'no-secret-matched',
    ],
    [
      'a hex signature that is no MAC of the body',
      { 'x-amity-signature': 'ab'.repeat(32) },
      401,
      '{"message":"invalid signature"}',
      'SignatureInvalid',
      'no-secret-matched',
    ],
    [
      'a signature that is neither base64 nor hex',
      { 'x-amity-signature': 'sha256=abc' },
      401,
      '{"message":"invalid signature"}',
      'SignatureInvalid',
      'not-base64-or-hex',
    ],
  ] as const)('%s → $2, counted as $4 and logged at WARN with the reason', async (_label, headers, statusCode, resBody, metric, reason) => {
    const { handler, queue, metrics, logger, assertLogsClean } = setup();
    const res = await handler(apiGatewayEvent({ body, headers }));
    expect(res).toEqual({ statusCode, headers: JSON_CONTENT, body: resBody });
    expect(queue.messages).toHaveLength(0);
    expect(metrics.total(metric)).toBe(1);
    const warn = logger.at('warn');
    expect(warn).toHaveLength(1);
    expect(warn[0]?.fields).toMatchObject({ reason, source: 'default', bodyBytes: Buffer.byteLength(body) });
    assertLogsClean(body);
  });

  it.each([
    ['null', null],
    ['empty', ''],
  ])('%s body → 400 {"message":"empty body"}', async (_label, emptyBody) => {
    const { handler, queue, metrics } = setup();
    const res = await handler(apiGatewayEvent({ body: emptyBody, headers: { 'x-amity-signature': sign('', SECRET) } }));
    expect(res).toEqual({ statusCode: 400, headers: JSON_CONTENT, body: '{"message":"empty body"}' });
    expect(queue.messages).toHaveLength(0);
    expect(metrics.total('EmptyBody')).toBe(1);
  });

  it.each([
    ['no signature', 'default', {}, 401, '{"message":"missing x-amity-signature"}', 'SignatureMissing'],
    [
      'two signature lines',
      'default',
      { 'x-amity-signature': ['a', 'b'] },
      401,
      '{"message":"more than one x-amity-signature header"}',
      'SignatureInvalid',
    ],
    [
      'a valid signature, an unknown source',
      'nope',
      { 'x-amity-signature': [sign('', SECRET)] },
      404,
      '{"message":"unknown webhook source \'nope\'"}',
      'UnknownSource',
    ],
  ] as const)(
    'an empty body with %s gets the answer to its head, not 400: the head is checked first, as the front door does before reading a body',
    async (_label, source, lines, statusCode, resBody, metric) => {
      const { handler, metrics } = setup();
      const multiValueHeaders = Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, [...v]]));
      const headers = Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, v.at(-1) as string]));
      const res = await handler({ ...apiGatewayEvent({ body: '', headers, source }), multiValueHeaders });
      expect(res).toEqual({ statusCode, headers: JSON_CONTENT, body: resBody });
      expect(metrics.total(metric)).toBe(1);
      expect(metrics.total('EmptyBody')).toBe(0);
    },
  );

  it('an unknown source in the path → 404 naming it, nothing enqueued', async () => {
    const { handler, queue, metrics } = setup();
    const res = await handler(signedWebhookEvent(body, SECRET, { source: 'nope' }));
    expect(res).toEqual({ statusCode: 404, headers: JSON_CONTENT, body: '{"message":"unknown webhook source \'nope\'"}' });
    expect(queue.messages).toHaveLength(0);
    expect(metrics.total('UnknownSource')).toBe(1);
  });

  it('a source name that could never be configured → 404 without a secret lookup', async () => {
    const secrets = new FakeSecretSource({ default: [SECRET] });
    const { handler } = setup(secrets);
    const res = await handler(signedWebhookEvent(body, SECRET, { source: '../Default' }));
    expect(res.statusCode).toBe(404);
    expect(secrets.lookups).toEqual([]);
  });

  it.each([
    ['twice in one case', { 'x-amity-signature': ['SIG1', 'SIG2'] }],
    ['in two letter cases', { 'x-amity-signature': ['SIG1'], 'X-Amity-Signature': ['SIG2'] }],
    ['twice, one of them valid', { 'x-amity-signature': ['VALID', 'bogus'] }],
  ])('refuses a request carrying x-amity-signature %s: 401, nothing enqueued (one rule, whichever line a proxy keeps)', async (_label, lines) => {
    const { handler, queue, metrics, logger } = setup();
    const valid = sign(body, SECRET);
    const multiValueHeaders = Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, v.map((x) => (x === 'VALID' ? valid : x))]));
    const headers = Object.fromEntries(Object.entries(multiValueHeaders).map(([k, v]) => [k, v.at(-1) as string]));
    const res = await handler({ ...apiGatewayEvent({ body, headers }), multiValueHeaders });
    expect(res).toEqual({ statusCode: 401, headers: JSON_CONTENT, body: '{"message":"more than one x-amity-signature header"}' });
    expect(queue.messages).toEqual([]);
    expect(metrics.total('SignatureInvalid')).toBe(1);
    expect(logger.at('warn')[0]?.fields).toMatchObject({ reason: 'duplicate-header', headerLines: 2 });
  });

  it("never logs a path's source before it passes the source-name rule (it may carry terminal escapes)", async () => {
    const { handler, logger } = setup();
    const osc52 = '\u001b]52;c;ZXZpbA==\u0007';
    for (const headers of [{}, { 'x-eko-signature': 'x' }, { 'x-amity-signature': sign(body, SECRET) }]) {
      await handler(apiGatewayEvent({ body, headers, source: osc52 }));
      await handler(apiGatewayEvent({ body: '', headers, source: osc52 }));
    }
    const lines = logger.lines().join('\n');
    expect(lines).not.toContain('\u001b');
    expect(lines).not.toContain('ZXZpbA==');
    expect(logger.at('warn').map((l) => l.fields?.source)).toContain('(not a source name)');
  });

  it.each([
    ['still the placeholder', new StaticSecretSource({ default: SECRET_PLACEHOLDER })],
    ['empty', new StaticSecretSource({ default: '' })],
    ['missing', new FakeSecretSource({ default: new SecretNotConfiguredError('default', 'no secret value') })],
  ])('the secret is %s → 503 {"message":"webhook secret not configured"}, logged at ERROR', async (_label, secrets) => {
    const { handler, queue, logger, metrics, assertLogsClean } = setup(secrets);
    const res = await handler(signedWebhookEvent(body, SECRET));
    expect(res).toEqual({ statusCode: 503, headers: JSON_CONTENT, body: '{"message":"webhook secret not configured"}' });
    expect(queue.messages).toHaveLength(0);
    expect(metrics.total('SecretNotConfigured')).toBe(1);
    expect(logger.at('error')).toHaveLength(1);
    assertLogsClean(body);
  });

  it('the secret store failing → 503 {"message":"temporarily unavailable"}, logged at ERROR', async () => {
    const { handler, queue, logger } = setup(new FakeSecretSource({ default: new Error('connect ETIMEDOUT') }));
    const res = await handler(signedWebhookEvent(body, SECRET));
    expect(res).toEqual({ statusCode: 503, headers: JSON_CONTENT, body: '{"message":"temporarily unavailable"}' });
    expect(queue.messages).toHaveLength(0);
    expect(logger.at('error')[0]?.fields).toMatchObject({ error: 'connect ETIMEDOUT', source: 'default' });
  });

  it('the queue failing → 503 {"message":"temporarily unavailable"}, logged at ERROR with the event id', async () => {
    const { handler, queue, logger, metrics, assertLogsClean } = setup();
    queue.failWith = new Error('ServiceUnavailable');
    const res = await handler(signedWebhookEvent(body, SECRET));
    expect(res).toEqual({ statusCode: 503, headers: JSON_CONTENT, body: '{"message":"temporarily unavailable"}' });
    expect(metrics.total('EnqueueFailed')).toBe(1);
    expect(logger.at('error')[0]?.fields).toMatchObject({ eventId: eventIdOf(body), error: 'ServiceUnavailable' });
    assertLogsClean(body);
  });
});

describe("precheckWebhook: the receiver's checks on the head, before any body is read", () => {
  const body = sampleBody('message.didCreate');
  const KNOWN = ['default', 'eu-app'];

  /** The head of `event`, as a carrier that has not read the body gives it (the front door). */
  function headOf(event: APIGatewayProxyEvent, bodyBytes?: number): WebhookHead {
    const signatureHeaderCount = Object.entries(event.multiValueHeaders)
      .filter(([k]) => k.toLowerCase() === SIGNATURE_HEADER)
      .reduce((n, [, v]) => n + (v?.length ?? 0), 0);
    return {
      headers: lowerCaseHeaders(event.headers),
      source: event.pathParameters?.source ?? 'default',
      requestId: event.requestContext.requestId,
      signatureHeaderCount,
      ...(bodyBytes === undefined ? {} : { bodyBytes }),
    };
  }

  const withLines = (lines: Record<string, string[]>, source?: string): APIGatewayProxyEvent => ({
    ...apiGatewayEvent({
      body,
      headers: Object.fromEntries(Object.entries(lines).map(([k, v]) => [k, v.at(-1) as string])),
      ...(source === undefined ? {} : { source }),
    }),
    multiValueHeaders: lines,
  });

  it.each([
    ['only x-eko-signature (legacy duplicate)', withLines({ 'X-Eko-Signature': ['x'] }), 200, 'LegacyDropped'],
    [
      'two x-amity-signature lines in two letter cases',
      withLines({ 'x-amity-signature': ['a'], 'X-Amity-Signature': ['b'] }),
      401,
      'SignatureInvalid',
    ],
    ['no signature header', withLines({ 'content-type': ['application/json'] }), 401, 'SignatureMissing'],
    ['a blank signature header', withLines({ 'x-amity-signature': ['  '] }), 401, 'SignatureMissing'],
    ['a path source that is no source name', withLines({ 'x-amity-signature': ['c2ln'] }, '../Default'), 404, 'UnknownSource'],
    ['a source not configured', withLines({ 'x-amity-signature': ['c2ln'] }, 'nope'), 404, 'UnknownSource'],
  ] as const)('%s: the answer, metrics and log line the receiver gives, from the head alone', async (_label, event, statusCode, metric) => {
    const byReceiver = setup();
    const received = await byReceiver.handler(event);
    const logger = new RecordingLogger();
    const metrics = new RecordingMetrics();
    const early = precheckWebhook(headOf(event, Buffer.byteLength(body)), { logger, metrics, knownSources: KNOWN });
    expect(early).toEqual({ statusCode, body: received.body });
    expect(received.statusCode).toBe(statusCode);
    expect(metrics.calls).toEqual(byReceiver.metrics.calls);
    expect(metrics.calls.map((c) => c.name)).toEqual(['Received', metric]);
    expect(logger.entries).toEqual(byReceiver.logger.entries);
    expect(logger.entries).toHaveLength(1);
  });

  it('names no body size it does not know: the same line less bodyBytes', () => {
    const logger = new RecordingLogger();
    const event = withLines({});
    precheckWebhook(headOf(event), { logger, metrics: new RecordingMetrics() });
    expect(logger.entries).toEqual([
      {
        level: 'warn',
        message: 'rejected: no x-amity-signature header',
        fields: { source: 'default', requestId: event.requestContext.requestId, reason: 'missing' },
      },
    ]);
  });

  it.each([
    ['a known source with a signature (not verified here)', withLines({ 'x-amity-signature': ['not-even-base64!'] }, 'eu-app'), KNOWN],
    ['both signature headers', withLines({ 'x-eko-signature': ['x'], 'x-amity-signature': ['c2ln'] }), KNOWN],
    [
      'a well-formed source when the sources are not known (the secret lookup decides)',
      withLines({ 'x-amity-signature': ['c2ln'] }, 'nope'),
      undefined,
    ],
  ] as const)('%s: goes on to the receiver, nothing counted or logged', (_label, event, knownSources) => {
    const logger = new RecordingLogger();
    const metrics = new RecordingMetrics();
    expect(precheckWebhook(headOf(event), { logger, metrics, ...(knownSources ? { knownSources } : {}) })).toBeUndefined();
    expect(metrics.calls).toEqual([]);
    expect(logger.entries).toEqual([]);
  });

  it('never logs a path source that is no source name', () => {
    const logger = new RecordingLogger();
    const osc52 = '\u001b]52;c;ZXZpbA==\u0007';
    const cases: Array<Record<string, string[]>> = [
      {},
      { 'x-eko-signature': ['x'] },
      { 'x-amity-signature': ['a', 'b'] },
      { 'x-amity-signature': ['c2ln'] },
    ];
    for (const lines of cases) {
      precheckWebhook(headOf(withLines(lines, osc52)), { logger, metrics: new RecordingMetrics(), knownSources: KNOWN });
    }
    const text = logger.lines().join('\n');
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('ZXZpbA==');
    expect(logger.entries.map((e) => e.fields.source)).toEqual(Array(4).fill('(not a source name)'));
  });
});

describe('receiver: a signature that matches no cached secret', () => {
  /** A source whose answers are scripted per lookup, recording the options it was asked with. */
  function scripted(answers: Array<readonly string[] | Error>) {
    const asked: Array<{ maxAgeMs?: number } | undefined> = [];
    const source: SecretSource = {
      async secretsFor(_source, opts) {
        asked.push(opts);
        const next = answers[Math.min(asked.length - 1, answers.length - 1)];
        if (next instanceof Error) throw next;
        return next ?? [];
      },
    };
    return { source, asked };
  }
  const body = sampleBody('message.didCreate');

  it('asks once for a copy at most 30 s old and verifies against it', async () => {
    const { source, asked } = scripted([['old'], ['new']]);
    const { handler, queue } = setup(source);
    expect((await handler(signedWebhookEvent(body, 'new'))).statusCode).toBe(200);
    expect(asked).toEqual([undefined, { maxAgeMs: 30_000 }]);
    expect(queue.messages).toHaveLength(1);
  });

  it('the same secrets again → 401 without verifying twice', async () => {
    const { source, asked } = scripted([['old']]);
    const { handler, logger } = setup(source);
    expect((await handler(signedWebhookEvent(body, 'forged'))).statusCode).toBe(401);
    expect(asked).toHaveLength(2);
    expect(logger.at('warn')[0]?.fields).toMatchObject({ reason: 'no-secret-matched', secretRefreshed: false });
  });

  it('the re-read failing keeps the answer 401 (not 503)', async () => {
    const { source } = scripted([['old'], new Error('throttled')]);
    const { handler, queue } = setup(source);
    expect((await handler(signedWebhookEvent(body, 'forged'))).statusCode).toBe(401);
    expect(queue.messages).toHaveLength(0);
  });

  it.each([
    ['missing', apiGatewayEvent({ body, headers: {} })],
    ['malformed', apiGatewayEvent({ body, headers: { 'x-amity-signature': 'nope' } })],
  ])('a %s signature does not trigger a re-read', async (_label, event) => {
    const { source, asked } = scripted([['old']]);
    const { handler } = setup(source);
    expect((await handler(event)).statusCode).toBe(401);
    expect(asked.length).toBeLessThanOrEqual(1);
  });
});

describe('receiver: what travels on the queue (property)', () => {
  const SQS_UNSAFE = /[^\t\n\r\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

  it('is the verified bytes: as text only when SQS accepts every character, else base64', async () => {
    const { handler, queue } = setup();
    const texts = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: 'binary', maxLength: 200 }).map((t) => JSON.stringify({ event: 'message.didCreate', data: { t } })),
      fc.constantFrom('\uFFFE', '\uFFFF', '\u0000', '\u0085', '\uD800', '\uDC00x', '😀').map((c) => `{"event":"x.y","data":"${c}"}`),
    );
    await fc.assert(
      fc.asyncProperty(texts, fc.boolean(), async (text, base64) => {
        fc.pre(text.length > 0);
        const bytes = Buffer.from(text, 'utf8');
        queue.messages.length = 0;
        const res = await handler(
          base64
            ? signedWebhookEvent(bytes, SECRET, { base64: true })
            : apiGatewayEvent({ body: text, headers: { 'x-amity-signature': sign(bytes, SECRET) } }),
        );
        expect(res.statusCode).toBe(200);
        const m = queue.messages[0];
        expect(m?.attributes.eventId).toBe(eventIdOf(bytes));
        if (m?.attributes.bodyEncoding === 'base64') {
          expect(Buffer.from(m.body, 'base64').equals(bytes)).toBe(true);
        } else {
          expect(SQS_UNSAFE.test(m?.body ?? '')).toBe(false);
          expect(Buffer.from(m?.body ?? '', 'utf8').equals(bytes)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('receiver: logs', () => {
  it('an accepted event is logged at INFO with ids only', async () => {
    const body = sampleBody('message.didCreate');
    const { handler, logger, assertLogsClean } = setup();
    await handler(signedWebhookEvent(body, SECRET, { requestId: 'req-1' }));
    const info = logger.at('info');
    expect(info).toHaveLength(1);
    expect(info[0]?.fields).toEqual({
      source: 'default',
      requestId: 'req-1',
      bodyBytes: Buffer.byteLength(body),
      eventId: eventIdOf(body),
      eventType: 'message.didCreate',
      secretIndex: 0,
      signatureForm: 'base64',
    });
    assertLogsClean(body);
  });
});
