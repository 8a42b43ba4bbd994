/**
 * The stack's default name, in a module without CDK imports so the CLI's `--aws` commands can
 * find the deployed stack without loading the CDK. The `stackName` configuration key overrides it
 * (lib/config.ts), so staging and production can live in one account and region.
 */
export const DEFAULT_STACK_NAME = 'SocialPlusWebhooks';

/**
 * A stack name this project accepts: CloudFormation's rule (a letter, then letters, digits and
 * hyphens), at most 64 characters so the names derived from it (`<stack>-api`, alarm names, the
 * Athena workgroup) stay within their own limits.
 */
export const STACK_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9-]{0,63}$/;
