/**
 * `verify --aws`, the run itself: read the stack's outputs and the source's secret, sign and post N
 * marked events one after another (so each latency is one request's), then follow each accepted
 * event into the event table and, when asked, into the archive. Every client, the HTTP post, the
 * IP lookup, the clock and the sleep are injected, so tests run it against stand-ins without
 * waiting on wall-clock time. Stops with a CliError before posting when the stack or the secret is
 * not usable; otherwise returns the report, problems included.
 */
import { gunzipSync } from 'node:zlib';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { sourceIdPart } from '../../lib/config.js';
import { TABLE, eventKey } from '../../lambda/common/table-schema.js';
import { partitionPrefix } from '../../lambda/core/archive-layout.js';
import { SecretNotConfiguredError } from '../../lambda/core/errors.js';
import { SOURCE_NAME } from '../../lambda/core/receive.js';
import { parseSecretValue } from '../../lambda/core/secret-value.js';
import { STACK_OUTPUTS, SOURCE_OUTPUT_PREFIXES } from '../../lib/stack-outputs.js';
import { awsError } from '../aws-errors.js';
import { readStackOutputs, requireOutput } from '../aws-stack.js';
import { CliError } from '../errors.js';
import { roundMs, truncate } from '../output.js';
import { postSigned, type PostOutcome, type SignedPost } from '../sign-and-post.js';
import { readVerifySample, VERIFY_SAMPLE, newRunId, verificationEvents, type VerificationEvent } from './events.js';
import { latencySummary } from './latency.js';
import { lookupPublicIp } from './public-ip.js';
import {
  classifyAnswer,
  eventProblems,
  latencyProblem,
  putSecretCommand,
  requestProblems,
  stopsRun,
  targetFlags,
  type AdviceContext,
  type EventCheck,
  type Problem,
  type RequestResult,
  type VerifyReport,
} from './report.js';

/** How long the store is polled by default. */
export const DEFAULT_STORE_TIMEOUT_MS = 60_000;
/** Time allowed past the archive buffer for Firehose to deliver and the fan-out to put the lines. */
export const ARCHIVE_MARGIN_MS = 60_000;
/** Clock skew allowed between this machine and AWS when listing archive partitions by hour. */
export const PARTITION_SKEW_MS = 5 * 60_000;

/** The AWS clients the run uses. */
export interface VerifyClients {
  readonly cloudFormation: Pick<CloudFormationClient, 'send'>;
  readonly secretsManager: Pick<SecretsManagerClient, 'send'>;
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
  readonly s3: Pick<S3Client, 'send'>;
}

/** What to verify, from the command's options. */
export interface VerifyPlan {
  readonly stack: string;
  /** `--region`, reported and repeated in suggested commands. */
  readonly region?: string;
  readonly source: string;
  readonly count: number;
  /** How long to wait for the events to appear in the event table. */
  readonly storeTimeoutMs: number;
  /** How long (from the last request) to wait for their archive lines; undefined: the archive is not checked. */
  readonly archiveTimeoutMs?: number;
  /** The secret to read when the stack has no `SecretArn<Source>` output (a source configured with `secretArn`). */
  readonly secretArn?: string;
  /** Per-request timeout. @default 10 s */
  readonly requestTimeoutMs?: number;
}

/** Everything the run talks to or waits on; tests replace each. */
export interface VerifyDeps {
  readonly clients: VerifyClients;
  /** @default postSigned */
  readonly post?: (req: SignedPost) => Promise<PostOutcome>;
  /** Called once, only after a firewall refusal. @default a GET to checkip.amazonaws.com */
  readonly lookupPublicIp?: () => Promise<string | undefined>;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Epoch milliseconds. @default Date.now */
  readonly now?: () => number;
  /** The sample's bytes. @default fixtures/samples/{@link VERIFY_SAMPLE}.json */
  readonly sample?: Buffer;
  /** @default {@link newRunId} of the start time */
  readonly runId?: string;
  /** Short progress notes (`posting 3/5`), for a terminal. */
  readonly onProgress?: (note: string) => void;
  /** Time between two rounds of GetItem. @default 1000 */
  readonly storePollMs?: number;
  /** Time between two listings of the archive. @default 5000 */
  readonly archivePollMs?: number;
}

/** Where the run posts and looks. */
export interface VerifyTarget {
  readonly url: string;
  readonly secretArn: string;
  readonly table: string;
  readonly bucket: string;
}

