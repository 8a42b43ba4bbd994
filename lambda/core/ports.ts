import type { EventEntities } from './entities.js';
import type { EventFlag } from './envelope.js';
import type { EventHeader } from './event-header.js';

/** Message attributes on every queue message (docs/architecture.md §3). All values are strings. */
export interface QueueMessageAttributes {
  readonly eventId: string;
  readonly eventType: string;
  /** ISO-8601 UTC. */
  readonly receivedAt: string;
  readonly source: string;
  readonly requestId: string;
  /**
   * Present only when the body travels base64-encoded: the verified bytes are not UTF-8, or hold
   * characters SQS does not accept.
   */
  readonly bodyEncoding?: 'base64';
  /**
   * Present only on a claim check: the key (under `inbox/large/`) of the object holding the exact
   * body, which was too large for a queue message; the message body is then a small JSON pointer
   * (`lambda/core/inbox.ts`).
   */
  readonly claimCheckKey?: string;
  /**
   * Set by `socialplus-webhooks replay --force <handler,…>`: the handlers named (comma-separated)
   * run again for the event even if they are recorded as done for it; every other handler keeps
   * the usual rule (only if not yet done). `1`, which an older CLI sent, asks for every subscribed
   * handler again.
   */
  readonly replayForce?: string;
}

/**
 * Request ids `socialplus-webhooks replay` gives its messages start with this: the fan-out then
 * knows the event came from the archive, and does not archive it again.
 */
export const REPLAY_REQUEST_ID_PREFIX = 'replay-';

export interface QueueMessage {
  /** The raw webhook body, verbatim (base64 when `attributes.bodyEncoding` says so; a pointer on a claim check). */
  readonly body: string;
  readonly attributes: QueueMessageAttributes;
}

/** Per-call options of the I/O ports. */
export interface CallOptions {
  /**
   * Aborted when the caller's deadline passes: adapters hand it to the SDK (`abortSignal`) so a
   * slow call stops. Implementations that cannot abort may ignore it; the caller stops waiting anyway.
   */
  readonly signal?: AbortSignal;
}

/** Port: the buffer between the receiver and the fan-out (SQS in AWS, a journal locally). */
export interface EventQueue {
  send(message: QueueMessage, options?: CallOptions): Promise<void>;
}

/** An object read back from a {@link BlobStore}. */
export interface StoredBlob {
  /** The exact bytes stored. */
  readonly body: Buffer;
  /** User metadata, names in lower case. */
  readonly metadata: Readonly<Record<string, string>>;
}

export interface BlobPutOptions extends CallOptions {
  /** User metadata (US-ASCII names and values; see `toBlobMetadata`). */
  readonly metadata?: Readonly<Record<string, string>>;
}

/**
 * Port: the archive bucket's inbox (S3): claim-checked and spilled bodies, and S3 copies of
 * payloads too large for an archive record or a store item.
 */
export interface BlobStore {
  /** The bucket it reads and writes, when it has one; S3 notifications naming another are refused. */
  readonly bucket?: string;
  put(key: string, body: Uint8Array, options?: BlobPutOptions): Promise<void>;
  /** Throws `BlobNotFoundError` when there is no object under `key`; other errors are transient. */
  get(key: string, options?: CallOptions): Promise<StoredBlob>;
  /** Removes the object; a missing object is not an error. */
  delete(key: string, options?: CallOptions): Promise<void>;
}

/** How fresh a secret lookup must be. */
export interface SecretLookupOptions {
  /**
   * Re-read the secret when the cached copy is older than this. The receiver asks for a fresh
   * copy once when a signature matches no cached secret, so a rotation is picked up quickly.
   * Sources without a cache ignore it.
   */
  readonly maxAgeMs?: number;
}

/** Port: the signing secrets of each webhook source. */
export interface SecretSource {
  /**
   * The acceptable secrets of `source`, current first. Throws `UnknownSourceError` for a source
   * that is not configured and `SecretNotConfiguredError` for a missing or placeholder secret.
   */
  secretsFor(source: string, opts?: SecretLookupOptions): Promise<readonly string[]>;
}

