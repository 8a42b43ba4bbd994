/**
 * AWS SDK errors in the CLI's words: one classification and one wording for every `--aws` path
 * (status, events, state, replay, redrive, verify, doctor), so one missing credential reads the
 * same whichever command met it. Loads no SDK: doctor imports it only for `--aws`, but the other
 * commands need not pay for it either.
 */
import { CliError } from './errors.js';

/** Why an AWS call failed, as far as the CLI has advice for it. */
export type AwsErrorKind =
  | 'no-region'
  | 'no-credentials'
  | 'expired-credentials'
  | 'rejected-credentials'
  | 'access-denied'
  | 'stack-missing'
  | 'throttled'
  | 'network'
  | 'other';

/** An SDK error's name (or Node's error code for a network failure), message and kind. */
export interface ClassifiedAwsError {
  readonly kind: AwsErrorKind;
  readonly name: string;
  readonly message: string;
}

/** How to get credentials into the shell. */
const CONFIGURE_CREDENTIALS = 'configure them (aws configure, aws sso login, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)';

const REJECTED_CREDENTIALS =
  /^(InvalidClientTokenId|SignatureDoesNotMatch|UnrecognizedClientException|IncompleteSignature|AuthFailure|InvalidAccessKeyId)$/;
const ACCESS_DENIED = /^(AccessDenied|AccessDeniedException|AuthorizationError|UnauthorizedOperation)$/;
const THROTTLED =
  /^(Throttling|ThrottlingException|ThrottledException|TooManyRequestsException|RequestLimitExceeded|RequestThrottled|RequestThrottledException|ProvisionedThroughputExceededException|SlowDown|PriorRequestNotComplete|BandwidthLimitExceeded|KmsThrottled)$/;
const NETWORK = /^(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|TimeoutError|NetworkingError)$/;

/** The error's kind; the order matters where two tests could match (an SSO provider error that says "expired" is a missing credential). */
export function classifyAwsError(err: unknown): ClassifiedAwsError {
  const e = err as { name?: unknown; message?: unknown; code?: unknown; $retryable?: { throttling?: boolean } } | undefined;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const name = typeof e?.name === 'string' && e.name !== 'Error' ? e.name : (code ?? 'Error');
  const kind: AwsErrorKind = /region is missing/i.test(message)
    ? 'no-region'
    : name === 'CredentialsProviderError' || name === 'TokenProviderError' || /could not load credentials/i.test(message)
      ? 'no-credentials'
      : /expired/i.test(name) || /(token|credential|session)[^.]*expired/i.test(message)
        ? 'expired-credentials'
        : REJECTED_CREDENTIALS.test(name)
          ? 'rejected-credentials'
          : ACCESS_DENIED.test(name) || /not authorized/i.test(message)
            ? 'access-denied'
            : name === 'ValidationError' && /does not exist/i.test(message)
              ? 'stack-missing'
              : THROTTLED.test(name) || e?.$retryable?.throttling === true
                ? 'throttled'
                : NETWORK.test(name) || (code !== undefined && NETWORK.test(code))
                  ? 'network'
                  : 'other';
  return { kind, name, message };
}

/** Whether AWS refused the call for lack of permission. */
export function isAccessDenied(err: unknown): boolean {
  return classifyAwsError(err).kind === 'access-denied';
}

/** Whether a CloudFormation call failed because the stack does not exist. */
export function isStackMissing(err: unknown): boolean {
  return classifyAwsError(err).kind === 'stack-missing';
}

/** The error's name, for matching service-specific errors (`ResourceNotFoundException`, …). */
export function awsErrorName(err: unknown): string {
  return classifyAwsError(err).name;
}

/** A message's first line: SDK messages can carry a multi-line provider chain. */
export function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

/**
 * An AWS SDK error as a CliError: `could not <action>: <why>; <what to do>`. `action` names what
 * was attempted, with the resource (and, where it helps, the IAM action): "read the handler state
 * table t (dynamodb:Query)". A CliError passes through unchanged.
 */
export function awsError(err: unknown, action: string): CliError {
  if (err instanceof CliError) return err;
  const { kind, name, message } = classifyAwsError(err);
  const why = ((): string => {
    switch (kind) {
      case 'no-region':
        return 'no AWS region configured; pass --region or set AWS_REGION';
      case 'no-credentials':
        return `no usable AWS credentials (${firstLine(message)}); ${CONFIGURE_CREDENTIALS}`;
      case 'expired-credentials':
        return `the AWS credentials have expired (${name}); renew them (aws sso login, or new keys) and run the command again`;
      case 'rejected-credentials':
        return `AWS rejected the credentials (${name}: ${firstLine(message)}); ${CONFIGURE_CREDENTIALS}`;
      case 'access-denied':
        return `access denied (${message}); use credentials allowed to do this`;
      case 'stack-missing':
        return `the stack does not exist in this account and region (${message}); deploy it (npx cdk deploy), or name yours with --stack and its region with --region`;
      case 'throttled':
        return `AWS throttled the request (${name}: ${firstLine(message)}); wait a moment and run the command again`;
      case 'network':
        return `AWS could not be reached (${name}: ${firstLine(message)}); check the network connection (and any proxy) and the region`;
      default:
        return `${name}: ${message}`;
    }
  })();
  return new CliError(`could not ${action}: ${why}`);
}
