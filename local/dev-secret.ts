/**
 * The signing secret of local mode (docs/architecture.md §8): `SOCIALPLUS_WEBHOOK_SECRET` when set, else the dev
 * secret kept in `.local/secret`, else a new random one written there (mode 0600), so `send` and
 * `dev` agree without configuration.
 */
import { randomBytes } from 'node:crypto';
import { SocialPlusWebhooksError } from '../lambda/core/errors.js';
import { LOCAL_SECRET_ENV } from './paths.js';
import { loadOrCreatePrivateFile, readPrivateFileText } from './private-file.js';

/** Where the secret came from; only a `generated` one is ever printed. */
export type SecretOrigin = 'option' | 'env' | 'file' | 'generated';

export interface DevSecret {
  readonly value: string;
  readonly origin: SecretOrigin;
  /** The file it was read from or written to (for `file` and `generated`). */
  readonly file?: string;
}

/** Thrown when the secret file exists but cannot be used. */
export class DevSecretError extends SocialPlusWebhooksError {
  constructor(message: string) {
    super(message);
    this.name = 'DevSecretError';
  }
}

/** Resolves the secret: explicit value, then the environment, then the file, else generates one. */
export async function resolveDevSecret(opts: { secretFile: string; explicit?: string; env?: NodeJS.ProcessEnv }): Promise<DevSecret> {
  if (opts.explicit !== undefined) {
    if (opts.explicit.trim() === '') throw new DevSecretError('the webhook secret given is empty');
    return { value: opts.explicit, origin: 'option' };
  }
  const fromEnv = (opts.env ?? process.env)[LOCAL_SECRET_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { value: fromEnv, origin: 'env' };

  // Created owner-only exactly once, as the other secrets of local mode are: a concurrent creator's secret wins.
  return loadOrCreatePrivateFile<DevSecret>(opts.secretFile, readSecretFile, () => {
    const value = randomBytes(32).toString('base64url');
    return { value: { value, origin: 'generated', file: opts.secretFile }, text: `${value}\n` };
  });
}

async function readSecretFile(path: string): Promise<DevSecret | undefined> {
  const text = await readPrivateFileText(path, (reason) => new DevSecretError(`cannot read the dev secret file ${path}: ${reason}`));
  if (text === undefined) return undefined;
  const value = text.trim();
  if (value === '') throw new DevSecretError(`the dev secret file ${path} is empty: delete it to generate a new secret, or set ${LOCAL_SECRET_ENV}`);
  return { value, origin: 'file', file: path };
}
