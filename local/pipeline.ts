/**
 * Local mode (docs/architecture.md §8): the whole pipeline on this machine with the same handler code as AWS.
 * HTTP front door → receiver handler → journal queue → fan-out handler → DynamoDB (dynalite) +
 * delivery stream → S3 (s3rver) + the registered handlers; all state under one folder.
 *
 * As on AWS, the receiver has the archive bucket's inbox: a body too large for a queue message is
 * claim-checked to `inbox/large/`, and a verified body the queue fails to take within the deadline
 * is spilled to `inbox/spill/`, from where the spill drain (standing in for S3's notification)
 * brings it to the fan-out.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir } from 'node:fs/promises';
import { DynamoDbEventStore } from '../lambda/adapters/dynamodb-store.js';
import { StaticSecretSource } from '../lambda/adapters/static-secret-source.js';
import { INBOX_SPILL_PREFIX } from '../lambda/core/archive-layout.js';
import type { WebhookHandler } from '../lambda/core/define-handler.js';
import { SQS_MAX_MESSAGE_BYTES } from '../lambda/core/limits.js';
import type { BlobStore } from '../lambda/core/ports.js';
import { DEFAULT_SOURCE, SOURCE_NAME } from '../lambda/core/sources.js';
import { precheckWebhook } from '../lambda/core/precheck.js';
import { silentLogger, type MetricName, type Metrics } from '../lambda/core/telemetry.js';
import { DEFAULT_EVENT_RETENTION_DAYS } from '../lambda/common/defaults.js';
import { ENV } from '../lambda/common/env.js';
import { createReceiverHandler } from '../lambda/receiver/handler.js';
import { signatureSplit } from '../lambda/core/signature-split.js';
import { resolveDevSecret } from './dev-secret.js';
import type { LocalDeliveryStream } from './delivery-stream.js';
import { ensureBucket, ensureEventTable, localDynamoDbClient, localS3Client } from './emulators.js';
import { createAdminHandler } from './admin-api.js';
import { CaptureWriter } from './capture.js';
import { createLocalFanout, localHandlersConfig, localInbox, type LocalFanoutSettings } from './fanout-runtime.js';
import { BACKGROUND_PRIORITY, startFanoutProcess, type EmulatorAccess } from './fanout-process.js';
import { loadOrCreateEmulatorCredentials } from './emulator-credentials.js';
import { startEmulatorProcess } from './emulator-process.js';
import { startFrontDoor } from './http-front-door.js';
import { JournalQueue, type BatchConsumer } from './journal-queue.js';
import { DEFAULT_PORT, LOCAL_BUCKET_NAME, LOCAL_HANDLER_STATE_TABLE_NAME, LOCAL_TABLE_NAME, localPaths } from './paths.js';
import { claimLocalDir, removeOwnDevInfo, writeDevInfo, type DevInfo } from './dev-lock.js';
import { repairS3rverFolder } from './s3rver-repair.js';
import { SpillDrain } from './spill-drain.js';
import { loadOrCreateInboxKey } from './inbox-mac.js';
import { inspectorParts } from './inspector/index.js';

export { localHandlersConfig, type LocalHandlersConfig } from './fanout-runtime.js';
export { claimLocalDir, isAlive, LocalDirInUseError, readDevInfo, type DevInfo } from './dev-lock.js';

import type { LocalPipeline, LocalPipelineOptions } from './pipeline-types.js';

export type { LocalPipeline, LocalPipelineOptions, LocalPipelineWrappers } from './pipeline-types.js';

/** Starts local mode; resolves once it serves requests. */
export async function startLocalPipeline(opts: LocalPipelineOptions = {}): Promise<LocalPipeline> {
  const paths = localPaths(opts.dir);
  const logger = opts.logger ?? silentLogger;
  const sources = [DEFAULT_SOURCE, ...(opts.sources ?? []).filter((s) => s !== DEFAULT_SOURCE)];
  for (const s of sources) {
    if (!SOURCE_NAME.test(s)) throw new RangeError(`invalid webhook source name '${s}': use 1-64 lower-case letters, digits and '-'`);
  }
  const port = opts.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer from 0 to 65535, got ${port}`);

  // Owner-only: the folder holds real users' events and the dev secret. Without search permission
  // on it no other local user reaches anything below it, whatever modes the emulators give files.
  await mkdir(paths.root, { recursive: true, mode: 0o700 });
  await chmod(paths.root, 0o700);
  const cleanup: Array<() => Promise<void>> = [];
  const undo = async () => {
    for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  };
  try {
    const inboxKey = await loadOrCreateInboxKey(paths.inboxKeyFile);
    const secret = await resolveDevSecret({
      secretFile: paths.secretFile,
      ...(opts.secret !== undefined ? { explicit: opts.secret } : {}),
      ...(opts.env ? { env: opts.env } : {}),
    });
    const releaseLock = await claimLocalDir(paths.root);
    cleanup.push(releaseLock);
    const capture = opts.captureDir === undefined ? undefined : await CaptureWriter.open({ dir: opts.captureDir, logger });

    // Listen first: a busy port fails in milliseconds, and /healthz answers 503 while starting.
    const door = await startFrontDoor({
      port,
      ...(opts.host ? { host: opts.host } : {}),
      ...(opts.maxBodyBytes ? { maxBodyBytes: opts.maxBodyBytes } : {}),
      logger,
      ...(capture ? { onWebhook: (x) => capture.record(x) } : {}),
    });
    cleanup.push(() => door.close());

    // The emulators run in their own processes (a crash in one cannot take the front door down; it
    // is started again), at a lower CPU priority, and answer only requests signed with this
    // installation's credentials, from no web page.
    const credentials = await loadOrCreateEmulatorCredentials(paths.emulatorCredentialsFile);
    const emulatorOpts = { credentials, credentialsFile: paths.emulatorCredentialsFile, logger, priority: BACKGROUND_PRIORITY } as const;
    // Before the S3 emulator serves the folder: an object whose write a crash cut short (an older
    // version's emulator) fails every listing of its prefix.
    repairS3rverFolder(paths.s3, { quarantine: paths.s3Quarantine, logger });
    const [dynaliteStart, s3Start] = await Promise.allSettled([
      startEmulatorProcess({ kind: 'dynamodb', dir: paths.dynamodb, ...emulatorOpts }),
      startEmulatorProcess({ kind: 's3', dir: paths.s3, ...emulatorOpts }),
    ]);
    for (const started of [dynaliteStart, s3Start]) if (started.status === 'fulfilled') cleanup.push(() => started.value.close());
    if (dynaliteStart.status === 'rejected') throw dynaliteStart.reason;
    if (s3Start.status === 'rejected') throw s3Start.reason;
    const dynalite = dynaliteStart.value;
    const s3emulator = s3Start.value;
    const access: EmulatorAccess = { endpoints: { dynamodb: dynalite.endpoint, s3: s3emulator.endpoint }, credentials };
    const dynamodb = localDynamoDbClient(access.endpoints.dynamodb, { credentials: access.credentials });
    const s3 = localS3Client(access.endpoints.s3, { credentials: access.credentials });
    cleanup.push(async () => {
      dynamodb.destroy();
      s3.destroy();
    });
    await ensureEventTable(dynamodb, LOCAL_TABLE_NAME);
    await ensureBucket(s3, LOCAL_BUCKET_NAME);

    const wrap = opts.wrap ?? {};
    // SQS's size limit, so claim checks happen exactly where they would on AWS.
    const queue = await JournalQueue.open({ maxMessageBytes: SQS_MAX_MESSAGE_BYTES, ...opts.queue, dir: paths.queue, logger });
    cleanup.push(() => queue.close());
    const drain = new SpillDrain({
      s3,
      bucket: LOCAL_BUCKET_NAME,
      queue,
      queued: () => queue.allMessages(),
      inboxKey,
      ...(opts.spillDrainIntervalMs !== undefined ? { intervalMs: opts.spillDrainIntervalMs } : {}),
      logger,
    });
    cleanup.push(() => drain.close());

    // The receiver's counts and, over IPC, the fan-out process's.
    const counts: Partial<Record<MetricName, number>> = {};
    const metrics: Metrics = {
      count(name, value = 1) {
        counts[name] = (counts[name] ?? 0) + value;
      },
    };
    const addCounts = (more: Partial<Record<MetricName, number>>) => {
      for (const [name, value] of Object.entries(more) as Array<[MetricName, number]>) metrics.count(name, value);
    };
    const store = new DynamoDbEventStore(dynamodb, LOCAL_TABLE_NAME);
    const inspection = inspectorParts(logger);
    const inbox = localInbox(s3, paths, inboxKey);
    // Without handlers from the caller, the same list the Lambda builds: the registered handlers
    // plus the example handlers the configuration switches on (HANDLERS_CONFIG, else cdk.json's
    // `handlers`), their state in dynalite.
    const env = opts.env ?? process.env;
    const handlersConfig = opts.handlers ? undefined : localHandlersConfig(env, opts.projectDir ?? process.cwd());
    const handlerStateTable = env[ENV.HANDLER_STATE_TABLE_NAME] ?? LOCAL_HANDLER_STATE_TABLE_NAME;
    const settings: LocalFanoutSettings = {
      paths,
      env: { ...env, [ENV.HANDLER_STATE_TABLE_NAME]: handlerStateTable, [ENV.HANDLERS_CONFIG]: handlersConfig?.value },
      eventRetentionDays: opts.eventRetentionDays ?? DEFAULT_EVENT_RETENTION_DAYS,
      ...(opts.stream ? { stream: opts.stream } : {}),
    };
    const mode = fanoutMode(opts);
    let fanout: RunningFanout;
    if (mode === 'inline') {
      const inline = await createLocalFanout(settings, {
        dynamodb,
        s3,
        newS3Client: () => localS3Client(access.endpoints.s3, { credentials: access.credentials }),
        inbox,
        logger: inspection.fanoutLogger,
        metrics,
        ...(opts.handlers ? { handlers: opts.handlers } : {}),
        wrap,
        observe: (note) => inspection.note(note),
      });
      fanout = {
        mode,
        consumer: inline.consumer,
        handlers: inline.handlers,
        stream: inline.stream,
        flush: () => inline.stream.flush(),
        close: () => inline.close(),
        pid: () => process.pid,
        restarts: () => 0,
      };
    } else {
      const child = await startFanoutProcess({
        ...access,
        settings,
        inboxKey,
        logger: inspection.fanoutLogger,
        onMetrics: addCounts,
        onNotes: (notes) => notes.forEach((n) => inspection.note(n)),
      });
      fanout = {
        mode,
        consumer: child.consumer,
        handlers: child.handlers,
        stream: undefined,
        flush: () => child.flush(),
        close: () => child.close(),
        pid: () => child.pid(),
        restarts: () => child.restarts(),
      };
    }
    cleanup.push(() => fanout.close());

    // A spill is announced to the fan-out at once rather than at the drain's next listing.
    const spillNotifier: BlobStore = {
      bucket: inbox.bucket,
      async put(key, body, options) {
        await inbox.put(key, body, options);
        if (key.startsWith(INBOX_SPILL_PREFIX)) drain.kick();
      },
      get: (key, options) => inbox.get(key, options),
      delete: (key, options) => inbox.delete(key, options),
    };
    const receiver = createReceiverHandler({
      queue: wrap.queue ? wrap.queue(queue) : queue,
      secrets: new StaticSecretSource(Object.fromEntries(sources.map((s) => [s, secret.value]))),
      logger,
      metrics,
      blobs: wrap.blobs ? wrap.blobs(spillNotifier, 'receiver') : spillNotifier,
      ...(opts.receiverDeadlineMs !== undefined ? { deadlineMs: opts.receiverDeadlineMs } : {}),
    });
    queue.start(fanout.consumer);
    drain.start();
    // What the receiver would refuse from the headers and the path alone is answered before the body is read.
    door.serve(receiver, (head) => precheckWebhook(head, { logger, metrics, knownSources: sources }));

    const devInfo: DevInfo = {
      pid: process.pid,
      url: loopbackUrl(opts.host, door.port, door.url),
      token: randomBytes(24).toString('base64url'),
      startedAt: new Date().toISOString(),
    };
    door.serveAdmin(
      devInfo.token,
      createAdminHandler({
        queue,
        signatures: () => signatureSplit(counts),
        dynamodb: { client: dynamodb, tables: { events: LOCAL_TABLE_NAME, handlerState: handlerStateTable } },
      }),
    );
    const inspector = inspection.start({
      token: devInfo.token,
      port: door.port,
      paths,
      dynamodb,
      s3,
      tableName: LOCAL_TABLE_NAME,
      queue,
      handlers: fanout.handlers,
      metrics: () => counts,
      fanoutRestarts: () => fanout.restarts(),
      flushArchive: () => fanout.flush(),
    });
    door.serveInspector(inspector.handle);
    cleanup.push(async () => inspector.close());
    await writeDevInfo(paths.devInfoFile, devInfo);
    const removeDevInfo = () => removeOwnDevInfo(paths.devInfoFile, devInfo.token);
    cleanup.push(removeDevInfo);

    return {
      url: door.url,
      port: door.port,
      inspectorUrl: inspector.link(devInfo.url),
      paths,
      secret,
      sources,
      endpoints: access.endpoints,
      credentials: access.credentials,
      handlers: fanout.handlers.map((h) => ({ name: h.name, events: h.events })),
      handlersConfig: handlersConfig
        ? { from: handlersConfig.from, ...(handlersConfig.file ? { file: handlersConfig.file } : {}) }
        : { from: 'caller' },
      tableName: LOCAL_TABLE_NAME,
      bucket: LOCAL_BUCKET_NAME,
      queue,
      stream: fanout.stream,
      fanout: { mode: fanout.mode, pid: fanout.pid, restarts: fanout.restarts },
      processes: () => [
        ...(fanout.mode === 'process' ? [{ role: 'fan-out' as const, pid: fanout.pid() }] : []),
        { role: 'dynamodb' as const, pid: dynalite.pid() },
        { role: 's3' as const, pid: s3emulator.pid() },
      ],
      drain,
      store,
      dynamodb,
      s3,
      metrics: () => ({ ...counts }),
      queueStats: () => queue.stats(),
      async settle() {
        await capture?.flush();
        for (;;) {
          await queue.drain();
          const announced = await drain.drainOnce();
          const { visible, inFlight, delayed } = queue.stats();
          if (announced === 0 && visible + inFlight + delayed === 0) break;
        }
        await fanout.flush();
      },
      // Reverse start order: requests, then the queue (its batches still write to the stream and
      // the store), then the stream's flush to s3rver, then the emulators. Every step runs even
      // if one before it fails; the first failure is reported.
      close: once(async () => {
        cleanup.length = 0;
        let failure: unknown;
        for (const step of [
          // Its live streams first: the front door waits for open requests.
          async () => inspector.close(),
          () => door.close(),
          async () => capture?.flush(),
          removeDevInfo,
          () => drain.close(),
          () => queue.close(),
          () => fanout.close(),
          async () => {
            dynamodb.destroy();
            s3.destroy();
          },
          () => s3emulator.close(),
          () => dynalite.close(),
          releaseLock,
        ]) {
          try {
            await step();
          } catch (err) {
            failure ??= err;
          }
        }
        if (failure) throw failure;
      }),
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

function once(fn: () => Promise<void>): () => Promise<void> {
  let p: Promise<void> | undefined;
  return () => (p ??= fn());
}

/** The admin routes' base URL: a loopback address even when listening on every interface. */
function loopbackUrl(host: string | undefined, port: number, url: string): string {
  if (host === '0.0.0.0') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return url;
}

type RunningFanout = {
  readonly mode: 'process' | 'inline';
  readonly consumer: BatchConsumer;
  readonly handlers: ReadonlyArray<Pick<WebhookHandler, 'name' | 'events'>>;
  readonly stream: LocalDeliveryStream | undefined;
  flush(): Promise<void>;
  close(): Promise<void>;
  pid(): number | undefined;
  restarts(): number;
};

/** The fan-out runs in its own process unless the caller's objects (handlers, wrappers) must run in this one. */
function fanoutMode(opts: LocalPipelineOptions): 'process' | 'inline' {
  const needsInline = opts.handlers !== undefined || opts.wrap !== undefined;
  if (opts.fanout === 'process' && needsInline)
    throw new RangeError("fanout: 'process' cannot run handlers or wrappers given as objects: use fanout: 'inline'");
  return opts.fanout ?? (needsInline ? 'inline' : 'process');
}
