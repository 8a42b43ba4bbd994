/**
 * What the AWS checks share: the SDK clients (loaded only for `--aws`, so `doctor` alone stays
 * fast), the region they resolve, the bootstrap version the installed aws-cdk CLI deploys, and
 * the outcome of a call that failed for a reason other than what its check looks for (the error's
 * kind and wording are the CLI's own, `cli/aws-errors.ts`).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { awsError, isAccessDenied } from '../aws-errors.js';
import { fail, warn, type Outcome } from './check.js';
import type { DoctorClients } from './context.js';

/** The SDK clients, built from the environment's credentials, for `region` or the SDK's own. */
export async function createDoctorClients(region: string | undefined): Promise<{ clients: DoctorClients; region: string | undefined }> {
  const [sts, cfn, apigw, lambda, sm, waf, sns, sqs, cw] = await Promise.all([
    import('@aws-sdk/client-sts'),
    import('@aws-sdk/client-cloudformation'),
    import('@aws-sdk/client-api-gateway'),
    import('@aws-sdk/client-lambda'),
    import('@aws-sdk/client-secrets-manager'),
    import('@aws-sdk/client-wafv2'),
    import('@aws-sdk/client-sns'),
    import('@aws-sdk/client-sqs'),
    import('@aws-sdk/client-cloudwatch'),
  ]);
  const config = region ? { region } : {};
  const stsClient = new sts.STSClient(config);
  return {
    clients: {
      sts: stsClient,
      cloudFormation: new cfn.CloudFormationClient(config),
      apiGateway: new apigw.APIGatewayClient(config),
      lambda: new lambda.LambdaClient(config),
      secretsManager: new sm.SecretsManagerClient(config),
      wafv2: new waf.WAFV2Client(config),
      sns: new sns.SNSClient(config),
      sqs: new sqs.SQSClient(config),
      cloudWatch: new cw.CloudWatchClient(config),
    },
    region: region ?? (await stsClient.config.region().catch(() => undefined)),
  };
}

/**
 * The oldest `BootstrapVersion` the CDK deploys this stack with: aws-cdk-lib's
 * `DefaultStackSynthesizer` (its `MIN_BOOTSTRAP_STACK_VERSION`, which its asset publishing roles
 * need). Copied rather than imported, since loading aws-cdk-lib would make doctor slow; a test
 * compares it with the installed aws-cdk-lib.
 */
export const MIN_BOOTSTRAP_VERSION = 6;

/** The `BootstrapVersion` output's value in a bootstrap template (the CDK's YAML), or undefined. */
export function parseBootstrapTemplateVersion(yaml: string): number | undefined {
  const at = yaml.search(/^Outputs:/m);
  if (at < 0) return undefined;
  const m = /^ {2}BootstrapVersion:\s*$[\s\S]*?^ {4}Value:\s*['"]?(\d+)['"]?\s*$/m.exec(yaml.slice(at));
  return m ? Number(m[1]) : undefined;
}

/** The bootstrap version `npx cdk bootstrap` deploys: the installed aws-cdk CLI's template's; undefined when not installed. */
export function readLatestBootstrapVersion(): number | undefined {
  try {
    const path = createRequire(import.meta.url).resolve('aws-cdk/lib/api/bootstrap/bootstrap-template.yaml');
    return parseBootstrapTemplateVersion(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The outcome of a call that failed for a reason other than what the check looks for. Access
 * denied is a warning (the thing may well be fine; doctor could not look); anything else fails,
 * worded by the CLI's `awsError`.
 */
export function callFailed(err: unknown, action: string, permission: string): Outcome {
  if (isAccessDenied(err)) {
    return warn(
      `could not ${action}: access denied, so this was not checked`,
      `allow ${permission} to the identity doctor runs as, then run it again`,
    );
  }
  return fail(awsError(err, action).message, 'run doctor again; if it fails the same way, the error says what to fix');
}
