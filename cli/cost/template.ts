/**
 * The stack's CloudFormation template, synthesized as `bin/app.ts` builds it (`buildWebhooksApp`
 * with cdk.json's context, optionally another `profile`), for the `cost` command, the cost
 * benchmark (bench/cost.ts) and their tests. Bundling is skipped (CDK's own
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
  return synthTemplate(profile);
}

/**
 * Synthesizes the stack with cdk.json's context (your configuration), its `profile` replaced by
 * `profile` when given; a configuration error throws the ConfigError.
 */
export function synthTemplate(profile?: Profile): ProfileTemplate {
  const started = performance.now();
  const outdir = mkdtempSync(join(tmpdir(), 'spw-cost-'));
  try {
    const context = cdkJsonContext();
    const chosen = profile ?? contextProfile(context);
    const app = new App({ outdir, context: { ...context, ...(profile ? { profile } : {}), 'aws:cdk:bundling-stacks': [] } });
    const stack = buildWebhooksApp(app, undefined);
    const template = Template.fromStack(stack).toJSON() as CfnTemplate;
    return { profile: chosen, template, synthMs: performance.now() - started };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The profile cdk.json's context names (the stack validates it), `lean` when it names none. */
function contextProfile(context: Record<string, unknown>): Profile {
  const named = context.profile;
  return typeof named === 'string' && (PROFILES as readonly string[]).includes(named) ? (named as Profile) : 'lean';
}

/** cdk.json's context (the feature flags every synthesis gets). */
export function cdkJsonContext(): Record<string, unknown> {
  const file = new URL('../../cdk.json', import.meta.url);
  return (JSON.parse(readFileSync(file, 'utf8')) as { context: Record<string, unknown> }).context;
}
