/**
 * The archive bucket as `erase --aws` erases it (cli/erase/target.ts):
 *
 * - `archive`: the objects Athena names (`"$path"`, `./aws-athena.ts`) whose lines hold the user,
 *   each rewritten without those lines (`rewriteArchiveObject`) by this one process, one object at
 *   a time: read with its ETag, written back only over that ETag (`If-Match`; a 412 reads it again
 *   and redoes it), or deleted when no line is left; then its older versions are deleted so none
 *   keeps the lines. Only keys Athena named are touched: Firehose writes every delivery to a new
 *   key, so an object delivered meanwhile is never read, overwritten or lost.
 * - `inbox`: copies of bodies in the inbox (`inbox/large/`: too large for a queue message or a
 *   line; `inbox/spill/`: spilled when the queue failed), every version of them, whose body holds
 *   the user; each key is deleted with all its versions. It runs last: the archive's pointer lines
 *   and the dead-letter queue's claim checks are checked against these copies.
 */
import { ARCHIVE_EVENTS_PREFIX, INBOX_LARGE_PREFIX, INBOX_SPILL_PREFIX } from '../../lambda/core/archive-layout.js';
import { toArchiveRecord } from '../../lambda/core/fanout/event-records.js';
import { decodeBody } from '../../lambda/core/fanout/record.js';
import { fromBlobMetadata, parseInboxKey } from '../../lambda/core/inbox.js';
import { recordMentionsUser, rewriteArchiveObject, type ArchiveRewrite } from '../../lambda/core/privacy/archive-rewrite.js';
import { PAYLOAD_IN_S3_FLAG } from '../../lambda/core/privacy/user-match.js';
import { awsError } from '../aws-errors.js';
import { CliError } from '../errors.js';
import { athenaColumn, candidateQuery, type AthenaWhere, type DayRange } from './aws-athena.js';
import {
  eachVersionPage,
  deleteOldVersions,
  deleteVersions,
  isConditionLost,
  readJson,
  readObject,
  versionsOf,
  writeObject,
  type S3,
} from './aws-s3.js';
import type { ErasureStore, ErasureUnit, UnitResult } from './target.js';

/** Conditional writes of one object lost to a concurrent change before the erasure gives up on it. */
const MAX_CONDITION_RETRIES = 5;

/** The object key of an Athena `"$path"` in `bucket`; undefined for anything that is not an archive object there. */
export function archiveKeyOf(path: string, bucket: string): string | undefined {
  const prefix = `s3://${bucket}/`;
  if (!path.startsWith(prefix)) return undefined;
  const key = path.slice(prefix.length);
  return key.startsWith(ARCHIVE_EVENTS_PREFIX) ? key : undefined;
}

/** Rewrites `body` without the user's lines; a line keeping its body in S3 is checked against that copy. */
async function rewriteFor(s3: S3, bucket: string, body: Buffer, userId: string): Promise<ArchiveRewrite> {
  // Two passes: the predicate is synchronous, so the bodies kept in S3 are read first.
  const copies = new Map<string, unknown>();
  rewriteArchiveObject(body, ({ record }) => {
    if (record.flags.includes(PAYLOAD_IN_S3_FLAG)) copies.set(record.payload, undefined);
    return false;
  });
  for (const key of copies.keys()) copies.set(key, await readJson(s3, bucket, key));
  return rewriteArchiveObject(body, ({ record }) =>
    record.flags.includes(PAYLOAD_IN_S3_FLAG) ? recordMentionsUser(record, userId, copies.get(record.payload)) : recordMentionsUser(record, userId),
  );
}

