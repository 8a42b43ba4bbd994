import { UnknownSourceError } from '../core/errors.js';
import type { SecretSource } from '../core/ports.js';
import { parseSecretValue } from '../core/secret-value.js';

/** Secret port over values already in memory (local mode, tests). */
export class StaticSecretSource implements SecretSource {
  constructor(private readonly values: Readonly<Record<string, string>>) {}

  async secretsFor(source: string): Promise<readonly string[]> {
    if (!Object.hasOwn(this.values, source)) throw new UnknownSourceError(source);
    return parseSecretValue(source, this.values[source]);
  }
}
