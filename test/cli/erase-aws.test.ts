/**
 * `erase --aws`'s target (cli/erase/aws.ts): real SDK clients (CloudFormation, Athena, DynamoDB, S3,
 * SQS) against the AWS double, which answers in each service's wire format from a small model of
 * the deployed stack kept here: a versioned archive bucket (S3 REST XML, ETags, versions, `If-Match`),
 * the event and handler state tables (DynamoDB JSON 1.0, items written by the production writers),
 * the dead-letter queue (SQS JSON 1.0, with the MD5s the SDK checks) and Athena, which answers the
 * erasure's query from the objects the bucket holds when the query runs.
 */
import { createHash } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toItem } from '../../lambda/adapters/dynamodb-store.js';
import { DynamoDbFlagCounterStore } from '../../lambda/adapters/flag-counter-store.js';
import { toMessageAttributes } from '../../lambda/adapters/sqs-queue.js';
import { archiveLine, partitionPrefix } from '../../lambda/core/archive-layout.js';
import { lineTooLong, pointerLine, toArchiveRecord, toStoredEvent } from '../../lambda/core/fanout/event-records.js';
import { decodeRecord, type DecodedEvent } from '../../lambda/core/fanout/record.js';
import { claimCheckKey, claimCheckMessage, spillKey, toBlobMetadata } from '../../lambda/core/inbox.js';
import { BODY_BASE64_FLAG, PAYLOAD_IN_S3_FLAG } from '../../lambda/core/privacy/user-match.js';
import { EVENTS_TABLE_NAME } from '../../lib/constructs/archive-catalog.js';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { ARCHIVE_TABLE, candidateQuery } from '../../cli/erase/aws-athena.js';
import { openAwsErasureTarget, type ErasureAwsClients } from '../../cli/erase/aws.js';
import { VISIBILITY_TIMEOUT_S } from '../../cli/erase/aws-dlq.js';
import type { ErasureStore, ErasureTarget, UnitResult } from '../../cli/erase/target.js';
import {
  escapeXml,
  jsonServiceAnswer,
  jsonServiceError,
  startAwsDouble,
  type AwsAnswer,
  type AwsCall,
  type AwsDouble,
} from '../support/aws-double.js';
import { describeStacks, doubleClientConfig, md5OfAttributes, md5OfBody, recordedQueueUrl } from '../support/aws-recorded-answers.js';

const USER = 'mika.tan';
const OTHER = 'jun.park';
const BUCKET = 'prod-archive-bucket';
const EVENT_TABLE = 'prod-events';
const STATE_TABLE = 'prod-handler-state';
const DLQ_URL = recordedQueueUrl('prod-dlq');
const STACK = {
  [STACK_OUTPUTS.eventTable]: EVENT_TABLE,
  [STACK_OUTPUTS.handlerStateTable]: STATE_TABLE,
  [STACK_OUTPUTS.archiveBucket]: BUCKET,
  [STACK_OUTPUTS.deadLetterQueueUrl]: DLQ_URL,
  [STACK_OUTPUTS.athenaWorkGroup]: 'prod-wg',
  [STACK_OUTPUTS.glueDatabase]: 'prod_db',
};
const NOW = new Date('2025-07-03T12:00:00.000Z');

// ---------------------------------------------------------------------------------------------
// The events, as the fan-out decodes and writes them.

/** A deterministic incompressible string of `n` characters (SHA-256 chain, hex). */
function noise(n: number): string {
  let out = '';
  let h = 'seed';
  while (out.length < n) out += h = createHash('sha256').update(h).digest('hex');
  return out.slice(0, n);
}

const decode = (body: string, receivedAt: string): DecodedEvent =>
  decodeRecord({ messageId: `m-${receivedAt}`, body, attributes: { receivedAt, source: 'default', requestId: `req-${receivedAt}` } }, NOW);

const message = (userId: string, text: string) =>
  JSON.stringify({
    event: 'v3.message.didCreate',
    data: { messages: [{ messageId: `msg-${text.length}-${userId}`, channelId: 'general', userId, data: { text } }] },
  });

/** The user acts. */
const ACTOR = decode(message(USER, 'hello'), '2025-07-02T08:00:01.000Z');
/** Someone acts on the user (blocks them): the user is the target. */
const TARGET = decode(JSON.stringify({ event: 'user.didBlock', data: { from: OTHER, to: USER, status: 'blocked' } }), '2025-07-02T08:00:02.000Z');
/** The user is named only in the payload (added to a channel by someone else). */
const PAYLOAD = decode(
  JSON.stringify({ event: 'v3.channel.didAddUsers', data: { channel: { channelId: 'c1' }, userIds: [USER], adderId: OTHER } }),
  '2025-07-02T09:00:01.000Z',
);
/** Another user's events: one whose text mentions the user's id in no user field. */
const OTHERS = decode(message(OTHER, 'yo'), '2025-07-02T08:00:03.000Z');
const TEXT_ONLY = decode(message(OTHER, `ask ${USER} about it`), '2025-07-02T10:00:01.000Z');
/** The user named in the payload of an event too large for a line or an item: both keep the key of its S3 copy. */
const LARGE_BODY = JSON.stringify({
  event: 'v3.channel.didAddUsers',
  data: { channel: { channelId: 'c2', metadata: { blob: noise(1_100_000) } }, userIds: [USER], adderId: OTHER },
});
const LARGE_DECODED = decode(LARGE_BODY, '2025-07-02T09:00:02.000Z');
const LARGE_KEY = claimCheckKey(new Date(LARGE_DECODED.receivedAt), LARGE_DECODED.eventId);
const LARGE: DecodedEvent = { ...LARGE_DECODED, payloadRef: LARGE_KEY };
/** The user acts again, delivered by Firehose while the erasure runs. */
const LATE = decode(message(USER, 'late'), '2025-07-02T08:59:59.000Z');

