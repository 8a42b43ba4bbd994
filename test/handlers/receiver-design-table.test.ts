/**
 * docs/architecture.md §2, one case per row (two where a row names two situations): what each request gets
 * back, and what was enqueued, claim-checked and spilled, through `createReceiverHandler` with
 * fakes that can fail or hang.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { INBOX_LARGE_PREFIX, INBOX_SPILL_PREFIX } from '../../lambda/core/archive-layout.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey, fromBlobMetadata, spillKey } from '../../lambda/core/inbox.js';
import type { ReceiveDeps } from '../../lambda/core/receive.js';
import { SECRET_PLACEHOLDER } from '../../lambda/core/secret-value.js';
import { sign } from '../../lambda/core/signature.js';
import type { MetricName } from '../../lambda/core/telemetry.js';
import { StaticSecretSource } from '../../lambda/adapters/static-secret-source.js';
import { createReceiverHandler } from '../../lambda/receiver/handler.js';
import { apiGatewayEvent, DEFAULT_REQUEST_TIME_EPOCH, signedWebhookEvent } from '../support/api-gateway.js';
import { FakeSecretSource, type InMemoryBlobStore, type InMemoryQueue } from '../support/fakes.js';
import { fakeReceiveDeps } from '../support/in-memory-receiver.js';
import { sampleBody } from '../support/samples.js';

const SECRET = 'sp-table-secret-0b7e41';
const RECEIVED_AT = new Date(DEFAULT_REQUEST_TIME_EPOCH);
const EVENT = sampleBody('message.didFlag');
/** 1.5 MB of a valid event: larger than any SQS message. */
const LARGE = JSON.stringify({ event: 'v3.post.didCreate', data: { posts: [{ postId: 'p-large', data: { text: 'x'.repeat(1_500_000) } }] } });

interface Fakes {
  readonly queue: InMemoryQueue;
  readonly blobs: InMemoryBlobStore;
}

interface Row {
  /** The request column of docs/architecture.md §2. */
  readonly request: string;
  readonly event: () => APIGatewayProxyEvent;
  /** The body's bytes (what must be enqueued, claim-checked or spilled exactly). */
  readonly bytes?: Buffer;
  readonly arrange?: (f: Fakes) => void;
  readonly deps?: Partial<ReceiveDeps>;
  readonly status: number;
  readonly body: string;
  readonly enqueued: 'the body' | 'a claim-check pointer' | 'nothing';
  readonly inS3: 'nothing' | 'the body under inbox/spill/' | 'the body under inbox/large/';
  readonly metric: MetricName;
  /** Logged at ERROR, with the event id when the body was verified. */
  readonly error?: 'with the event id' | 'without an event id';
}

const signed = (body: string | Buffer) => () => signedWebhookEvent(body, SECRET);
const fail = (message: string) => () => new Error(message);

/** The outcomes several rows share: the answer, what was enqueued and kept in S3, the metric and the ERROR line. */
type Outcome = Pick<Row, 'status' | 'body' | 'enqueued' | 'inS3' | 'metric' | 'error'>;
/** Verified and enqueued as it came. */
const ACCEPTED: Outcome = { status: 200, body: '{}', enqueued: 'the body', inS3: 'nothing', metric: 'Accepted' };
/** Verified, the queue out of reach: the body kept under inbox/spill/ and acknowledged. */
const SPILLED: Outcome = { status: 200, body: '{}', enqueued: 'nothing', inS3: 'the body under inbox/spill/', metric: 'Spilled' };
/** Verified, neither the queue nor the inbox took it: Social Plus is asked to retry. */
const SPILL_FAILED: Outcome = {
  status: 503,
  body: '{"message":"temporarily unavailable"}',
  enqueued: 'nothing',
  inS3: 'nothing',
  metric: 'SpillFailed',
  error: 'with the event id',
};
/** No usable secret for the source: nothing is verified, nothing kept, and Social Plus retries. */
const SECRET_NOT_CONFIGURED: Outcome = {
  status: 503,
  body: '{"message":"webhook secret not configured"}',
  enqueued: 'nothing',
  inS3: 'nothing',
  metric: 'SecretNotConfigured',
  error: 'without an event id',
};

