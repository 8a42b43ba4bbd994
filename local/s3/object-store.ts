/**
 * The local S3 emulator's buckets and objects on disk, in s3rver 3's layout, since the CLI's tools
 * and the start-up repair read them directly: object `<key>` of bucket `<bucket>` is
 * `<dir>/<bucket>/<key>._S3rver_object` (a key ending in `/` is `<key>._S3rver_object`, i.e. a file
 * in the folder `<key>`), next to `<key>._S3rver_object.md5` (hex md5) and
 * `<key>._S3rver_metadata.json` (the stored headers and `x-amz-meta-*`); a bucket is a folder.
 *
 * Unlike s3rver, each file is written whole under a temporary name in `<dir>/.s3-emulator-tmp`
 * (same file system; emptied at start, never listed), synced, and renamed into place: metadata,
 * md5, then the object, so an object file that exists is always whole. Writes and deletes of one
 * object run one at a time.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { syncDir } from '../append-log.js';
import { parseJsonObject } from '../json-object.js';
import { S3RVER_MD5_SUFFIX, S3RVER_METADATA_SUFFIX, S3RVER_OBJECT_SUFFIX } from '../paths.js';
import { badRequest, noSuchKey, S3Error } from './errors.js';
import { keptMetadata } from './metadata.js';
import { validBucketName } from './request-parts.js';

const TMP_DIR = '.s3-emulator-tmp';

/** An object opened for reading; the caller closes `fh`. */
export interface OpenedObject {
  readonly fh: FileHandle;
  readonly size: number;
  readonly mtime: Date;
  readonly metadata: Record<string, string>;
  /** Its md5, hex. */
  readonly etag: string;
}

export class S3ObjectStore {
  private readonly tmp: string;
  private readonly locks = new Map<string, Promise<void>>();

  /** Creates `root` if needed and empties its temporary folder: nothing is being written yet. */
  constructor(private readonly root: string) {
    this.tmp = join(root, TMP_DIR);
    mkdirSync(root, { recursive: true, mode: 0o700 });
    rmSync(this.tmp, { recursive: true, force: true });
    mkdirSync(this.tmp, { mode: 0o700 });
  }

  async listBuckets(): Promise<Array<{ readonly name: string; readonly created: Date }>> {
    const entries = await readdir(this.root, { withFileTypes: true });
    return Promise.all(
      entries
        .filter((e) => e.isDirectory() && validBucketName(e.name))
        .map(async (e) => {
          const st = await stat(this.bucketDir(e.name));
          return { name: e.name, created: st.birthtimeMs > 0 ? st.birthtime : st.mtime };
        }),
    );
  }

  async createBucket(bucket: string): Promise<void> {
    try {
      await mkdir(this.bucketDir(bucket), { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', {
        BucketName: bucket,
      });
    }
  }

  async requireBucket(bucket: string): Promise<void> {
    const st = await stat(this.bucketDir(bucket)).catch(() => undefined);
    if (!st?.isDirectory()) throw new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  }

  /** The keys after `startAfter` under `prefix`, in S3's order; folders that cannot hold one are skipped. */
  async listKeys(bucket: string, prefix: string, startAfter: string): Promise<string[]> {
    const keys: string[] = [];
    const walk = async (path: string, rel: string): Promise<void> => {
      const entries = await readdir(path, { withFileTypes: true }).catch((err: NodeJS.ErrnoException) => {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return [];
        throw err;
      });
      for (const e of entries) {
        if (e.isDirectory()) {
          const sub = `${rel}${e.name}/`;
          if (e.name.includes('._S3rver_') || !(sub.startsWith(prefix) || prefix.startsWith(sub))) continue;
          if (compareBytes(sub, startAfter) < 0 && !startAfter.startsWith(sub)) continue; // All its keys come before.
          await walk(join(path, e.name), sub);
        } else if (e.isFile() && e.name.endsWith(S3RVER_OBJECT_SUFFIX)) {
          const key = rel + e.name.slice(0, -S3RVER_OBJECT_SUFFIX.length);
          if (key.startsWith(prefix) && compareBytes(key, startAfter) > 0) keys.push(key);
        }
      }
    };
    await walk(this.bucketDir(bucket), '');
    return keys.sort(compareBytes);
  }

