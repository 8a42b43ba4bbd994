/**
 * The account-setup custom resource: makes sure the account has an API Gateway CloudWatch Logs
 * role in the stack's region before the stage is created (lambda/core/account-setup.ts has the
 * rule), then answers CloudFormation at the request's presigned `ResponseURL`. It always answers,
 * failures included: an unanswered request leaves the stack waiting for an hour.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { customResourceResponse, isRolePropagationError, planAccountRole, type CustomResourceRequest } from '../core/account-setup.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/telemetry.js';

/** What the handler needs from the outside world. */
export interface AccountSetupDeps {
  readonly account: {
    cloudWatchRoleArn(): Promise<string | undefined>;
    setCloudWatchRoleArn(roleArn: string): Promise<void>;
  };
  readonly logger: Logger;
  /** Sends the answer to CloudFormation. @default an HTTP PUT to the request's ResponseURL */
  readonly respond?: (url: string, body: string) => Promise<void>;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Milliseconds left before the invocation times out. */
  readonly remainingMs: () => number;
  /** Pause between attempts while IAM propagates the new role. @default 5000 */
  readonly retryDelayMs?: number;
}

/** Time kept back from the invocation's timeout to answer CloudFormation. */
const ANSWER_MARGIN_MS = 10_000;

/** Handles one custom resource request; never throws. */
export async function handleAccountSetup(event: CustomResourceRequest, deps: AccountSetupDeps): Promise<void> {
  const respond = deps.respond ?? putResponse;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let body: string;
  try {
    const ours = event.ResourceProperties.RoleArn;
    if (event.RequestType !== 'Delete' && (typeof ours !== 'string' || ours === '')) throw new Error('the RoleArn property is missing');
    const current = event.RequestType === 'Delete' ? undefined : await deps.account.cloudWatchRoleArn();
    const plan = planAccountRole(event.RequestType, current, String(ours ?? ''));
    if (plan.action === 'set') {
      for (let attempt = 1; ; attempt++) {
        try {
          await deps.account.setCloudWatchRoleArn(plan.roleArn);
          break;
        } catch (err) {
          const delay = deps.retryDelayMs ?? 5000;
          if (!isRolePropagationError(err) || deps.remainingMs() < delay + ANSWER_MARGIN_MS) throw err;
          deps.logger.info('the new role is not usable by API Gateway yet (IAM propagation); retrying', { attempt, error: errorMessage(err) });
          await sleep(delay);
        }
      }
    }
    deps.logger.info('API Gateway account CloudWatch role', {
      requestType: event.RequestType,
      action: plan.action,
      ...('roleArn' in plan ? { roleArn: plan.roleArn } : {}),
    });
    body = customResourceResponse(event, {
      ok: true,
      data: plan.action === 'none' ? { Action: 'none' } : { Action: plan.action, RoleArn: plan.roleArn },
    });
  } catch (err) {
    const e = err as Error;
    deps.logger.error('could not make sure the account has an API Gateway CloudWatch role', {
      requestType: event.RequestType,
      error: e.message,
      errorName: e.name,
    });
    body = customResourceResponse(event, {
      ok: false,
      reason:
        `Setting the account's API Gateway CloudWatch Logs role failed (${e.name}: ${e.message}). ` +
        'Set it once by hand and deploy again: aws apigateway update-account --patch-operations ' +
        'op=replace,path=/cloudwatchRoleArn,value=<arn of a role API Gateway may assume with AmazonAPIGatewayPushToCloudWatchLogs>',
    });
  }
  try {
    await respond(event.ResponseURL, body);
  } catch (err) {
    // Nothing else can tell CloudFormation; the log is where a person will look.
    deps.logger.error('could not answer CloudFormation', { error: errorMessage(err) });
    throw err;
  }
}

/**
 * PUTs the answer to the presigned URL, with an empty content type as the URL was signed
 * without one.
 */
export function putResponse(url: string, body: string): Promise<void> {
  const target = new URL(url);
  const send = target.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      { method: 'PUT', headers: { 'content-type': '', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 },
      (res) => {
        res.resume();
        res.on('end', () =>
          (res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`CloudFormation's response URL answered ${res.statusCode}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error("CloudFormation's response URL did not answer within 10 s")));
    req.on('error', reject);
    req.end(body);
  });
}