/** The archive line the fan-out writes for an event (a pointer line when the line would be too long). */
function lineOf(e: DecodedEvent): string {
  const record = toArchiveRecord(e);
  const line = archiveLine(record);
  return lineTooLong(line) && e.payloadRef ? pointerLine(record, e.payloadRef) : line;
}

/** Firehose's object names: `<prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.gz`. */
const objectKey = (hourOf: string, uuid: string) =>
  `${partitionPrefix(new Date(hourOf))}prod-stream-1-${hourOf.slice(0, 19).replace(/[T:]/g, '-')}-${uuid}.gz`;
const OBJ_MIXED = objectKey('2025-07-02T08:05:00.000Z', '2f0b5a8e-6a43-4d7e-9c1b-3f2a1d0e9b71');
const OBJ_ALL_USER = objectKey('2025-07-02T09:05:00.000Z', '6c1d0e2f-8b3a-4f5e-a7d9-0e1f2a3b4c5d');
const OBJ_TEXT_ONLY = objectKey('2025-07-02T10:05:00.000Z', '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d');
/** Delivered during the rewrite, into OBJ_MIXED's partition, under a key that starts with OBJ_MIXED's (a Prefix listing shows both). */
const OBJ_LATE = `${OBJ_MIXED}.1`;
const OBJ_LATE_2 = `${OBJ_ALL_USER}.1`;

const gz = (...events: DecodedEvent[]) => gzipSync(events.map(lineOf).join(''));

// ---------------------------------------------------------------------------------------------
// The double's world: a versioned bucket, two tables, a queue, Athena.

interface Version {
  readonly versionId: string;
  readonly etag?: string;
  readonly body?: Buffer;
  readonly metadata?: Readonly<Record<string, string>>;
  /** A delete marker when true. */
  readonly marker?: boolean;
}

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const REQUEST_ID = '4442587FB7D0A2F9';

/** S3's key encoding in a path (RFC 3986 unreserved characters and `/` left as they are). */
const encodeKey = (key: string) =>
  key
    .split('/')
    .map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
const objectOp = (method: string, key: string) => `s3:${method} /${BUCKET}/${encodeKey(key)}`;

/**
 * An answer with a binary body: the double writes the body it is given as is (Buffer or string);
 * its `AwsAnswer.body` type names only strings.
 */
const withBytes = (answer: Omit<AwsAnswer, 'body'>, body: Buffer): AwsAnswer => ({ ...answer, body });

function s3Error(status: number, code: string, message: string, extra = ''): AwsAnswer {
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': REQUEST_ID },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>${extra}<RequestId>${REQUEST_ID}</RequestId></Error>`,
  };
}

/** A versioned S3 bucket answering GetObject, PutObject (with If-Match), DeleteObject and ListObjectVersions. */
class Bucket {
  /** Key → versions, oldest first. */
  readonly keys = new Map<string, Version[]>();
  private next = 0;

  constructor(private readonly double: AwsDouble) {
    double.answer({ [`s3:GET /${BUCKET}/`]: (call) => this.list(call) });
  }

  private newVersion(): string {
    return `v${String(++this.next).padStart(3, '0')}.${createHash('md5').update(String(this.next)).digest('hex').slice(0, 12)}`;
  }

  /** Puts an object (as its writer would) and answers the calls on its key. */
  put(key: string, body: Buffer, metadata: Record<string, string> = {}): string {
    this.serve(key);
    const versionId = this.newVersion();
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    this.keys.set(key, [...(this.keys.get(key) ?? []), { versionId, etag, body, metadata }]);
    return versionId;
  }

  current(key: string): Version | undefined {
    const latest = this.keys.get(key)?.at(-1);
    return latest?.marker ? undefined : latest;
  }

  /** Answers GET, PUT and DELETE on `key`, whether or not it exists yet. */
  serve(key: string): void {
    this.double.answer({
      [objectOp('GET', key)]: (call) => this.get(key, call),
      [objectOp('PUT', key)]: (call) => this.write(key, call),
      [objectOp('DELETE', key)]: (call) => this.remove(key, call),
    });
  }

