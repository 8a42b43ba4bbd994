/**
 * The Secrets Manager secret source through the real Secrets Manager client, against the AWS double
 * answering GetSecretValue in Secrets Manager's JSON protocol (values and errors as the service
 * sends them), with a clock the tests control.
 */
import { ResourceNotFoundException, SecretsManagerClient, SecretsManagerServiceException } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretsManagerSecretSource } from '../../lambda/adapters/secrets-manager-source.js';
import { StaticSecretSource } from '../../lambda/adapters/static-secret-source.js';
import { SecretNotConfiguredError, UnknownSourceError } from '../../lambda/core/errors.js';
import { SECRET_PLACEHOLDER } from '../../lambda/core/secret-value.js';
import { SECRET_REFRESH_AFTER_MS } from '../../lambda/core/receive.js';
import { createReceiverHandler } from '../../lambda/receiver/handler.js';
import { signedWebhookEvent } from '../support/api-gateway.js';
import { jsonServiceAnswer, jsonServiceError, startAwsDouble, type AwsAnswer, type AwsDouble } from '../support/aws-double.js';
import { InMemoryQueue, RecordingLogger, RecordingMetrics } from '../support/fakes.js';
import { sampleBody } from '../support/samples.js';

const ARN = {
  default: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:socialplus-webhooks/default-AbCdEf',
  'eu-app': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:socialplus-webhooks/eu-app-GhIjKl',
};

/** What Secrets Manager holds for an ARN: a string value, no string (a binary secret), or an error answer. */
type Held = string | undefined | { readonly error: AwsAnswer };

/** Secrets Manager's errors: `__type` without a namespace, the message under `Message`. */
const secretsError = (type: string, message: string): { error: AwsAnswer } => ({ error: jsonServiceError(type, message, { messageKey: 'Message' }) });

const GET = 'secretsmanager:GetSecretValue';
let double: AwsDouble;
beforeAll(async () => {
  double = await startAwsDouble();
});
afterAll(() => double.close());

/** GetSecretValue's answer for one secret, as Secrets Manager sends it. */
function answerFor(secretId: string, held: Held): AwsAnswer {
  if (typeof held === 'object') return held.error;
  return jsonServiceAnswer({
    ARN: secretId,
    Name: secretId.replace(/^.*:secret:/, '').replace(/-\w{6}$/, ''),
    VersionId: 'c5a0bf54-3d0e-4b6a-9a59-8c1e3e8f4b21',
    ...(held === undefined ? { SecretBinary: Buffer.from([0x01, 0x02]).toString('base64') } : { SecretString: held }),
    VersionStages: ['AWSCURRENT'],
    CreatedDate: 1.751449e9,
  });
}

