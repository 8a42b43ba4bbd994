/**
 * The extension point: every handler the fan-out dispatches to.
 * - `handlers`: the always-on list. Add a module next to this file that default-exports
 *   `defineHandler({...})`, import it and list it here. At load the list is checked: unique names,
 *   and every event pattern known to the catalog (a typo fails at start-up, with "did you mean").
 * - `exampleHandlers(config, deps)`: the configurable examples (auto-moderation, keyword filter,
 *   daily counters, EventBridge forwarder), each off unless its `enabled` is true.
 * - `withSocialPlus(list, access)`: gives each handler's `ctx.socialPlus` its client.
 * `handlersFromEnv` (`./from-env.ts`) puts the three together from the function's environment.
 */
import {
  assertCatalogEvents,
  assertUniqueHandlerNames,
  unconfiguredSocialPlus,
  type HandlerContext,
  type SocialPlusApi,
  type WebhookHandler,
} from '../../core/define-handler.js';
import { SocialPlusWebhooksError } from '../../core/errors.js';
import { createAutoModeration } from './auto-moderation.js';
import type { HandlersConfig } from './config.js';
import { createDailyCounters } from './daily-counters.js';
import { createEventBridgeForwarder } from './eventbridge-forwarder.js';
import flaggedContentLog from './flagged-content-log.js';
import { createKeywordFilter } from './keyword-filter.js';
import type { DailyCounterStore, EventPublisher, FlagCounterStore } from './state-ports.js';

export const handlers: readonly WebhookHandler[] = [flaggedContentLog];

assertUniqueHandlerNames(handlers);
assertCatalogEvents(handlers);

/** What the example handlers need besides their configuration; only those of enabled handlers. */
export interface ExampleHandlerDeps {
  readonly flagStore?: FlagCounterStore;
  readonly counterStore?: DailyCounterStore;
  readonly publisher?: EventPublisher;
}

/** A handler is enabled but lacks what it needs; the message names it. */
export class HandlerWiringError extends SocialPlusWebhooksError {
  constructor(message: string) {
    super(message);
    this.name = 'HandlerWiringError';
  }
}

/** The example handlers `config` enables, in a fixed order (auto-moderation, keyword filter, daily counters, forwarder). */
export function exampleHandlers(config: HandlersConfig, deps: ExampleHandlerDeps): WebhookHandler[] {
  const out: WebhookHandler[] = [];
  if (config.autoModeration.enabled) {
    if (!deps.flagStore) throw new HandlerWiringError('auto-moderation is enabled but has no flag store (the handler state table)');
    out.push(createAutoModeration(config.autoModeration, { store: deps.flagStore, banLeaseMs: config.claimLeaseSeconds * 1000 }));
  }
  if (config.keywordFilter.enabled) out.push(createKeywordFilter(config.keywordFilter));
  if (config.dailyCounters.enabled) {
    if (!deps.counterStore) throw new HandlerWiringError('daily counters are enabled but have no counter store (the handler state table)');
    out.push(createDailyCounters({ store: deps.counterStore }));
  }
  if (config.eventBridge.enabled) {
    if (!deps.publisher) throw new HandlerWiringError('the EventBridge forwarder is enabled but has no event bus');
    out.push(createEventBridgeForwarder(config.eventBridge, { publisher: deps.publisher }));
  }
  return out;
}

/** How `ctx.socialPlus` is given to handlers. */
export interface SocialPlusAccess {
  /** The client; undefined when none is configured (calls then reject with `reason`). */
  readonly api?: SocialPlusApi;
  /** Why there is no client, for the error every call then rejects with. */
  readonly reason?: string;
  /** Sources whose events may use the client (it is for one network); undefined: every source. */
  readonly sources?: readonly string[];
}

/**
 * Wraps each handler so its context carries `socialPlus`: the client for events from an allowed
 * source; otherwise one whose every call rejects, saying why.
 */
export function withSocialPlus(list: readonly WebhookHandler[], access: SocialPlusAccess): WebhookHandler[] {
  const missing = unconfiguredSocialPlus(access.reason ?? 'no Social Plus API client is configured');
  const otherSource = new Map<string, SocialPlusApi>();
  const apiFor = (source: string): SocialPlusApi => {
    if (!access.api) return missing;
    if (access.sources === undefined || access.sources.includes(source)) return access.api;
    let stub = otherSource.get(source);
    if (!stub) {
      stub = unconfiguredSocialPlus(
        `events of webhook source '${source}' may not call it (socialPlus.sources lists ${access.sources.join(', ')}): the client is for another network`,
      );
      otherSource.set(source, stub);
    }
    return stub;
  };
  return list.map((h) =>
    Object.freeze({
      name: h.name,
      events: h.events,
      ...(h.uncatalogued ? { uncatalogued: h.uncatalogued } : {}),
      handle: (event: unknown, ctx: HandlerContext) => (h as WebhookHandler<unknown>).handle(event, { ...ctx, socialPlus: apiFor(ctx.source) }),
    }),
  );
}
