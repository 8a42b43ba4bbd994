import { describe, expect, it } from 'vitest';
import { LazyBlobStore } from '../../lambda/adapters/lazy-blob-store.js';
import { InMemoryBlobStore } from '../support/fakes.js';

describe("LazyBlobStore (the receiver's S3 client, loaded on first use)", () => {
  it('loads nothing until used, then once for concurrent first calls', async () => {
    const inner = new InMemoryBlobStore();
    let loads = 0;
    const lazy = new LazyBlobStore(async () => {
      loads++;
      return inner;
    }, 'archive-bucket');
    expect(loads).toBe(0);
    expect(lazy.bucket).toBe('archive-bucket');
    await Promise.all([lazy.put('inbox/spill/a', Buffer.from('1'), { metadata: { source: 'x' } }), lazy.put('inbox/spill/b', Buffer.from('2'))]);
    expect((await lazy.get('inbox/spill/a')).metadata).toEqual({ source: 'x' });
    await lazy.delete('inbox/spill/b');
    expect(loads).toBe(1);
    expect(inner.keys()).toEqual(['inbox/spill/a']);
  });

  it('hands the abort signal through', async () => {
    const inner = new InMemoryBlobStore();
    inner.hang = () => true;
    const lazy = new LazyBlobStore(async () => inner);
    const controller = new AbortController();
    const put = lazy.put('k', Buffer.from('x'), { signal: controller.signal });
    controller.abort(new Error('deadline'));
    await expect(put).rejects.toThrow('deadline');
  });

  it('a failed load fails that call and is retried by the next', async () => {
    let attempt = 0;
    const lazy = new LazyBlobStore(async () => {
      if (++attempt === 1) throw new Error('import failed');
      return new InMemoryBlobStore();
    });
    await expect(lazy.put('k', Buffer.from('x'))).rejects.toThrow('import failed');
    await expect(lazy.put('k', Buffer.from('x'))).resolves.toBeUndefined();
    expect(attempt).toBe(2);
  });
});