/** Secrets Manager with values per ARN that a test may change, and a clock it controls. */
function setup(values: Record<string, Held>, maxAgeMs = 60_000) {
  let now = 1_000_000;
  double.calls.length = 0;
  double.answer({ [GET]: (call) => answerFor(call.input.SecretId as string, values[call.input.SecretId as string]) });
  const client = new SecretsManagerClient({
    endpoint: double.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 1,
  });
  const source = new SecretsManagerSecretSource(client, ARN, maxAgeMs, () => now);
  return {
    /** The GetSecretValue calls Secrets Manager saw. */
    reads: () => double.callsTo(GET),
    source,
    values,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('SecretsManagerSecretSource', () => {
  it("reads the source's own secret by its ARN", async () => {
    const { reads, source } = setup({ [ARN.default]: 'k-default', [ARN['eu-app']]: 'k-eu' });
    expect(await source.secretsFor('eu-app')).toEqual(['k-eu']);
    expect(double.calls.map((c) => [`${c.service}:${c.operation}`, c.input])).toEqual([[GET, { SecretId: ARN['eu-app'] }]]);
    expect(reads()[0]?.headers['x-amz-target']).toBe('secretsmanager.GetSecretValue');
  });

  it('caches per source until the max age, then re-reads (picking up a new value)', async () => {
    const { reads, source, values, advance } = setup({ [ARN.default]: 'k1', [ARN['eu-app']]: 'k-eu' }, 60_000);
    expect(await source.secretsFor('default')).toEqual(['k1']);
    values[ARN.default] = 'k2';
    advance(59_999);
    expect(await source.secretsFor('default')).toEqual(['k1']);
    expect(await source.secretsFor('eu-app')).toEqual(['k-eu']);
    expect(reads()).toHaveLength(2);
    advance(1);
    expect(await source.secretsFor('default')).toEqual(['k2']);
    expect(reads()).toHaveLength(3);
  });

  it("a lookup may ask for a fresher copy than the cache's max age", async () => {
    const { reads, source, values, advance } = setup({ [ARN.default]: 'k1' }, 300_000);
    await source.secretsFor('default');
    values[ARN.default] = 'k2';
    advance(29_999);
    expect(await source.secretsFor('default', { maxAgeMs: 30_000 })).toEqual(['k1']);
    advance(1);
    expect(await source.secretsFor('default', { maxAgeMs: 30_000 })).toEqual(['k2']);
    expect(reads()).toHaveLength(2);
    // A larger maxAgeMs never extends the cache beyond its own max age.
    advance(300_000);
    await source.secretsFor('default', { maxAgeMs: 10_000_000 });
    expect(reads()).toHaveLength(3);
  });

  it('JSON {"current","previous"} during a rotation → both keys, current first', async () => {
    const { source } = setup({ [ARN.default]: '{"current":"new","previous":"old"}' });
    expect(await source.secretsFor('default')).toEqual(['new', 'old']);
  });

  it.each(['nope', '__proto__', 'toString', 'constructor'])('unknown source %j → UnknownSourceError, no request', async (name) => {
    const { reads, source } = setup({ [ARN.default]: 'k' });
    await expect(source.secretsFor(name)).rejects.toBeInstanceOf(UnknownSourceError);
    expect(reads()).toHaveLength(0);
  });

  it.each([
    ['the placeholder', SECRET_PLACEHOLDER, 'still holds the placeholder'],
    ['an empty string', '', 'the secret is empty'],
    ['no SecretString (a binary secret)', undefined, 'the secret is empty'],
    ['broken JSON', '{"current":', 'does not parse'],
    [
      'no value yet (ResourceNotFoundException)',
      secretsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"),
      'has no value for secret',
    ],
  ])('%s → SecretNotConfiguredError', async (_label, value, message) => {
    const { source } = setup({ [ARN.default]: value });
    const err = await source.secretsFor('default').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretNotConfiguredError);
    expect((err as Error).message).toContain(message);
  });

  it('a not-configured secret is not cached: pasting the key fixes the next request', async () => {
    const { source, values } = setup({ [ARN.default]: SECRET_PLACEHOLDER });
    await expect(source.secretsFor('default')).rejects.toBeInstanceOf(SecretNotConfiguredError);
    values[ARN.default] = 'real-key';
    expect(await source.secretsFor('default')).toEqual(['real-key']);
  });

  it('the cause of a not-configured secret is named: the secret without a value', async () => {
    const { source } = setup({
      [ARN.default]: secretsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"),
    });
    const err = await source.secretsFor('default').catch((e: unknown) => e);
    expect((err as Error).message).toBe(
      `webhook secret for source 'default' is not configured: Secrets Manager has no value for secret '${ARN.default}'; put the secret key from the Social Plus console in it`,
    );
  });

  it.each([
    [
      'no permission (AccessDeniedException)',
      secretsError(
        'AccessDeniedException',
        `User: arn:aws:sts::123456789012:assumed-role/receiver/fn is not authorized to perform: secretsmanager:GetSecretValue on resource: ${ARN.default} because no identity-based policy allows the secretsmanager:GetSecretValue action`,
      ),
      'AccessDeniedException',
      'not authorized to perform: secretsmanager:GetSecretValue',
    ],
    ['throttling (ThrottlingException)', secretsError('ThrottlingException', 'Rate exceeded'), 'ThrottlingException', 'Rate exceeded'],
  ])('other errors (%s) propagate as the SDK raised them, and are not cached', async (_label, held, name, message) => {
    const { reads, source, values } = setup({ [ARN.default]: held });
    const err = await source.secretsFor('default').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretsManagerServiceException);
    expect(err).not.toBeInstanceOf(ResourceNotFoundException);
    expect(err).toMatchObject({ name, $fault: 'client', $metadata: expect.objectContaining({ httpStatusCode: 400 }) });
    expect((err as Error).message).toContain(message);
    values[ARN.default] = 'k';
    expect(await source.secretsFor('default')).toEqual(['k']);
    expect(reads()).toHaveLength(2);
  });
});

describe('receiver + Secrets Manager: a rotated secret', () => {
  it('a signature by the new key re-reads a cache older than 30 s once, then verifies', async () => {
    const { reads, source, values, advance } = setup({ [ARN.default]: 'old-key' }, 300_000);
    const queue = new InMemoryQueue();
    const logger = new RecordingLogger();
    const handler = createReceiverHandler({ queue, secrets: source, logger, metrics: new RecordingMetrics() });
    const body = sampleBody('message.didCreate');

    expect((await handler(signedWebhookEvent(body, 'old-key'))).statusCode).toBe(200);
    values[ARN.default] = 'new-key';

    // Cached copy younger than 30 s: no re-read; the event is rejected.
    advance(SECRET_REFRESH_AFTER_MS - 1);
    expect((await handler(signedWebhookEvent(body, 'new-key'))).statusCode).toBe(401);
    expect(reads()).toHaveLength(1);
    expect(logger.at('warn')[0]?.fields).toMatchObject({ reason: 'no-secret-matched', secretRefreshed: false });

    advance(1);
    expect((await handler(signedWebhookEvent(body, 'new-key'))).statusCode).toBe(200);
    expect(reads()).toHaveLength(2);
    expect(queue.messages).toHaveLength(2);

    // Still a forgery: rejected, and the fresh cache is not re-read again.
    expect((await handler(signedWebhookEvent(body, 'forged'))).statusCode).toBe(401);
    expect(reads()).toHaveLength(2);
  });
});

describe('StaticSecretSource', () => {
  it('parses values like Secrets Manager does', async () => {
    const source = new StaticSecretSource({ default: 'k', rot: '{"current":"a","previous":"b"}', ph: SECRET_PLACEHOLDER });
    expect(await source.secretsFor('default')).toEqual(['k']);
    expect(await source.secretsFor('rot')).toEqual(['a', 'b']);
    await expect(source.secretsFor('ph')).rejects.toBeInstanceOf(SecretNotConfiguredError);
    await expect(source.secretsFor('other')).rejects.toBeInstanceOf(UnknownSourceError);
    await expect(source.secretsFor('__proto__')).rejects.toBeInstanceOf(UnknownSourceError);
  });
});
