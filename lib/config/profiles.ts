/**
 * The two profiles (docs/security.md, docs/cost.md): a profile only chooses defaults. Every key
 * it sets stays a key of its own, and a value given in the context wins over the profile's.
 *
 * - `lean` (the default): what one Social Plus network needs, at the lowest bill that loses no
 *   event and keeps every feature one key away: X-Ray samples 1 % of requests instead of every
 *   request of a quiet second, Lambda's own platform lines are not logged per invocation, no
 *   dashboard and no per-method API metrics (the alarms stay).
 * - `hardened`: for accounts governed by AWS Control Tower's proactive controls: customer-managed
 *   KMS keys for the log groups and Athena's results, logs kept a year, API execution logging of
 *   errors, the dashboard; docs/security.md lists each control and whether each profile meets it.
 */
import type { WebhooksConfig } from './schema.js';

export const PROFILES = ['lean', 'hardened'] as const;
export type Profile = (typeof PROFILES)[number];

/** The profile unless the context names one. */
export const DEFAULT_PROFILE: Profile = 'lean';

/** What each profile sets; a key it does not name keeps its `CONFIG_DEFAULTS` value. */
export const PROFILE_DEFAULTS: { readonly [P in Profile]: Partial<Omit<WebhooksConfig, 'profile'>> } = {
  lean: {},
  hardened: {
    logRetentionDays: 365,
    customerManagedKeys: true,
    apiExecutionLogging: 'ERROR',
    dashboard: true,
    lambdaSystemLogLevel: 'INFO',
    fanoutTracing: true,
  },
};
