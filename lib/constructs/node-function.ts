import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { AssetHashType, DockerImage, Validations, type Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { stackLogGroup } from './log-group.js';
import type { BuildOptions } from 'esbuild';
import type { LogLevel } from '../../lambda/common/logger.js';
import { ENV } from '../../lambda/common/env.js';
import { METRICS_NAMESPACE } from '../../lambda/common/metrics-contract.js';
import { DEFAULT_LAMBDA_SYSTEM_LOG_LEVEL, DEFAULT_TRACING, type LambdaSystemLogLevel } from '../../lambda/common/defaults.js';
import { errorMessage } from '../../lambda/core/errors.js';

/** The repository root: where esbuild resolves packages from, and the asset's source path. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of a Lambda entry point, given relative to the repository root. */
export function lambdaEntry(relativePath: string): string {
  return fileURLToPath(new URL(`../../${relativePath}`, import.meta.url));
}

const ESBUILD_MISSING =
  'esbuild is not installed, and this project never falls back to Docker to bundle the Lambda functions. ' +
  'Run `npm ci` in the repository root (esbuild is a devDependency), then synthesize again.';

/** Loads esbuild lazily, so that a missing esbuild gives {@link ESBUILD_MISSING} rather than a module-not-found at import. */
function loadEsbuild(): typeof import('esbuild') {
  try {
    return createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  } catch {
    throw new Error(ESBUILD_MISSING);
  }
}

/**
 * Fails synthesis unless esbuild is installed locally: the functions are bundled by the local
 * esbuild only, never in a Docker container.
 */
export function assertLocalEsbuild(): void {
  try {
    createRequire(import.meta.url)('esbuild/package.json');
  } catch {
    throw new Error(ESBUILD_MISSING);
  }
}

/** The `require` shim: some bundled CommonJS dependencies call require() for Node built-ins; ESM has no require. */
const REQUIRE_BANNER = "import{createRequire as __createRequire}from'node:module';const require=__createRequire(import.meta.url);";

/**
 * esbuild options shared by both functions (esbuild's JS API; entry and output are per build,
 * see {@link esbuildBuildOptions}): minified ESM for node22 with external source maps, the AWS
 * SDK bundled in (the deployed code is the version the tests ran, and a cold start does not
 * resolve the runtime's copy of the SDK), and code splitting: every dynamic `import()` of a
 * bundled module becomes its own chunk, which a cold start does not read or parse (the
 * receiver's S3 client, used only when an event is too large for SQS). Exported so that bench/
 * bundles its floor handler exactly like the functions.
 */
export const ESBUILD_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  minify: true,
  sourcemap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  external: [],
  banner: { js: REQUIRE_BANNER },
  logLevel: 'warning',
  splitting: true,
  // Lambda's Node.js runtime loads `index.mjs` as ESM without a package.json saying "type": "module".
  outExtension: { '.js': '.mjs' },
  chunkNames: 'chunks/[name]-[hash]',
  absWorkingDir: PROJECT_ROOT,
} as const satisfies BuildOptions;

/**
 * The full esbuild options of one function's bundle: {@link ESBUILD_OPTIONS}, the entry module
 * written as `<outdir>/index.mjs` (handler `index.handler`) and its chunks under `<outdir>/chunks/`.
 * `sourceMaps: false` writes none: a function that never loads them should not ship them.
 */
export function esbuildBuildOptions(entryFile: string, outdir: string, opts: { sourceMaps?: boolean } = {}): BuildOptions {
  return {
    ...ESBUILD_OPTIONS,
    mainFields: [...ESBUILD_OPTIONS.mainFields],
    external: [],
    entryPoints: { index: entryFile },
    outdir,
    ...(opts.sourceMaps === false ? { sourcemap: false } : {}),
  };
}

/**
 * The function code: the entry bundled by the local esbuild at synth time (a CDK local bundling
 * step), with code splitting. Never Docker: the image is a placeholder the CDK type requires, used
 * only if the local step returns false, which it never does (it bundles or throws).
 */
