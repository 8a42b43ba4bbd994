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
import { buildConfig } from '../../lib/config.js';
import { PROFILES, type Profile } from '../../lib/config/profiles.js';
import { SocialPlusWebhooksStack } from '../../lib/webhooks-stack.js';
import type { CfnTemplate } from './template-facts.js';

/** The configuration profiles the bill is computed for (lib/config/profiles.ts); `lean` is the default. */
export { PROFILES, type Profile };

export interface ProfileTemplate {
  readonly profile: Profile;
  readonly template: CfnTemplate;
  readonly synthMs: number;
}

/** Synthesizes the stack for `profile`; a configuration error throws the ConfigError. */
export function synthProfile(profile: Profile): ProfileTemplate {
  const started = performance.now();
  const config = buildConfig({ profile });
  const outdir = mkdtempSync(join(tmpdir(), 'spw-bench-cost-'));
  try {
    const context = { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] };
    const app = new App({ outdir, context });
    const stack = new SocialPlusWebhooksStack(app, config.stackName, { config });
    const template = Template.fromStack(stack).toJSON() as CfnTemplate;
    return { profile, template, synthMs: performance.now() - started };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** cdk.json's context (the feature flags every synthesis gets). */
function cdkJsonContext(): Record<string, unknown> {
  const file = new URL('../../cdk.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { context: Record<string, unknown> }).context;
}
