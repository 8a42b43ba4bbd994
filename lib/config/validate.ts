/**
 * Builds the configuration from CDK context: every key through its rule (`RULES`), then the checks
 * across keys, then one {@link ConfigError} listing every problem, or the validated configuration.
 */
import { CONFIG_DEFAULTS, CONFIG_KEYS, type ConfigDefaults, type ConfigKey } from './defaults.js';
import { retryWindowSeconds } from './derive.js';
import { QUEUE_RETENTION_SECONDS, VISIBILITY_TIMEOUT_FACTOR } from './limits.js';
import { ConfigError, Problems } from './problems.js';
import type { ReadSoFar } from './rule.js';
import { DEFAULT_PROFILE, PROFILE_DEFAULTS, type Profile } from './profiles.js';
import { RULES } from './rules.js';
import type { WebhooksConfig } from './schema.js';
import { checkUnknownKeys } from './unknown-keys.js';

/**
 * Builds the configuration from CDK context (all of it: keys that are not ours are ignored unless
 * they look like a misspelt one). Throws a {@link ConfigError} listing every problem at once.
 */
export function buildConfig(context: Readonly<Record<string, unknown>>): WebhooksConfig {
  const problems = new Problems();
  checkUnknownKeys(problems, context);
  const read: ReadSoFar = {};
  const apply = <K extends ConfigKey>(key: K): void => {
    read[key] = RULES[key]({ key, raw: context[key], fallback: defaultOf(key, read.profile), read, problems });
  };
  // The profile first: it chooses the other keys' defaults.
  for (const key of Object.keys(RULES) as ConfigKey[]) apply(key);
  // Every rule has run; the keys in documentation order.
  const config = Object.fromEntries(CONFIG_KEYS.map((key) => [key, read[key]])) as unknown as WebhooksConfig;
  checkRetryWindow(problems, config);
  if (problems.count > 0) throw new ConfigError(problems.lines);
  return config;
}

/** A key's default under `profile` (lib/config/profiles.ts), else its `CONFIG_DEFAULTS` value. */
function defaultOf<K extends ConfigKey>(key: K, profile: Profile | undefined): ConfigDefaults[K] {
  return (PROFILE_DEFAULTS[profile ?? DEFAULT_PROFILE] as Partial<ConfigDefaults>)[key] ?? CONFIG_DEFAULTS[key];
}

/**
 * A message that keeps failing stays in the queue for up to maxReceiveCount visibility timeouts
 * before the DLQ takes it; if that is longer than the queue keeps a message, SQS deletes it first
 * and the event is lost without ever reaching the DLQ.
 */
function checkRetryWindow(p: Problems, config: Pick<WebhooksConfig, 'maxReceiveCount' | 'fanoutTimeoutSeconds'>): void {
  const visibility = config.fanoutTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;
  const window = retryWindowSeconds(config);
  if (window <= QUEUE_RETENTION_SECONDS) return;
  const most = Math.floor(QUEUE_RETENTION_SECONDS / visibility);
  p.add(
    `maxReceiveCount: ${config.maxReceiveCount} receives × a ${visibility} s visibility timeout (${VISIBILITY_TIMEOUT_FACTOR} × fanoutTimeoutSeconds ${config.fanoutTimeoutSeconds}) ` +
      `is ${window} s, longer than the ${QUEUE_RETENTION_SECONDS} s (14 days) the queue keeps a message: a failing event would expire before reaching the dead-letter queue. ` +
      `Use maxReceiveCount ${most} or less, or a shorter fanoutTimeoutSeconds.`,
  );
}