/**
 * The target from the stack's outputs: the source's `WebhookUrl<Source>` and `SecretArn<Source>`
 * (else `fallbackSecretArn`), `EventTableName`, `ArchiveBucketName`. A CliError names what is missing.
 */
export function targetFromOutputs(outputs: Readonly<Record<string, string>>, stack: string, source: string, fallbackSecretArn?: string): VerifyTarget {
  const part = sourceIdPart(source);
  const urlKey = `${SOURCE_OUTPUT_PREFIXES.webhookUrl}${part}`;
  const url = outputs[urlKey];
  if (!url) {
    const sources = Object.keys(outputs).filter((k) => k.startsWith(SOURCE_OUTPUT_PREFIXES.webhookUrl)).sort();
    throw new CliError(
      sources.length === 0
        ? `stack '${stack}' has no ${SOURCE_OUTPUT_PREFIXES.webhookUrl}… output: is it a socialplus-webhooks stack, deployed with this version (npx cdk deploy)?`
        : `stack '${stack}' has no webhook URL for source '${source}' (output ${urlKey}); it has ${sources.join(', ')}: name one of its sources with --source, or add '${source}' to the sources key and deploy`,
    );
  }
  const secretKey = `${SOURCE_OUTPUT_PREFIXES.secretArn}${part}`;
  const secretArn = outputs[secretKey] ?? fallbackSecretArn;
  if (!secretArn) {
    throw new CliError(`stack '${stack}' has no output ${secretKey}: source '${source}' uses a secret of its own (secretArn); give that ARN in cdk.json's sources, where verify reads it`);
  }
  return { url, secretArn, table: requireOutput(outputs, STACK_OUTPUTS.eventTable, stack), bucket: requireOutput(outputs, STACK_OUTPUTS.archiveBucket, stack) };
}

/**
 * The key to sign with: the secret's current key (the first of a `{"current","previous"}` pair).
 * A CliError, before anything is posted, when the secret cannot be read or still holds the
 * placeholder; the message gives the command that stores the key and never the secret's value.
 */
export async function readSigningKey(sm: Pick<SecretsManagerClient, 'send'>, secretArn: string, source: string, region: string | null): Promise<string> {
  let raw: string | undefined;
  try {
    const out = await sm.send(new GetSecretValueCommand({ SecretId: secretArn }));
    raw = out.SecretString;
    if (raw === undefined) throw new CliError(`the secret ${secretArn} of source '${source}' holds binary data, not the Social Plus secret key as a string: ${putSecretCommand(secretArn, region)}`);
  } catch (err) {
    if (err instanceof CliError) throw err;
    if ((err as Error).name === 'ResourceNotFoundException') {
      throw new CliError(`the secret ${secretArn} of source '${source}' does not exist (deleted, or in another region?): deploy the stack again (npx cdk deploy) or check --region`);
    }
    throw awsError(err, `read the secret ${secretArn} of source '${source}' (secretsmanager:GetSecretValue)`);
  }
  try {
    const [current] = parseSecretValue(source, raw);
    return current as string;
  } catch (err) {
    if (err instanceof SecretNotConfiguredError) {
      throw new CliError(`${err.message}. Nothing was sent. Store the key from the Social Plus console (Settings → Webhooks):\n  ${putSecretCommand(secretArn, region)}`);
    }
    throw err;
  }
}

/** The archive prefixes (`events/dt=…/hour=…/`) of every UTC hour from `fromMs` to `toMs`, in order. */
export function archivePrefixes(fromMs: number, toMs: number): string[] {
  const hour = 3_600_000;
  const prefixes: string[] = [];
  for (let t = Math.floor(fromMs / hour) * hour; t <= toMs; t += hour) prefixes.push(partitionPrefix(new Date(t)));
  return prefixes;
}

/** The event ids of an archive object: gzip NDJSON (plain NDJSON read as is); lines that do not parse are skipped. */
export function eventIdsInArchiveObject(bytes: Uint8Array): string[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (buf[0] === 0x1f && buf[1] === 0x8b ? gunzipSync(buf) : buf).toString('utf8');
  const ids: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const id = (JSON.parse(line) as { event_id?: unknown }).event_id;
      if (typeof id === 'string') ids.push(id);
    } catch {
      // A line cut short is not one of ours to find.
    }
  }
  return ids;
}