/** Port: the archive's delivery stream (Firehose in AWS, an in-process stream locally). */
export interface ArchiveStream {
  /**
   * Appends NDJSON lines. Resolves with the indexes of lines that were not accepted after the
   * adapter's own retries (empty when all were); rejects only when nothing could be sent.
   */
  putLines(lines: readonly string[]): Promise<{ readonly failedIndexes: readonly number[] }>;
}

/** The event item of docs/architecture.md §5, before the adapter compresses the payload. */
export interface StoredEvent extends EventHeader, EventEntities {
  /** Flagged `payload-in-s3` when the item is to keep {@link payloadRef} in place of the payload (the core decides). */
  readonly flags: readonly EventFlag[];
  /** The raw body, as text (base64 of the exact bytes when `flags` has `body-base64`). */
  readonly payload: string;
  /**
   * Key of a kept S3 object holding the exact body (a claim check, or a copy the fan-out made).
   * The item keeps it in place of the payload only when `flags` has `payload-in-s3`.
   */
  readonly payloadRef?: string;
  /** Epoch seconds after which DynamoDB's TTL may delete the item. */
  readonly expiresAt: number;
  /**
   * Which delivery must still archive the event (see {@link StoredEventState.archivePending});
   * absent when the event is known to be archived already (a replay: it came from the archive).
   */
  readonly archivePending?: string;
}

/** What a handler's last run for an event did, as the event item keeps it (attribute `handlerRuns`). */
export interface HandlerRunRecord {
  readonly outcome: 'succeeded' | 'failed';
  /** Runs of this handler for this event so far, this one included (forced replays count too). */
  readonly attempts: number;
  /** When the last run ended, ISO-8601 UTC. */
  readonly lastAt: string;
  readonly durationMs: number;
  /** The error's message when the run failed (at most {@link HANDLER_ERROR_MAX_CHARS} characters; never the stack). */
  readonly error?: string;
}

/** Longest error message kept in a {@link HandlerRunRecord}. */
export const HANDLER_ERROR_MAX_CHARS = 500;

/** What the store holds about an event it already had. */
export interface StoredEventState {
  /** Handlers recorded as succeeded: a retry skips them. */
  readonly handlersDone: ReadonlySet<string>;
  /** Each handler's last run (empty for items written before runs were recorded). */
  readonly handlerRuns: Readonly<Record<string, HandlerRunRecord>>;
  /**
   * Set while the event may not be archived yet: a short digest naming the delivery that stored it
   * (its `requestId`, told apart from the copy the receiver spilled to S3), which alone archives it,
   * on its retries, redeliveries and redrives; other deliveries of the same body leave the archive
   * alone. Undefined once the archive has the event (and on items written before this field
   * existed, whose events were archived before they were stored).
   */
  readonly archivePending?: string;
}

export type PutResult = { readonly created: true } | ({ readonly created: false } & StoredEventState);

/** One round of handler runs for an event, recorded in one write. */
export interface HandlerRunsUpdate {
  /** Every handler's last run after this round, by name (earlier rounds' runs included). */
  readonly runs: Readonly<Record<string, HandlerRunRecord>>;
  /** The handlers that succeeded in this round: marked done. */
  readonly done: readonly string[];
  /** The round archived the event: `archivePending` is cleared in the same write. */
  readonly archived: boolean;
}

/** Port: the event store (DynamoDB). */
export interface EventStore {
  /** Conditional put: creates the item unless one with the same event id exists, whose state it then returns. */
  putIfAbsent(event: StoredEvent): Promise<PutResult>;
  /**
   * Records, in one write, the event's handler runs (outcome, attempts, time, duration, error),
   * marks those that succeeded in the round done, and clears `archivePending` when `archived`.
   * Makes no request when there is nothing to record.
   */
  recordHandlerRuns(eventId: string, update: HandlerRunsUpdate): Promise<void>;
}