const ROWS: Row[] = [
  {
    request: 'valid x-amity-signature',
    event: signed(EVENT),
    bytes: Buffer.from(EVENT),
    ...ACCEPTED,
  },
  {
    request: 'only x-eko-signature (legacy duplicate)',
    event: () => apiGatewayEvent({ body: EVENT, headers: { 'X-Eko-Signature': sign(EVENT, SECRET) } }),
    status: 200,
    body: '{}',
    enqueued: 'nothing',
    inS3: 'nothing',
    metric: 'LegacyDropped',
  },
  {
    request: 'no signature header',
    event: () => apiGatewayEvent({ body: EVENT, headers: { 'content-type': 'application/json' } }),
    status: 401,
    body: '{"message":"missing x-amity-signature"}',
    enqueued: 'nothing',
    inS3: 'nothing',
    metric: 'SignatureMissing',
  },
  {
    request: 'signature does not match any current secret',
    event: () => signedWebhookEvent(EVENT, 'not-the-secret'),
    status: 401,
    body: '{"message":"invalid signature"}',
    enqueued: 'nothing',
    inS3: 'nothing',
    metric: 'SignatureInvalid',
  },
  {
    request: 'empty body',
    event: () => apiGatewayEvent({ body: '', headers: { 'x-amity-signature': sign('', SECRET) } }),
    status: 400,
    body: '{"message":"empty body"}',
    enqueued: 'nothing',
    inS3: 'nothing',
    metric: 'EmptyBody',
  },
  {
    request: 'verified but not valid JSON',
    event: signed('this is { not JSON'),
    bytes: Buffer.from('this is { not JSON'),
    ...ACCEPTED,
  },
  {
    request: 'verified, unknown event type',
    event: signed('{"event":"v3.story.didCreate","data":{}}'),
    bytes: Buffer.from('{"event":"v3.story.didCreate","data":{}}'),
    ...ACCEPTED,
  },
  {
    request: 'verified, body larger than an SQS message allows (1.5 MB)',
    event: signed(LARGE),
    bytes: Buffer.from(LARGE),
    status: 200,
    body: '{}',
    enqueued: 'a claim-check pointer',
    inS3: 'the body under inbox/large/',
    metric: 'ClaimChecked',
  },
  {
    request: 'verified, SQS fails',
    event: signed(EVENT),
    bytes: Buffer.from(EVENT),
    arrange: ({ queue }) => {
      queue.failWith = new Error('ServiceUnavailable');
    },
    ...SPILLED,
  },
  {
    request: 'verified, SQS slow past the deadline',
    event: signed(EVENT),
    bytes: Buffer.from(EVENT),
    arrange: ({ queue }) => {
      queue.hang = true;
    },
    deps: { deadlineMs: 20 },
    ...SPILLED,
  },
  {
    request: 'verified, SQS and S3 both fail',
    event: signed(EVENT),
    bytes: Buffer.from(EVENT),
    arrange: ({ queue, blobs }) => {
      queue.failWith = new Error('ServiceUnavailable');
      blobs.fail = fail('SlowDown');
    },
    ...SPILL_FAILED,
  },
  {
    request: 'verified, SQS and S3 both too slow',
    event: signed(EVENT),
    bytes: Buffer.from(EVENT),
    arrange: ({ queue, blobs }) => {
      queue.hang = true;
      blobs.hang = () => true;
    },
    // Arrived 1,330 ms before the handler got to it (a cold start): no time for the queue, 70 ms for the spill.
    deps: { now: () => DEFAULT_REQUEST_TIME_EPOCH + 1330 },
    ...SPILL_FAILED,
  },
  {
    request: 'secret missing',
    event: signed(EVENT),
    deps: { secrets: new FakeSecretSource({ default: [] }) },
    ...SECRET_NOT_CONFIGURED,
  },
  {
    request: 'secret still the placeholder',
    event: signed(EVENT),
    deps: { secrets: new StaticSecretSource({ default: SECRET_PLACEHOLDER }) },
    ...SECRET_NOT_CONFIGURED,
  },
];

describe.each(ROWS)('docs/architecture.md §2: $request', (row) => {
  it(`→ ${row.status} ${row.body}; enqueued: ${row.enqueued}; in S3: ${row.inS3}`, async () => {
    const { queue, blobs, logger, metrics, deps } = fakeReceiveDeps(SECRET, row.deps);
    row.arrange?.({ queue, blobs });
    const handler = createReceiverHandler(deps);

    const res = await handler(row.event());

    expect(res).toEqual({ statusCode: row.status, headers: { 'content-type': 'application/json' }, body: row.body });
    expect(metrics.total(row.metric)).toBe(1);
    const eventId = row.bytes ? eventIdOf(row.bytes) : undefined;

    // What the queue holds.
    switch (row.enqueued) {
      case 'nothing':
        expect(queue.messages).toEqual([]);
        break;
      case 'the body':
        expect(queue.messages).toHaveLength(1);
        expect(Buffer.from(queue.messages[0]?.body ?? '').equals(row.bytes as Buffer)).toBe(true);
        expect(queue.messages[0]?.attributes).toMatchObject({ eventId, receivedAt: RECEIVED_AT.toISOString(), source: 'default' });
        break;
      case 'a claim-check pointer': {
        const key = claimCheckKey(RECEIVED_AT, eventId as string);
        expect(queue.messages).toHaveLength(1);
        expect(queue.messages[0]?.attributes).toMatchObject({ eventId, claimCheckKey: key, eventType: 'post.didCreate' });
        expect(JSON.parse(queue.messages[0]?.body ?? '')).toEqual({ claimCheckKey: key, bodyBytes: row.bytes?.length });
        expect(Buffer.byteLength(queue.messages[0]?.body ?? '')).toBeLessThan(200);
        break;
      }
    }

    // What S3 holds: the exact bytes, the queue attributes as metadata.
    const inbox = blobs.keys('inbox/');
    if (row.inS3 === 'nothing') {
      expect(inbox).toEqual([]);
    } else {
      const key =
        row.inS3 === 'the body under inbox/spill/' ? spillKey(RECEIVED_AT, eventId as string) : claimCheckKey(RECEIVED_AT, eventId as string);
      expect(inbox).toEqual([key]);
      expect(key.startsWith(row.inS3 === 'the body under inbox/spill/' ? INBOX_SPILL_PREFIX : INBOX_LARGE_PREFIX)).toBe(true);
      const blob = blobs.objects.get(key);
      expect(blob?.body.equals(row.bytes as Buffer)).toBe(true);
      expect(fromBlobMetadata(blob?.metadata ?? {})).toMatchObject({ eventId, receivedAt: RECEIVED_AT.toISOString(), source: 'default' });
    }

    // Logs: an ERROR where the row says so; never the body or the secret.
    const errors = logger.at('error');
    if (row.error === undefined) expect(errors).toEqual([]);
    else {
      expect(errors).toHaveLength(1);
      if (row.error === 'with the event id') expect(errors[0]?.fields.eventId).toBe(eventId);
    }
    const text = logger.lines().join('\n');
    expect(text).not.toContain(SECRET);
    if (row.bytes) expect(text).not.toContain(row.bytes.toString('utf8').slice(0, 200));
  });
});
