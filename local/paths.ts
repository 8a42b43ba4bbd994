/**
 * Where local mode keeps its state (docs/architecture.md §8), shared by `dev`, `send` and `query` so that every
 * command finds the same files. The root is `.local/` in the current directory unless
 * `SOCIALPLUS_LOCAL_DIR` says otherwise.
 */
import { join, resolve } from 'node:path';

export const LOCAL_TABLE_NAME = 'socialplus-webhooks-events';
export const LOCAL_BUCKET_NAME = 'socialplus-webhooks-archive';
export const LOCAL_STREAM_NAME = 'socialplus-webhooks-archive-stream';
/** The example handlers' state table (auto-moderation, daily counters), as on AWS. */
export const LOCAL_HANDLER_STATE_TABLE_NAME = 'socialplus-webhooks-handler-state';
export const DEFAULT_PORT = 3000;

/**
 * s3rver 3 keeps object `<key>` of a bucket as the file `<s3>/<bucket>/<key>._S3rver_object`, and
 * writes its `.md5` and then its metadata sidecars after it.
 */
export const S3RVER_OBJECT_SUFFIX = '._S3rver_object';
export const S3RVER_MD5_SUFFIX = '._S3rver_object.md5';
export const S3RVER_METADATA_SUFFIX = '._S3rver_metadata.json';

/** The file that holds an object's bytes in s3rver's folder `s3Dir`. */
export function s3rverObjectFile(s3Dir: string, bucket: string, key: string): string {
  return join(s3Dir, bucket, `${key}${S3RVER_OBJECT_SUFFIX}`);
}

export interface LocalPaths {
  readonly root: string;
  /** dynalite's LevelDB files. */
  readonly dynamodb: string;
  /** s3rver's directory: objects live under `<s3>/<bucket>/<key>` (s3rver's own file naming). */
  readonly s3: string;
  /** Objects moved out of s3rver's folder at start-up because a crash cut their write short (`s3rver-repair.ts`). */
  readonly s3Quarantine: string;
  /** The in-process queue's journal (accepted events not yet done) and its DLQ. */
  readonly queue: string;
  /** The in-process delivery stream's buffer journal. */
  readonly stream: string;
  /** The generated dev secret, when `SOCIALPLUS_WEBHOOK_SECRET` is not set. */
  readonly secretFile: string;
  /** The running local mode's process id (the folder's lock). */
  readonly pidFile: string;
  /** The running local mode's admin URL and token (owner-only), for the CLI's tools. */
  readonly devInfoFile: string;
  /** This installation's credentials for its emulators (owner-only, generated at first start). */
  readonly emulatorCredentialsFile: string;
  /** This installation's key for the MACs the receiver puts on inbox objects (owner-only, generated at first start). */
  readonly inboxKeyFile: string;
}

export function localPaths(root: string = process.env.SOCIALPLUS_LOCAL_DIR ?? '.local'): LocalPaths {
  const r = resolve(root);
  return {
    root: r,
    dynamodb: join(r, 'dynamodb'),
    s3: join(r, 's3'),
    s3Quarantine: join(r, 's3-quarantine'),
    queue: join(r, 'queue'),
    stream: join(r, 'stream'),
    secretFile: join(r, 'secret'),
    pidFile: join(r, 'dev.pid'),
    devInfoFile: join(r, 'dev.json'),
    emulatorCredentialsFile: join(r, 'emulator-credentials.json'),
    inboxKeyFile: join(r, 'inbox.key'),
  };
}

/** Environment variable that sets local mode's webhook signing secret (docs/architecture.md §8). */
export const LOCAL_SECRET_ENV = 'SOCIALPLUS_WEBHOOK_SECRET';
/** Environment variable that moves local mode's state folder (default `.local`). */
export const LOCAL_DIR_ENV = 'SOCIALPLUS_LOCAL_DIR';