/** Runs the verification; see the module comment. */
export async function runVerify(plan: VerifyPlan, deps: VerifyDeps): Promise<VerifyReport> {
  if (!SOURCE_NAME.test(plan.source)) throw new CliError(`--source '${plan.source}' is not a source name: lower-case letters, digits and '-', at most 64`);
  if (!Number.isInteger(plan.count) || plan.count < 1) throw new RangeError(`count must be a whole number >= 1, got ${plan.count}`);
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const post = deps.post ?? postSigned;
  const progress = deps.onProgress ?? (() => undefined);
  const region = plan.region ?? null;
  const startedMs = now();

  // 1. Where to post and look, and the key to sign with: nothing is sent until both are known.
  progress(`reading stack ${plan.stack}`);
  const target = targetFromOutputs(await readStackOutputs(deps.clients.cloudFormation, plan.stack), plan.stack, plan.source, plan.secretArn);
  const key = await readSigningKey(deps.clients.secretsManager, target.secretArn, plan.source, region);

  // 2. Post one after another: each latency is then one request's, the first one's cold start apart.
  const runId = deps.runId ?? newRunId(new Date(startedMs));
  const events = verificationEvents(deps.sample ?? readVerifySample(), runId, plan.count);
  const requests: RequestResult[] = [];
  for (const e of events) {
    progress(`posting ${e.seq}/${events.length}`);
    const outcome = await post({ url: target.url, body: e.body, secret: key, ...(plan.requestTimeoutMs !== undefined ? { timeoutMs: plan.requestTimeoutMs } : {}) });
    const kind = classifyAnswer(outcome);
    requests.push({
      seq: e.seq,
      eventId: e.eventId,
      status: outcome.kind === 'response' ? outcome.status : null,
      answer: outcome.kind === 'response' ? truncate(outcome.body.trim(), 300) : `${outcome.error} ${outcome.message}`,
      latencyMs: roundMs(outcome.latencyMs) as number,
      kind,
    });
    if (stopsRun(kind, outcome)) break;
  }
  const postedMs = now();
  const accepted = events.filter((e) => requests.find((r) => r.seq === e.seq)?.kind === 'accepted');

  const publicIp = requests.some((r) => r.kind === 'firewall') ? ((await (deps.lookupPublicIp ?? lookupPublicIp)()) ?? null) : undefined;
  const ctx: AdviceContext = { stack: plan.stack, region, source: plan.source, url: target.url, secretArn: target.secretArn, ...(publicIp !== undefined ? { publicIp } : {}) };

  // 3. The event table, then 4. the archive.
  const waits = { now, sleep, progress };
  const store = await followStore(deps.clients.dynamodb, target.table, accepted, postedMs + plan.storeTimeoutMs, deps.storePollMs ?? 1000, waits);
  const archive = plan.archiveTimeoutMs === undefined
    ? undefined
    : await followArchive(deps.clients.s3, target.bucket, accepted, { startedMs, deadlineMs: postedMs + plan.archiveTimeoutMs, pollMs: deps.archivePollMs ?? 5000 }, waits);

  const checks: EventCheck[] = accepted.map((e) => {
    const item = store.items.get(e.eventId);
    const archiveKey = archive?.found.get(e.eventId);
    return {
      seq: e.seq,
      eventId: e.eventId,
      stored: item !== undefined,
      flags: item?.flags ?? null,
      handlers: item?.handlers ?? null,
      archived: archive === undefined || archive.error !== undefined ? null : archiveKey !== undefined,
      ...(archiveKey !== undefined ? { archiveKey } : {}),
    };
  });
  const partial = {
    store: { table: target.table, timeoutSeconds: Math.round(plan.storeTimeoutMs / 1000), found: store.items.size },
    archive: {
      bucket: target.bucket,
      checked: archive !== undefined && archive.error === undefined,
      timeoutSeconds: plan.archiveTimeoutMs === undefined ? null : Math.round(plan.archiveTimeoutMs / 1000),
      found: archive?.found.size ?? 0,
    },
  };
  const latency = latencySummary(requests.filter((r) => r.kind === 'accepted').map((r) => r.latencyMs));
  const problems: Problem[] = [...requestProblems(requests, ctx)];
  if (store.error) problems.push(awsReadProblem('store', store.error, ctx));
  if (archive?.error) problems.push(awsReadProblem('archive', archive.error, ctx));
  problems.push(...eventProblems(store.error ? checks.filter((c) => c.stored) : checks, partial, ctx));
  const slow = latencyProblem(latency);
  if (slow) problems.push(slow);

  return {
    ok: problems.length === 0,
    stack: plan.stack,
    region,
    source: plan.source,
    url: target.url,
    runId,
    sample: VERIFY_SAMPLE,
    startedAt: new Date(startedMs).toISOString(),
    requested: plan.count,
    requests,
    latency,
    events: checks,
    ...partial,
    ...(publicIp !== undefined ? { publicIp } : {}),
    problems,
  };
}

