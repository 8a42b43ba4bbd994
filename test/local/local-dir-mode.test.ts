/** Local mode's folder holds real users' events and the dev secret: it is made owner-only, new or not. */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalPipeline } from '../../local/pipeline.js';

const made: string[] = [];
afterEach(async () => {
  for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
});

async function base(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'local-mode-'));
  made.push(d);
  return d;
}

describe('.local', () => {
  it('is created owner-only (0700)', async () => {
    const dir = join(await base(), '.local');
    const p = await startLocalPipeline({ dir, port: 0, secret: 's', handlers: [] });
    try {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    } finally {
      await p.close();
    }
  });

  it('is made owner-only when an earlier version left it readable by everyone (0755)', async () => {
    const dir = join(await base(), '.local');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const p = await startLocalPipeline({ dir, port: 0, secret: 's', handlers: [] });
    try {
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    } finally {
      await p.close();
    }
  });
});