export function bundledCode(entry: string, opts: { sourceMaps?: boolean } = {}): lambda.Code {
  const sourceMaps = opts.sourceMaps ?? true;
  return lambda.Code.fromAsset(PROJECT_ROOT, {
    // Hash what was built, not the whole repository.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('socialplus-webhooks/never-used-local-esbuild-only'),
      // Never run; it is here because CDK caches staged assets by source path and bundling
      // options and cannot see inside `tryBundle`: without the entry named, every function would
      // get the first function's bundle.
      command: ['esbuild', entry, '--splitting', ...(sourceMaps ? ['--sourcemap'] : [])],
      local: {
        tryBundle(outputDir: string): boolean {
          const esbuild = loadEsbuild();
          try {
            esbuild.buildSync(esbuildBuildOptions(lambdaEntry(entry), outputDir, { sourceMaps }));
          } catch (err) {
            throw new Error(`esbuild could not bundle the Lambda entry point ${entry}: ${errorMessage(err)}`, { cause: err });
          }
          return true;
        },
      },
    },
  });
}

/**
 * A function a resource binds itself to (`queue.bindSender(fn)`, `eventStore.bindWriter(fn)`, …): the
 * resource sets the variable naming it and grants what that use needs in one call, so the two
 * cannot drift apart. {@link WebhooksFunction} is one.
 */
export interface IBindableFunction {
  /** The function: it gets the environment variable, and the grant goes to its role. */
  readonly function: lambda.Function;
  /** Its execution role, whose default policy the grants land in. */
  readonly role: iam.Role;
}

/**
 * Binds `fn` to one resource: `grant` gives its role what this use of the resource needs, then
 * `variable` is set to `value`, the name or address the function finds the resource by. The
 * resources' `bindX` methods go through here, so a function never gets the one without the other.
 */
export function bindResource<G>(fn: IBindableFunction, grant: (grantee: iam.IGrantable) => G, variable: string, value: string): G {
  const granted = grant(fn.function);
  fn.function.addEnvironment(variable, value);
  return granted;
}

/** The policy grants to a role land in, for acknowledging a cdk-nag finding one of them raises. */
export function defaultPolicyOf(fn: IBindableFunction): iam.CfnPolicy {
  return fn.role.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy;
}

/** Props for {@link WebhooksFunction}. */
export interface WebhooksFunctionProps {
  /** Entry file, relative to the repository root (e.g. `lambda/receiver/index.ts`). */
  readonly entry: string;
  /** Shown in the Lambda console. */
  readonly description: string;
  /** Memory in MB; CPU share scales with it. */
  readonly memorySize: number;
  /** Invocation timeout. */
  readonly timeout: Duration;
  /** Log level the function's logger starts with. */
  readonly logLevel: LogLevel;
  /** Retention of the function's log group. */
  readonly logRetention: logs.RetentionDays;
  /**
   * The key encrypting the function's log group.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Which of Lambda's own platform lines the log group gets (advanced logging, JSON format).
   * @default DEFAULT_LAMBDA_SYSTEM_LOG_LEVEL (WARN: no START, END and REPORT lines)
   */
  readonly systemLogLevel?: LambdaSystemLogLevel;
  /**
   * Who invokes the function (always synchronously) and where a failed invocation's work ends up,
   * the reason it needs no dead-letter target of its own.
   */
  readonly invocation: string;
  /**
   * The whole reason the function has no dead-letter target, for a function that is invoked
   * asynchronously (replaces the reason built from {@link invocation}).
   */
  readonly deadLetterReason?: string;
  /**
   * X-Ray active tracing (it also lets the role send traces).
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * CloudWatch namespace the function publishes its own metrics in (`ENV.METRICS_NAMESPACE`);
   * `null` for a function that publishes none (the variable is then not set).
   * @default METRICS_NAMESPACE ('SocialPlusWebhooks')
   */
  readonly metricsNamespace?: string | null;
  /**
   * Whether the bundle has source maps and Node.js maps stack traces to the TypeScript sources
   * with them (`NODE_OPTIONS=--enable-source-maps`). It costs every cold start about 5 ms
   * (docs/benchmarks.md), because Node loads the maps with the code. Off, the asset ships no maps:
   * nothing would ever load them.
   * @default true
   */
  readonly enableSourceMaps?: boolean;
}

