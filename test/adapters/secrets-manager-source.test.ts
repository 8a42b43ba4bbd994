import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { SecretsManagerSecretSource } from '../../lambda/adapters/secrets-manager-source.js';
import { StaticSecretSource } from '../../lambda/adapters/static-secret-source.js';
import { SecretNotConfiguredError, UnknownSourceError } from '../../lambda/core/errors.js';
import { SECRET_PLACEHOLDER } from '../../lambda/core/secret-value.js';
import { SECRET_REFRESH_AFTER_MS } from '../../lambda/core/receive.js';
import { createReceiverHandler } from '../../lambda/receiver/handler.js';
import { signedWebhookEvent } from '../support/api-gateway.js';
import { awsError, FakeAwsClient } from '../support/fake-aws-client.js';
import { InMemoryQueue, RecordingLogger, RecordingMetrics } from '../support/fakes.js';
import { sampleBody } from '../support/samples.js';

const ARN = {
  default: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:socialplus-webhooks/default-AbCdEf',
  'eu-app': 'arn:aws:secretsmanager:us-east-1:123456789012:secret:socialplus-webhooks/eu-app-GhIjKl',
};

/** Secrets Manager with values per ARN that a test may change, and a clock it controls. */
function setup(values: Record<string, string | Error | undefined>, maxAgeMs = 60_000) {
  let now = 1_000_000;
  const client = new FakeAwsClient((c) => {
    const value = values[c.input.SecretId as string];
    if (value instanceof Error) throw value;
    return { ARN: c.input.SecretId, Name: 'n', SecretString: value, VersionId: 'v1' };
  });
  const source = new SecretsManagerSecretSource(client.as<SecretsManagerClient>(), ARN, maxAgeMs, () => now);
  return {
    client,
    source,
    values,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('SecretsManagerSecretSource', () => {
  it("reads the source's own secret by its ARN", async () => {
    const { client, source } = setup({ [ARN.default]: 'k-default', [ARN['eu-app']]: 'k-eu' });
    expect(await source.secretsFor('eu-app')).toEqual(['k-eu']);
    expect(client.commands).toEqual([{ name: 'GetSecretValueCommand', input: { SecretId: ARN['eu-app'] } }]);
  });

  it('caches per source until the max age, then re-reads (picking up a new value)', async () => {
    const { client, source, values, advance } = setup({ [ARN.default]: 'k1', [ARN['eu-app']]: 'k-eu' }, 60_000);
    expect(await source.secretsFor('default')).toEqual(['k1']);
    values[ARN.default] = 'k2';
    advance(59_999);
    expect(await source.secretsFor('default')).toEqual(['k1']);
    expect(await source.secretsFor('eu-app')).toEqual(['k-eu']);
    expect(client.commands).toHaveLength(2);
    advance(1);
    expect(await source.secretsFor('default')).toEqual(['k2']);
    expect(client.commands).toHaveLength(3);
  });

  it("a lookup may ask for a fresher copy than the cache's max age", async () => {
    const { client, source, values, advance } = setup({ [ARN.default]: 'k1' }, 300_000);
    await source.secretsFor('default');
    values[ARN.default] = 'k2';
    advance(29_999);
    expect(await source.secretsFor('default', { maxAgeMs: 30_000 })).toEqual(['k1']);
    advance(1);
    expect(await source.secretsFor('default', { maxAgeMs: 30_000 })).toEqual(['k2']);
    expect(client.commands).toHaveLength(2);
    // A larger maxAgeMs never extends the cache beyond its own max age.
    advance(300_000);
    await source.secretsFor('default', { maxAgeMs: 10_000_000 });
    expect(client.commands).toHaveLength(3);
  });

  it('JSON {"current","previous"} during a rotation → both keys, current first', async () => {
    const { source } = setup({ [ARN.default]: '{"current":"new","previous":"old"}' });
    expect(await source.secretsFor('default')).toEqual(['new', 'old']);
  });

  it.each(['nope', '__proto__', 'toString', 'constructor'])('unknown source %j → UnknownSourceError, no request', async (name) => {
    const { client, source } = setup({ [ARN.default]: 'k' });
    await expect(source.secretsFor(name)).rejects.toBeInstanceOf(UnknownSourceError);
    expect(client.commands).toHaveLength(0);
  });

  it.each([
    ['the placeholder', SECRET_PLACEHOLDER, 'still holds the placeholder'],
    ['an empty string', '', 'the secret is empty'],
    ['no SecretString (a binary secret)', undefined, 'the secret is empty'],
    ['broken JSON', '{"current":', 'does not parse'],
    [
      'no value yet (ResourceNotFoundException)',
      awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret value for staging label: AWSCURRENT"),
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

  it('other errors (no permission, network) propagate as they are', async () => {
    const { source } = setup({ [ARN.default]: awsError('AccessDeniedException', 'not authorized to perform secretsmanager:GetSecretValue') });
    await expect(source.secretsFor('default')).rejects.toThrow('not authorized');
  });
});

describe('receiver + Secrets Manager: a rotated secret', () => {
  it('a signature by the new key re-reads a cache older than 30 s once, then verifies', async () => {
    const { client, source, values, advance } = setup({ [ARN.default]: 'old-key' }, 300_000);
    const queue = new InMemoryQueue();
    const logger = new RecordingLogger();
    const handler = createReceiverHandler({ queue, secrets: source, logger, metrics: new RecordingMetrics() });
    const body = sampleBody('message.didCreate');

    expect((await handler(signedWebhookEvent(body, 'old-key'))).statusCode).toBe(200);
    values[ARN.default] = 'new-key';

    // Cached copy younger than 30 s: no re-read; the event is rejected.
    advance(SECRET_REFRESH_AFTER_MS - 1);
    expect((await handler(signedWebhookEvent(body, 'new-key'))).statusCode).toBe(401);
    expect(client.commands).toHaveLength(1);
    expect(logger.at('warn')[0]?.fields).toMatchObject({ reason: 'no-secret-matched', secretRefreshed: false });

    advance(1);
    expect((await handler(signedWebhookEvent(body, 'new-key'))).statusCode).toBe(200);
    expect(client.commands).toHaveLength(2);
    expect(queue.messages).toHaveLength(2);

    // Still a forgery: rejected, and the fresh cache is not re-read again.
    expect((await handler(signedWebhookEvent(body, 'forged'))).statusCode).toBe(401);
    expect(client.commands).toHaveLength(2);
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
