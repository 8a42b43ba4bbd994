/**
 * `doctor`'s run: the local checks always; with `--aws` the account's checks and the deployed
 * stack's, whose modules (and the AWS SDK) load only then. Everything outside (the SDK clients,
 * the region, esbuild, the Node.js version, the working directory) can be injected for tests.
 */
import { DEFAULT_STACK_NAME, STACK_NAME_PATTERN } from '../../lib/stack-name.js';
import { CliError } from '../errors.js';
import { targetStackName } from '../stack-target.js';
import { report, runChecks, type CheckEntry, type DoctorReport } from './check.js';
import type { AwsContext, DoctorClients, DoctorContext, EsbuildProbe } from './context.js';
import { LOCAL_CHECKS, probeEsbuild } from './local-checks.js';

/** The command's options. */
export interface DoctorOptions {
  readonly aws?: boolean;
  readonly stack?: string;
  readonly region?: string;
  readonly toolkitStackName?: string;
}

/** Replacements for what doctor would otherwise take from the machine and the environment. */
export interface DoctorDeps {
  readonly cwd?: string;
  readonly nodeVersion?: string;
  readonly probeEsbuild?: () => EsbuildProbe;
  /** SDK clients; with them, `region` is the region they use (else `--region`). */
  readonly clients?: DoctorClients;
  readonly region?: string;
  /** The version `npx cdk bootstrap` deploys; null: unknown. Default: read from the installed aws-cdk. */
  readonly latestBootstrapVersion?: number | null;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** A toolkit stack name as `cdk bootstrap --toolkit-stack-name` takes it (CloudFormation's rule). */
const TOOLKIT_STACK_NAME = /^[A-Za-z][A-Za-z0-9-]{0,127}$/;

/** An AWS region name (`eu-central-1`, `us-gov-west-1`): it also ends up in the printed fix commands. */
const REGION = /^[a-z]{2,}(-[a-z]+)+-\d{1,2}$/;

/** Runs the checks and returns the report; usage errors (a bad `--stack`) are `CliError`s. */
export async function runDoctor(opts: DoctorOptions, deps: DoctorDeps = {}): Promise<DoctorReport> {
  if (!opts.aws) {
    const awsOnly = (['stack', 'region', 'toolkitStackName'] as const).filter((k) => opts[k] !== undefined);
    if (awsOnly.length > 0) throw new CliError(`${awsOnly.map(flagName).join(', ')} ${awsOnly.length === 1 ? 'needs' : 'need'} --aws`);
  }
  if (opts.toolkitStackName !== undefined && !TOOLKIT_STACK_NAME.test(opts.toolkitStackName)) {
    throw new CliError(`--toolkit-stack-name '${opts.toolkitStackName}' is not a stack name: a letter, then letters, digits and hyphens`);
  }
  if (opts.region !== undefined && !REGION.test(opts.region)) {
    throw new CliError(`--region '${opts.region}' is not an AWS region name (e.g. eu-central-1)`);
  }
  if (opts.stack !== undefined && !STACK_NAME_PATTERN.test(opts.stack)) {
    throw new CliError(`--stack '${opts.stack}' is not a stack name: a letter, then letters, digits and hyphens`);
  }
  const cwd = deps.cwd ?? process.cwd();
  const ctx: DoctorContext = {
    cwd,
    nodeVersion: deps.nodeVersion ?? process.versions.node,
    probeEsbuild: deps.probeEsbuild ?? probeEsbuild,
    now: deps.now ?? (() => new Date()),
    facts: {},
    ...(opts.aws ? { aws: await awsContext(opts, deps, cwd) } : {}),
  };
  const entries: Array<CheckEntry<DoctorContext>> = [...LOCAL_CHECKS];
  if (opts.aws) {
    const [{ ACCOUNT_CHECKS }, { STACK_CHECKS }] = await Promise.all([import('./account-checks.js'), import('./stack-checks.js')]);
    entries.push(...ACCOUNT_CHECKS, ...STACK_CHECKS);
  }
  return report(await runChecks(entries, ctx));
}

async function awsContext(opts: DoctorOptions, deps: DoctorDeps, cwd: string): Promise<AwsContext> {
  const support = await import('./aws-support.js');
  const { clients, region } = deps.clients
    ? { clients: deps.clients, region: deps.region ?? opts.region }
    : await support.createDoctorClients(opts.region);
  const latest = deps.latestBootstrapVersion === undefined ? support.readLatestBootstrapVersion() : (deps.latestBootstrapVersion ?? undefined);
  const { DEFAULT_TOOLKIT_STACK_NAME } = await import('./account-checks.js');
  return {
    clients,
    region,
    stackName: stackNameIn(opts.stack, cwd),
    toolkitStackName: opts.toolkitStackName ?? DEFAULT_TOOLKIT_STACK_NAME,
    latestBootstrapVersion: latest,
    cliFlags: `${opts.stack !== undefined ? ` --stack ${opts.stack}` : ''}${opts.region !== undefined ? ` --region ${opts.region}` : ''}`,
  };
}

/** `--stack`, else cdk.json's `stackName`, else the default; a cdk.json that is not JSON is the config check's to report. */
function stackNameIn(explicit: string | undefined, cwd: string): string {
  try {
    return targetStackName(explicit, cwd);
  } catch (err) {
    if (err instanceof CliError && explicit === undefined) return DEFAULT_STACK_NAME;
    throw err;
  }
}

function flagName(key: 'stack' | 'region' | 'toolkitStackName'): string {
  return `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}
