/**
 * The AWS service limits the pipeline plans around (docs/aws-facts.md §1), as named constants so every
 * threshold says which limit it protects. The core only compares sizes with them; it calls no AWS.
 */

/** SQS's largest message: body plus every attribute's name, type and value (1 MiB). */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;

/**
 * Headroom kept below {@link SQS_MAX_MESSAGE_BYTES}: the receiver measures body and attributes
 * exactly, so this only covers what SQS might count that we do not (it documents none).
 */
export const QUEUE_MESSAGE_MARGIN_BYTES = 8 * 1024;

/** Firehose's largest record, before base64 encoding (1,000 KiB). */
export const FIREHOSE_MAX_RECORD_BYTES = 1_024_000;

/**
 * An archive line longer than this carries the S3 key of the payload instead of the payload.
 * Lines are measured exactly; the margin only guards against a miscount of a few bytes.
 */
export const ARCHIVE_MAX_LINE_BYTES = FIREHOSE_MAX_RECORD_BYTES - 1024;

/** DynamoDB's largest item, attribute names and values included (400 KB). */
export const DYNAMODB_MAX_ITEM_BYTES = 400 * 1024;

/**
 * The largest gzip-compressed payload the store keeps inside an item; a larger one is stored as
 * its S3 key. Leaves 50 KB of the item for the other attributes (ids, names, entities: typically
 * well under 1 KB).
 */
export const STORE_MAX_INLINE_PAYLOAD_BYTES = 350_000;

/**
 * A payload longer than this (raw bytes) may not fit in an item even compressed, so the fan-out
 * makes sure an S3 copy exists and hands its key to the store, which decides after compressing.
 * Below it, gzip (which expands incompressible data by at most ~0.1 % plus a few bytes) always fits.
 */
export const STORE_COPY_THRESHOLD_BYTES = 300_000;
