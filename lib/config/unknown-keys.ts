/** "Did you mean …?" for context keys that look like a misspelt configuration key. */
import { editDistance } from '../../lambda/core/near-miss.js';
import { CONFIG_KEYS } from './defaults.js';
import type { Problems } from './problems.js';

/**
 * Reports keys within two edits (or a difference of case) of a configuration key. Other context
 * keys are left alone: CDK feature flags (`@aws-cdk/...`), CDK internals (`aws:cdk:...`) and the
 * user's own settings share the context with ours.
 */
export function checkUnknownKeys(p: Problems, context: Readonly<Record<string, unknown>>): void {
  for (const key of Object.keys(context)) {
    if ((CONFIG_KEYS as string[]).includes(key) || key.includes(':') || key.includes('@')) continue;
    const near = CONFIG_KEYS.find((k) => k.toLowerCase() === key.toLowerCase() || editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
    if (near !== undefined) p.add(`${key}: is not a configuration key; did you mean ${near}?`);
  }
}
