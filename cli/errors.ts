import { SocialPlusWebhooksError } from '../lambda/core/errors.js';

/** A failure the user can fix; printed as one line naming the problem, with no stack trace. */
export class CliError extends SocialPlusWebhooksError {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}
