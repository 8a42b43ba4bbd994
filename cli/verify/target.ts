/**
 * `verify --aws`, where to post and look: the stack's outputs for the source (its webhook URL and
 * secret, the event table, the archive bucket) and the key to sign with, read from the source's
 * secret. Both stop the run with a CliError before anything is posted.
 */
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sourceIdPart } from '../../lib/config.js';
import { SecretNotConfiguredError } from '../../lambda/core/errors.js';
import { parseSecretValue } from '../../lambda/core/secret-value.js';
import { STACK_OUTPUTS, SOURCE_OUTPUT_PREFIXES } from '../../lib/stack-outputs.js';
import { awsError } from '../aws-errors.js';
import { requireOutput } from '../aws-stack.js';
import { CliError } from '../errors.js';
import { putSecretCommand } from './report.js';

/** Where the run posts and looks. */
export interface VerifyTarget {
  readonly url: string;
  readonly secretArn: string;
  readonly table: string;
  readonly bucket: string;
}

/**
 * The target from the stack's outputs: the source's `WebhookUrl<Source>` and `SecretArn<Source>`
 * (else `fallbackSecretArn`), `EventTableName`, `ArchiveBucketName`. A CliError names what is missing.
 */
export function targetFromOutputs(
  outputs: Readonly<Record<string, string>>,
  stack: string,
  source: string,
  fallbackSecretArn?: string,
): VerifyTarget {
  const part = sourceIdPart(source);
  const urlKey = `${SOURCE_OUTPUT_PREFIXES.webhookUrl}${part}`;
  const url = outputs[urlKey];
  if (!url) {
    const sources = Object.keys(outputs)
      .filter((k) => k.startsWith(SOURCE_OUTPUT_PREFIXES.webhookUrl))
      .sort();
    throw new CliError(
      sources.length === 0
        ? `stack '${stack}' has no ${SOURCE_OUTPUT_PREFIXES.webhookUrl}… output: is it a socialplus-webhooks stack, deployed with this version (npx cdk deploy)?`
        : `stack '${stack}' has no webhook URL for source '${source}' (output ${urlKey}); it has ${sources.join(', ')}: name one of its sources with --source, or add '${source}' to the sources key and deploy`,
    );
  }
  const secretKey = `${SOURCE_OUTPUT_PREFIXES.secretArn}${part}`;
  const secretArn = outputs[secretKey] ?? fallbackSecretArn;
  if (!secretArn) {
    throw new CliError(
      `stack '${stack}' has no output ${secretKey}: source '${source}' uses a secret of its own (secretArn); give that ARN in cdk.json's sources, where verify reads it`,
    );
  }
  return {
    url,
    secretArn,
    table: requireOutput(outputs, STACK_OUTPUTS.eventTable, stack),
    bucket: requireOutput(outputs, STACK_OUTPUTS.archiveBucket, stack),
  };
}

/**
 * The key to sign with: the secret's current key (the first of a `{"current","previous"}` pair).
 * A CliError, before anything is posted, when the secret cannot be read or still holds the
 * placeholder; the message gives the command that stores the key and never the secret's value.
 */
export async function readSigningKey(
  sm: Pick<SecretsManagerClient, 'send'>,
  secretArn: string,
  source: string,
  region: string | null,
): Promise<string> {
  let raw: string | undefined;
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: secretArn }));
    raw = out.SecretString;
    if (raw === undefined)
      throw new CliError(
        `the secret ${secretArn} of source '${source}' holds binary data, not the Social Plus secret key as a string: ${putSecretCommand(secretArn, region)}`,
      );
  } catch (err) {
    if (err instanceof CliError) throw err;
    if ((err as Error).name === 'ResourceNotFoundException') {
      throw new CliError(
        `the secret ${secretArn} of source '${source}' does not exist (deleted, or in another region?): deploy the stack again (npx cdk deploy) or check --region`,
      );
    }
    throw awsError(err, `read the secret ${secretArn} of source '${source}' (secretsmanager:GetSecretValue)`);
  }
  try {
    const [current] = parseSecretValue(source, raw);
    return current as string;
  } catch (err) {
    if (err instanceof SecretNotConfiguredError) {
      throw new CliError(
        `${err.message}. Nothing was sent. Store the key from the Social Plus console (Settings → Webhooks):\n  ${putSecretCommand(secretArn, region)}`,
      );
    }
    throw err;
  }
}