  private get(key: string, call: AwsCall): AwsAnswer {
    const versions = this.keys.get(key) ?? [];
    const asked = call.input.versionId as string | undefined;
    const v = asked === undefined ? versions.at(-1) : versions.find((x) => x.versionId === asked);
    if (!v && asked !== undefined)
      return s3Error(404, 'NoSuchVersion', 'The specified version does not exist.', `<Key>${escapeXml(key)}</Key><VersionId>${asked}</VersionId>`);
    if (!v || v.marker || !v.body) return s3Error(404, 'NoSuchKey', 'The specified key does not exist.', `<Key>${escapeXml(key)}</Key>`);
    const meta = Object.fromEntries(Object.entries(v.metadata ?? {}).map(([k, value]) => [`x-amz-meta-${k}`, value]));
    return withBytes(
      {
        status: 200,
        headers: {
          'content-type': 'application/octet-stream',
          etag: v.etag as string,
          'x-amz-version-id': v.versionId,
          'last-modified': 'Wed, 02 Jul 2025 08:05:00 GMT',
          'accept-ranges': 'bytes',
          'x-amz-request-id': REQUEST_ID,
          ...meta,
        },
      },
      v.body,
    );
  }

  private write(key: string, call: AwsCall): AwsAnswer {
    const ifMatch = call.headers['if-match'];
    if (ifMatch !== undefined && this.current(key)?.etag !== ifMatch)
      return s3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold', '<Condition>If-Match</Condition>');
    const metadata = Object.fromEntries(
      Object.entries(call.headers)
        .filter(([k]) => k.startsWith('x-amz-meta-'))
        .map(([k, v]) => [k.slice('x-amz-meta-'.length), v]),
    );
    const versionId = this.put(key, call.body, metadata);
    const etag = this.current(key)?.etag as string;
    return { status: 200, headers: { etag, 'x-amz-version-id': versionId, 'x-amz-request-id': REQUEST_ID, 'content-length': '0' }, body: '' };
  }

  private remove(key: string, call: AwsCall): AwsAnswer {
    const versions = this.keys.get(key) ?? [];
    const asked = call.input.versionId as string | undefined;
    if (asked !== undefined) {
      const gone = versions.find((v) => v.versionId === asked);
      this.keys.set(
        key,
        versions.filter((v) => v.versionId !== asked),
      );
      return {
        status: 204,
        headers: { 'x-amz-version-id': asked, ...(gone?.marker ? { 'x-amz-delete-marker': 'true' } : {}), 'x-amz-request-id': REQUEST_ID },
        body: '',
      };
    }
    const versionId = this.newVersion();
    this.keys.set(key, [...versions, { versionId, marker: true }]);
    return { status: 204, headers: { 'x-amz-version-id': versionId, 'x-amz-delete-marker': 'true', 'x-amz-request-id': REQUEST_ID }, body: '' };
  }

  /** ListObjectVersions (`GET /bucket?versions&prefix=`): keys in order, each key's versions newest first. */
  private list(call: AwsCall): AwsAnswer {
    if (call.input.versions === undefined) return s3Error(400, 'InvalidRequest', 'only ListObjectVersions is answered here');
    const prefix = String(call.input.prefix ?? '');
    const entries = [...this.keys.keys()]
      .filter((k) => k.startsWith(prefix))
      .sort()
      .flatMap((key) => {
        const versions = this.keys.get(key) ?? [];
        return versions
          .map((v, i) => ({ key, v, latest: i === versions.length - 1 }))
          .reverse()
          .map(({ v, latest }) =>
            v.marker
              ? `<DeleteMarker><Key>${escapeXml(key)}</Key><VersionId>${v.versionId}</VersionId><IsLatest>${latest}</IsLatest><LastModified>2025-07-02T08:05:00.000Z</LastModified></DeleteMarker>`
              : `<Version><Key>${escapeXml(key)}</Key><VersionId>${v.versionId}</VersionId><IsLatest>${latest}</IsLatest><LastModified>2025-07-02T08:05:00.000Z</LastModified><ETag>${escapeXml(v.etag as string)}</ETag><Size>${v.body?.length ?? 0}</Size><StorageClass>STANDARD</StorageClass></Version>`,
          );
      });
    return {
      status: 200,
      headers: { 'content-type': 'application/xml', 'x-amz-request-id': REQUEST_ID },
      body:
        `<?xml version="1.0" encoding="UTF-8"?>\n<ListVersionsResult xmlns="${S3_NS}"><Name>${BUCKET}</Name><Prefix>${escapeXml(prefix)}</Prefix>` +
        `<KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated>${entries.join('')}</ListVersionsResult>`,
    };
  }
}

type Item = Record<string, Record<string, unknown>>;

/**
 * Items as the production writers send them: the event store's PutItem (`toItem`, as
 * DynamoDbEventStore.putIfAbsent sends it) and auto-moderation's flags, captured from
 * DynamoDbFlagCounterStore writing to a double.
 */
