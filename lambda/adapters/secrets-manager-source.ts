import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { UnknownSourceError } from '../core/errors.js';
import type { SecretSource } from '../core/ports.js';
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

  async secretsFor(source: string): Promise<readonly string[]> {
    const secretId = Object.hasOwn(this.secretIds, source) ? this.secretIds[source] : undefined;
    if (secretId === undefined) throw new UnknownSourceError(source);
    const hit = this.cache.get(source);
    if (hit && this.nowMs() - hit.fetchedAtMs < this.maxAgeMs) return hit.keys;
    const out = await this.client.send(new GetSecretValueCommand({ SecretId: secretId }));
    const keys = parseSecretValue(source, out.SecretString);
    this.cache.set(source, { keys, fetchedAtMs: this.nowMs() });
    return keys;
  }
}
