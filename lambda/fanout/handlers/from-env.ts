/**
 * Builds the fan-out's handler list from its environment, once at cold start: the always-on
 * handlers, the example handlers `HANDLERS_CONFIG` enables (with the DynamoDB, EventBridge and
 * Secrets Manager clients they need, loaded only when enabled), and `ctx.socialPlus`. Fails fast,
 * naming the variable or key, when an enabled handler lacks what it needs (in local mode, a missing
 * admin token only makes the API calls fail: see {@link HandlersFromEnvOptions.localMode}).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { assertCatalogEvents, assertUniqueHandlerNames, type SocialPlusApi, type WebhookHandler } from '../../core/define-handler.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/telemetry.js';
import { ConfigurationError } from '../../common/env.js';
import { SocialPlusHttpClient, staticCredentials, type SocialPlusCredentialsSource } from '../kit/social-plus-client.js';
import { parseHandlersConfigJson, type HandlersConfig } from './config.js';
import { HANDLER_ENV } from './env.js';
import { exampleHandlers, handlers as alwaysOn, withSocialPlus, type ExampleHandlerDeps, type SocialPlusAccess } from './index.js';
import type { EventPublisher } from './state-ports.js';

/** What the caller may supply instead of what the environment would build (local mode, tests). */
export interface HandlersFromEnvOptions {
  readonly logger: Logger;
  /** DynamoDB client for the handler state table (local mode: the dynalite client). @default a new client */
  readonly dynamodb?: DynamoDBClient;
  /** The forwarder's bus (local mode: a `LoggingEventPublisher`). @default EventBridge, bus from `EVENT_BUS_NAME` */
  readonly eventPublisher?: EventPublisher;
  /** Admin token credentials (tests). @default from `SOCIALPLUS_API_SECRET_ARN`, else `SOCIALPLUS_ADMIN_TOKEN` */
  readonly socialPlusCredentials?: SocialPlusCredentialsSource;
  /** The user's own handlers, dispatched after the always-on ones. @default none */
  readonly extraHandlers?: readonly WebhookHandler[];
  /** For the Social Plus client (tests). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /**
   * Local mode: the admin token is `SOCIALPLUS_ADMIN_TOKEN` (Secrets Manager only if
   * `SOCIALPLUS_API_SECRET_ARN` is set), and without one the handlers that call the API still
   * start: a warning says so and each call fails naming the variable. On AWS a missing secret fails
   * the cold start instead. @default false
   */
  readonly localMode?: boolean;
}

/** What {@link handlersFromEnv} built, for the entry point to log at start-up. */
export interface BuiltHandlers {
  readonly handlers: readonly WebhookHandler[];
  readonly config: HandlersConfig;
  /** Names of the enabled example handlers. */
  readonly enabled: readonly string[];
  /** Whether `ctx.socialPlus` has a client (or a dry-run one). */
  readonly socialPlus: 'configured' | 'dry-run' | 'not configured';
}

const value = (env: NodeJS.ProcessEnv, name: string): string | undefined => {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
};

/** Reads `HANDLERS_CONFIG` and the variables of the enabled handlers; builds the handler list. */
export async function handlersFromEnv(env: NodeJS.ProcessEnv, opts: HandlersFromEnvOptions): Promise<BuiltHandlers> {
  let config: HandlersConfig;
  try {
    config = parseHandlersConfigJson(env[HANDLER_ENV.HANDLERS_CONFIG], `environment variable ${HANDLER_ENV.HANDLERS_CONFIG}`);
  } catch (err) {
    throw new ConfigurationError(errorMessage(err));
  }

  const deps: { -readonly [K in keyof ExampleHandlerDeps]: ExampleHandlerDeps[K] } = {};
  if (config.autoModeration.enabled || config.dailyCounters.enabled) {
    const tableName = value(env, HANDLER_ENV.HANDLER_STATE_TABLE_NAME);
    if (tableName === undefined) {
      const who = [config.autoModeration.enabled ? 'autoModeration' : '', config.dailyCounters.enabled ? 'dailyCounters' : '']
        .filter(Boolean)
        .join(' and ');
      throw new ConfigurationError(
        `environment variable ${HANDLER_ENV.HANDLER_STATE_TABLE_NAME} is not set, and ${who} (enabled in ${HANDLER_ENV.HANDLERS_CONFIG}) keep their state in that table`,
      );
    }
    const dynamodb = opts.dynamodb ?? new (await import('@aws-sdk/client-dynamodb')).DynamoDBClient({});
    if (config.autoModeration.enabled) {
      const { DynamoDbFlagCounterStore } = await import('../../adapters/flag-counter-store.js');
      deps.flagStore = new DynamoDbFlagCounterStore(dynamodb, tableName);
    }
    if (config.dailyCounters.enabled) {
      const { DynamoDbDailyCounterStore } = await import('../../adapters/daily-counters-store.js');
      deps.counterStore = new DynamoDbDailyCounterStore(dynamodb, tableName, {
        retentionDays: config.dailyCounters.retentionDays,
        leaseMs: config.claimLeaseSeconds * 1000,
      });
    }
  }
  if (config.eventBridge.enabled) {
    if (opts.eventPublisher) {
      deps.publisher = opts.eventPublisher;
    } else {
      const bus = value(env, HANDLER_ENV.EVENT_BUS_NAME);
      if (bus === undefined)
        throw new ConfigurationError(
          `environment variable ${HANDLER_ENV.EVENT_BUS_NAME} is not set, and eventBridge is enabled in ${HANDLER_ENV.HANDLERS_CONFIG}`,
        );
      const [{ EventBridgeClient }, { EventBridgePublisher }] = await Promise.all([
        import('@aws-sdk/client-eventbridge'),
        import('../../adapters/eventbridge-publisher.js'),
      ]);
      deps.publisher = new EventBridgePublisher(new EventBridgeClient({}), bus);
    }
  }

  const examples = exampleHandlers(config, deps);
  const access = await socialPlusAccess(env, config, opts);
  const list = withSocialPlus([...alwaysOn, ...(opts.extraHandlers ?? []), ...examples], access);
  assertUniqueHandlerNames(list);
  // The registered list was checked when it loaded; this also covers extra handlers and the
  // patterns the configuration gives (eventBridge.events), with "did you mean" on a near miss.
  assertCatalogEvents(list);
  return {
    handlers: list,
    config,
    enabled: examples.map((h) => h.name),
    socialPlus: access.api === undefined ? 'not configured' : config.socialPlus?.dryRun ? 'dry-run' : 'configured',
  };
}

