/**
 * `verify --aws`, the run itself: read the stack's outputs and the source's secret, sign and post N
 * marked events one after another (so each latency is one request's), then follow each accepted
 * event into the event table and, when asked, into the archive (`follow.ts`). Every client, the HTTP post, the
 * IP lookup, the clock and the sleep are injected, so tests run it against stand-ins without
 * waiting on wall-clock time. Stops with a CliError before posting when the stack or the secret is
 * not usable; otherwise returns the report, problems included.
 */
import { SOURCE_NAME } from '../../lambda/core/sources.js';
import { readStackOutputs } from '../aws-stack.js';
import { CliError } from '../errors.js';
import { roundMs, truncate } from '../output.js';
import type { SdkClients } from '../sdk-clients.js';
import { postSigned, type PostOutcome, type SignedPost } from '../sign-and-post.js';
import { readVerifySample, VERIFY_SAMPLE, newRunId, verificationEvents } from './events.js';
import { followArchive, followStore } from './follow.js';
import { latencySummary } from './latency.js';
import { lookupPublicIp } from './public-ip.js';
import {
  classifyAnswer,
  eventProblems,
  latencyProblem,
  requestProblems,
  stopsRun,
  targetFlags,
  type AdviceContext,
  type EventCheck,
  type Problem,
  type RequestResult,
  type VerifyReport,
} from './report.js';
import { readSigningKey, targetFromOutputs } from './target.js';

/** How long the store is polled by default. */
export const DEFAULT_STORE_TIMEOUT_MS = 60_000;
/** Time allowed past the archive buffer for Firehose to deliver and the fan-out to put the lines. */
export const ARCHIVE_MARGIN_MS = 60_000;

/** The AWS clients the run uses. */
export type VerifyClients = SdkClients<'cloudFormation' | 'secretsManager' | 'dynamodb' | 's3'>;

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

/** Runs the verification; see the module comment. */
export async function runVerify(plan: VerifyPlan, deps: VerifyDeps): Promise<VerifyReport> {
  if (!SOURCE_NAME.test(plan.source))
    throw new CliError(`--source '${plan.source}' is not a source name: lower-case letters, digits and '-', at most 64`);
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
    const outcome = await post({
      url: target.url,
      body: e.body,
      secret: key,
      ...(plan.requestTimeoutMs !== undefined ? { timeoutMs: plan.requestTimeoutMs } : {}),
    });
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
  const ctx: AdviceContext = {
    stack: plan.stack,
    region,
    source: plan.source,
    url: target.url,
    secretArn: target.secretArn,
    ...(publicIp !== undefined ? { publicIp } : {}),
  };

  // 3. The event table, then 4. the archive.
  const waits = { now, sleep, progress };
  const store = await followStore(deps.clients.dynamodb, target.table, accepted, postedMs + plan.storeTimeoutMs, deps.storePollMs ?? 1000, waits);
  const archive =
    plan.archiveTimeoutMs === undefined
      ? undefined
      : await followArchive(
          deps.clients.s3,
          target.bucket,
          accepted,
          { startedMs, deadlineMs: postedMs + plan.archiveTimeoutMs, pollMs: deps.archivePollMs ?? 5000 },
          waits,
        );

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
