/**
 * The checks that need no AWS account: the Node.js version, esbuild (the stack bundles its
 * functions with the local esbuild, never in Docker), and the configuration `npx cdk deploy` would
 * read from cdk.json, validated by the stack's own `buildConfig` (lib/config.ts loads no CDK).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildConfig, ConfigError, type WebhooksConfig } from '../../lib/config.js';
import { CliError } from '../errors.js';
import { readCdkJsonContext } from '../stack-target.js';
import { fail, pass, warn, type Check } from './check.js';
import type { DoctorContext, EsbuildProbe } from './context.js';
import { errorMessage } from '../../lambda/core/errors.js';

/** The oldest Node.js this project runs on: package.json's `engines.node` (`>=20.19`). */
export const MIN_NODE_VERSION = { major: 20, minor: 19 } as const;

const MIN_NODE_TEXT = `${MIN_NODE_VERSION.major}.${MIN_NODE_VERSION.minor}`;

/** `major.minor.patch` of a version string such as `22.11.0` or `v20.19.1`; undefined when unreadable. */
export function parseNodeVersion(version: string): { major: number; minor: number; patch: number } | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

/** Node.js: at least {@link MIN_NODE_VERSION}, else fail. */
export const nodeCheck: Check<DoctorContext> = {
  id: 'node',
  title: 'Node.js version',
  run(ctx) {
    const fix = `install Node.js ${MIN_NODE_TEXT} or later (nvm install 22)`;
    const v = parseNodeVersion(ctx.nodeVersion);
    if (v === undefined) return fail(`cannot read the Node.js version '${ctx.nodeVersion}'; this project needs ${MIN_NODE_TEXT} or later`, fix);
    const ok = v.major > MIN_NODE_VERSION.major || (v.major === MIN_NODE_VERSION.major && v.minor >= MIN_NODE_VERSION.minor);
    return ok
      ? pass(`v${v.major}.${v.minor}.${v.patch} (needs ${MIN_NODE_TEXT} or later)`)
      : fail(`v${v.major}.${v.minor}.${v.patch} is older than ${MIN_NODE_TEXT}, the oldest this project runs on (package.json engines)`, fix);
  },
};

/**
 * Loads esbuild from the repository's node_modules and runs its binary once on a one-line
 * transform, which also catches a binary installed for another platform (node_modules copied
 * between machines).
 */
export function probeEsbuild(): EsbuildProbe {
  const require = createRequire(import.meta.url);
  let esbuild: typeof import('esbuild');
  try {
    esbuild = require('esbuild') as typeof import('esbuild');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'MODULE_NOT_FOUND') return { installed: false, error: 'esbuild is not installed' };
    return { installed: false, error: `esbuild does not load: ${e.message}` };
  }
  try {
    esbuild.transformSync('let ok = 1');
    return { installed: true, version: esbuild.version };
  } catch (err) {
    return { installed: true, version: esbuild.version, error: errorMessage(err) };
  }
}

/** esbuild: installed and runnable, else fail (`npm ci`). */
export const esbuildCheck: Check<DoctorContext> = {
  id: 'esbuild',
  title: 'esbuild (bundles the functions)',
  run(ctx) {
    const probe = ctx.probeEsbuild();
    if (!probe.installed) {
      return fail(`${firstLine(probe.error)}: npx cdk deploy cannot bundle the Lambda functions (this project never bundles in Docker)`, 'npm ci');
    }
    if (probe.error !== undefined) {
      return fail(
        `esbuild ${probe.version} is installed but does not run: ${firstLine(probe.error)}`,
        "npm ci (reinstalls esbuild's binary for this machine)",
      );
    }
    return pass(`esbuild ${probe.version}, local bundling (no Docker needed)`);
  },
};

/**
 * The configuration: cdk.json's context in the working directory, validated by `buildConfig`.
 * Invalid: fail with one line per problem. No cdk.json: warn (cdk runs from the folder holding
 * it), and go on with the defaults.
 */
export const configCheck: Check<DoctorContext> = {
  id: 'config',
  title: 'configuration (cdk.json)',
  run(ctx) {
    const hasCdkJson = existsSync(join(ctx.cwd, 'cdk.json'));
    let context: Record<string, unknown>;
    try {
      context = readCdkJsonContext(ctx.cwd);
    } catch (err) {
      if (err instanceof CliError) return fail(err.message, 'correct the JSON syntax of cdk.json');
      throw err;
    }
    let config: WebhooksConfig;
    try {
      config = buildConfig(context);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      const n = err.problems.length;
      return {
        ...fail(
          `cdk.json's context has ${n} ${n === 1 ? 'problem' : 'problems'}; npx cdk deploy would refuse it:`,
          'correct these keys in the "context" of cdk.json (the README\'s Deploy section lists every key and its allowed values)',
        ),
        more: err.problems.map((p) => `- ${p}`),
      };
    }
    ctx.facts.config = config;
    const summary = describeConfig(config);
    if (!hasCdkJson) {
      return warn(
        `no cdk.json in ${ctx.cwd}, so the defaults (${summary}); npx cdk deploy needs the one in the repository's root`,
        'run doctor (and npx cdk deploy) in the socialplus-webhooks folder',
      );
    }
    return pass(summary);
  },
};

/** The configuration in a few words: stack, sources and their regions, the limits doctor compares. */
export function describeConfig(c: WebhooksConfig): string {
  const sources = c.sources.map((s) => `${s.name} (${s.region})`).join(', ');
  return `stack ${c.stackName}; ${c.sources.length === 1 ? 'source' : 'sources'} ${sources}; fanoutMaxConcurrency ${c.fanoutMaxConcurrency}; apiRateLimit ${c.apiRateLimit}, apiBurstLimit ${c.apiBurstLimit}`;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** The local checks, in report order. */
export const LOCAL_CHECKS: ReadonlyArray<Check<DoctorContext>> = [nodeCheck, esbuildCheck, configCheck];
