/** Base class so callers can tell our own failures from the runtime's. */
export class SocialPlusWebhooksError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The path named a webhook source that has no secret configured for it. */
export class UnknownSourceError extends SocialPlusWebhooksError {
  constructor(readonly source: string) {
    super(`unknown webhook source '${source}'`);
  }
}

/** The source's secret is missing, empty or still the deployment placeholder. */
export class SecretNotConfiguredError extends SocialPlusWebhooksError {
  constructor(readonly source: string, reason: string) {
    super(`webhook secret for source '${source}' is not configured: ${reason}`);
  }
}

/** A queue message could not be turned back into an event. */
export class RecordDecodeError extends SocialPlusWebhooksError {}

/** The archive did not accept some of the lines after all retries. */
export class ArchiveError extends SocialPlusWebhooksError {}
