/**
 * Limits and conditions of the adapters that a mutation spot-check found unpinned: a change to any
 * of them let the rest of the suite pass. Against dynalite, and for what an emulator cannot do
 * (hold a request open) against the AWS double, with the real SDK clients.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbEventStore } from '../../lambda/adapters/dynamodb-store.js';
import { S3BlobStore } from '../../lambda/adapters/s3-blob-store.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { decodeRecord, toStoredEvent } from '../../lambda/core/fanout.js';
import { spillKey } from '../../lambda/core/inbox.js';
import { STORE_MAX_INLINE_PAYLOAD_BYTES } from '../../lambda/core/limits.js';
import { ensureEventTable } from '../../local/emulators.js';
import { awsDoubleEnv, startAwsDouble, type AwsDouble } from '../support/aws-double.js';
import { useTestDynalite } from '../support/emulators.js';

const NOW = new Date('2025-07-02T10:00:00.000Z');
const AT = new Date('2025-07-02T09:54:03.221Z');

/** Text gzip can hardly shrink, the same on every run (base64 of SHAKE256 of a fixed label). */
const fixedNoiseText = (chars: number): string =>
  createHash('shake256', { outputLength: Math.ceil((chars * 3) / 4) + 3 })
    .update('adapter-mutation-guards')
    .digest('base64')
    .slice(0, chars);

/** A webhook body whose payload gzips to exactly `gzipBytes` (found by searching the length of its noise). */
function bodyGzippingTo(gzipBytes: number): string {
  const body = (chars: number) => JSON.stringify({ event: 'message.didCreate', data: { t: fixedNoiseText(chars) } });
  const size = (chars: number) => gzipSync(body(chars)).length;
  let lo = 0;
  let hi = gzipBytes * 2;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (size(mid) < gzipBytes) lo = mid + 1;
    else hi = mid;
  }
  // gzip's size is not strictly monotonic in its input: look around the first length that reaches it.
  for (let chars = Math.max(0, lo - 64); chars <= lo + 64; chars++) if (size(chars) === gzipBytes) return body(chars);
  throw new Error(`no body near ${lo} noise characters gzips to exactly ${gzipBytes} bytes`);
}

describe('DynamoDbEventStore: the inline payload limit', () => {
  const dynalite = useTestDynalite();
  const tableName = 'events-mutation-guards';

  beforeAll(async () => {
    await ensureEventTable(dynalite.client, tableName);
    // ensureEventTable may return while dynalite still reports the table CREATING.
    for (let i = 0; i < 100; i++) {
      const { Table } = await dynalite.client.send(new DescribeTableCommand({ TableName: tableName }));
      if (Table?.TableStatus === 'ACTIVE') return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`table ${tableName} did not become ACTIVE`);
  });

  it('a payload that gzips to exactly STORE_MAX_INLINE_PAYLOAD_BYTES is stored inline, as the core decided', async () => {
    const body = bodyGzippingTo(STORE_MAX_INLINE_PAYLOAD_BYTES);
    expect(gzipSync(body).length).toBe(STORE_MAX_INLINE_PAYLOAD_BYTES);
    const decoded = decodeRecord({ messageId: 'm-1', body, attributes: { receivedAt: AT.toISOString(), requestId: 'req-1' } }, NOW);
    // The core keeps it inline (no S3 copy): the adapter must take it.
    const event = toStoredEvent(decoded, 90, NOW);
    expect(event.flags).not.toContain('payload-in-s3');
    const store = new DynamoDbEventStore(dynalite.client, tableName);
    await expect(store.putIfAbsent(event)).resolves.toEqual({ created: true });
    const item = await store.get(eventIdOf(body));
    expect(item?.payload).toBe(body);
    expect(item?.payloadRef).toBeUndefined();
  });
});

describe('S3BlobStore: the abort signal reaches every call', () => {
  let double: AwsDouble;
  let s3: S3Client;

  beforeAll(async () => {
    double = await startAwsDouble();
    const env = awsDoubleEnv(double.endpoint);
    s3 = new S3Client({
      endpoint: double.endpoint,
      region: env.AWS_REGION as string,
      forcePathStyle: true,
      maxAttempts: 1,
      credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID as string, secretAccessKey: env.AWS_SECRET_ACCESS_KEY as string },
    });
  });

  afterAll(async () => {
    s3?.destroy();
    await double?.close();
  });

  it('a get aborted while S3 has not answered rejects, even if S3 answers right after', async () => {
    const key = spillKey(AT, 'c'.repeat(32));
    const held = double.hold(`s3:GET /inbox-bucket/${key}`);
    const controller = new AbortController();
    const got = new S3BlobStore(s3, 'inbox-bucket').get(key, { signal: controller.signal });
    const outcome = got.then(
      () => 'answered',
      (err: unknown) => (err as Error).name,
    );
    await held.arrived;
    controller.abort();
    // The answer S3 would have given: too late, the call was stopped.
    held.release({ status: 200, headers: { 'content-type': 'application/octet-stream' }, body: '{}' });
    expect(await outcome).toBe('AbortError');
  });
});
