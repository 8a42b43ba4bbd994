/**
 * Shared by the infrastructure tests: builds the app exactly as `bin/app.ts` does, with cdk.json's
 * feature flags, into a temporary cloud assembly directory the caller removes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildWebhooksApp } from '../../bin/app.js';
import { cdkJsonContext } from '../../cli/cost/template.js';
import type { SocialPlusWebhooksStack } from '../../lib/webhooks-stack.js';

/** The feature flags and other context cdk.json gives every synthesis. */
export { cdkJsonContext };

export interface SynthesizedApp {
  readonly app: App;
  readonly stack: SocialPlusWebhooksStack;
  readonly template: Template;
  readonly outdir: string;
  /** Removes the cloud assembly directory. */
  readonly cleanup: () => void;
}

/**
 * A CDK app with cdk.json's context plus the given keys, writing (if ever synthesized) to a
 * temporary directory the caller removes; without an outdir every App makes its own temp dir.
 */
export function newApp(context: Record<string, unknown> = {}): { app: App; outdir: string; cleanup: () => void } {
  const outdir = mkdtempSync(join(tmpdir(), 'spw-cdk-'));
  const app = new App({ outdir, context: { ...cdkJsonContext(), ...context } });
  return { app, outdir, cleanup: () => rmSync(outdir, { recursive: true, force: true }) };
}

/**
 * Builds and synthesizes the app with the given configuration context. Bundling the two functions
 * takes a few seconds, so only the tests that look at the bundles ask for it; the others skip it
 * (CDK's own `aws:cdk:bundling-stacks` switch), which changes nothing but the asset hashes.
 */
export function synthesize(config: Record<string, unknown> = {}, options: { bundle?: boolean } = {}): SynthesizedApp {
  const context: Record<string, unknown> = { ...config };
  if (!options.bundle) context['aws:cdk:bundling-stacks'] = [];
  const { app, outdir, cleanup } = newApp(context);
  const stack = buildWebhooksApp(app, undefined);
  const template = Template.fromStack(stack);
  return { app, stack, template, outdir, cleanup };
}

/** The one resource of a type, failing with the count when there is not exactly one. */
export function onlyResource(
  template: Template,
  type: string,
): { logicalId: string; properties: Record<string, unknown>; resource: Record<string, unknown> } {
  const found = Object.entries(template.findResources(type));
  if (found.length !== 1) throw new Error(`expected exactly one ${type}, found ${found.length}`);
  const [logicalId, resource] = found[0] as [string, Record<string, unknown>];
  return { logicalId, resource, properties: (resource.Properties ?? {}) as Record<string, unknown> };
}
