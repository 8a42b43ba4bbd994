import type { EventEntities } from './entities.js';
import type { EventFlag } from './envelope.js';

/** Message attributes on every queue message (DESIGN §3). All values are strings. */
export interface QueueMessageAttributes {
  readonly eventId: string;
  readonly eventType: string;
  /** ISO-8601 UTC. */
  readonly receivedAt: string;
  readonly source: string;
  readonly requestId: string;
  /** Present only when the body is not valid UTF-8 text and travels base64-encoded. */
  readonly bodyEncoding?: 'base64';
}

export interface QueueMessage {
  /** The raw webhook body, verbatim (or base64 when `attributes.bodyEncoding` says so). */
  readonly body: string;
  readonly attributes: QueueMessageAttributes;
}

/** Port: the buffer between the receiver and the fan-out (SQS in AWS, a journal locally). */
export interface EventQueue {
  send(message: QueueMessage): Promise<void>;
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

/** The event item of DESIGN §5, before the adapter compresses the payload. */
export interface StoredEvent extends EventEntities {
  readonly eventId: string;
  readonly eventType: string;
  readonly eventName: string | null;
  readonly receivedAt: string;
  readonly source: string;
  readonly deprecated: boolean;
  readonly flags: readonly EventFlag[];
  /** The raw body, as text. */
  readonly payload: string;
  /** Epoch seconds after which DynamoDB's TTL may delete the item. */
  readonly expiresAt: number;
}

export type PutResult =
  | { readonly created: true }
  | { readonly created: false; readonly handlersDone: ReadonlySet<string> };

/** Port: the event store (DynamoDB). */
export interface EventStore {
  /** Conditional put: creates the item unless one with the same event id exists. */
  putIfAbsent(event: StoredEvent): Promise<PutResult>;
  /** Records, in one write, that these handlers finished for the event. */
  markHandlersDone(eventId: string, handlerNames: readonly string[]): Promise<void>;
}
