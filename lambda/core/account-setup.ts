/**
 * The API Gateway account setting a stack with access logging needs: a CloudWatch Logs role for
 * the account in the region. API Gateway refuses a stage that logs while the account has none
 * ("CloudWatch Logs role ARN must be set in account settings"), and a fresh account has none.
 *
 * The rule, pure so it is tested without AWS: a role already set is left alone (other APIs in the
 * account rely on it, and it may be the user's own); an unset one is set to the role the stack
 * created; nothing is ever removed, on update or on delete.
 */

/** What the custom resource does with the account's CloudWatch role. */
export type AccountRolePlan =
  { readonly action: 'keep'; readonly roleArn: string } | { readonly action: 'set'; readonly roleArn: string } | { readonly action: 'none' };

/** CloudFormation's custom resource request types. */
export type CustomResourceRequestType = 'Create' | 'Update' | 'Delete';

/** Decides what to do; `current` is the account's `cloudwatchRoleArn` (undefined or empty when unset). */
export function planAccountRole(requestType: CustomResourceRequestType, current: string | undefined, ours: string): AccountRolePlan {
  // Deleting the stack never unsets the account's role: APIs outside this stack log through it.
  if (requestType === 'Delete') return { action: 'none' };
  if (current !== undefined && current.trim() !== '') return { action: 'keep', roleArn: current };
  return { action: 'set', roleArn: ours };
}

/**
 * Whether an UpdateAccount failure is IAM still propagating the new role (API Gateway checks that
 * it may assume the role, and a role minutes old is not always visible yet): worth retrying.
 */
export function isRolePropagationError(err: unknown): boolean {
  const e = err as { name?: string; message?: string };
  return e?.name === 'BadRequestException' && /role|permission|assume/i.test(e.message ?? '');
}

/** The fields of a CloudFormation custom resource request this function reads. */
export interface CustomResourceRequest {
  readonly RequestType: CustomResourceRequestType;
  readonly ResponseURL: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly PhysicalResourceId?: string;
  readonly ResourceProperties: Readonly<Record<string, unknown>>;
}

/** The physical id of the one setting per account and region. */
export const ACCOUNT_SETTING_PHYSICAL_ID = 'apigateway-account-cloudwatch-role';

/** The JSON body CloudFormation expects at the request's `ResponseURL`. */
export function customResourceResponse(
  request: CustomResourceRequest,
  outcome: { ok: true; data: Readonly<Record<string, string>> } | { ok: false; reason: string },
): string {
  return JSON.stringify({
    Status: outcome.ok ? 'SUCCESS' : 'FAILED',
    // CloudFormation shows the reason in the stack's events; it allows 4 KB for the whole answer.
    Reason: outcome.ok ? 'done' : outcome.reason.slice(0, 1000),
    PhysicalResourceId: request.PhysicalResourceId ?? ACCOUNT_SETTING_PHYSICAL_ID,
    StackId: request.StackId,
    RequestId: request.RequestId,
    LogicalResourceId: request.LogicalResourceId,
    ...(outcome.ok ? { Data: outcome.data } : {}),
  });
}
