import { PutObjectCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { S3BlobStore } from '../../lambda/adapters/s3-blob-store.js';
import { eventIdOf } from '../../lambda/core/event-id.js';
import { claimCheckKey, spillKey } from '../../lambda/core/inbox.js';
import type { BlobStore } from '../../lambda/core/ports.js';
import { IncompleteObjectError, VerifiedBlobStore } from '../../local/verified-blob-store.js';
import { useTestS3 } from '../support/emulators.js';

const BUCKET = 'verified-blobs';
const emulator = useTestS3('verified-blob-', { bucket: BUCKET });

/** The S3 adapter, counting its puts. */
function counted(): BlobStore & { puts: number } {
  const inner = new S3BlobStore(emulator.s3, BUCKET);
  const store = {
    puts: 0,
    bucket: BUCKET,
    put: async (...args: Parameters<BlobStore['put']>) => {
      store.puts++;
      await inner.put(...args);
    },
    get: (...args: Parameters<BlobStore['get']>) => inner.get(...args),
    delete: (...args: Parameters<BlobStore['delete']>) => inner.delete(...args),
  };
  return store;
}

describe('VerifiedBlobStore', () => {
  it('resolves a put once the object reads back whole, metadata included', async () => {
    const body = Buffer.from('{"event":"message.didCreate","n":1}');
    const key = spillKey(new Date('2025-07-02T10:00:00Z'), eventIdOf(body));
    const store = new VerifiedBlobStore(new S3BlobStore(emulator.s3, BUCKET), { s3Directory: emulator.s3Dir });
    await store.put(key, body, { metadata: { 'event-id': eventIdOf(body) } });
    const got = await store.get(key);
    expect(got.body.equals(body)).toBe(true);
    expect(got.metadata['event-id']).toBe(eventIdOf(body));
    expect(store.bucket).toBe(BUCKET);
  });

  it('does not write an inbox object that is already whole again (same key, same bytes)', async () => {
    const body = Buffer.from('{"event":"message.didCreate","n":2}');
    const key = claimCheckKey(new Date('2025-07-02T10:00:00Z'), eventIdOf(body));
    const inner = counted();
    const store = new VerifiedBlobStore(inner);
    await store.put(key, body);
    await store.put(key, body);
    expect(inner.puts).toBe(1);
  });

  it("writes a whole inbox object again when it lacks the put's identity metadata (a MAC), and only then", async () => {
    const body = Buffer.from('{"event":"message.didCreate","n":"identity"}');
    const key = spillKey(new Date('2025-07-02T10:00:00Z'), eventIdOf(body));
    // Already there with the right bytes, but without the MAC (planted, or written before MACs).
    await emulator.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
    const inner = counted();
    const store = new VerifiedBlobStore(inner, { identityMetadata: ['local-mac'] });
    await store.put(key, body, { metadata: { 'local-mac': 'mac-1', 'request-id': 'r1' } });
    expect(inner.puts).toBe(1);
    expect((await store.get(key)).metadata).toMatchObject({ 'local-mac': 'mac-1', 'request-id': 'r1' });
    // Same bytes and MAC: kept, whatever the other metadata says (another delivery's request id).
    await store.put(key, body, { metadata: { 'local-mac': 'mac-1', 'request-id': 'r2' } });
    expect(inner.puts).toBe(1);
    expect((await store.get(key)).metadata['request-id']).toBe('r1');
  });

  it('writes concurrent puts of one key one after the other, so the second never rewrites the first', async () => {
    const body = Buffer.from('{"event":"message.didCreate","n":3}');
    const key = spillKey(new Date('2025-07-02T10:00:00Z'), eventIdOf(body));
    const inner = counted();
    const store = new VerifiedBlobStore(inner);
    await Promise.all([store.put(key, body), store.put(key, body), store.put(key, body)]);
    expect(inner.puts).toBe(1);
    expect((await store.get(key)).body.equals(body)).toBe(true);
  });

  it('finishes a put its caller gave up on, so no half object is left behind', async () => {
    const body = Buffer.from(`{"event":"message.didCreate","big":"${'x'.repeat(200_000)}"}`);
    const key = spillKey(new Date('2025-07-02T10:00:00Z'), eventIdOf(body));
    const controller = new AbortController();
    const store = new VerifiedBlobStore(new S3BlobStore(emulator.s3, BUCKET));
    const put = store.put(key, body, { signal: controller.signal });
    controller.abort(new Error('the deadline passed'));
    await put;
    expect((await store.get(key)).body.equals(body)).toBe(true);
  });

  it('reports an inbox object whose bytes do not hash to its key as incomplete', async () => {
    const body = Buffer.from('{"event":"message.didCreate","n":3}');
    const key = spillKey(new Date('2025-07-02T10:00:00Z'), eventIdOf(body));
    await emulator.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body.subarray(0, 10) }));
    const store = new VerifiedBlobStore(new S3BlobStore(emulator.s3, BUCKET));
    await expect(store.get(key)).rejects.toBeInstanceOf(IncompleteObjectError);
    await expect(store.get(key)).rejects.toThrow(new RegExp(`object ${key} is incomplete: its 10 bytes hash to event id`));
    // A put of the right bytes repairs it.
    await store.put(key, body);
    expect((await store.get(key)).body.equals(body)).toBe(true);
  });

  it('passes other keys through unchecked', async () => {
    const store = new VerifiedBlobStore(new S3BlobStore(emulator.s3, BUCKET));
    await store.put('notes/readme.txt', Buffer.from('hello'));
    expect((await store.get('notes/readme.txt')).body.toString()).toBe('hello');
    await store.delete('notes/readme.txt');
    await expect(store.get('notes/readme.txt')).rejects.toThrow(/no object under 'notes\/readme.txt'/);
  });

  it('refuses a zero attempt count', () => {
    expect(() => new VerifiedBlobStore(new S3BlobStore(emulator.s3, BUCKET), { attempts: 0 })).toThrow(/attempts must be a positive integer/);
  });
});
