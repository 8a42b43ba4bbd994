/**
 * The fixed limits the configuration is checked against: AWS's own, and the bounds this stack
 * sets on a few keys. Not settings: nothing overrides them.
 */

/** SQS's longest retention, which both queues use: a message cannot wait longer than this. */
export const QUEUE_RETENTION_SECONDS = 14 * 24 * 60 * 60;

/** AWS's rule for a Lambda-triggered queue: visibility timeout at least six times the function timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

/** The retention periods CloudWatch Logs accepts, in days (never-expire is refused on purpose). */
export const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;

/**
 * The receiver's deadline bounds: below 100 ms an SQS send with a retry no longer fits, so events
 * would spill that the queue would have taken; above 1300 ms too little of Social Plus's 1.5 s is
 * left for the spill to S3 and the answer.
 */
export const RECEIVER_DEADLINE_MS_RANGE = { min: 100, max: 1300 } as const;

/** Lambda's limit on the size of a function's environment variables, keys and values together. */
export const LAMBDA_ENVIRONMENT_LIMIT_BYTES = 4096;