async function flagItems(userId: string, eventIds: readonly string[]): Promise<Item[]> {
  const writer = await startAwsDouble({ 'dynamodb:PutItem': jsonServiceAnswer({}, '1.0') });
  const client = new DynamoDBClient(doubleClientConfig(writer.endpoint));
  try {
    const store = new DynamoDbFlagCounterStore(client, STATE_TABLE);
    for (const [i, eventId] of eventIds.entries())
      await store.recordFlag({
        userId,
        eventId,
        at: new Date(Date.UTC(2025, 6, 2, 8, i)),
        eventType: 'user.didFlag',
        keepUntil: new Date('2025-08-01T00:00:00Z'),
      });
    return writer.callsTo('dynamodb:PutItem').map((c) => c.input.Item as Item);
  } finally {
    client.destroy();
    await writer.close();
  }
}

/** The event item the fan-out stores (its marshalling as JSON, the wire's base64 for binary). */
function eventItem(e: DecodedEvent): Item {
  const item = toItem(toStoredEvent(e, 30, NOW));
  const wire = Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.B ? { B: Buffer.from(v.B).toString('base64') } : v]));
  return JSON.parse(JSON.stringify(wire)) as Item;
}

/** The two tables, answering Query (tables and indexes, with projections), GetItem and DeleteItem. */
class Tables {
  readonly rows = new Map<string, Item[]>([
    [EVENT_TABLE, []],
    [STATE_TABLE, []],
  ]);

  constructor(double: AwsDouble) {
    double.answer({
      'dynamodb:Query': (call) => this.query(call),
      'dynamodb:GetItem': (call) => {
        const item = this.find(call);
        return jsonServiceAnswer(item ? { Item: item } : {}, '1.0');
      },
      'dynamodb:DeleteItem': (call) => {
        const item = this.find(call);
        const table = this.rows.get(String(call.input.TableName)) ?? [];
        this.rows.set(
          String(call.input.TableName),
          table.filter((i) => i !== item),
        );
        return jsonServiceAnswer(item && call.input.ReturnValues === 'ALL_OLD' ? { Attributes: item } : {}, '1.0');
      },
    });
  }

  private find(call: AwsCall): Item | undefined {
    const key = call.input.Key as Item;
    return this.rows.get(String(call.input.TableName))?.find((i) => i.PK?.S === key.PK?.S && i.SK?.S === key.SK?.S);
  }

  private query(call: AwsCall): AwsAnswer {
    const names = call.input.ExpressionAttributeNames as Record<string, string>;
    const value = (call.input.ExpressionAttributeValues as Item)[':pk']?.S;
    const attribute = names['#pk'] as string;
    const matches = (this.rows.get(String(call.input.TableName)) ?? []).filter((i) => i[attribute]?.S === value);
    const projected = String(call.input.ProjectionExpression ?? '')
      .split(',')
      .map((p) => names[p.trim()] ?? p.trim());
    const items = matches.map((i) => Object.fromEntries(projected.filter((k) => i[k] !== undefined).map((k) => [k, i[k]])));
    return jsonServiceAnswer({ Items: items, Count: items.length, ScannedCount: items.length }, '1.0');
  }
}

interface QueuedMessage {
  readonly id: string;
  readonly body: string;
  readonly attributes: Record<string, { DataType: string; StringValue: string }>;
  hiddenUntil: number;
  handle?: string;
  received: number;
}

/** The dead-letter queue: ReceiveMessage (hiding what it gives for the visibility timeout), DeleteMessage, ChangeMessageVisibility. */
class Queue {
  readonly messages: QueuedMessage[] = [];
  clock = 0;

  constructor(double: AwsDouble) {
    double.answer({
      'sqs:ReceiveMessage': (call) => {
        const visible = this.messages.filter((m) => m.hiddenUntil <= this.clock).slice(0, Number(call.input.MaxNumberOfMessages ?? 1));
        for (const m of visible) {
          m.received++;
          m.handle = `AQEB${m.id}-${m.received}`;
          m.hiddenUntil = this.clock + Number(call.input.VisibilityTimeout) * 1000;
        }
        return jsonServiceAnswer(
          {
            Messages: visible.map((m) => ({
              MessageId: m.id,
              ReceiptHandle: m.handle,
              MD5OfBody: md5OfBody(m.body),
              Body: m.body,
              Attributes: { SentTimestamp: '1751443200000' },
              MD5OfMessageAttributes: md5OfAttributes(m.attributes),
              MessageAttributes: m.attributes,
            })),
          },
          '1.0',
        );
      },
      'sqs:DeleteMessage': (call) => {
        const at = this.messages.findIndex((m) => m.handle === call.input.ReceiptHandle);
        if (at < 0)
          return jsonServiceError('com.amazonaws.sqs#ReceiptHandleIsInvalid', 'The input receipt handle is invalid.', {
            jsonVersion: '1.0',
            queryError: 'ReceiptHandleIsInvalid;Sender',
          });
        this.messages.splice(at, 1);
        return jsonServiceAnswer({}, '1.0');
      },
      'sqs:ChangeMessageVisibility': (call) => {
        const m = this.messages.find((x) => x.handle === call.input.ReceiptHandle);
        if (m) m.hiddenUntil = this.clock + Number(call.input.VisibilityTimeout) * 1000;
        return jsonServiceAnswer({}, '1.0');
      },
    });
  }