  /** An object's size, time and md5, or undefined when it is not there (deleted since it was listed). */
  async describe(bucket: string, key: string): Promise<{ size: number; mtime: Date; etag: string } | undefined> {
    const file = this.objectPath(bucket, key, S3RVER_OBJECT_SUFFIX);
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile()) return undefined;
    return { size: st.size, mtime: st.mtime, etag: await readMd5(file) };
  }

  /**
   * Stores an object: `receive` writes its body through the function it is given and returns the
   * md5 (hex), which is returned. The object replaces any earlier one only once it is whole.
   */
  async put(
    bucket: string,
    key: string,
    metadata: Record<string, string>,
    receive: (write: (chunk: Buffer) => Promise<void>) => Promise<string>,
  ): Promise<string> {
    const objectTmp = join(this.tmp, randomBytes(12).toString('hex'));
    const written: string[] = [objectTmp];
    try {
      const fh = await open(objectTmp, 'wx', 0o600);
      let md5: string;
      try {
        md5 = await receive((chunk) => writeAll(fh, chunk));
        await fh.sync();
      } finally {
        await fh.close();
      }
      const metadataTmp = await this.writeTemp(JSON.stringify(metadata, null, 2));
      written.push(metadataTmp);
      const md5Tmp = await this.writeTemp(md5);
      written.push(md5Tmp);
      // Sidecars first, the object last: an object file that exists is whole with its sidecars. (An
      // overwrite shows the new sidecars an instant before the new body.)
      await this.exclusive(`${bucket}/${key}`, async () => {
        const target = this.objectPath(bucket, key, S3RVER_OBJECT_SUFFIX);
        for (let attempt = 1; ; attempt++) {
          await mkdir(dirname(target), { recursive: true, mode: 0o700 });
          try {
            await rename(metadataTmp, this.objectPath(bucket, key, S3RVER_METADATA_SUFFIX));
            await rename(md5Tmp, this.objectPath(bucket, key, S3RVER_MD5_SUFFIX));
            await rename(objectTmp, target);
            break;
          } catch (err) {
            // A delete of a neighbour may remove the (then empty) folder between mkdir and rename.
            if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 5) throw err;
          }
        }
        await syncDir(dirname(target));
      });
      return md5;
    } catch (err) {
      await Promise.all(written.map((p) => unlink(p).catch(() => undefined)));
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENAMETOOLONG') throw badRequest('KeyTooLongError', 'A segment of this key is too long for a file name.', { Key: key });
      if (code === 'ENOTDIR' || code === 'EISDIR')
        throw badRequest('InvalidArgument', 'This key clashes with the folder or file of another key in the local S3 emulator.', { Key: key });
      throw err;
    }
  }

  /** Opens an object with its metadata and md5 (NoSuchKey when there is none). */
  async open(bucket: string, key: string): Promise<OpenedObject> {
    const file = this.objectPath(bucket, key, S3RVER_OBJECT_SUFFIX);
    const fh = await open(file, 'r').catch(() => undefined);
    if (!fh) throw noSuchKey(key);
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw noSuchKey(key);
      const metadata = await readMetadata(this.objectPath(bucket, key, S3RVER_METADATA_SUFFIX), key);
      return { fh, size: st.size, mtime: st.mtime, metadata, etag: await readMd5(file) };
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Deletes an object (none is fine) and the folders it leaves empty, as s3rver did. */
  async delete(bucket: string, key: string): Promise<void> {
    await this.exclusive(`${bucket}/${key}`, async () => {
      for (const suffix of [S3RVER_OBJECT_SUFFIX, S3RVER_MD5_SUFFIX, S3RVER_METADATA_SUFFIX]) {
        await unlink(this.objectPath(bucket, key, suffix)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
        });
      }
      // A folder that is not empty stops it.
      const parts = key.split('/').slice(0, -1);
      for (; parts.length > 0; parts.pop()) {
        if (
          !(await rmdir(join(this.bucketDir(bucket), ...parts)).then(
            () => true,
            () => false,
          ))
        )
          break;
      }
    });
  }

  /** Runs `fn` after every earlier write or delete of the same object has finished. */
  private async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.locks.get(name) ?? Promise.resolve()).then(fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(name, settled);
    try {
      return await run;
    } finally {
      if (this.locks.get(name) === settled) this.locks.delete(name);
    }
  }

  private bucketDir(bucket: string): string {
    return join(this.root, bucket);
  }

  /** The path of an object's file with `suffix` (s3rver's naming: the key's last segment + suffix). */
  private objectPath(bucket: string, key: string, suffix: string): string {
    const parts = key.split('/');
    const last = parts.pop() as string;
    return join(this.root, bucket, ...parts, `${last}${suffix}`);
  }

  private async writeTemp(text: string): Promise<string> {
    const path = join(this.tmp, randomBytes(12).toString('hex'));
    const fh = await open(path, 'wx', 0o600);
    try {
      await writeAll(fh, Buffer.from(text));
      await fh.sync();
    } finally {
      await fh.close();
    }
    return path;
  }
}

async function readMetadata(path: string, key: string): Promise<Record<string, string>> {
  // A missing file: s3rver served such an object without metadata, and so does the emulator.
  const text = await readFile(path, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? '{}' : Promise.reject(err)));
  const parsed = parseJsonObject(text);
  if (!parsed) {
    throw new S3Error(
      500,
      'InternalError',
      'The metadata file of this object is unreadable (an s3rver write cut short by a crash?); local mode repairs inbox objects at start-up.',
      { Key: key },
    );
  }
  return keptMetadata(parsed);
}

/** The object's md5 from its sidecar, or hashed from the file when the sidecar is missing or bad. */
async function readMd5(objectFile: string): Promise<string> {
  const text = await readFile(`${objectFile}.md5`, 'utf8').catch(() => '');
  if (/^[0-9a-f]{32}$/.test(text)) return text;
  const hash = createHash('md5');
  const fh = await open(objectFile, 'r');
  try {
    for await (const chunk of fh.createReadStream({ autoClose: false })) hash.update(chunk as Buffer);
  } finally {
    await fh.close();
  }
  return hash.digest('hex');
}

/** S3 orders keys by their UTF-8 bytes. */
function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

async function writeAll(fh: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length;) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
}
