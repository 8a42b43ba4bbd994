/**
 * What a crash can leave in s3rver's folder: an object whose metadata file was cut short. s3rver
 * then failed every listing of its prefix, which once stopped the spill drain for good (found by
 * the random-crash probe); the S3 emulator that replaced it lists such an object but cannot serve
 * it. The repair at start-up restores whole inbox objects and moves torn ones aside.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey, spillKey, toBlobMetadata } from '../../lambda/core/inbox.js';
import type { Logger } from '../../lambda/core/telemetry.js';
import { ensureBucket, localS3Client, startS3rver, type RunningEmulator } from '../../local/emulators.js';
import { repairS3rverFolder } from '../../local/s3rver-repair.js';

const BUCKET = 'repair-bucket';
let dir: string;
let s3dir: string;
let quarantine: string;
const open: Array<{ close(): Promise<void> }> = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3rver-repair-'));
  s3dir = join(dir, 's3');
  quarantine = join(dir, 'quarantine');
});

afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close().catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
});

async function serve(): Promise<{ s3: S3Client; s3rver: RunningEmulator }> {
  const s3rver = await startS3rver({ dir: s3dir });
  const s3 = localS3Client(s3rver.endpoint, { maxAttempts: 1 });
  open.push(s3rver, { close: async () => s3.destroy() });
  await ensureBucket(s3, BUCKET);
  return { s3, s3rver };
}

async function stop(): Promise<void> {
  for (const o of open.splice(0).reverse()) await o.close();
}

const metadataFile = (key: string) => join(s3dir, BUCKET, `${key}._S3rver_metadata.json`);
const objectFile = (key: string) => join(s3dir, BUCKET, `${key}._S3rver_object`);

function spillBody(label: string): string {
  return JSON.stringify({ event: 'message.didCreate', data: { label } });
}

async function keysUnder(s3: S3Client, prefix: string): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key as string).sort();
}

describe('repairS3rverFolder', () => {
  it('restores a whole spill whose metadata a crash emptied, so its prefix lists again', async () => {
    const at = new Date('2026-11-27T05:34:45Z');
    const good = spillBody('good');
    const torn = spillBody('torn-metadata');
    const goodKey = spillKey(at, eventIdOf(good));
    const tornKey = spillKey(at, eventIdOf(torn));
    let { s3 } = await serve();
    for (const [key, text] of [
      [goodKey, good],
      [tornKey, torn],
    ] as const) {
      const id = eventIdOf(text);
      await s3.send(
        new PutObjectCommand({
          Bucket: BUCKET,
          Key: key,
          Body: text,
          Metadata: toBlobMetadata({ eventId: id, eventType: 'message.didCreate', receivedAt: at.toISOString(), source: 'default', requestId: 'r1' }),
        }),
      );
    }
    await stop();
    writeFileSync(metadataFile(tornKey), '');

    // What the crash leaves: the object lists, but cannot be served without its metadata (s3rver
    // failed the whole listing of its prefix).
    ({ s3 } = await serve());
    expect(await keysUnder(s3, 'inbox/spill/')).toEqual([goodKey, tornKey].sort());
    await expect(s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: tornKey }))).rejects.toThrow(/metadata file of this object is unreadable/);
    await stop();

    const warnings: Array<{ message: string; key: unknown }> = [];
    const logger: Logger = { debug() {}, info() {}, warn: (message, extra) => void warnings.push({ message, key: extra?.key }), error() {} };
    const report = repairS3rverFolder(s3dir, { quarantine, logger });
    expect(report).toEqual({ repaired: [`${BUCKET}/${tornKey}`], quarantined: [] });
    expect(warnings).toEqual([{ message: expect.stringMatching(/restored the metadata of an inbox object/), key: `${BUCKET}/${tornKey}` }]);

    ({ s3 } = await serve());
    expect(await keysUnder(s3, 'inbox/spill/')).toEqual([goodKey, tornKey].sort());
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: tornKey }));
    expect(await out.Body?.transformToString()).toBe(torn);
    expect(out.Metadata).toEqual({ 'event-id': eventIdOf(torn) });
    expect(out.ContentType).toBe('application/octet-stream');
    // The untouched object keeps all of its metadata.
    const kept = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: goodKey }));
    expect(kept.Metadata).toMatchObject({ 'event-id': eventIdOf(good), 'request-id': 'r1', source: 'default' });
  });

  it('keeps the complete pairs of a metadata file cut in the middle', async () => {
    const text = spillBody('half-metadata');
    const id = eventIdOf(text);
    const key = claimCheckKey(new Date('2026-11-27T05:00:00Z'), id);
    const { s3 } = await serve();
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: text, Metadata: { 'event-type': 'message.didCreate', source: 'partners' } }),
    );
    await stop();
    const whole = readFileSync(metadataFile(key), 'utf8');
    const cut = whole.slice(0, whole.indexOf('"x-amz-meta-source"') + '"x-amz-meta-source": "par'.length);
    writeFileSync(metadataFile(key), cut);

    expect(repairS3rverFolder(s3dir, { quarantine }).repaired).toEqual([`${BUCKET}/${key}`]);
    const { s3: again } = await serve();
    const out = await again.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    // The event type survived; the cut-off source did not (the fan-out falls back to the default).
    expect(out.Metadata).toEqual({ 'event-id': id, 'event-type': 'message.didCreate' });
  });

  it('moves aside, without deleting, an inbox object with a torn body; leaves the archive to its stream', async () => {
    const text = spillBody('torn-body');
    const spill = spillKey(new Date('2026-11-27T05:00:00Z'), eventIdOf(text));
    const archive = 'events/dt=2026-11-27/hour=05/stream-1-2026-11-27-05-00-00-abc.gz';
    const { s3 } = await serve();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: spill, Body: text.slice(0, 10) }));
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: archive, Body: 'gzip bytes' }));
    await stop();
    writeFileSync(metadataFile(spill), '{\n  "content-type": "appl');
    writeFileSync(metadataFile(archive), '');

    expect(repairS3rverFolder(s3dir, { quarantine })).toEqual({ repaired: [], quarantined: [`${BUCKET}/${spill}`] });
    expect(existsSync(objectFile(spill))).toBe(false);
    expect(readFileSync(join(quarantine, BUCKET, `${spill}._S3rver_object`), 'utf8')).toBe(text.slice(0, 10));
    expect(readFileSync(join(quarantine, BUCKET, `${spill}._S3rver_metadata.json`), 'utf8')).toBe('{\n  "content-type": "appl');
    // An archive object is not read at all (the archive is large): its stream segment rewrites it.
    expect(readFileSync(objectFile(archive), 'utf8')).toBe('gzip bytes');
    expect(readFileSync(metadataFile(archive), 'utf8')).toBe('');

    const { s3: again } = await serve();
    expect(await keysUnder(again, 'inbox/')).toEqual([]);
  });

  it('leaves a folder without damage untouched, and accepts one that does not exist yet', async () => {
    const { s3 } = await serve();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'events/a.gz', Body: 'a' }));
    await stop();
    expect(repairS3rverFolder(s3dir, { quarantine })).toEqual({ repaired: [], quarantined: [] });
    expect(existsSync(quarantine)).toBe(false);
    expect(repairS3rverFolder(join(dir, 'missing'), { quarantine })).toEqual({ repaired: [], quarantined: [] });
  });
});