/**
 * A Node.js 22 arm64 function bundled by the local esbuild (code-split ESM, {@link bundledCode}),
 * with its own role (no AWS managed policies: it may write only to its own log group) and its own
 * log group with a retention.
 */
export class WebhooksFunction extends Construct implements IBindableFunction {
  /** The function. */
  readonly function: lambda.Function;
  /** The function's execution role. */
  readonly role: iam.Role;
  /** The function's log group. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WebhooksFunctionProps) {
    super(scope, id);
    assertLocalEsbuild();
    const tracing = props.tracing ?? DEFAULT_TRACING;
    this.logGroup = stackLogGroup(this, 'Logs', { retention: props.logRetention, encryptionKey: props.logEncryptionKey });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new lambda.Function(this, 'Function', {
      code: bundledCode(props.entry, { sourceMaps: props.enableSourceMaps ?? true }),
      handler: 'index.handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      // Advanced logging: the functions already write JSON lines; Lambda's own lines are kept from
      // systemLogLevel up (START, END and REPORT are INFO), and the functions' lines from their level.
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel[props.systemLogLevel ?? DEFAULT_LAMBDA_SYSTEM_LOG_LEVEL],
      applicationLogLevelV2: lambda.ApplicationLogLevel[props.logLevel],
      // DISABLED, not PASS_THROUGH: no trace is recorded even when a caller asks for one, and no X-Ray permissions.
      tracing: tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      environment: {
        [ENV.LOG_LEVEL]: props.logLevel,
        // Embedded metric format needs no permission: the metrics travel in the function's log lines.
        ...(props.metricsNamespace === null ? {} : { [ENV.METRICS_NAMESPACE]: props.metricsNamespace ?? METRICS_NAMESPACE }),
        // Stack traces point at the TypeScript sources instead of the minified bundle.
        ...((props.enableSourceMaps ?? true) ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
        // Powertools' Tracer would otherwise still open subsegments nobody records.
        ...(tracing ? {} : { POWERTOOLS_TRACE_ENABLED: 'false' }),
      },
    });

    const cfnFunction = this.function.node.defaultChild as lambda.CfnFunction;
    const runtimeReason =
      'Pinned to nodejs22.x on purpose: the runtime the project documents and tests against (DESIGN, README); ' +
      'moving to a newer Node.js runtime is a deliberate change with its own test run, not an automatic one.';
    Validations.of(cfnFunction).acknowledge(
      { id: 'AwsSolutions-L1', reason: runtimeReason },
      { id: 'Serverless-LambdaLatestVersion', reason: runtimeReason },
      {
        id: 'Serverless-LambdaDLQ',
        reason:
          props.deadLetterReason ??
          `Never invoked asynchronously, and a function dead-letter target only catches asynchronous invocations: ${props.invocation}.`,
      },
    );
    if (tracing) {
      // Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which take no resource ARN.
      Validations.of(defaultPolicyOf(this)).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Only the X-Ray actions xray:PutTraceSegments and xray:PutTelemetryRecords use Resource *: X-Ray has no resource-level permissions, AWS requires *.',
      });
    } else {
      Validations.of(cfnFunction).acknowledge({
        id: 'Serverless-LambdaTracing',
        reason:
          'X-Ray is off for this function because the deployment set tracing=false, or, for the fan-out, fanoutTracing=false (Lambda traces ' +
          'SQS-triggered invocations at a fixed rate no sampling rule lowers: about $5 per million events at quiet traffic); ' +
          'the structured logs and the metrics still follow each event by its eventId.',
      });
    }
  }
}
