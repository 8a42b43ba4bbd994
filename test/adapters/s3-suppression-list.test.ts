/**
 * The suppression list on S3 (lambda/adapters/s3-suppression-list.ts). The fan-out's reader against
 * the local S3 emulator, the list written by erase's own writer: a missing list is empty, a read is
 * kept for a minute of the injected clock and then made again, an unchanged object is not fetched
 * twice, a list that is not one is an error (never an empty list). The writer `erase --aws` uses,
 * against the AWS double answering as S3 does to conditional writes: two operators adding at once
 * keep both users.
 */
import { createHash } from 'node:crypto';
import { DeleteObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { addToS3SuppressionList, S3SuppressionList } from '../../lambda/adapters/s3-suppression-list.js';
import { userIdHash } from '../../lambda/core/privacy/receipt.js';
import {
  parseSuppressionList,
  serializeSuppressionList,
  SUPPRESSION_LIST_KEY,
  SUPPRESSION_LIST_MAX_AGE_MS,
  SuppressionListFormatError,
} from '../../lambda/core/privacy/suppression.js';
import { receiptStoreSuppressionList } from '../../cli/erase/run.js';
import { s3ReceiptStore } from '../../cli/erase/aws-s3.js';
import { escapeXml, startAwsDouble, type AwsAnswer, type AwsCall, type AwsDouble } from '../support/aws-double.js';
import { doubleClientConfig } from '../support/aws-recorded-answers.js';
import { useTestS3 } from '../support/emulators.js';

const BUCKET = 'suppression-bucket';
const ALICE = userIdHash('alice.s3.1');
const BOB = userIdHash('bob.s3.2');

const emulator = useTestS3('suppression-list-', { bucket: BUCKET });

/** The S3 client, with the name of every command it sends recorded. */
function counted(s3: S3Client): { client: Pick<S3Client, 'send'>; sent: string[] } {
  const sent: string[] = [];
  const send = ((command: { constructor: { name: string } }) => {
    sent.push(command.constructor.name);
    return (s3.send as (c: unknown) => Promise<unknown>)(command);
  }) as unknown as S3Client['send'];
  return { client: { send }, sent };
}

/** Adds a hash as `erase` on local mode does (through its receipt store). */
const eraseAdds = (hash: string) => receiptStoreSuppressionList(s3ReceiptStore(emulator.s3, BUCKET, (k) => k)).add(hash);
const removeList = () => emulator.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: SUPPRESSION_LIST_KEY }));

describe('S3SuppressionList (the fan-out reader) on the S3 emulator', () => {
  afterEach(removeList);

  it('reads a missing list as an empty one, without fetching an object', async () => {
    const { client, sent } = counted(emulator.s3);
    expect((await new S3SuppressionList(client, BUCKET).userIdHashes()).size).toBe(0);
    expect(sent).toEqual(['ListObjectsV2Command']);
  });

  it('reads the hashes erase wrote, and keeps them for a minute of its clock, then reads what changed', async () => {
    await eraseAdds(ALICE);
    let now = 1_000;
    const { client, sent } = counted(emulator.s3);
    const list = new S3SuppressionList(client, BUCKET, { clockMs: () => now });
    expect([...(await list.userIdHashes())]).toEqual([ALICE]);
    expect(sent).toEqual(['ListObjectsV2Command', 'GetObjectCommand']);

    await eraseAdds(BOB);
    now += SUPPRESSION_LIST_MAX_AGE_MS - 1;
    expect([...(await list.userIdHashes())]).toEqual([ALICE]);
    expect(sent).toHaveLength(2);

    now += 1;
    expect([...(await list.userIdHashes())].sort()).toEqual([ALICE, BOB].sort());
    expect(sent).toEqual(['ListObjectsV2Command', 'GetObjectCommand', 'ListObjectsV2Command', 'GetObjectCommand']);
  });

  it('does not fetch an unchanged list again, and sees it go when it is deleted', async () => {
    await eraseAdds(ALICE);
    let now = 0;
    const { client, sent } = counted(emulator.s3);
    const list = new S3SuppressionList(client, BUCKET, { clockMs: () => now, maxAgeMs: 10 });
    expect([...(await list.userIdHashes())]).toEqual([ALICE]);
    now = 10;
    expect([...(await list.userIdHashes())]).toEqual([ALICE]);
    expect(sent).toEqual(['ListObjectsV2Command', 'GetObjectCommand', 'ListObjectsV2Command']);

    await removeList();
    now = 20;
    expect((await list.userIdHashes()).size).toBe(0);
  });

  it('the batches that find the copy stale share one read', async () => {
    await eraseAdds(ALICE);
    const { client, sent } = counted(emulator.s3);
    const list = new S3SuppressionList(client, BUCKET, { clockMs: () => 0 });
    const reads = await Promise.all([list.userIdHashes(), list.userIdHashes(), list.userIdHashes()]);
    expect(reads.map((r) => [...r])).toEqual([[ALICE], [ALICE], [ALICE]]);
    expect(sent).toEqual(['ListObjectsV2Command', 'GetObjectCommand']);
  });

  it('rejects a list that is not one (the fan-out then retries), and reads it again on the next call', async () => {
    await emulator.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: SUPPRESSION_LIST_KEY, Body: '["alice"]' }));
    const list = new S3SuppressionList(emulator.s3, BUCKET, { clockMs: () => 0 });
    await expect(list.userIdHashes()).rejects.toThrow(SuppressionListFormatError);
    await emulator.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: SUPPRESSION_LIST_KEY, Body: serializeSuppressionList([BOB]) }));
    expect([...(await list.userIdHashes())]).toEqual([BOB]);
  });
});

