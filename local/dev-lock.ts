/**
 * Who runs local mode on a folder: the lock (`dev.pid`) that keeps two processes off one journal,
 * and `dev.json`, where the running local mode tells the CLI's tools how to reach its admin routes.
 * Small on purpose: tools import it without loading the pipeline.
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SocialPlusWebhooksError } from '../lambda/core/errors.js';

/** What `dev.json` in the state folder says about the running local mode, for the CLI's tools. */
export interface DevInfo {
  readonly pid: number;
  /** Base URL the admin routes answer on (a loopback address). */
  readonly url: string;
  /** Bearer token of the admin routes. */
  readonly token: string;
  readonly startedAt: string;
}

/** Thrown when another process runs local mode on the same folder. */
export class LocalDirInUseError extends SocialPlusWebhooksError {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `local mode is already running on ${dir} (process ${pid}): stop it first, or use another folder (--dir or SOCIALPLUS_LOCAL_DIR); if process ${pid} is not local mode, delete ${join(dir, 'dev.pid')}`,
    );
    this.name = 'LocalDirInUseError';
  }
}

/** Writes `dev.json` (owner-only: it holds the admin token) atomically. */
export async function writeDevInfo(file: string, info: DevInfo): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, file);
}

/** Removes `dev.json` unless another pipeline of this process has replaced it since. */
export async function removeOwnDevInfo(file: string, token: string): Promise<void> {
  const current = await readDevInfo(file);
  if (current === undefined || current.token === token) await rm(file, { force: true });
}

/** Reads `dev.json`; undefined when it is missing or not what local mode writes. */
export async function readDevInfo(file: string): Promise<DevInfo | undefined> {
  let v: Partial<DevInfo>;
  try {
    v = JSON.parse(await readFile(file, 'utf8')) as Partial<DevInfo>;
  } catch {
    return undefined;
  }
  if (typeof v?.pid !== 'number' || typeof v.url !== 'string' || typeof v.token !== 'string') return undefined;
  return { pid: v.pid, url: v.url, token: v.token, startedAt: String(v.startedAt ?? '') };
}

/**
 * Claims the folder with a pid file, so two `dev` processes (or `dev` and a tool that opens the
 * queue while it is stopped) never share one journal. A file left by a process that no longer
 * runs (a crash, a SIGKILL) is taken over. Resolves with the release function.
 */
export async function claimLocalDir(root: string): Promise<() => Promise<void>> {
  const file = join(root, 'dev.pid');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = Number((await readFile(file, 'utf8').catch(() => '')).trim());
    // Another pipeline of this same process (tests) is allowed; another live process is not.
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) throw new LocalDirInUseError(root, pid);
    await rm(file, { force: true });
  }
  throw new Error(`could not claim ${root} for local mode (its dev.pid file keeps reappearing)`);
}

/** Whether a process with this id runs (one of another user counts as running). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
