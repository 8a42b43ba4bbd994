/**
 * Account-setup Lambda entry point (a CloudFormation custom resource, invoked at deploy time only):
 * makes sure the account has an API Gateway CloudWatch Logs role in this region.
 */
import type { Context } from 'aws-lambda';
import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { ApiGatewayAccountSettings } from '../adapters/apigateway-account.js';
import { ENV } from '../common/env.js';
import { createJsonLogger, parseLogLevel } from '../common/logger.js';
import type { CustomResourceRequest } from '../core/account-setup.js';
import { handleAccountSetup } from './handler.js';

const logger = createJsonLogger({ service: 'account-setup', level: parseLogLevel(process.env[ENV.LOG_LEVEL]) });
const account = new ApiGatewayAccountSettings(new APIGatewayClient({}));

export async function handler(event: CustomResourceRequest, context: Context): Promise<void> {
  await handleAccountSetup(event, { account, logger, remainingMs: () => context.getRemainingTimeInMillis() });
}