async function socialPlusAccess(env: NodeJS.ProcessEnv, config: HandlersConfig, opts: HandlersFromEnvOptions): Promise<SocialPlusAccess> {
  const sp = config.socialPlus;
  const needed =
    (config.autoModeration.enabled && (config.autoModeration.ban !== 'none' || config.autoModeration.deleteFlaggedContent)) ||
    config.keywordFilter.enabled;
  const secretArn = value(env, HANDLER_ENV.SOCIALPLUS_API_SECRET_ARN);
  const token = value(env, HANDLER_ENV.SOCIALPLUS_ADMIN_TOKEN);
  const sources = sp?.sources ? { sources: sp.sources } : {};
  // Where the admin token comes from: the secret on AWS, the variable in local mode.
  const tokenFrom = opts.localMode
    ? `${HANDLER_ENV.SOCIALPLUS_ADMIN_TOKEN} before npm start`
    : `${HANDLER_ENV.SOCIALPLUS_API_SECRET_ARN} on the fan-out`;
  if (sp === undefined || (sp.region === undefined && sp.baseUrl === undefined && !sp.dryRun)) {
    return {
      reason: `${HANDLER_ENV.HANDLERS_CONFIG}.socialPlus gives no region (set socialPlus.region to us, eu or sg, and ${tokenFrom})`,
      ...sources,
    };
  }
  let credentials = opts.socialPlusCredentials;
  if (!credentials && !sp.dryRun) {
    if (secretArn !== undefined) {
      const [{ SecretsManagerClient }, { SecretsManagerSocialPlusCredentials }] = await Promise.all([
        import('@aws-sdk/client-secrets-manager'),
        import('../../adapters/socialplus-credentials.js'),
      ]);
      credentials = new SecretsManagerSocialPlusCredentials(new SecretsManagerClient({}), secretArn);
    } else if (token !== undefined) {
      credentials = staticCredentials({ adminToken: token });
    } else if (opts.localMode) {
      const reason = `no admin token in local mode: set ${HANDLER_ENV.SOCIALPLUS_ADMIN_TOKEN} before npm start (or socialPlus.dryRun in the handlers configuration to log the calls instead)`;
      if (needed)
        opts.logger.warn('Social Plus API calls will fail: an enabled handler calls the API and there is no admin token', {
          set: HANDLER_ENV.SOCIALPLUS_ADMIN_TOKEN,
          orConfigure: 'socialPlus.dryRun',
        });
      return { reason, ...sources };
    } else if (needed) {
      throw new ConfigurationError(
        `environment variable ${HANDLER_ENV.SOCIALPLUS_API_SECRET_ARN} is not set, and an enabled handler calls the Social Plus API (or set socialPlus.dryRun in ${HANDLER_ENV.HANDLERS_CONFIG}; in local mode the token is ${HANDLER_ENV.SOCIALPLUS_ADMIN_TOKEN})`,
      );
    } else {
      return {
        reason: `environment variable ${HANDLER_ENV.SOCIALPLUS_API_SECRET_ARN} is not set on the fan-out (the admin token's secret)`,
        ...sources,
      };
    }
  }
  const api: SocialPlusApi = new SocialPlusHttpClient({
    // A dry run with no region names one only so the client can be built: nothing is sent.
    ...(sp.region ? { region: sp.region } : sp.baseUrl ? {} : { region: 'us' as const }),
    ...(sp.baseUrl ? { baseUrl: sp.baseUrl } : {}),
    credentials: credentials ?? { get: () => Promise.reject(new Error('dry run: credentials are not read')) },
    logger: opts.logger,
    dryRun: sp.dryRun,
    timeoutMs: sp.timeoutMs,
    maxAttempts: sp.maxAttempts,
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  return { api, ...sources };
}