// ---------------------------------------------------------------------------------------------
// The conditional writer, against S3's answers to If-Match and If-None-Match.

const REQUEST_ID = 'D4E5F6A7B8C9D0E1';
const OBJECT_OP = (method: string) => `s3:${method} /${BUCKET}/${SUPPRESSION_LIST_KEY}`;

function s3Error(status: number, code: string, message: string): AwsAnswer {
  return {
    status,
    headers: { 'content-type': 'application/xml', 'x-amz-request-id': REQUEST_ID },
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${escapeXml(message)}</Message><RequestId>${REQUEST_ID}</RequestId></Error>`,
  };
}

/** One S3 key: GET, and PUT honouring `If-Match` and `If-None-Match: *`; `beforePut` runs before a PUT is judged (another writer). */
class OneKey {
  body: Buffer | undefined;
  beforePut: (() => void) | undefined;
  constructor(double: AwsDouble) {
    double.answer({ [OBJECT_OP('GET')]: () => this.get(), [OBJECT_OP('PUT')]: (call) => this.put(call) });
  }
  etag(): string | undefined {
    return this.body && `"${createHash('md5').update(this.body).digest('hex')}"`;
  }
  private get(): AwsAnswer {
    if (!this.body) return s3Error(404, 'NoSuchKey', 'The specified key does not exist.');
    return {
      status: 200,
      headers: { 'content-type': 'application/json', etag: this.etag() as string, 'x-amz-request-id': REQUEST_ID },
      body: this.body,
    };
  }
  private put(call: AwsCall): AwsAnswer {
    const before = this.beforePut;
    this.beforePut = undefined;
    before?.();
    const ifMatch = call.headers['if-match'];
    const ifNoneMatch = call.headers['if-none-match'];
    if ((ifNoneMatch === '*' && this.body) || (ifMatch !== undefined && ifMatch !== this.etag()))
      return s3Error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    this.body = call.body;
    return { status: 200, headers: { etag: this.etag() as string, 'x-amz-request-id': REQUEST_ID }, body: '' };
  }
}

describe('addToS3SuppressionList (erase --aws --also-future)', () => {
  let double: AwsDouble | undefined;
  let client: S3Client | undefined;
  afterEach(async () => {
    client?.destroy();
    await double?.close();
  });

  async function start() {
    double = await startAwsDouble({});
    client = new S3Client({ ...doubleClientConfig(double.endpoint), forcePathStyle: true });
    return { double, client, key: new OneKey(double) };
  }

  it('creates the list only if there is none yet (If-None-Match), and adds each user once', async () => {
    const { double, client, key } = await start();
    expect(await addToS3SuppressionList(client, BUCKET, ALICE)).toBe('added');
    expect(double.callsTo(OBJECT_OP('PUT'))[0]?.headers['if-none-match']).toBe('*');
    expect([...parseSuppressionList(String(key.body))]).toEqual([ALICE]);

    expect(await addToS3SuppressionList(client, BUCKET, ALICE)).toBe('already-listed');
    expect(double.callsTo(OBJECT_OP('PUT'))).toHaveLength(1);
  });

  it('writes over the version it read only (If-Match): a concurrent add is read again and both users kept', async () => {
    const { double, client, key } = await start();
    key.body = Buffer.from(serializeSuppressionList([ALICE]));
    const carol = userIdHash('carol.s3.3');
    // Another operator adds carol between this writer's read and its write.
    key.beforePut = () => {
      key.body = Buffer.from(serializeSuppressionList([ALICE, carol]));
    };
    expect(await addToS3SuppressionList(client, BUCKET, BOB)).toBe('added');
    const puts = double.callsTo(OBJECT_OP('PUT'));
    expect(puts).toHaveLength(2);
    expect(puts[0]?.headers['if-match']).toBe(
      `"${createHash('md5')
        .update(serializeSuppressionList([ALICE]))
        .digest('hex')}"`,
    );
    expect([...parseSuppressionList(String(key.body))].sort()).toEqual([ALICE, BOB, carol].sort());
  });

  it("gives up after its attempts when the list keeps changing, with S3's error", async () => {
    const { client, key } = await start();
    let n = 0;
    const keepChanging = () => {
      key.body = Buffer.from(serializeSuppressionList([userIdHash(`other-${n++}`)]));
      key.beforePut = keepChanging;
    };
    key.beforePut = keepChanging;
    await expect(addToS3SuppressionList(client, BUCKET, BOB, 3)).rejects.toMatchObject({ name: 'PreconditionFailed' });
    expect(n).toBe(3);
  });

  it('refuses to write over an object that is not a list', async () => {
    const { double, client, key } = await start();
    key.body = Buffer.from('{"hand":"edited"}');
    await expect(addToS3SuppressionList(client, BUCKET, BOB)).rejects.toThrow(SuppressionListFormatError);
    expect(double.callsTo(OBJECT_OP('PUT'))).toEqual([]);
  });
});
