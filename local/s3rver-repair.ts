/**
 * Repairs what a crash can leave in a folder written by s3rver before the S3 emulator serves it.
 *
 * s3rver (local mode's S3 until `s3-emulator.ts` replaced it, in the same file layout) wrote an
 * object in three steps straight into place: the body, then its `.md5`, then its
 * `._S3rver_metadata.json`, and answered the put only after the last step. A process killed during
 * that last write left an empty or cut-off metadata file. s3rver then failed every request that
 * touched the object with a 500, including every listing of a prefix that held it; the emulator
 * lists it but still cannot serve it without its metadata. One torn spill under `inbox/spill/`
 * would keep the spill drain from ever processing it, so an acknowledged event would wait there
 * forever. S3 itself never shows an object whose put did not finish, so local mode repairs the
 * folder at start-up.
 *
 * Folders written only by the emulator need no repair: it writes each file under a temporary name,
 * syncs it and renames it into place (metadata, md5, then the object), so an object file that exists
 * always has whole sidecars. Folders that s3rver wrote before may still hold torn objects, so the
 * repair still runs at every start:
 *
 * - An inbox object (`inbox/spill/…`, `inbox/large/…`) whose body hashes to the event id in its key
 *   is whole. It gets its metadata back: the complete name/value pairs left in the torn file, plus
 *   the event id and the content type. The fan-out falls back to the body for any attribute left
 *   out. The event was verified before it was written, so processing it is right even if its put
 *   was never answered.
 * - An inbox object with a torn body as well was never acknowledged (the receiver answers only
 *   once its put reads back whole). It is moved out of s3rver's folder to `quarantine`: kept, never
 *   deleted, and a warning names it.
 *
 * Only `inbox/` is checked: it stays small (spills are deleted once processed), where the archive
 * grows by an object every few seconds and reading every metadata file at each start would cost
 * seconds (100,000 objects: 0.9 s warm, 7.6 s from a cold cache). An archive object under `events/`
 * needs no repair: its key names its stream segment, which is deleted only after the object read
 * back whole, so a torn one still has its segment, and the stream writes it again as it opens.
 * An object whose metadata file is missing is left alone: it is served without user metadata.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { INBOX_LARGE_PREFIX, INBOX_SPILL_PREFIX } from '../lambda/core/archive-layout.js';
import { eventIdOf } from '../lambda/core/event-id.js';
import { parseInboxKey } from '../lambda/core/inbox.js';
import { silentLogger, type Logger } from '../lambda/core/telemetry.js';
import { parseJsonObject } from './json-object.js';
import { S3RVER_MD5_SUFFIX, S3RVER_METADATA_SUFFIX, S3RVER_OBJECT_SUFFIX } from './paths.js';

const INBOX_CONTENT_TYPE = 'application/octet-stream';

export interface S3rverRepairOptions {
  /** Where objects that cannot be repaired are moved, under `<bucket>/<key>`. */
  readonly quarantine: string;
  readonly logger?: Logger;
}

/** What the repair did, object by object (`bucket/key`). */
export interface S3rverRepairReport {
  /** Inbox objects whose body was whole and whose metadata was written again. */
  readonly repaired: string[];
  /** Objects moved to the quarantine folder. */
  readonly quarantined: string[];
}

/** The key prefixes checked in each bucket. */
const CHECKED_PREFIXES = [INBOX_LARGE_PREFIX, INBOX_SPILL_PREFIX];

/** Walks the inbox of each bucket in s3rver's folder `dir` (`<dir>/<bucket>/<key>…`) and repairs objects with torn metadata. */
export function repairS3rverFolder(dir: string, opts: S3rverRepairOptions): S3rverRepairReport {
  const logger = opts.logger ?? silentLogger;
  const report: S3rverRepairReport = { repaired: [], quarantined: [] };
  let buckets: string[];
  try {
    buckets = readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return report;
    throw err;
  }
  for (const bucket of buckets) {
    const bucketDir = join(dir, bucket);
    for (const objectPath of CHECKED_PREFIXES.flatMap((prefix) => [...objectFiles(join(bucketDir, ...prefix.split('/').filter(Boolean)))])) {
      const base = objectPath.slice(0, -S3RVER_OBJECT_SUFFIX.length);
      const metadataPath = `${base}${S3RVER_METADATA_SUFFIX}`;
      let text: string;
      try {
        text = readFileSync(metadataPath, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      if (parseJsonObject(text)) continue;
      const key = relative(bucketDir, base).split(sep).join('/');
      const name = `${bucket}/${key}`;
      const body = readFileSync(objectPath);
      const ref = parseInboxKey(key);
      if (ref && eventIdOf(body) === ref.eventId) {
        const metadata = { 'content-type': INBOX_CONTENT_TYPE, ...salvagePairs(text), 'x-amz-meta-event-id': ref.eventId };
        writeFileSync(`${base}${S3RVER_MD5_SUFFIX}`, createHash('md5').update(body).digest('hex'));
        writeAtomically(metadataPath, JSON.stringify(metadata, null, 2));
        report.repaired.push(name);
        logger.warn('local S3: restored the metadata of an inbox object cut short by a crash; its body is whole', { key: name });
      } else {
        // Not whole: its put never read back, so the receiver never answered 200 for it.
        const target = join(opts.quarantine, bucket, ...key.split('/'));
        mkdirSync(dirname(target), { recursive: true });
        for (const suffix of [S3RVER_OBJECT_SUFFIX, S3RVER_MD5_SUFFIX, S3RVER_METADATA_SUFFIX]) {
          if (existsSync(`${base}${suffix}`)) renameSync(`${base}${suffix}`, `${target}${suffix}`);
        }
        report.quarantined.push(name);
        logger.warn('local S3: moved aside an inbox object whose write was cut short by a crash (never acknowledged; it cannot be served)', {
          key: name,
          movedTo: target,
        });
      }
    }
  }
  return report;
}

function* objectFiles(d: string): Generator<string> {
  let entries;
  try {
    entries = readdirSync(d, { withFileTypes: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  for (const entry of entries) {
    const p = join(d, entry.name);
    if (entry.isDirectory()) yield* objectFiles(p);
    else if (entry.name.endsWith(S3RVER_OBJECT_SUFFIX)) yield p;
  }
}

/** The complete `"name": "value"` pairs of a cut-off metadata file (s3rver writes one per line). */
function salvagePairs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of text.matchAll(/^\s*"((?:x-amz-meta-)?[a-z0-9-]+)": ("(?:[^"\\]|\\.)*"),?\s*$/gm)) {
    try {
      out[m[1] as string] = JSON.parse(m[2] as string) as string;
    } catch {
      // A pair cut inside its value: left out.
    }
  }
  return out;
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.repair-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
