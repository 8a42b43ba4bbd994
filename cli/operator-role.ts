/**
 * The stack's operator role, which `replay --aws` and `redrive --aws` assume to send to the event
 * queue: the queue's policy denies every other sender but the receiver, so the user's own
 * credentials cannot, however broad they are (lib/constructs/operator-role.ts).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { awsError } from './aws-errors.js';
import { awsClientConfig, type AwsTargetOptions } from './aws-stack.js';

/** Temporary credentials, as an SDK client's `credentials` accepts them. */
export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration: Date;
}

/** What an SDK client's `credentials` option takes: a function it calls before signing. */
export type CredentialsProvider = () => Promise<SessionCredentials>;

/** Refresh the session this long before it expires. */
const REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * Credentials of a session of the operator role, refreshed before they expire (a long replay can
 * outlast one session). The first session is taken at once, so a user who may not assume the
 * role hears so before anything is read or sent.
 */
export async function operatorCredentials(sts: Pick<STSClient, 'send'>, roleArn: string, now: () => number = Date.now): Promise<CredentialsProvider> {
  const assume = async (): Promise<SessionCredentials> => {
    let out;
    try {
      out = await sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: 'socialplus-webhooks-cli', DurationSeconds: 3600 }));
    } catch (err) {
      throw awsError(
        err,
        `assume the stack's operator role ${roleArn}, the only role besides the receiver that the event queue's policy lets send ` +
          '(allow sts:AssumeRole on it for your user or role)',
      );
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw awsError(new Error('AssumeRole returned no credentials'), `assume ${roleArn}`);
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      expiration: c.Expiration ?? new Date(now() + 3600_000),
    };
  };
  let current = await assume();
  return async () => {
    if (current.expiration.getTime() - now() < REFRESH_BEFORE_MS) current = await assume();
    return current;
  };
}

/**
 * The SQS client that sends to the event queue: as the operator role when the stack names one
 * (output OperatorRoleArn), else with the user's own credentials (queues given by URL). The role is
 * assumed at once, so a refusal is heard before anything is read or sent.
 */
export async function queueSenderClient(opts: AwsTargetOptions, operatorRoleArn: string | undefined): Promise<SQSClient> {
  return new SQSClient({
    ...awsClientConfig(opts),
    ...(operatorRoleArn ? { credentials: await operatorCredentials(new STSClient(awsClientConfig(opts)), operatorRoleArn) } : {}),
  });
}
