/**
 * The stack's default name, in a module without CDK imports so the CLI's `--aws` commands can
 * find the deployed stack without loading the CDK.
 */
export const DEFAULT_STACK_NAME = 'SocialPlusWebhooks';
