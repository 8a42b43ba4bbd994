/**
 * What a CloudFormation stack status means for the next `npx cdk deploy` (or `npx cdk bootstrap`),
 * and the commands that get a stack out of a state it cannot be updated from. Pure: shared by the
 * bootstrap check (the CDK toolkit stack) and the deployed stack's check.
 */

/**
 * - `ok`: complete, ready for the next deploy;
 * - `rolled-back`: the last update failed and was undone; the previous version runs;
 * - `in-progress`: an operation is under way;
 * - `not-created`: a change set was created but never executed (REVIEW_IN_PROGRESS): nothing deployed;
 * - `broken`: a failed creation, rollback, update or deletion: no deploy goes through until it is fixed.
 */
export type StackHealth = 'ok' | 'rolled-back' | 'in-progress' | 'not-created' | 'broken';

/** The health of a stack status; an unknown status counts as broken, so it is looked at. */
export function stackHealth(status: string): StackHealth {
  if (status === 'CREATE_COMPLETE' || status === 'UPDATE_COMPLETE' || status === 'IMPORT_COMPLETE') return 'ok';
  if (status === 'UPDATE_ROLLBACK_COMPLETE' || status === 'IMPORT_ROLLBACK_COMPLETE') return 'rolled-back';
  if (status === 'REVIEW_IN_PROGRESS') return 'not-created';
  if (status.endsWith('_IN_PROGRESS')) return 'in-progress';
  return 'broken';
}

/** The commands that fix a stack in `status`. */
export interface StackFixTarget {
  readonly stackName: string;
  readonly region: string;
  /** What creates or updates it: `npx cdk deploy`, `npx cdk bootstrap aws://…`. */
  readonly redeploy: string;
}

/** Why a stack in a broken or rolled-back status is so, in words. */
export function statusMeaning(status: string): string {
  switch (status) {
    case 'ROLLBACK_COMPLETE':
      return 'its creation failed and was rolled back: it holds nothing and can only be deleted';
    case 'ROLLBACK_FAILED':
      return 'its creation failed and so did the rollback: it can only be deleted';
    case 'CREATE_FAILED':
      return 'its creation failed (with rollback turned off)';
    case 'DELETE_FAILED':
      return 'its deletion failed: some resource could not be deleted';
    case 'UPDATE_FAILED':
      return 'its last update failed (with rollback turned off)';
    case 'UPDATE_ROLLBACK_FAILED':
      return 'its last update failed and so did the rollback: no update goes through until the rollback is finished';
    case 'IMPORT_ROLLBACK_FAILED':
      return 'its last resource import failed and so did the rollback';
    case 'UPDATE_ROLLBACK_COMPLETE':
      return 'its last update failed and was rolled back: the previous version runs';
    case 'IMPORT_ROLLBACK_COMPLETE':
      return 'its last resource import failed and was rolled back';
    default:
      return status.endsWith('_IN_PROGRESS') ? 'an operation is under way' : 'a status doctor does not know';
  }
}

/** The fix of a stack in a status whose health is not `ok`. */
export function statusFix(status: string, t: StackFixTarget): string {
  const at = `--stack-name ${t.stackName} --region ${t.region}`;
  const why = `aws cloudformation describe-stack-events ${at} shows why`;
  switch (status) {
    case 'ROLLBACK_COMPLETE':
    case 'ROLLBACK_FAILED':
    case 'CREATE_FAILED':
      return `aws cloudformation delete-stack ${at}, then ${t.redeploy} (${why})`;
    case 'DELETE_FAILED':
      return `${why}; remove what blocked it, run aws cloudformation delete-stack ${at} again, then ${t.redeploy}`;
    case 'UPDATE_FAILED':
      return `${t.redeploy} again once the cause is fixed (${why}), or aws cloudformation rollback-stack ${at}`;
    case 'UPDATE_ROLLBACK_FAILED':
      return `aws cloudformation continue-update-rollback ${at}, then ${t.redeploy} (${why})`;
    case 'UPDATE_ROLLBACK_COMPLETE':
    case 'IMPORT_ROLLBACK_COMPLETE':
      return `${why}; fix that, then ${t.redeploy}`;
    default:
      if (status.endsWith('_IN_PROGRESS')) {
        return `wait until it ends (aws cloudformation describe-stacks ${at} --query "Stacks[0].StackStatus"), then run doctor again`;
      }
      return `${why}`;
  }
}
