/**
 * The CDK app (`cdk.json` runs `npx tsx bin/app.ts`): the only place that reads CDK context and
 * the environment. It validates the configuration, builds the stack and registers the cdk-nag rule
 * packs, so `cdk synth` fails on any finding that has no acknowledged reason.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { App, Validations, type Environment } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { buildConfig, ConfigError } from '../lib/config.js';
import { SocialPlusWebhooksStack } from '../lib/webhooks-stack.js';

/** Deploy to the CLI's account and region when known; otherwise synthesize an environment-agnostic stack. */
function environmentFromProcess(): Environment | undefined {
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  return account !== undefined || region !== undefined ? { account, region } : undefined;
}

/**
 * Builds the app: configuration from the app's CDK context (throws a ConfigError naming every bad
 * key), the stack, and the cdk-nag AwsSolutions and Serverless packs as validation plugins.
 */
export function buildWebhooksApp(app: App, env: Environment | undefined = environmentFromProcess()): SocialPlusWebhooksStack {
  const config = buildConfig(app.node.getAllContext() as Record<string, unknown>);
  const stack = new SocialPlusWebhooksStack(app, config.stackName, { config, env });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app), new ServerlessChecks(app));
  return stack;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  try {
    buildWebhooksApp(new App());
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // A configuration mistake is the user's to fix: print the list, not a stack trace.
    console.error(error.message);
    process.exitCode = 1;
  }
}
