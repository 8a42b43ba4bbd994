/**
 * Base class of every error the runtime code defines, so callers can tell our own failures from
 * the runtime's. Subclasses set their `name` as a literal: the deployed bundles are minified, and
 * `new.target.name` would then be a mangled identifier in log lines.
 */
export class SocialPlusWebhooksError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The text of whatever was thrown: an error's message, anything else as a string. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Whether what was thrown carries this `name` (SDK exceptions are told apart by name). */
export function hasErrorName(err: unknown, name: string): boolean {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === name;
}

/** The path named a webhook source that has no secret configured for it. */
export class UnknownSourceError extends SocialPlusWebhooksError {
  constructor(readonly source: string) {
    super(`unknown webhook source '${source}'`);
    this.name = 'UnknownSourceError';
  }
}

/** The source's secret is missing, empty or still the deployment placeholder. */
export class SecretNotConfiguredError extends SocialPlusWebhooksError {
  constructor(
    readonly source: string,
    reason: string,
  ) {
    super(`webhook secret for source '${source}' is not configured: ${reason}`);
    this.name = 'SecretNotConfiguredError';
  }
}

/** A blob store has no object under the key (the port's adapters map their "not found" to this). */
export class BlobNotFoundError extends SocialPlusWebhooksError {
  constructor(readonly key: string) {
    super(`no object under '${key}'`);
    this.name = 'BlobNotFoundError';
  }
}

/** Work did not finish within its share of the receiver's deadline and was abandoned. */
export class DeadlineExceededError extends SocialPlusWebhooksError {
  /** @param message overrides the default `<what> did not finish within <budget> ms`. */
  constructor(
    readonly what: string,
    readonly budgetMs: number,
    message?: string,
  ) {
    super(message ?? `${what} did not finish within ${Math.round(budgetMs)} ms`);
    this.name = 'DeadlineExceededError';
  }
}

/** The fan-out met a record that needs the inbox (a claim check, a spill) but has no blob store. */
export class NoBlobStoreError extends SocialPlusWebhooksError {
  constructor(what: string) {
    super(`${what}, but the fan-out has no blob store: configure the archive bucket (ARCHIVE_BUCKET_NAME) and redrive the DLQ`);
    this.name = 'NoBlobStoreError';
  }
}

/**
 * A payload too large for an item, with no S3 copy to point at instead. The limit is the caller's
 * (`STORE_MAX_INLINE_PAYLOAD_BYTES`): this module imports nothing, as every bundle loads it.
 */
export class PayloadTooLargeError extends SocialPlusWebhooksError {
  constructor(eventId: string, gzipBytes: number, maxBytes: number) {
    super(
      `event ${eventId}: the compressed payload (${gzipBytes} bytes) is too large for a DynamoDB item (at most ${maxBytes}) and has no S3 copy; give the fan-out a blob store (ARCHIVE_BUCKET_NAME)`,
    );
    this.name = 'PayloadTooLargeError';
  }
}
