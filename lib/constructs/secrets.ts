import { SecretValue, Stack, Validations } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { ENV } from '../../lambda/common/env.js';
import { SECRET_PLACEHOLDER } from '../../lambda/core/secret-value.js';
import type { IBindableFunction } from './node-function.js';

/** One webhook source's secret: created by the stack, or an existing one by its complete ARN. */
export interface WebhookSecretSource {
  /** The source name (path segment). */
  readonly name: string;
  /** Complete ARN of an existing secret; absent: a secret holding the placeholder is created. */
  readonly secretArn?: string;
}

/** Props for {@link WebhookSecrets}. */
export interface WebhookSecretsProps {
  /** The webhook sources, names unique. */
  readonly sources: readonly WebhookSecretSource[];
}

/**
 * One Secrets Manager secret per webhook source, holding that source's Social Plus signing key.
 * New secrets start as {@link SECRET_PLACEHOLDER} (the receiver answers 503 until the user pastes
 * the key from the Social Plus console); the key is Social Plus's, so it is not generated here.
 */
export class WebhookSecrets extends Construct {
  /** Each source's secret, by source name; for tests and escape hatches. */
  readonly secrets: Readonly<Record<string, secretsmanager.ISecret>>;

  constructor(scope: Construct, id: string, props: WebhookSecretsProps) {
    super(scope, id);
    const secrets: Record<string, secretsmanager.ISecret> = {};
    for (const source of props.sources) {
      // The construct id is part of the secret's logical id: renaming it would replace the secret
      // and lose the pasted key.
      const secretId = `Secret-${source.name}`;
      if (source.secretArn !== undefined) {
        secrets[source.name] = secretsmanager.Secret.fromSecretCompleteArn(this, secretId, source.secretArn);
        continue;
      }
      const secret = new secretsmanager.Secret(this, secretId, {
        description: `Social Plus webhook secret key for source '${source.name}': paste it from the Social Plus console (Settings > Webhooks).`,
        // Not a secret: the value the user replaces with the key Social Plus shows once.
        secretStringValue: SecretValue.unsafePlainText(SECRET_PLACEHOLDER),
      });
      Validations.of(secret.node.defaultChild as secretsmanager.CfnSecret).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'Social Plus generates the webhook secret key and rotates it in its console (delete and re-add the URL); a Secrets Manager ' +
          'rotation Lambda cannot create a key Social Plus would sign with. During a rotation the secret holds {"current","previous"}.',
      });
      secrets[source.name] = secret;
    }
    this.secrets = secrets;
  }

  /** The ARN of a source's secret, or undefined for a source this construct does not know. */
  secretArnOf(source: string): string | undefined {
    return this.secrets[source]?.secretArn;
  }

  /**
   * Lets `fn` read exactly the sources' secrets and sets `ENV.SOURCE_SECRETS` to their ARNs by
   * source name (`{"<source>":"<arn>"}`): what the receiver needs to verify a delivery.
   */
  bindReader(fn: IBindableFunction): void {
    const arns: Record<string, string> = {};
    for (const [source, secret] of Object.entries(this.secrets)) {
      secret.grantRead(fn.function);
      arns[source] = secret.secretArn;
    }
    fn.function.addEnvironment(ENV.SOURCE_SECRETS, Stack.of(this).toJsonString(arns));
  }
}
