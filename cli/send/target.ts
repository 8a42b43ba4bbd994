/**
 * Where `send` posts and what it signs with: the receiver URL (`--url`, else local mode's, plus
 * `/<source>`) and the signing secret (`--secret`, `SOCIALPLUS_WEBHOOK_SECRET`, else local mode's
 * dev secret), which keeps its origin so a refused request is easy to explain.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SOURCE_NAME } from '../../lambda/core/sources.js';
import { parseSecretValue } from '../../lambda/core/secret-value.js';
import { DEFAULT_PORT, localPaths } from '../../local/paths.js';
import { CliError } from '../errors.js';
import { errorMessage } from '../../lambda/core/errors.js';

/** Where the signing secret came from, named in messages so a 401 is easy to explain. */
export interface ResolvedSecret {
  readonly value: string;
  readonly origin: string;
}

/** The receiver URL: `--url` or local mode's, plus `/<source>` when a source is named. */
export function targetUrl(opts: { url?: string; source?: string }, env: NodeJS.ProcessEnv = process.env): string {
  let base: string;
  if (opts.url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch {
      throw new CliError(`--url is not a valid URL: '${opts.url}' (expected e.g. https://abc123.execute-api.us-east-1.amazonaws.com/prod/webhook)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CliError(`--url must be http:// or https://, got '${opts.url}'`);
    }
    base = opts.url;
  } else {
    const rawPort = env.PORT?.trim() || String(DEFAULT_PORT);
    const port = Number(rawPort);
    if (!/^\d+$/.test(rawPort) || port < 1 || port > 65535) throw new CliError(`PORT must be a port number from 1 to 65535, got '${env.PORT}'`);
    base = `http://localhost:${port}/webhook`;
  }
  if (opts.source === undefined) return base;
  if (!SOURCE_NAME.test(opts.source)) {
    throw new CliError(
      `--source '${opts.source}' is not a valid source name: use lowercase letters, digits and '-', starting with a letter or digit (at most 64)`,
    );
  }
  const u = new URL(base);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${opts.source}`;
  return u.toString();
}

/** `--secret`, else `SOCIALPLUS_WEBHOOK_SECRET`, else local mode's generated dev secret. */
export function resolveSecret(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedSecret {
  if (flag !== undefined) {
    if (flag.trim() === '') throw new CliError('--secret is empty');
    return { value: flag, origin: '--secret' };
  }
  const fromEnv = env.SOCIALPLUS_WEBHOOK_SECRET;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { value: fromEnv, origin: 'SOCIALPLUS_WEBHOOK_SECRET' };
  const file = localPaths().secretFile;
  if (existsSync(file)) {
    try {
      const [current] = parseSecretValue('local', readFileSync(file, 'utf8'));
      if (current !== undefined) return { value: current, origin: file };
    } catch (err) {
      throw new CliError(`cannot use the dev secret in ${file}: ${errorMessage(err)}`);
    }
  }
  throw new CliError(
    `no webhook secret: pass --secret, set SOCIALPLUS_WEBHOOK_SECRET, or start local mode with npm start (it writes a dev secret to ${file})`,
  );
}