/** The `archive` store (see the file's comment). */
export function archiveStore(o: { s3: S3; bucket: string; where: AthenaWhere; range: DayRange }): ErasureStore {
  const { s3, bucket } = o;
  return {
    name: 'archive',
    async find(userId) {
      const query = candidateQuery('"$path"', userId, o.range);
      const keys = [...new Set((await athenaColumn(o.where, query.sql, query.params)).map((p) => archiveKeyOf(p, bucket)))];
      const units: ErasureUnit[] = [];
      for (const key of keys.filter((k): k is string => k !== undefined).sort()) {
        const object = await readObject(s3, bucket, key);
        if (object === undefined) continue;
        const { removed } = await rewriteFor(s3, bucket, object.body, userId);
        if (removed > 0) units.push({ id: key, records: removed });
      }
      return units;
    },
    async erase(unit, userId): Promise<UnitResult> {
      const key = unit.id;
      if (archiveKeyOf(`s3://${bucket}/${key}`, bucket) === undefined) throw new RangeError(`'${key}' is not an archive object key`);
      for (let attempt = 0; attempt <= MAX_CONDITION_RETRIES; attempt++) {
        const object = await readObject(s3, bucket, key);
        // Gone (deleted by an earlier run): only older versions may be left.
        if (object === undefined) return { removed: 0, objectsDeleted: await deleteOldVersions(s3, bucket, key, 'all') };
        const rewrite = await rewriteFor(s3, bucket, object.body, userId);
        if (!rewrite.changed) return { removed: 0, objectsDeleted: await deleteOldVersions(s3, bucket, key, object.versionId) };
        if (rewrite.body === undefined) {
          // No line is left: every version of the key goes (each held some of these lines).
          const deleted = await deleteOldVersions(s3, bucket, key, 'all');
          return { removed: rewrite.removed, objectsDeleted: [key, ...deleted] };
        }
        let written: string | undefined;
        try {
          written = await writeObject(s3, {
            Bucket: bucket,
            Key: key,
            Body: rewrite.body,
            ...(object.etag !== undefined ? { IfMatch: object.etag } : {}),
            ...(object.contentType !== undefined ? { ContentType: object.contentType } : {}),
            ...(object.contentEncoding !== undefined ? { ContentEncoding: object.contentEncoding } : {}),
            ...(Object.keys(object.metadata).length > 0 ? { Metadata: { ...object.metadata } } : {}),
          });
        } catch (err) {
          if (isConditionLost(err)) continue;
          throw awsError(err, `write s3://${bucket}/${key} back without the user's lines (s3:PutObject)`);
        }
        return { removed: rewrite.removed, objectsRewritten: [key], objectsDeleted: await deleteOldVersions(s3, bucket, key, written) };
      }
      throw new CliError(`s3://${bucket}/${key} changed under every one of ${MAX_CONDITION_RETRIES + 1} rewrites; run the erasure again`);
    },
  };
}

/** Whether an inbox key's day (`inbox/<kind>/<YYYY-MM-DD>/<eventId>`) is in the range. */
function inRange(key: string, range: DayRange): boolean {
  const ref = parseInboxKey(key);
  if (ref === undefined) return false;
  return (range.from === undefined || ref.day >= range.from) && (range.to === undefined || ref.day <= range.to);
}

/** The `inbox` store (see the file's comment). */
export function inboxStore(o: { s3: S3; bucket: string; range: DayRange; now: () => Date }): ErasureStore {
  const { s3, bucket } = o;
  return {
    name: 'inbox',
    async find(userId) {
      const versions = new Map<string, string[]>();
      for (const prefix of [INBOX_LARGE_PREFIX, INBOX_SPILL_PREFIX]) {
        await eachVersionPage(s3, bucket, prefix, (page) => {
          for (const v of page.Versions ?? []) {
            if (!v.Key || !v.VersionId || !inRange(v.Key, o.range)) continue;
            versions.set(v.Key, [...(versions.get(v.Key) ?? []), v.VersionId]);
          }
        });
      }
      const units: ErasureUnit[] = [];
      for (const [key, ids] of [...versions].sort(([a], [b]) => (a < b ? -1 : 1))) {
        let holds = 0;
        for (const versionId of ids) {
          const object = await readObject(s3, bucket, key, versionId);
          if (object === undefined) continue;
          // Decoded as the fan-out decodes a fetched body: the object's metadata carries the queue's attributes.
          const event = decodeBody(object.body, { messageId: key, attributes: fromBlobMetadata(object.metadata) }, o.now());
          if (recordMentionsUser(toArchiveRecord(event), userId)) holds++;
        }
        if (holds > 0) units.push({ id: key, records: holds });
      }
      return units;
    },
    async erase(unit) {
      const key = unit.id;
      if (parseInboxKey(key) === undefined) throw new RangeError(`'${key}' is not an inbox key`);
      const all = await versionsOf(s3, bucket, key);
      const deleted = await deleteVersions(s3, bucket, key, all);
      return { removed: all.some((v) => !v.deleteMarker) ? unit.records : 0, objectsDeleted: deleted };
    },
  };
}
