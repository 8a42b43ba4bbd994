import { appendFileSync, copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { archiveLine, parsePartition, partitionPrefix } from '../../lambda/core/archive-layout.js';
import { ArchiveWriteError, DeliveryStreamClosedError, LocalDeliveryStream, type LocalDeliveryStreamOptions } from '../../local/delivery-stream.js';
import { ensureBucket, localS3Client, startS3rver, type RunningEmulator } from '../../local/emulators.js';
import { fixedArchiveRecord } from '../support/archive-records.js';

let s3dir: string;
let s3rver: RunningEmulator;
let s3: S3Client;
let dir: string;
let bucket: string;
let bucketCounter = 0;
const opened: LocalDeliveryStream[] = [];

beforeAll(async () => {
  s3dir = await mkdtemp(join(tmpdir(), 'delivery-stream-s3-'));
  s3rver = await startS3rver({ dir: s3dir });
  s3 = localS3Client(s3rver.endpoint);
});

afterAll(async () => {
  s3.destroy();
  await s3rver.close();
  await rm(s3dir, { recursive: true, force: true });
});

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'delivery-stream-'));
  bucket = `archive-${process.pid}-${++bucketCounter}`;
  await ensureBucket(s3, bucket);
});

afterEach(async () => {
  await Promise.allSettled(opened.splice(0).map((s) => s.close()));
  await rm(dir, { recursive: true, force: true });
});

async function openStream(opts: Partial<LocalDeliveryStreamOptions> = {}): Promise<LocalDeliveryStream> {
  const stream = await LocalDeliveryStream.open({ dir, s3, bucket, bufferIntervalMs: 3_600_000, retryDelayMs: 10, ...opts });
  opened.push(stream);
  return stream;
}

/** An archive line as the fan-out writes it (ends in a newline). */
function line(n: number, payloadBytes = 20): string {
  const payload = JSON.stringify({ event: 'message.didCreate', n, pad: 'p'.repeat(payloadBytes) });
  return archiveLine(fixedArchiveRecord(payload, { eventId: n.toString(16).padStart(32, '0') }));
}

async function listKeys(): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).map((o) => o.Key as string).sort();
}

async function objectText(key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return gunzipSync(Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray())).toString('utf8');
}

async function allArchivedText(): Promise<string> {
  const keys = await listKeys();
  return (await Promise.all(keys.map(objectText))).join('');
}

const segments = () => readdirSync(dir).filter((n) => n.startsWith('segment-'));

const KEY =
  /^events\/dt=(\d{4}-\d{2}-\d{2})\/hour=(\d{2})\/socialplus-webhooks-archive-stream-1-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9a-f-]{36}\.gz$/;

