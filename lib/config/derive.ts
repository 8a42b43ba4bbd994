/**
 * What the stack derives from the validated configuration: output ids of the sources, the retry
 * window, the resources the example handlers need, and the fan-out's `HANDLERS_CONFIG` value.
 */
import type { HandlersConfig } from '../../lambda/fanout/handlers/config.js';
import { VISIBILITY_TIMEOUT_FACTOR } from './limits.js';
import type { WebhooksConfig } from './schema.js';

/** PascalCase of a source name, as used in output ids (`my-app` → `MyApp`). */
export function sourceIdPart(name: string): string {
  return name
    .split('-')
    .filter((p) => p !== '')
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}

/**
 * The longest a message that keeps failing stays in the event queue before the DLQ takes it:
 * maxReceiveCount visibility timeouts of {@link VISIBILITY_TIMEOUT_FACTOR} × the fan-out's timeout.
 */
export function retryWindowSeconds(c: Pick<WebhooksConfig, 'maxReceiveCount' | 'fanoutTimeoutSeconds'>): number {
  return c.maxReceiveCount * c.fanoutTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR;
}

/** Whether an enabled example handler calls the Social Plus API (and so needs the admin token unless it is a dry run). */
export function callsSocialPlusApi(h: HandlersConfig): boolean {
  return (h.autoModeration.enabled && (h.autoModeration.ban !== 'none' || h.autoModeration.deleteFlaggedContent)) || h.keywordFilter.enabled;
}

/** What the stack creates for the example handlers: each only when a handler needs it. */
export interface HandlerResourceNeeds {
  /** Auto-moderation or daily counters keep state: the handler state table. */
  readonly stateTable: boolean;
  /** The forwarder is on: an EventBridge bus. */
  readonly eventBus: boolean;
  /**
   * The Social Plus client may call the API for real: the admin-token secret. True when a region or
   * base URL is configured (given, or the sources' shared region when a handler calls the API) and
   * it is not a dry run.
   */
  readonly socialPlusSecret: boolean;
}

/** See {@link HandlerResourceNeeds}. */
export function handlerResourceNeeds(h: HandlersConfig): HandlerResourceNeeds {
  const sp = h.socialPlus;
  return {
    stateTable: h.autoModeration.enabled || h.dailyCounters.enabled,
    eventBus: h.eventBridge.enabled,
    socialPlusSecret: sp !== undefined && !sp.dryRun && (sp.region !== undefined || sp.baseUrl !== undefined),
  };
}

/**
 * The fan-out's `HANDLERS_CONFIG` value: the configuration with its claim lease raised to twice the
 * fan-out's timeout, since a lease shorter than an invocation could let a second invocation take over
 * a claim its holder still acts on.
 */
export function handlersConfigValue(h: HandlersConfig, fanoutTimeoutSeconds: number): string {
  return JSON.stringify({ ...h, claimLeaseSeconds: Math.max(h.claimLeaseSeconds, 2 * fanoutTimeoutSeconds) });
}
