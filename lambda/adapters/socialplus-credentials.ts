import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { hasErrorName, SocialPlusWebhooksError } from '../core/errors.js';
import { parseJsonSecret, secretField } from '../core/secret-value.js';
import { SOCIALPLUS_API_SECRET_PLACEHOLDER } from '../fanout/handlers/env.js';
import type { SocialPlusCredentials, SocialPlusCredentialsSource } from '../fanout/kit/social-plus-client.js';

export { SOCIALPLUS_API_SECRET_PLACEHOLDER };

/** The API secret is missing, empty, malformed or still the placeholder: a configuration problem, named. */
export class SocialPlusCredentialsError extends SocialPlusWebhooksError {
  constructor(secretId: string, problem: string) {
    super(`Social Plus API secret '${secretId}': ${problem}`);
    this.name = 'SocialPlusCredentialsError';
  }
}

/**
 * Reads the API secret's value: the admin token as a plain string, or JSON
 * `{"adminToken":"…","apiKey":"…"}` (the API key is optional; docs/social-plus.md §9 specs it for the global ban).
 */
export function parseSocialPlusCredentials(secretId: string, raw: string | undefined): SocialPlusCredentials {
  const value = raw?.trim() ?? '';
  if (value === '') throw new SocialPlusCredentialsError(secretId, 'the secret is empty; put the admin token from the Social Plus console in it');
  let credentials: SocialPlusCredentials;
  if (value.startsWith('{')) {
    const forms = 'the token as a plain string or {"adminToken":"…","apiKey":"…"}';
    const o = parseJsonSecret(value, forms, (problem) => new SocialPlusCredentialsError(secretId, problem));
    const adminToken = secretField(o, 'adminToken');
    if (adminToken === '') throw new SocialPlusCredentialsError(secretId, 'the JSON secret has no non-empty "adminToken" string');
    const apiKey = secretField(o, 'apiKey');
    credentials = { adminToken, ...(apiKey ? { apiKey } : {}) };
  } else {
    credentials = { adminToken: value };
  }
  if (credentials.adminToken === SOCIALPLUS_API_SECRET_PLACEHOLDER) {
    throw new SocialPlusCredentialsError(
      secretId,
      'the secret still holds the placeholder; paste the admin token (Console: Settings → Admin Users → Admin Token)',
    );
  }
  return credentials;
}

/**
 * Social Plus API credentials from one Secrets Manager secret, cached in the function for
 * `maxAgeMs`; concurrent callers share one read. A forced refresh (after a 401) reads it again.
 */
export class SecretsManagerSocialPlusCredentials implements SocialPlusCredentialsSource {
  private cached: { credentials: SocialPlusCredentials; fetchedAtMs: number } | undefined;
  private inFlight: Promise<SocialPlusCredentials> | undefined;

  constructor(
    private readonly client: SecretsManagerClient,
    private readonly secretId: string,
    private readonly maxAgeMs = 5 * 60_000,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async get(opts: { readonly forceRefresh?: boolean } = {}): Promise<SocialPlusCredentials> {
    const hit = this.cached;
    if (!opts.forceRefresh && hit && this.nowMs() - hit.fetchedAtMs < this.maxAgeMs) return hit.credentials;
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  private async read(): Promise<SocialPlusCredentials> {
    let secretString: string | undefined;
    try {
      secretString = (await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }))).SecretString;
    } catch (err) {
      if (hasErrorName(err, 'ResourceNotFoundException')) {
        throw new SocialPlusCredentialsError(
          this.secretId,
          'Secrets Manager has no value for it; put the admin token from the Social Plus console in it',
        );
      }
      throw err;
    }
    const credentials = parseSocialPlusCredentials(this.secretId, secretString);
    this.cached = { credentials, fetchedAtMs: this.nowMs() };
    return credentials;
  }
}
