/**
 * What the doctor's checks run against: the machine (Node.js, esbuild, the working directory's
 * cdk.json), and with `--aws` the SDK clients, the region and the names of the stacks, plus the
 * facts earlier checks found (the configuration, the caller's account, the deployed stack) for the
 * later ones. Types only: the SDK clients are built by `aws-support.ts`, loaded on demand.
 */
import type { GetAccountCommandOutput } from '@aws-sdk/client-api-gateway';
import type { WebhooksConfig } from '../../lib/config.js';
import type { SdkClients } from '../sdk-clients.js';

/** What loading esbuild found. */
export type EsbuildProbe =
  { readonly installed: true; readonly version: string; readonly error?: string } | { readonly installed: false; readonly error: string };

/** The SDK clients the AWS checks call; replaceable in tests. */
export type DoctorClients = SdkClients<
  'sts' | 'cloudFormation' | 'apiGateway' | 'lambda' | 'secretsManager' | 'wafv2' | 'sns' | 'sqs' | 'cloudWatch'
>;

/** The `--aws` half of the context. */
export interface AwsContext {
  readonly clients: DoctorClients;
  /** The region the clients use (`--region`, else the SDK's own resolution); undefined when none is configured. */
  readonly region: string | undefined;
  /** The app's stack: `--stack`, else cdk.json's `stackName`, else the default. */
  readonly stackName: string;
  /** The CDK toolkit stack: `--toolkit-stack-name`, else `CDKToolkit`. */
  readonly toolkitStackName: string;
  /** The `BootstrapVersion` the installed aws-cdk CLI deploys; undefined when it could not be read. */
  readonly latestBootstrapVersion: number | undefined;
  /** Options to repeat in `npx socialplus-webhooks …` fix commands: ` --stack X --region r` when given, else ''. */
  readonly cliFlags: string;
}

/** The deployed stack as the stack check found it. */
export interface DeployedStack {
  readonly name: string;
  readonly status: string;
  /** Output key → value. */
  readonly outputs: Readonly<Record<string, string>>;
  /** Output key → its description, where it has one. */
  readonly descriptions: Readonly<Record<string, string>>;
}

/** Facts an earlier check found that later ones use. */
export interface DoctorFacts {
  /** The validated configuration (config check). */
  config?: WebhooksConfig;
  /** The caller (identity check). */
  identity?: { readonly account: string; readonly arn: string };
  /** API Gateway `GetAccount`, asked once for the two checks that read it. */
  apiGatewayAccount?: Promise<GetAccountCommandOutput>;
  /** The app's stack, when deployed in a state whose outputs can be read (stack check). */
  stack?: DeployedStack;
}

/** Everything a check may read. */
export interface DoctorContext {
  /** Where cdk.json is read from (the working directory). */
  readonly cwd: string;
  /** `process.versions.node`. */
  readonly nodeVersion: string;
  readonly probeEsbuild: () => EsbuildProbe;
  /** The clock (the signature check's window ends now). */
  readonly now: () => Date;
  readonly facts: DoctorFacts;
  /** Present with `--aws`. */
  readonly aws?: AwsContext;
}

/** The AWS half of the context, or an error naming the check that ran without it (a wiring bug). */
export function awsOf(ctx: DoctorContext): AwsContext {
  if (ctx.aws === undefined) throw new Error('an AWS check ran without --aws');
  return ctx.aws;
}
