/**
 * The events `verify` posts: a shipped sample with the verification marker added, one body per
 * request. The marker (`socialplusWebhooksVerification: { runId, seq }`) makes each body, and so
 * each event id, unique, and makes the fan-out flag the event `verification` and dispatch it to no
 * handler. Pure: the sample's bytes and the run id come in, bodies and ids go out.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEvent, VERIFICATION_MARKER_KEY, type VerificationMarker } from '../../lambda/core/envelope.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { SAMPLES_DIR } from '../fixtures.js';

/** The shipped sample (`fixtures/samples/<name>.json`) each verification event starts from. */
export const VERIFY_SAMPLE = 'message.didCreate';

/** One event of a run: its number (1-based), the exact bytes to sign and post, and their event id. */
export interface VerificationEvent {
  readonly seq: number;
  readonly body: Buffer;
  readonly eventId: string;
}

/** The bytes of {@link VERIFY_SAMPLE}, read next to the CLI's own source. */
export function readVerifySample(dir: string = SAMPLES_DIR): Buffer {
  return readFileSync(join(dir, `${VERIFY_SAMPLE}.json`));
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * A run id that sorts by time and is unique enough to find the run's events: `20260102T101500Z-1a2b3c4d`
 * (the UTC start, then 8 random hex characters).
 */
export function newRunId(now: Date, random: () => string = () => randomBytes(4).toString('hex')): string {
  const stamp = `${now.getUTCFullYear()}${pad2(now.getUTCMonth() + 1)}${pad2(now.getUTCDate())}T${pad2(now.getUTCHours())}${pad2(now.getUTCMinutes())}${pad2(now.getUTCSeconds())}Z`;
  return `${stamp}-${random()}`;
}

/**
 * The sample with the marker as its last top-level key, as compact JSON (a marker already in the
 * sample is replaced). Throws a RangeError when the sample is not a JSON object with an event name:
 * a verification event must be one the pipeline routes like a real delivery.
 */
export function markedBody(sample: Buffer | string, marker: VerificationMarker): Buffer {
  const text = typeof sample === 'string' ? sample : sample.toString('utf8');
  const parsed = parseEvent(text);
  if (parsed.envelope === 'unknown')
    throw new RangeError('the verification sample must be a JSON object with an event name (a Social Plus envelope)');
  const { [VERIFICATION_MARKER_KEY]: _previous, ...payload } = parsed.payload as Record<string, unknown>;
  return Buffer.from(JSON.stringify({ ...payload, [VERIFICATION_MARKER_KEY]: { runId: marker.runId, seq: marker.seq } }), 'utf8');
}

/** The `count` events of run `runId`: seq 1..count, each body marked `{ runId, seq }`. */
export function verificationEvents(sample: Buffer | string, runId: string, count: number): VerificationEvent[] {
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a whole number >= 1, got ${count}`);
  if (runId === '') throw new RangeError('runId is empty');
  return Array.from({ length: count }, (_, i) => {
    const body = markedBody(sample, { runId, seq: i + 1 });
    return { seq: i + 1, body, eventId: eventIdOf(body) };
  });
}