function awsReadProblem(step: 'store' | 'archive', message: string, ctx: AdviceContext): Problem {
  return {
    step,
    message,
    fix: [
      `use credentials allowed to ${step === 'store' ? 'dynamodb:GetItem on the event table' : 's3:ListBucket and s3:GetObject on the archive bucket'}`,
      `run socialplus-webhooks doctor --aws${targetFlags(ctx)}`,
    ],
  };
}

interface Waits {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly progress: (note: string) => void;
}

/** What an event's item says. */
interface ItemView {
  readonly flags: string[];
  readonly handlers: string[];
}

/** Polls GetItem (strongly consistent) for each event until all are found or the deadline passes. */
async function followStore(
  dynamodb: Pick<DynamoDBClient, 'send'>,
  table: string,
  events: readonly VerificationEvent[],
  deadlineMs: number,
  pollMs: number,
  w: Waits,
): Promise<{ items: Map<string, ItemView>; error?: string }> {
  const items = new Map<string, ItemView>();
  for (;;) {
    for (const e of events) {
      if (items.has(e.eventId)) continue;
      const k = eventKey(e.eventId);
      let out;
      try {
        out = await dynamodb.send(new GetItemCommand({
          TableName: table,
          Key: { [TABLE.partitionKey]: { S: k.PK }, [TABLE.sortKey]: { S: k.SK } },
          ConsistentRead: true,
          ProjectionExpression: '#pk, #flags, #handlers',
          ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#flags': 'flags', '#handlers': 'handlers' },
        }));
      } catch (err) {
        return { items, error: awsError(err, `read the event table ${table}`).message };
      }
      if (!out.Item) continue;
      const handlers = Object.entries(out.Item.handlers?.M ?? {}).filter(([, v]) => v.BOOL === true).map(([name]) => name).sort();
      items.set(e.eventId, { flags: [...(out.Item.flags?.SS ?? [])].sort(), handlers });
    }
    if (items.size === events.length || w.now() >= deadlineMs) return { items };
    w.progress(`waiting for the event table: ${items.size}/${events.length}`);
    await w.sleep(Math.max(1, Math.min(pollMs, deadlineMs - w.now())));
  }
}

/**
 * Lists the archive's hourly partitions since the run started (with {@link PARTITION_SKEW_MS} on
 * both sides), reads each object not read before that was written since then, and looks for the
 * events' ids, until all are found or the deadline passes.
 */
async function followArchive(
  s3: Pick<S3Client, 'send'>,
  bucket: string,
  events: readonly VerificationEvent[],
  t: { readonly startedMs: number; readonly deadlineMs: number; readonly pollMs: number },
  w: Waits,
): Promise<{ found: Map<string, string>; error?: string }> {
  const wanted = new Set(events.map((e) => e.eventId));
  const found = new Map<string, string>();
  const read = new Set<string>();
  const since = t.startedMs - PARTITION_SKEW_MS;
  for (;;) {
    try {
      for (const prefix of archivePrefixes(since, w.now() + PARTITION_SKEW_MS)) {
        let token: string | undefined;
        do {
          const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
          for (const o of page.Contents ?? []) {
            if (!o.Key || read.has(o.Key) || (o.LastModified && o.LastModified.getTime() < since)) continue;
            const obj = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: o.Key }));
            const bytes = await obj.Body?.transformToByteArray();
            read.add(o.Key);
            if (!bytes) continue;
            for (const id of eventIdsInArchiveObject(bytes)) if (wanted.has(id) && !found.has(id)) found.set(id, o.Key);
          }
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } while (token);
      }
    } catch (err) {
      return { found, error: awsError(err, `read the archive bucket ${bucket}`).message };
    }
    if (found.size === wanted.size || w.now() >= t.deadlineMs) return { found };
    w.progress(`waiting for the archive (Firehose buffers): ${found.size}/${wanted.size}`);
    await w.sleep(Math.max(1, Math.min(t.pollMs, t.deadlineMs - w.now())));
  }
}
