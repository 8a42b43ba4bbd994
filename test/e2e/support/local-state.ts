/** Local mode from outside, for the e2e tests: starting it as a process, and reading the archive from s3rver's files and the store through dynalite. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BatchGetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { vi } from 'vitest';
import { LOCAL_BUCKET_NAME, LOCAL_TABLE_NAME, localPaths } from '../../../local/paths.js';

/** Event ids in the archive, read straight from s3rver's files (objects end in `._S3rver_object`). */
export function archivedIds(root: string): Set<string> {
  const ids = new Set<string>();
  const walk = (d: string) => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if (n.endsWith('.gz._S3rver_object')) {
        try {
          for (const l of gunzipSync(readFileSync(p)).toString('utf8').split('\n')) if (l) ids.add((JSON.parse(l) as { event_id: string }).event_id);
        } catch {
          // Being written right now: read it on the next pass.
        }
      } else if (!n.includes('._S3rver_')) {
        walk(p);
      }
    }
  };
  walk(join(root, 's3', LOCAL_BUCKET_NAME, 'events'));
  return ids;
}

/** The ids among `ids` that have an event item in the store. */
export async function storedIds(client: DynamoDBClient, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 100) {
    let keys = ids.slice(i, i + 100).map((id) => ({ PK: { S: `EVENT#${id}` }, SK: { S: 'EVENT' } }));
    while (keys.length > 0) {
      const out = await client.send(new BatchGetItemCommand({ RequestItems: { [LOCAL_TABLE_NAME]: { Keys: keys, ProjectionExpression: 'PK' } } }));
      for (const item of out.Responses?.[LOCAL_TABLE_NAME] ?? []) found.add((item.PK?.S ?? '').replace(/^EVENT#/, ''));
      keys = (out.UnprocessedKeys?.[LOCAL_TABLE_NAME]?.Keys ?? []) as typeof keys;
    }
  }
  return found;
}

/** A local-mode process started by a test, once it has printed where it listens. */
export interface RunningLocalMode {
  readonly child: ChildProcess;
  readonly url: string;
  readonly dynamodb: string;
  readonly exited: Promise<number | null>;
  output(): string;
}

/**
 * Spawns a process that runs local mode and waits for its `listening on <url>` and `dynamodb <url>`
 * lines (or fails with its output if it exits first). The caller kills it; `track` collects it for cleanup.
 */
export async function spawnLocalMode(
  args: readonly string[],
  opts: { cwd: string; env: NodeJS.ProcessEnv; track: ChildProcess[]; label: string; intervalMs?: number },
): Promise<RunningLocalMode> {
  const child = spawn(process.execPath, [...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  opts.track.push(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await Promise.race([
    vi.waitFor(
      () => {
        const url = /^listening on (http:\/\/\S+)$/m.exec(out)?.[1];
        const dynamodb = /^dynamodb\s+(http:\/\/\S+)/m.exec(out)?.[1];
        if (!url || !dynamodb) throw new Error('not ready yet');
        return { url, dynamodb };
      },
      { timeout: 30_000, interval: opts.intervalMs ?? 25 },
    ),
    exited.then((code) => {
      throw new Error(`${opts.label} exited with ${code} before it was ready:\n${out}`);
    }),
  ]);
  return { child, ...ready, exited, output: () => out };
}

/** The credentials local mode's emulators take: the installation's own, in its state folder. */
export function installationCredentials(root: string): { accessKeyId: string; secretAccessKey: string } {
  return JSON.parse(readFileSync(localPaths(root).emulatorCredentialsFile, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
}