  /** A message as the receiver sends it (`SqsEventQueue`: body, and the attributes as `toMessageAttributes` marshals them). */
  add(id: string, body: string, attributes: Parameters<typeof toMessageAttributes>[0]): void {
    const marshalled = toMessageAttributes(attributes) as Record<string, { DataType: string; StringValue: string }>;
    this.messages.push({ id, body, attributes: marshalled, hiddenUntil: 0, received: 0 });
  }
}

/**
 * Athena: the query's answer is computed when it is asked for, from the archive objects the bucket
 * holds at the time the query started, by the predicate the SQL states (the test also checks the SQL).
 */
function answerAthena(double: AwsDouble, bucket: Bucket): void {
  const results = new Map<string, string[][]>();
  let n = 0;
  double.answer({
    'athena:StartQueryExecution': (call) => {
      const id = `5f0c${String(++n).padStart(4, '0')}-1d2e-4f3a-8b4c-5d6e7f8a9b0c`;
      const params = (call.input.ExecutionParameters as string[]).map((p) => p.slice(1, -1).replace(/''/g, "'"));
      const [actor, target, text, escaped, inS3, base64] = params;
      const select = String(call.input.QueryString).includes('"$path"') ? 'path' : 'event_id';
      const rows = new Set<string>();
      for (const [key] of bucket.keys) {
        const v = bucket.current(key);
        if (!key.startsWith('events/') || !v?.body) continue;
        for (const text1 of gunzipSync(v.body).toString('utf8').split('\n').filter(Boolean)) {
          const row = JSON.parse(text1) as { event_id: string; actor_id: string | null; target_id: string | null; payload: string; flags: string[] };
          const hit =
            row.actor_id === actor ||
            row.target_id === target ||
            row.payload.includes(text as string) ||
            row.payload.includes(escaped as string) ||
            row.flags.includes(inS3 as string) ||
            row.flags.includes(base64 as string);
          if (hit) rows.add(select === 'path' ? `s3://${BUCKET}/${key}` : row.event_id);
        }
      }
      results.set(id, [[select], ...[...rows].map((r) => [r])]);
      return jsonServiceAnswer({ QueryExecutionId: id });
    },
    'athena:GetQueryExecution': (call) => {
      const id = String(call.input.QueryExecutionId);
      const polls = double.callsTo('athena:GetQueryExecution').filter((c) => c.input.QueryExecutionId === id).length;
      return jsonServiceAnswer({
        QueryExecution: { QueryExecutionId: id, Status: { State: polls < 3 ? 'RUNNING' : 'SUCCEEDED', SubmissionDateTime: 1751544000.5 } },
      });
    },
    'athena:GetQueryResults': (call) => {
      const rows = results.get(String(call.input.QueryExecutionId)) ?? [];
      return jsonServiceAnswer({
        ResultSet: {
          Rows: rows.map((r) => ({ Data: r.map((VarCharValue) => ({ VarCharValue })) })),
          ResultSetMetadata: { ColumnInfo: [{ Name: rows[0]?.[0], Type: 'varchar', CatalogName: 'hive', Label: rows[0]?.[0] }] },
        },
        UpdateCount: 0,
      });
    },
  });
}

// ---------------------------------------------------------------------------------------------

let flags: { user: Item[]; other: Item[] };
beforeAll(async () => {
  flags = { user: await flagItems(USER, [ACTOR.eventId, TARGET.eventId]), other: await flagItems(OTHER, [OTHERS.eventId]) };
});

