import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { hasErrorName, SecretNotConfiguredError, UnknownSourceError } from '../core/errors.js';
import type { SecretLookupOptions, SecretSource } from '../core/ports.js';
import { parseSecretValue } from '../core/secret-value.js';

/** Secret port on Secrets Manager: one secret per source, cached in the function for `maxAgeMs`. */
export class SecretsManagerSecretSource implements SecretSource {
  private readonly cache = new Map<string, { keys: readonly string[]; fetchedAtMs: number }>();

  constructor(
    private readonly client: SecretsManagerClient,
    /** Source name → secret ARN (or name). */
    private readonly secretIds: Readonly<Record<string, string>>,
    private readonly maxAgeMs = 5 * 60_000,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async secretsFor(source: string, opts: SecretLookupOptions = {}): Promise<readonly string[]> {
    const secretId = Object.hasOwn(this.secretIds, source) ? this.secretIds[source] : undefined;
    if (secretId === undefined) throw new UnknownSourceError(source);
    const maxAgeMs = Math.min(this.maxAgeMs, opts.maxAgeMs ?? Infinity);
    const hit = this.cache.get(source);
    if (hit && this.nowMs() - hit.fetchedAtMs < maxAgeMs) return hit.keys;
    let secretString: string | undefined;
    try {
      secretString = (await this.client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
    } catch (err) {
      // A secret created without a value (or deleted) is a configuration problem (503 'not
      // configured'), not an outage.
      if (hasErrorName(err, 'ResourceNotFoundException')) {
        throw new SecretNotConfiguredError(
          source,
          `Secrets Manager has no value for secret '${secretId}'; put the secret key from the Social Plus console in it`,
        );
      }
      throw err;
    }
    const keys = parseSecretValue(source, secretString);
    this.cache.set(source, { keys, fetchedAtMs: this.nowMs() });
    return keys;
  }
}
