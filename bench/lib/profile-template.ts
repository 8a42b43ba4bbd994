/**
 * The stack's CloudFormation template for a configuration profile, synthesized as `bin/app.ts`
 * builds it (`buildWebhooksApp` with cdk.json's context plus `profile`),
 * for the cost benchmark (bench/cost.ts) and its tests. Bundling is skipped (CDK's own
 * `aws:cdk:bundling-stacks` switch): that changes the asset hashes and nothing the bill reads.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildWebhooksApp } from '../../bin/app.js';
import { PROFILES, type Profile } from '../../lib/config/profiles.js';
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
  const outdir = mkdtempSync(join(tmpdir(), 'spw-bench-cost-'));
  try {
    const app = new App({ outdir, context: { ...cdkJsonContext(), profile, 'aws:cdk:bundling-stacks': [] } });
    const stack = buildWebhooksApp(app, undefined);
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
