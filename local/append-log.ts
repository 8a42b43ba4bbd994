/**
 * An append-only journal file with group commit, the durability primitive of local mode's queue
 * and delivery stream: many concurrent appends share one `write` and one `fdatasync`, so hundreds
 * of acknowledged events per second cost a handful of syncs rather than one each.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { SocialPlusWebhooksError } from '../lambda/core/errors.js';

interface AppendOp {
  readonly kind: 'append';
  readonly data: Buffer;
  readonly durable: boolean;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface ExclusiveOp {
  readonly kind: 'exclusive';
  readonly run: () => Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

type Op = AppendOp | ExclusiveOp;

/** Thrown by appends to a log that was closed. */
export class AppendLogClosedError extends SocialPlusWebhooksError {
  constructor(path: string) {
    super(`journal ${path} is closed`);
    this.name = 'AppendLogClosedError';
  }
}

/** Upper bound of one group's write, so a burst does not build one huge buffer. */
const MAX_GROUP_BYTES = 8 * 1024 * 1024;
const TMP_MARKER = '.tmp-';

/**
 * An open journal. Appends are written in the order they were called; `durable` appends resolve
 * only after the data is synced to disk. `rewrite` atomically replaces the whole file (compaction),
 * ordered with the appends around it.
 */
export class AppendLog {
  private readonly ops: Op[] = [];
  private pumping = false;
  private closed = false;
  /** A failed write may have left half a line: the next write starts on a fresh line. */
  private tailSuspect = false;

  private constructor(
    readonly path: string,
    private fh: FileHandle,
    private bytes: number,
  ) {}

  /** Opens (creating it and its folder if needed) `path` for appending. */
  static async open(path: string): Promise<AppendLog> {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    const fh = await open(path, 'a', 0o600);
    const { size } = await fh.stat();
    return new AppendLog(path, fh, size);
  }

  /** Bytes in the file, including appends not yet synced. */
  get size(): number {
    return this.bytes;
  }

  /** Appends `data` (one or more complete lines). With `durable`, resolves after `fdatasync`. */
  append(data: string | Buffer, opts: { readonly durable?: boolean } = {}): Promise<void> {
    if (this.closed) return Promise.reject(new AppendLogClosedError(this.path));
    return new Promise<void>((resolve, reject) => {
      this.ops.push({
        kind: 'append',
        data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
        durable: opts.durable ?? true,
        resolve,
        reject,
      });
      this.pump();
    });
  }

  /**
   * Atomically replaces the file's content with what `contents()` returns, computed only once every
   * earlier append is written (so a snapshot of in-memory state taken there is consistent with the
   * file). Written to a temporary file, synced, renamed over, and the folder synced.
   */
  rewrite(contents: () => string | Buffer): Promise<void> {
    return this.exclusive(async () => {
      const data = contents();
      const tmp = `${this.path}${TMP_MARKER}${process.pid}-${randomBytes(4).toString('hex')}`;
      try {
        await writeSynced(tmp, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
        await rename(tmp, this.path);
      } catch (err) {
        await unlink(tmp).catch(() => undefined);
        throw err;
      }
      await syncDir(dirname(this.path));
      const old = this.fh;
      this.fh = await open(this.path, 'a', 0o600);
      this.bytes = (await this.fh.stat()).size;
      this.tailSuspect = false;
      await old.close().catch(() => undefined);
    });
  }

  /** Writes and syncs what is pending, then closes the file. Later appends reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.exclusive(async () => {
      this.closed = true;
      await this.fh.datasync().catch(() => undefined);
      await this.fh.close();
    });
  }

  private exclusive(run: () => Promise<void>): Promise<void> {
    if (this.closed) return Promise.reject(new AppendLogClosedError(this.path));
    return new Promise<void>((resolve, reject) => {
      this.ops.push({ kind: 'exclusive', run, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    void this.drain().finally(() => {
      this.pumping = false;
      if (this.ops.length > 0) this.pump();
    });
  }

  /** One group at a time: every append queued while the previous group was syncing goes in the next. */
  private async drain(): Promise<void> {
    while (this.ops.length > 0) {
      const head = this.ops[0] as Op;
      if (head.kind === 'exclusive') {
        this.ops.shift();
        try {
          await head.run();
          head.resolve();
        } catch (err) {
          head.reject(err as Error);
        }
        continue;
      }
      if (this.closed) {
        this.ops.shift();
        head.reject(new AppendLogClosedError(this.path));
        continue;
      }
      const group: AppendOp[] = [];
      let groupBytes = 0;
      while (this.ops[0]?.kind === 'append' && (group.length === 0 || groupBytes < MAX_GROUP_BYTES)) {
        const op = this.ops.shift() as AppendOp;
        group.push(op);
        groupBytes += op.data.length;
      }
      const parts = group.map((op) => op.data);
      if (this.tailSuspect) parts.unshift(Buffer.from('\n'));
      const buf = Buffer.concat(parts);
      try {
        await writeAll(this.fh, buf);
        this.bytes += buf.length;
        this.tailSuspect = false;
        if (group.some((op) => op.durable)) await this.fh.datasync();
        for (const op of group) op.resolve();
      } catch (err) {
        this.tailSuspect = true;
        for (const op of group) op.reject(err as Error);
      }
    }
  }
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  let offset = 0;
  while (offset < buf.length) {
    const { bytesWritten } = await fh.write(buf, offset, buf.length - offset, null);
    offset += bytesWritten;
  }
}

/** Writes a whole file and syncs it before resolving. */
export async function writeSynced(path: string, data: Buffer): Promise<void> {
  const fh = await open(path, 'w', 0o600);
  try {
    await writeAll(fh, data);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/**
 * Syncs a file or folder to disk, best effort. For a file someone else wrote (s3rver) the caller
 * has already read it back whole, and for a folder the rename or unlink in it is atomic anyway, so
 * this only guards against a power cut; a path that is gone, or a platform or file system that
 * cannot sync a folder, is not an error.
 */
export async function syncFile(path: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, 'r');
    await fh.sync();
  } catch {
    // See above: best effort.
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Syncs a folder so a rename or unlink in it survives a power cut (best effort where unsupported). */
export function syncDir(dir: string): Promise<void> {
  return syncFile(dir);
}

/** The result of reading a journal: its complete lines, and what could not be used. */
export interface JournalContents {
  readonly lines: string[];
  /** A last line without its newline: a write cut short by a crash, ignored. */
  readonly tornTail: boolean;
}

/** Reads a journal's complete lines; a missing file reads as empty, a torn last line is dropped. */
export async function readJournal(path: string): Promise<JournalContents> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], tornTail: false };
    throw err;
  }
  const parts = text.split('\n');
  const tail = parts.pop() ?? '';
  return { lines: parts.filter((l) => l.length > 0), tornTail: tail.length > 0 };
}

/** Removes temporary files a crash left behind from `rewrite` of journals in `dir`. */
export async function removeStaleTemporaries(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => basename(n).includes(TMP_MARKER)).map((n) => unlink(join(dir, n)).catch(() => undefined)));
}