describe('LocalDeliveryStream', () => {
  it('writes the buffer after the interval as one gzip NDJSON object under the arrival partition, named like Firehose', async () => {
    const before = new Date();
    const stream = await openStream({ bufferIntervalMs: 50 });
    const lines = [line(1), line(2), line(3)];
    await expect(stream.putLines(lines.slice(0, 2))).resolves.toEqual({ failedIndexes: [] });
    await stream.putLines(lines.slice(2));
    await vi.waitFor(async () => expect(await listKeys()).toHaveLength(1));

    const [key] = await listKeys();
    const m = KEY.exec(key as string);
    expect(m).not.toBeNull();
    const [, , , y, mo, d, h, mi, s] = m as unknown as string[];
    const stamped = new Date(`${y}-${mo}-${d}T${h}:${mi}:${s}Z`);
    expect(key?.startsWith(partitionPrefix(stamped))).toBe(true);
    expect(stamped.getTime()).toBeGreaterThanOrEqual(Math.floor(before.getTime() / 1000) * 1000);
    expect(parsePartition(key as string)).toBeDefined();
    const text = await objectText(key as string);
    expect(text).toBe(lines.join(''));
    expect(
      text
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l).event_id),
    ).toEqual(lines.map((l) => JSON.parse(l).event_id));
    expect(segments()).toEqual([]);
  });

  it('writes as soon as the buffer reaches its size, without waiting for the interval', async () => {
    const stream = await openStream({ bufferBytes: 2000 });
    const big = Array.from({ length: 10 }, (_, i) => line(i, 200));
    await stream.putLines(big);
    await vi.waitFor(async () => expect(await listKeys()).toHaveLength(1));
    expect(await objectText((await listKeys())[0] as string)).toBe(big.join(''));

    // A small put stays buffered (the interval is an hour) until flushed.
    await stream.putLines([line(99)]);
    expect(stream.pendingSegments()).toBe(1);
    expect(await listKeys()).toHaveLength(1);
    await stream.flush();
    expect(await listKeys()).toHaveLength(2);
    expect(stream.pendingSegments()).toBe(0);
  });

  it('has the lines on disk when putLines resolves', async () => {
    const stream = await openStream();
    await stream.putLines([line(7)]);
    const [seg] = segments();
    const text = readFileSync(join(dir, seg as string), 'utf8');
    expect(JSON.parse(text.trim()).lines).toEqual([line(7)]);
  });

  it('writes what a crashed run buffered when opened again, ignoring a torn last line', async () => {
    const crashed = await openStream();
    await crashed.putLines([line(1), line(2)]);
    await crashed.putLines([line(3)]);
    const [seg] = segments();
    appendFileSync(join(dir, seg as string), '{"t":1751450043221,"lines":["{\\"event_id\\":');
    // The crashed instance is never closed; a new one opens the same folder.
    opened.splice(opened.indexOf(crashed), 1);

    await openStream();
    expect(await allArchivedText()).toBe([line(1), line(2), line(3)].join(''));
    expect(segments()).toEqual([]);
  });

  it('writes a segment uploaded twice (a crash between put and delete) to the same key', async () => {
    const stream = await openStream();
    await stream.putLines([line(5)]);
    const [seg] = segments();
    const copy = join(tmpdir(), `${seg}-copy-${process.pid}`);
    copyFileSync(join(dir, seg as string), copy);
    await stream.close();
    const keysAfterFirst = await listKeys();
    expect(keysAfterFirst).toHaveLength(1);
    expect(segments()).toEqual([]);

    writeFileSync(join(dir, seg as string), readFileSync(copy));
    await rm(copy);
    await openStream();
    expect(await listKeys()).toEqual(keysAfterFirst);
    expect(await objectText(keysAfterFirst[0] as string)).toBe(line(5));
  });

  it('rewrites, as it opens, an object whose metadata file a crash emptied while its segment was on disk', async () => {
    // A crash while an older version's emulator (s3rver) rewrote the object of a segment uploaded
    // twice: the object cannot be served until the segment, still on disk, is written again.
    const stream = await openStream();
    await stream.putLines([line(6)]);
    const [seg] = segments();
    const copy = readFileSync(join(dir, seg as string));
    await stream.close();
    const [key] = await listKeys();
    writeFileSync(join(dir, seg as string), copy);
    writeFileSync(join(s3dir, bucket, `${key}._S3rver_metadata.json`), '');
    await expect(objectText(key as string)).rejects.toThrow();

    await openStream();
    expect(await listKeys()).toEqual([key]);
    expect(await objectText(key as string)).toBe(line(6));
    expect(segments()).toEqual([]);
  });

  it('keeps the lines when S3 fails and writes them once it is back', async () => {
    const failing = localS3Client(s3rver.endpoint, { maxAttempts: 1 });
    let down = true;
    failing.middlewareStack.add(
      (next) => async (args) => {
        if (down) throw Object.assign(new Error('S3 is down (injected)'), { name: 'ServiceUnavailable' });
        return next(args);
      },
      { step: 'initialize', name: 'injectOutage' },
    );
    try {
      const stream = await openStream({ s3: failing, retryDelayMs: 20 });
      await expect(stream.putLines([line(1)])).resolves.toEqual({ failedIndexes: [] });
      await expect(stream.flush()).rejects.toThrow(ArchiveWriteError);
      await expect(stream.flush()).rejects.toThrow(/S3 is down/);
      expect(segments()).toHaveLength(1);
      expect(await listKeys()).toEqual([]);

      down = false;
      await vi.waitFor(async () => expect(await listKeys()).toHaveLength(1));
      await vi.waitFor(() => expect(segments()).toEqual([]));
      expect(await allArchivedText()).toBe(line(1));
    } finally {
      await Promise.allSettled(opened.splice(0).map((s) => s.close()));
      failing.destroy();
    }
  });

  it('writes the buffer on close and refuses lines after it', async () => {
    const stream = await openStream();
    await stream.putLines([line(1), line(2)]);
    await stream.close();
    expect(await allArchivedText()).toBe(line(1) + line(2));
    await expect(stream.putLines([line(3)])).rejects.toThrow(DeliveryStreamClosedError);
  });

  it('accepts many concurrent puts and archives every line exactly once', async () => {
    const stream = await openStream({ bufferBytes: 5000, bufferIntervalMs: 30 });
    const lines = Array.from({ length: 200 }, (_, i) => line(i, 50));
    await Promise.all(Array.from({ length: 20 }, (_, i) => stream.putLines(lines.slice(i * 10, i * 10 + 10))));
    await stream.flush();
    const archived = (await allArchivedText())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).event_id)
      .sort();
    expect(archived).toEqual(lines.map((l) => JSON.parse(l).event_id).sort());
    expect((await listKeys()).length).toBeGreaterThan(1);
  });

  it.each([
    ['bufferBytes', 0],
    ['bufferIntervalMs', -5],
    ['retryDelayMs', 1.5],
  ] as const)('rejects option %s = %s naming it', async (name, value) => {
    await expect(LocalDeliveryStream.open({ dir, s3, bucket, [name]: value })).rejects.toThrow(new RegExp(`option ${name} must be`));
  });
});
