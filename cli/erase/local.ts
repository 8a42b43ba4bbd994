/**
 * `erase` on local mode's folder (docs/privacy.md): runs while local mode is stopped, because it
 * rewrites files local mode holds open, and refuses while the folder still holds work local mode
 * would do on its next start (accepted events not processed, archive lines not written), since that
 * work may bring the user's events back. It opens the folder's DynamoDB and S3 stand-ins in this
 * process (holding the folder's lock meanwhile, so local mode cannot start on it in between) and
 * opening the queue compacts its journal, so the bodies of finished events leave that file too.
 */
import { existsSync, readdirSync } from 'node:fs';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { HANDLER_STATE_TABLE } from '../../lambda/common/table-schema.js';
import { fromItem } from '../../lambda/adapters/dynamodb-store.js';
import { errorMessage } from '../../lambda/core/errors.js';
import { recordMentionsUser } from '../../lambda/core/privacy/archive-rewrite.js';
import { parsedBody } from '../../lambda/core/privacy/user-match.js';
import { claimLocalDir, isAlive, readDevInfo } from '../../local/dev-lock.js';
import { SEGMENT_FILE_PATTERN } from '../../local/delivery-stream.js';
import { generateEmulatorCredentials } from '../../local/emulator-credentials.js';
import { ensureBucket, localDynamoDbClient, localS3Client, startDynalite, startS3rver } from '../../local/emulators.js';
import { JournalQueue } from '../../local/journal-queue.js';
import { LOCAL_BUCKET_NAME, LOCAL_HANDLER_STATE_TABLE_NAME, LOCAL_TABLE_NAME, localPaths, s3rverObjectFile } from '../../local/paths.js';
import { CliError } from '../errors.js';
import { s3ReceiptStore } from './aws-s3.js';
import { archiveStore, deleteItemsStore, inboxStore, type ItemMatch } from './stores.js';
import { localDeadLetterStore } from './local-dead-letters.js';
import type { ErasureTarget } from './target.js';

/** Opens local mode's folder `dir` (default `.local`, or `SOCIALPLUS_LOCAL_DIR`) for erasing. */
export async function openLocalErasureTarget(dir?: string): Promise<ErasureTarget> {
  const paths = localPaths(dir);
  const info = await readDevInfo(paths.devInfoFile);
  if (info && isAlive(info.pid)) {
    throw new CliError(`local mode is running in ${paths.root} (process ${info.pid}): stop it (Ctrl-C in its terminal) and run erase again`);
  }
  if (!existsSync(paths.root)) throw new CliError(`no local mode folder at ${paths.root}: nothing to erase (give --dir if it is elsewhere)`);
  let release: () => Promise<void>;
  try {
    release = await claimLocalDir(paths.root);
  } catch (err) {
    throw new CliError(`${errorMessage(err)}; erase needs local mode stopped`);
  }
  const opened: Array<() => Promise<void> | void> = [release];
  const close = async () => {
    for (const c of opened.reverse()) await c();
  };
  try {
    await refusePendingWork(paths.queue, paths.stream);
    const credentials = generateEmulatorCredentials();
    const dynalite = await startDynalite({ dir: paths.dynamodb, credentials });
    opened.push(() => dynalite.close());
    const s3emulator = await startS3rver({ dir: paths.s3 });
    opened.push(() => s3emulator.close());
    const dynamodb = localDynamoDbClient(dynalite.endpoint, { credentials });
    const s3 = localS3Client(s3emulator.endpoint);
    opened.push(
      () => dynamodb.destroy(),
      () => s3.destroy(),
    );
    await ensureBucket(s3, LOCAL_BUCKET_NAME);
    return {
      description: `local mode in ${paths.root}`,
      stores: [
        deleteItemsStore('event-store', dynamodb, LOCAL_TABLE_NAME, eventItemMatch, s3, LOCAL_BUCKET_NAME),
        deleteItemsStore('handler-state', dynamodb, LOCAL_HANDLER_STATE_TABLE_NAME, userStateMatch, s3, LOCAL_BUCKET_NAME),
        archiveStore(s3, LOCAL_BUCKET_NAME),
        localDeadLetterStore(paths.queue, s3, LOCAL_BUCKET_NAME),
        inboxStore(s3, LOCAL_BUCKET_NAME),
      ],
      receipts: s3ReceiptStore(s3, LOCAL_BUCKET_NAME, (key) => s3rverObjectFile(paths.s3, LOCAL_BUCKET_NAME, key)),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Refuses when the queue or the delivery stream still hold work local mode would do on its next start. */
async function refusePendingWork(queueDir: string, streamDir: string): Promise<void> {
  let live = 0;
  if (existsSync(queueDir)) {
    const queue = await JournalQueue.open({ dir: queueDir });
    const s = queue.stats();
    live = s.visible + s.inFlight + s.delayed;
    await queue.close();
  }
  const segments = existsSync(streamDir) ? readdirSync(streamDir).filter((n) => SEGMENT_FILE_PATTERN.test(n)).length : 0;
  if (live > 0 || segments > 0) {
    throw new CliError(
      `local mode left work it would do on its next start (${live} accepted event(s) not yet processed, ${segments} archive buffer segment(s) not yet written), ` +
        'which may hold the user: start it (npm start), wait until status shows an empty queue and no buffered lines, stop it, and run erase again',
    );
  }
}

/** An event item the user appears in (its body searched in its S3 copy when the item keeps only the copy's key). */
const eventItemMatch: ItemMatch = async (item, userId, body) => {
  if (!item.PK?.S?.startsWith('EVENT#')) return false;
  const e = fromItem(item);
  const inS3 = e.flags.includes('payload-in-s3') && e.payloadRef !== undefined;
  return recordMentionsUser(e, userId, inS3 ? await body(e.payloadRef as string) : parsedBody(e));
};

/** The example handlers' state of a user: auto-moderation's flags and bans, under `FLAGS#<userId>`. */
const userStateMatch: ItemMatch = (item: Record<string, AttributeValue>, userId: string) =>
  item[HANDLER_STATE_TABLE.partitionKey]?.S === `FLAGS#${userId}`;
