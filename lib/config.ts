/**
 * The stack's configuration (docs/architecture.md §7): one typed, validated object built from CDK context by
 * `bin/app.ts` and passed down as props. Validation collects every problem before throwing, and
 * each problem names the key, the bad value and what is allowed. Loads no CDK, so the CLI can use it.
 *
 * The parts, in lib/config/: `schema` (the types), `defaults` (every key's default), `limits` (the
 * fixed limits checked against), `problems` (how problems are reported, and the basic readers),
 * `rule` and `rules` (how each key is read), `sources` and `handlers` (the rules of the structured
 * keys), `unknown-keys` (did you mean…?), `validate` (`buildConfig`), `derive` (what the stack
 * derives from a valid configuration).
 */
export type { WebhookSourceConfig, WebhooksConfig } from './config/schema.js';
export { API_ACCOUNT_DEFAULT_THROTTLE } from '../lambda/common/defaults.js';
export { CONFIG_DEFAULTS, CONFIG_KEYS, type ConfigKey } from './config/defaults.js';
export {
  LAMBDA_ENVIRONMENT_LIMIT_BYTES,
  LOG_RETENTION_DAYS,
  QUEUE_RETENTION_SECONDS,
  RECEIVER_DEADLINE_MS_RANGE,
  VISIBILITY_TIMEOUT_FACTOR,
} from './config/limits.js';
export { ConfigError } from './config/problems.js';
export { buildConfig } from './config/validate.js';
export {
  callsSocialPlusApi,
  handlerResourceNeeds,
  handlersConfigValue,
  retryWindowSeconds,
  sourceIdPart,
  type HandlerResourceNeeds,
} from './config/derive.js';