describe('erase --aws target', () => {
  let double: AwsDouble;
  let bucket: Bucket;
  let tables: Tables;
  let queue: Queue;
  let clients: ErasureAwsClients;
  let target: ErasureTarget;
  const sleeps: number[] = [];
  /** OBJ_MIXED's older version (before an earlier erasure rewrote it), which still holds the user's line. */
  let olderMixed: string;

  beforeEach(async () => {
    double = await startAwsDouble({ 'cloudformation:DescribeStacks': describeStacks({ SocialPlusWebhooks: STACK }) });
    bucket = new Bucket(double);
    tables = new Tables(double);
    queue = new Queue(double);
    answerAthena(double, bucket);
    olderMixed = bucket.put(OBJ_MIXED, gz(ACTOR, OTHERS, TARGET, TEXT_ONLY));
    bucket.put(OBJ_MIXED, gz(ACTOR, OTHERS, TARGET));
    bucket.put(OBJ_ALL_USER, gz(PAYLOAD, LARGE));
    bucket.put(OBJ_TEXT_ONLY, gz(TEXT_ONLY));
    bucket.serve(OBJ_LATE);
    bucket.serve(OBJ_LATE_2);
    const attrs = (e: DecodedEvent) => ({
      eventId: e.eventId,
      eventType: e.parsed.eventType,
      receivedAt: e.receivedAt,
      source: e.source,
      requestId: `req-${e.eventId}`,
    });
    bucket.put(LARGE_KEY, Buffer.from(LARGE_BODY), toBlobMetadata(attrs(LARGE)));
    const otherSpill = spillKey(new Date(OTHERS.receivedAt), OTHERS.eventId);
    bucket.put(otherSpill, Buffer.from(OTHERS.rawBody), toBlobMetadata(attrs(OTHERS)));
    (tables.rows.get(EVENT_TABLE) as Item[]).push(...[ACTOR, TARGET, PAYLOAD, OTHERS, LARGE].map(eventItem));
    (tables.rows.get(STATE_TABLE) as Item[]).push(...flags.user, ...flags.other);
    queue.add('0b1c2d3e-user-inline', ACTOR.rawBody, attrs(ACTOR));
    queue.add('1c2d3e4f-other-inline', OTHERS.rawBody, attrs(OTHERS));
    const check = claimCheckMessage(LARGE_KEY, Buffer.byteLength(LARGE_BODY), attrs(LARGE));
    queue.add('2d3e4f5a-user-claim-check', check.body, check.attributes);
    const config = doubleClientConfig(double.endpoint);
    clients = {
      athena: new AthenaClient(config),
      cloudFormation: new CloudFormationClient(config),
      dynamodb: new DynamoDBClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }),
      sqs: new SQSClient(config),
    };
    sleeps.length = 0;
    target = await openAwsErasureTarget({ region: 'eu-west-1' }, { clients, sleep: async (ms) => void sleeps.push(ms), now: () => NOW });
  });
  afterEach(async () => {
    await target.close();
    for (const c of Object.values(clients) as unknown as Array<{ destroy(): void }>) c.destroy();
    await double.close();
  });

  const store = (name: string) => target.stores.find((s) => s.name === name) as ErasureStore;
  const eraseAll = async (s: ErasureStore) => {
    const results = [];
    for (const unit of await s.find(USER)) results.push(await s.erase(unit, USER));
    return results;
  };
  const lines = (key: string) => gunzipSync(bucket.current(key)?.body as Buffer).toString('utf8');

  it('reads the names from the stack and erases the stores in order: event store, handler state, archive, DLQ, inbox', () => {
    expect(target.stores.map((s) => s.name)).toEqual(['event-store', 'handler-state', 'archive', 'dead-letter-queue', 'inbox']);
    expect(target.description).toBe('stack SocialPlusWebhooks in eu-west-1');
    expect(ARCHIVE_TABLE).toBe(EVENTS_TABLE_NAME);
  });

  it('event-store: finds the user as actor, as target and in a payload (one kept in S3), and deletes only those items', async () => {
    const s = store('event-store');
    const units = await s.find(USER);
    expect(units.map((u) => u.id).sort()).toEqual([ACTOR, TARGET, PAYLOAD, LARGE].map((e) => e.eventId).sort());
    const query = candidateQuery('event_id', USER, {});
    expect(double.callsTo('athena:StartQueryExecution').map((c) => c.input)).toEqual([
      {
        QueryString: query.sql,
        WorkGroup: 'prod-wg',
        QueryExecutionContext: { Database: 'prod_db' },
        ExecutionParameters: query.params,
        ClientRequestToken: expect.any(String),
      },
    ]);
    expect(query.params).toEqual([`'${USER}'`, `'${USER}'`, `'${USER}'`, `'${USER}'`, `'${PAYLOAD_IN_S3_FLAG}'`, `'${BODY_BASE64_FLAG}'`]);
    // The Athena wait is the injected sleep, never the wall clock.
    expect(sleeps).toEqual([250, 500]);
    // The indexes were asked for the user's partitions.
    expect(double.callsTo('dynamodb:Query').map((c) => (c.input.ExpressionAttributeValues as Item)[':pk']?.S)).toEqual([
      `ACTOR#${USER}`,
      `TARGET#user#${USER}`,
    ]);
    // The large event's body was read from its S3 copy to decide.
    expect(double.callsTo(objectOp('GET', LARGE_KEY))).toHaveLength(1);
    const otherItem = JSON.stringify((tables.rows.get(EVENT_TABLE) as Item[]).find((i) => i.PK?.S === `EVENT#${OTHERS.eventId}`));
    for (const u of units) expect(await s.erase(u, USER)).toEqual({ removed: 1 });
    expect((tables.rows.get(EVENT_TABLE) as Item[]).map((i) => i.PK?.S)).toEqual([`EVENT#${OTHERS.eventId}`]);
    expect(JSON.stringify((tables.rows.get(EVENT_TABLE) as Item[])[0])).toBe(otherItem);
    // Idempotent: nothing left to find, and erasing a unit again removes nothing.
    expect(await s.find(USER)).toEqual([]);
    expect(await s.erase(units[0] as (typeof units)[0], USER)).toEqual({ removed: 0 });
    // The body's copy is left to the inbox store.
    expect(bucket.current(LARGE_KEY)).toBeDefined();
  });

  it("handler-state: deletes every item of the user's partition and nothing of another's", async () => {
    const s = store('handler-state');
    const units = await s.find(USER);
    expect(units.map((u) => u.id)).toEqual(flags.user.map((i) => i.SK?.S));
    expect(units.every((u) => !u.id.includes(USER))).toBe(true);
    expect(await eraseAll(s)).toEqual([{ removed: 1 }, { removed: 1 }]);
    expect(tables.rows.get(STATE_TABLE)).toEqual(flags.other);
    expect(await s.find(USER)).toEqual([]);
  });

  it("archive: rewrites objects without the user's lines, deletes an emptied one and every older version, leaves others byte for byte", async () => {
    const s = store('archive');
    const textOnly = bucket.current(OBJ_TEXT_ONLY)?.body;
    const units = await s.find(USER);
    // OBJ_TEXT_ONLY is named by Athena (the id is in a message's text) but holds none of the user's events.
    expect(double.callsTo('athena:StartQueryExecution').map((c) => c.input.QueryString)).toEqual([candidateQuery('"$path"', USER, {}).sql]);
    expect(units).toEqual([
      { id: OBJ_MIXED, records: 2 },
      { id: OBJ_ALL_USER, records: 2 },
    ]);
    const mixedBefore = bucket.current(OBJ_MIXED) as Version;
    const [mixed, all] = [await s.erase(units[0] as (typeof units)[0], USER), await s.erase(units[1] as (typeof units)[1], USER)];
    expect(mixed).toEqual({
      removed: 2,
      objectsRewritten: [OBJ_MIXED],
      objectsDeleted: [`${OBJ_MIXED}#${mixedBefore.versionId}`, `${OBJ_MIXED}#${olderMixed}`],
    });
    // The kept line is the other user's, exactly as Firehose wrote it; the object is still gzip, written only over the ETag read.
    expect(lines(OBJ_MIXED)).toBe(lineOf(OTHERS));
    expect(bucket.keys.get(OBJ_MIXED)).toHaveLength(1);
    const put = double.callsTo(objectOp('PUT', OBJ_MIXED));
    expect(put.map((c) => c.headers['if-match'])).toEqual([mixedBefore.etag]);
    expect(all.removed).toBe(2);
    expect(all.objectsDeleted?.[0]).toBe(OBJ_ALL_USER);
    expect(bucket.keys.get(OBJ_ALL_USER)).toEqual([]);
    expect(bucket.current(OBJ_TEXT_ONLY)?.body?.equals(textOnly as Buffer)).toBe(true);
    expect(double.callsTo(objectOp('PUT', OBJ_TEXT_ONLY))).toEqual([]);
    expect(double.callsTo(objectOp('DELETE', OBJ_TEXT_ONLY))).toEqual([]);
    // Idempotent.
    expect(await s.find(USER)).toEqual([]);
    expect(await s.erase(units[0] as (typeof units)[0], USER)).toEqual({ removed: 0, objectsDeleted: [] });
  });

  it('archive: a conditional write refused once (412) is redone from a fresh read', async () => {
    const s = store('archive');
    const [unit] = await s.find(USER);
    // Between this erase's read and its write, the object changes: the write over the old ETag is refused.
    const held = double.hold(objectOp('PUT', OBJ_MIXED));
    const erasing = s.erase(unit as NonNullable<typeof unit>, USER);
    await held.arrived;
    bucket.put(OBJ_MIXED, gz(ACTOR, OTHERS, TARGET, TEXT_ONLY));
    held.release();
    const result = await erasing;
    const puts = double.callsTo(objectOp('PUT', OBJ_MIXED));
    expect(puts).toHaveLength(2);
    expect(puts[0]?.headers['if-match']).not.toBe(puts[1]?.headers['if-match']);
    expect(double.callsTo(objectOp('GET', OBJ_MIXED)).length).toBe(3);
    // The redo worked from the object as it then was: the other lines of the new version are kept.
    expect(lines(OBJ_MIXED)).toBe(lineOf(OTHERS) + lineOf(TEXT_ONLY));
    expect(result.removed).toBe(2);
    expect(bucket.keys.get(OBJ_MIXED)).toHaveLength(1);
  });

  it('archive: objects Firehose delivers during the rewrite are never read, written or deleted', async () => {
    const s = store('archive');
    const units = await s.find(USER);
    expect(units.map((u) => u.id)).toEqual([OBJ_MIXED, OBJ_ALL_USER]);
    // Delivered after Athena answered, into the partitions being erased, under keys that start with
    // the keys being rewritten and deleted (a Prefix listing of those keys shows them too).
    const late = { [OBJ_LATE]: gz(LATE, OTHERS), [OBJ_LATE_2]: gz(LATE) };
    const before = Object.fromEntries(units.map((u) => [u.id, (bucket.keys.get(u.id) ?? []).map((v) => `${u.id}#${v.versionId}`).reverse()]));
    const held = double.hold(objectOp('GET', OBJ_MIXED));
    const results: UnitResult[] = [];
    const erasing = (async () => {
      for (const unit of units) results.push(await s.erase(unit, USER));
    })();
    await held.arrived;
    for (const [key, body] of Object.entries(late)) bucket.put(key, body);
    held.release();
    await erasing;
    for (const [key, body] of Object.entries(late)) {
      expect(double.calls.filter((c) => c.path === `/${BUCKET}/${encodeKey(key)}`)).toEqual([]);
      expect(bucket.keys.get(key)?.map((v) => v.body?.equals(body))).toEqual([true]);
    }
    // What each erase says it deleted are versions of its own key only.
    expect(results.map((r) => r.objectsDeleted)).toEqual([before[OBJ_MIXED], [OBJ_ALL_USER, ...(before[OBJ_ALL_USER] ?? [])]]);
    expect(lines(OBJ_MIXED)).toBe(lineOf(OTHERS));
    expect(bucket.keys.get(OBJ_ALL_USER)).toEqual([]);
    // A later run finds them.
    expect((await s.find(USER)).map((u) => u.id)).toEqual([OBJ_LATE, OBJ_LATE_2].sort());
  });

  it("dead-letter-queue: deletes the user's messages (one a claim check) and releases the others unchanged", async () => {
    const s = store('dead-letter-queue');
    const units = await s.find(USER);
    expect(units.map((u) => u.id).sort()).toEqual(['0b1c2d3e-user-inline', '2d3e4f5a-user-claim-check']);
    expect(double.callsTo('sqs:ReceiveMessage').every((c) => c.input.VisibilityTimeout === VISIBILITY_TIMEOUT_S)).toBe(true);
    expect(double.callsTo('sqs:ReceiveMessage')[0]?.input.MessageAttributeNames).toEqual(['All']);
    const other = queue.messages.find((m) => m.id === '1c2d3e4f-other-inline') as QueuedMessage;
    expect(other.hiddenUntil).toBe(queue.clock);
    expect(double.callsTo('sqs:ChangeMessageVisibility').map((c) => c.input)).toEqual([
      { QueueUrl: DLQ_URL, ReceiptHandle: other.handle, VisibilityTimeout: 0 },
    ]);
    for (const u of units) expect(await s.erase(u, USER)).toEqual({ removed: 1 });
    expect(queue.messages.map((m) => [m.id, m.body])).toEqual([['1c2d3e4f-other-inline', OTHERS.rawBody]]);
    expect(await s.find(USER)).toEqual([]);
  });

  it("inbox: deletes every version of the user's body copies, and no one else's", async () => {
    const s = store('inbox');
    bucket.put(LARGE_KEY, Buffer.from(LARGE_BODY));
    const units = await s.find(USER);
    expect(units).toEqual([{ id: LARGE_KEY, records: 2 }]);
    const [result] = await eraseAll(s);
    expect(result?.removed).toBe(2);
    expect(bucket.keys.get(LARGE_KEY)).toEqual([]);
    expect(bucket.current(spillKey(new Date(OTHERS.receivedAt), OTHERS.eventId))?.body?.toString()).toBe(OTHERS.rawBody);
    expect(await s.find(USER)).toEqual([]);
  });

  it('a second run over every store finds nothing', async () => {
    for (const s of target.stores) await eraseAll(s);
    for (const s of target.stores) expect(await s.find(USER)).toEqual([]);
  });

  it('bounds the Athena queries by --from and --to, and refuses a range that is not one', async () => {
    const bounded = await openAwsErasureTarget({ from: '2025-07-01', to: '2025-07-02' }, { clients, sleep: async () => undefined, now: () => NOW });
    await (bounded.stores.find((x) => x.name === 'archive') as ErasureStore).find(USER);
    const [start] = double.callsTo('athena:StartQueryExecution');
    expect(start?.input.QueryString).toBe(
      `SELECT DISTINCT "$path" FROM ${ARCHIVE_TABLE} WHERE (actor_id = ? OR target_id = ? OR strpos(payload, ?) > 0 OR strpos(payload, ?) > 0 OR contains(flags, ?) OR contains(flags, ?)) AND dt >= ? AND dt <= ?`,
    );
    expect((start?.input.ExecutionParameters as string[]).slice(-2)).toEqual(["'2025-07-01'", "'2025-07-02'"]);
    // A quote in the id is doubled, and JSON's escaping of it searched too.
    expect(candidateQuery('event_id', `o'"x`, {}).params.slice(0, 4)).toEqual([`'o''"x'`, `'o''"x'`, `'o''"x'`, `'o''\\"x'`]);
    await expect(openAwsErasureTarget({ from: '2025-07-03', to: '2025-07-02' }, { clients })).rejects.toThrow(
      '--from 2025-07-03 is after --to 2025-07-02',
    );
    await expect(openAwsErasureTarget({ from: '2025-02-30' }, { clients })).rejects.toThrow("--from must be a date YYYY-MM-DD, got '2025-02-30'");
  });

  it('access denied on one call names the call and its IAM action', async () => {
    double.answer({
      'dynamodb:DeleteItem': jsonServiceError(
        'com.amazon.coral.service#AccessDeniedException',
        `User: arn:aws:sts::123456789012:assumed-role/ops/me is not authorized to perform: dynamodb:DeleteItem on resource: arn:aws:dynamodb:eu-west-1:123456789012:table/${STATE_TABLE}`,
        { jsonVersion: '1.0' },
      ),
    });
    const s = store('handler-state');
    const [unit] = await s.find(USER);
    await expect(s.erase(unit as NonNullable<typeof unit>, USER)).rejects.toThrow(
      `could not delete an item of the handler state table ${STATE_TABLE} (dynamodb:DeleteItem): access denied`,
    );
  });
});
