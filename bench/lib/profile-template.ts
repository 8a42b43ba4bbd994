/**
 * The stack's CloudFormation template for a configuration profile, synthesized as `bin/app.ts`
 * builds it (cdk.json's feature flags, `SocialPlusWebhooksStack` with `buildConfig({ profile })`),
 * for the cost benchmark (bench/cost.ts) and its tests. Bundling is skipped (CDK's own
 * `aws:cdk:bundling-stacks` switch): that changes the asset hashes and nothing the bill reads.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildConfig, CONFIG_KEYS } from '../../lib/config.js';
import { SocialPlusWebhooksStack } from '../../lib/webhooks-stack.js';
import type { CfnTemplate } from './template-facts.js';

/** The configuration profiles the bill is computed for; `lean` is the default. */
export const PROFILES = ['lean', 'hardened'] as const;
export type Profile = (typeof PROFILES)[number];

export interface ProfileTemplate {
  readonly profile: Profile;
  readonly template: CfnTemplate;
  /** Set when the template is not quite the profile's (the configuration has no `profile` key yet). */
  readonly note: string | undefined;
  readonly synthMs: number;
}

/** Whether the configuration knows the `profile` key (lib/config/defaults.ts). */
export function configHasProfiles(): boolean {
  return (CONFIG_KEYS as readonly string[]).includes('profile');
}

/**
 * Synthesizes the stack for `profile`. Without a `profile` key in the configuration, `lean` (the
 * default) is the default configuration, noted as such, and any other profile throws. A
 * configuration error throws the ConfigError.
 */
export function synthProfile(profile: Profile): ProfileTemplate {
  const known = configHasProfiles();
  if (!known && profile !== 'lean') throw new Error(`the configuration has no 'profile' key yet, so profile '${profile}' cannot be synthesized`);
  const started = performance.now();
  const config = buildConfig(known ? { profile } : {});
  const outdir = mkdtempSync(join(tmpdir(), 'spw-bench-cost-'));
  try {
    const context = { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] };
    const app = new App({ outdir, context });
    const stack = new SocialPlusWebhooksStack(app, config.stackName, { config });
    const template = Template.fromStack(stack).toJSON() as CfnTemplate;
    const note = known ? undefined : "the configuration has no 'profile' key yet: this is the default configuration";
    return { profile, template, note, synthMs: performance.now() - started };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** cdk.json's context (the feature flags every synthesis gets). */
function cdkJsonContext(): Record<string, unknown> {
  const file = new URL('../../cdk.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { context: Record<string, unknown> }).context;
}
