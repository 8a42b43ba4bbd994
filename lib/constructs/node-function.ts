import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { RemovalPolicy, Validations, type Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, LogLevel as EsbuildLogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { LogLevel } from '../../lambda/shared/logger.js';
import { ENV } from '../../lambda/shared/env.js';
import { METRICS_NAMESPACE } from '../../lambda/shared/metrics-contract.js';

/** The repository root: the bundler's project root, holding package-lock.json. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of a Lambda entry point, given relative to the repository root. */
export function lambdaEntry(relativePath: string): string {
  return fileURLToPath(new URL(`../../${relativePath}`, import.meta.url));
}

/**
 * Fails synthesis unless esbuild is installed locally. NodejsFunction silently falls back to a
 * Docker build when it cannot find esbuild; this project never bundles with Docker.
 */
export function assertLocalEsbuild(): void {
  try {
    createRequire(import.meta.url)('esbuild/package.json');
  } catch {
    throw new Error(
      'esbuild is not installed, and this project never falls back to Docker to bundle the Lambda functions. ' +
        'Run `npm ci` in the repository root (esbuild is a devDependency), then synthesize again.',
    );
  }
}

/**
 * Bundling shared by both functions: local esbuild only, one minified ESM file with an external
 * source map, the AWS SDK bundled in (so the deployed code is the version the tests ran, and a cold
 * start reads one file instead of resolving the runtime's copy of the SDK).
 */
export const BUNDLING: BundlingOptions = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  externalModules: [],
  // Some bundled CommonJS dependencies call require() for Node built-ins; ESM has no require.
  banner: "import{createRequire as __createRequire}from'node:module';const require=__createRequire(import.meta.url);",
  forceDockerBundling: false,
  logLevel: EsbuildLogLevel.WARNING,
};

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
   * Who invokes the function (always synchronously) and where a failed invocation's work ends up,
   * the reason it needs no dead-letter target of its own.
   */
  readonly invocation: string;
  /**
   * X-Ray active tracing (it also lets the role send traces).
   * @default true
   */
  readonly tracing?: boolean;
  /**
   * CloudWatch namespace the function publishes its own metrics in (`ENV.METRICS_NAMESPACE`).
   * @default METRICS_NAMESPACE ('SocialPlusWebhooks')
   */
  readonly metricsNamespace?: string;
}

/**
 * A Node.js 22 arm64 function bundled by the local esbuild, with its own role (no AWS managed
 * policies: it may write only to its own log group) and its own log group with a retention.
 */
export class WebhooksFunction extends Construct {
  /** The function. */
  readonly function: NodejsFunction;
  /** The function's execution role. */
  readonly role: iam.Role;
  /** The function's log group. */
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WebhooksFunctionProps) {
    super(scope, id);
    assertLocalEsbuild();
    const tracing = props.tracing ?? true;
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention, removalPolicy: RemovalPolicy.DESTROY });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      entry: lambdaEntry(props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: fileURLToPath(new URL('../../package-lock.json', import.meta.url)),
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize,
      timeout: props.timeout,
      role: this.role,
      logGroup: this.logGroup,
      // DISABLED, not PASS_THROUGH: no trace is recorded even when a caller asks for one, and no X-Ray permissions.
      tracing: tracing ? lambda.Tracing.ACTIVE : lambda.Tracing.DISABLED,
      bundling: BUNDLING,
      environment: {
        [ENV.LOG_LEVEL]: props.logLevel,
        // Embedded metric format needs no permission: the metrics travel in the function's log lines.
        [ENV.METRICS_NAMESPACE]: props.metricsNamespace ?? METRICS_NAMESPACE,
        // Stack traces point at the TypeScript sources instead of the minified bundle.
        NODE_OPTIONS: '--enable-source-maps',
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
        reason: `Never invoked asynchronously, and a function dead-letter target only catches asynchronous invocations: ${props.invocation}.`,
      },
    );
    if (tracing) {
      // Active tracing adds xray:PutTraceSegments and xray:PutTelemetryRecords, which take no resource ARN.
      Validations.of(this.role.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only the X-Ray actions xray:PutTraceSegments and xray:PutTelemetryRecords use Resource *: X-Ray has no resource-level permissions, AWS requires *.',
      });
    } else {
      Validations.of(cfnFunction).acknowledge({
        id: 'Serverless-LambdaTracing',
        reason:
          'X-Ray is off because the deployment set tracing=false (its cost, about $5 per million traced requests, was not wanted); ' +
          'the structured logs, the metrics and the dashboard still follow each event by its eventId.',
      });
    }
  }
}
