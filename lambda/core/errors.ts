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

/** A blob store has no object under the key (the port's adapters map their "not found" to this). */
export class BlobNotFoundError extends SocialPlusWebhooksError {
  constructor(readonly key: string) {
    super(`no object under '${key}'`);
  }
}

/** Work did not finish within its share of the receiver's deadline and was abandoned. */
export class DeadlineExceededError extends SocialPlusWebhooksError {
  /** @param message overrides the default `<what> did not finish within <budget> ms`. */
  constructor(readonly what: string, readonly budgetMs: number, message?: string) {
    super(message ?? `${what} did not finish within ${Math.round(budgetMs)} ms`);
  }
}

/** The fan-out met a record that needs the inbox (a claim check, a spill) but has no blob store. */
export class NoBlobStoreError extends SocialPlusWebhooksError {
  constructor(what: string) {
    super(`${what}, but the fan-out has no blob store: configure the archive bucket (ARCHIVE_BUCKET_NAME) and redrive the DLQ`);
  }
}
