/**
 * What `verify` found and how it is shown: each answer classified, each failure turned into a
 * problem that says what to do (the command to run where there is one), and the report rendered as
 * text or as one JSON object. Pure: no I/O, no clock.
 */
import { DEFAULT_STACK_NAME } from '../../lib/stack-name.js';
import { formatMs, renderTable, truncate } from '../output.js';
import type { PostOutcome } from '../sign-and-post.js';
import type { LatencySummary } from './latency.js';

/** What an answer means for the run. */
export type AnswerKind =
  /** 2xx: the receiver accepted the event. */
  | 'accepted'
  /** 403 `{"message":"Forbidden"}`: the firewall (WAF) blocked the caller's IP. */
  | 'firewall'
  /** Another 403, e.g. API Gateway's `Missing Authentication Token` for a path that is not a route. */
  | 'forbidden'
  /** 401: the signature does not match the key the receiver checks. */
  | 'signature'
  /** 404: the source in the path is not configured. */
  | 'unknown-source'
  /** 429: API Gateway throttled the request. */
  | 'throttled'
  /** 503 `webhook secret not configured`: the receiver found the placeholder or no secret. */
  | 'secret-not-configured'
  /** Another 5xx. */
  | 'server-error'
  /** Another 4xx (400, 413 …). */
  | 'refused'
  /** No HTTP answer: refused connection, unknown host, timeout. */
  | 'no-answer';

/** Classifies one outcome. */
export function classifyAnswer(outcome: PostOutcome): AnswerKind {
  if (outcome.kind === 'error') return 'no-answer';
  const { status, body } = outcome;
  if (status >= 200 && status < 300) return 'accepted';
  const message = messageOf(body);
  if (status === 403) return message === 'Forbidden' ? 'firewall' : 'forbidden';
  if (status === 401) return 'signature';
  if (status === 404) return 'unknown-source';
  if (status === 429) return 'throttled';
  if (status === 503 && /secret not configured/i.test(message ?? '')) return 'secret-not-configured';
  if (status >= 500) return 'server-error';
  return 'refused';
}

/**
 * Whether every later request would get the same answer, so the run stops posting: the firewall,
 * the signature, the source, the secret and a missing route do not change from one request to the
 * next. Throttling, server errors and timeouts may, so the run goes on through them.
 */
export function stopsRun(kind: AnswerKind, outcome?: PostOutcome): boolean {
  switch (kind) {
    case 'accepted':
    case 'throttled':
    case 'server-error':
      return false;
    case 'no-answer':
      return !(outcome?.kind === 'error' && outcome.error === 'TIMEOUT');
    default:
      return true;
  }
}

function messageOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as unknown;
    const message = typeof parsed === 'object' && parsed !== null ? (parsed as { message?: unknown }).message : undefined;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

/** One request of the run. */
export interface RequestResult {
  readonly seq: number;
  readonly eventId: string;
  /** HTTP status; null when there was no answer. */
  readonly status: number | null;
  /** The answer's body, shortened, or the network error (`ECONNREFUSED …`). */
  readonly answer: string;
  readonly latencyMs: number;
  readonly kind: AnswerKind;
}

/** What was found about one accepted event. */
export interface EventCheck {
  readonly seq: number;
  readonly eventId: string;
  /** Whether its item appeared in the event table within the timeout. */
  readonly stored: boolean;
  /** The item's flags; null when not stored. */
  readonly flags: readonly string[] | null;
  /** Handlers recorded as done on the item (none for a verification event); null when not stored. */
  readonly handlers: readonly string[] | null;
  /** Whether its line was found in the archive; null when the archive was not checked. */
  readonly archived: boolean | null;
  /** The archive object holding its line. */
  readonly archiveKey?: string;
}

/** Which part of the path a problem is about. */
export type ProblemStep = 'request' | 'store' | 'marker' | 'archive' | 'latency';

/** A failed step: what happened, and what to do about it (commands to run, or where to look). */
export interface Problem {
  readonly step: ProblemStep;
  readonly message: string;
  readonly fix: readonly string[];
}

/** Everything `verify` found; `verify --json` prints exactly this. */
export interface VerifyReport {
  /** True when no step failed. */
  readonly ok: boolean;
  readonly stack: string;
  /** `--region`, when given (else the SDK's own resolution). */
  readonly region: string | null;
  readonly source: string;
  readonly url: string;
  /** The marker's `runId`: every event of the run carries it. */
  readonly runId: string;
  /** The shipped sample the events were built from. */
  readonly sample: string;
  readonly startedAt: string;
  /** `--count`. */
  readonly requested: number;
  readonly requests: readonly RequestResult[];
  readonly latency: LatencySummary;
  /** One entry per accepted event. */
  readonly events: readonly EventCheck[];
  readonly store: { readonly table: string; readonly timeoutSeconds: number; readonly found: number };
  readonly archive: { readonly bucket: string; readonly checked: boolean; readonly timeoutSeconds: number | null; readonly found: number };
  /** The caller's public IP, looked up after a firewall refusal (null when the lookup failed). */
  readonly publicIp?: string | null;
  readonly problems: readonly Problem[];
}

/** Where the advice's commands point. */
export interface AdviceContext {
  readonly stack: string;
  readonly region: string | null;
  readonly source: string;
  readonly url: string;
  readonly secretArn: string;
  /** The caller's public IP: undefined when not looked up, null when the lookup failed. */
  readonly publicIp?: string | null;
}

/** `--stack …  --region …` for a suggested command, when they are not the defaults. */
export function targetFlags(ctx: Pick<AdviceContext, 'stack' | 'region'>): string {
  return `${ctx.stack !== DEFAULT_STACK_NAME ? ` --stack ${ctx.stack}` : ''}${ctx.region ? ` --region ${ctx.region}` : ''}`;
}

/** The command that stores the Social Plus secret key in the source's secret. */
export function putSecretCommand(secretArn: string, region: string | null = null): string {
  return `aws secretsmanager put-secret-value --secret-id '${secretArn}' --secret-string '<the secret key from the Social Plus console>'${region ? ` --region ${region}` : ''}`;
}

/** The CIDR that admits exactly `ip`, or a placeholder when it is unknown. */
export function cidrOf(ip: string | null | undefined): string {
  if (!ip) return '<your-public-ip>/32';
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}

/** The problem one kind of refused request stands for; `sample` is its first answer, `n` how many got it. */
export function requestProblem(kind: Exclude<AnswerKind, 'accepted'>, sample: RequestResult, n: number, ctx: AdviceContext): Problem {
  const times = n === 1 ? '' : ` (${n} requests)`;
  const answer = sample.status === null ? sample.answer : `${sample.status} ${sample.answer}`;
  const doctor = `socialplus-webhooks doctor --aws${targetFlags(ctx)}`;
  switch (kind) {
    case 'firewall': {
      const ip = ctx.publicIp ? `your IP ${ctx.publicIp}` : 'your IP';
      return {
        step: 'request',
        message: `the firewall blocked ${ip}${times}: ${answer}. The web ACL admits only Social Plus's webhook addresses and allowedCidrs`,
        fix: [
          `allow it: npx cdk deploy -c allowedCidrs=${cidrOf(ctx.publicIp)}${ctx.publicIp ? '' : '   (your public IP: curl https://checkip.amazonaws.com)'}`,
          'that -c value replaces allowedCidrs for that deploy (list others comma-separated) and, without cdk.json, give your sources again too; deploy again without it when done',
        ],
      };
    }
    case 'forbidden':
      return {
        step: 'request',
        message: `API Gateway refused ${ctx.url}${times}: ${answer}; the path is not a route of the API`,
        fix: [`check the stack's WebhookUrl output for source '${ctx.source}', or run ${doctor}`],
      };
    case 'signature':
      return {
        step: 'request',
        message: `the receiver refused the signature${times}: ${answer}. The events were signed with the key in ${ctx.secretArn}, so the receiver checks another key`,
        fix: [
          'if the secret was changed in the last 30 seconds, run verify again (the receiver reads it again on a mismatch)',
          `otherwise check which secret the receiver reads: ${doctor}`,
          `and make sure the key from the Social Plus console is stored: ${putSecretCommand(ctx.secretArn, ctx.region)}`,
        ],
      };
    case 'unknown-source':
      return {
        step: 'request',
        message: `the deployed receiver does not know source '${ctx.source}'${times}: ${answer}`,
        fix: [`add it to the sources key (cdk.json) and deploy: npx cdk deploy; or check ${doctor}`],
      };
    case 'throttled':
      return {
        step: 'request',
        message: `API Gateway throttled ${n === 1 ? 'a request' : `${n} requests`}: ${answer}. The stage limits (apiRateLimit, apiBurstLimit) or the account's API Gateway limit were reached`,
        fix: ['run verify again later or with a smaller --count; see docs/runbook.md (throttling and concurrency)'],
      };
    case 'secret-not-configured':
      return {
        step: 'request',
        message: `the receiver has no usable secret for source '${ctx.source}'${times}: ${answer} (empty, or still the placeholder)`,
        fix: [putSecretCommand(ctx.secretArn, ctx.region)],
      };
    case 'server-error':
      return {
        step: 'request',
        message: `the stack answered with a server error${times}: ${answer}`,
        fix: [`run ${doctor}`, 'see docs/runbook.md for the alarm and log that go with it'],
      };
    case 'refused':
      return {
        step: 'request',
        message: `the receiver refused the request${times}: ${answer}`,
        fix: [`run ${doctor}`],
      };
    case 'no-answer':
      return {
        step: 'request',
        message: `no answer from ${ctx.url}${times}: ${answer}`,
        fix: ["check this machine's network and the stack's WebhookUrl output", `run ${doctor}`],
      };
  }
}

/** The problems of the requests: one per kind of refusal, in the order first seen. */
export function requestProblems(requests: readonly RequestResult[], ctx: AdviceContext): Problem[] {
  const byKind = new Map<Exclude<AnswerKind, 'accepted'>, RequestResult[]>();
  for (const r of requests) {
    if (r.kind === 'accepted') continue;
    const list = byKind.get(r.kind);
    if (list) list.push(r);
    else byKind.set(r.kind, [r]);
  }
  return [...byKind].map(([kind, list]) => requestProblem(kind, list[0] as RequestResult, list.length, ctx));
}

/** The problems of the accepted events: not stored, stored without the marker, not archived. */
export function eventProblems(events: readonly EventCheck[], report: Pick<VerifyReport, 'store' | 'archive'>, ctx: AdviceContext): Problem[] {
  const problems: Problem[] = [];
  const status = `socialplus-webhooks status --aws${targetFlags(ctx)}`;
  const missing = events.filter((e) => !e.stored);
  if (missing.length > 0) {
    problems.push({
      step: 'store',
      message: `${missing.length} of ${events.length} accepted events were not in the event table ${report.store.table} after ${report.store.timeoutSeconds} s: ${missing.map((e) => e.eventId).join(', ')}`,
      fix: [
        `look at the queue and the dead-letter queue: ${status}`,
        `run socialplus-webhooks doctor --aws${targetFlags(ctx)}`,
        'see docs/runbook.md (follow one event)',
      ],
    });
  }
  const unmarked = events.filter((e) => e.stored && !(e.flags ?? []).includes('verification'));
  const handled = events.filter((e) => (e.handlers ?? []).length > 0);
  if (unmarked.length > 0 || handled.length > 0) {
    const ran = [...new Set(handled.flatMap((e) => e.handlers ?? []))].sort();
    const affected = new Set([...unmarked, ...handled].map((e) => e.eventId)).size;
    problems.push({
      step: 'marker',
      message:
        `${affected} of ${events.length} events were stored without the verification flag or dispatched to handlers` +
        `${ran.length > 0 ? ` (${ran.join(', ')})` : ''}: the deployed fan-out predates the marker, so handlers may act on these test events`,
      fix: ['deploy this version: npx cdk deploy'],
    });
  }
  if (report.archive.checked) {
    const unarchived = events.filter((e) => e.archived !== true);
    if (unarchived.length > 0) {
      problems.push({
        step: 'archive',
        message: `${unarchived.length} of ${events.length} events were not in the archive bucket ${report.archive.bucket} after ${report.archive.timeoutSeconds} s: ${unarchived.map((e) => e.eventId).join(', ')}`,
        fix: [
          'Firehose writes once its buffer fills or archiveBufferSeconds pass: run verify again with a longer --timeout',
          `look under errors/ in the bucket, and run socialplus-webhooks doctor --aws${targetFlags(ctx)}`,
        ],
      });
    }
  }
  return problems;
}

/** The problem of a warm p99 above Social Plus's timeout, if there is one. */
export function latencyProblem(latency: LatencySummary): Problem | undefined {
  if (latency.verdict !== 'over') return undefined;
  const figure = latency.warm
    ? `p99 ${formatMs(latency.warm.p99)} of the requests after the first`
    : `the only request took ${formatMs(latency.firstMs ?? undefined)}`;
  return {
    step: 'latency',
    message: `${figure}: above Social Plus's ${latency.budgetMs / 1000} s timeout, so deliveries this slow count as failed`,
    fix: [
      "measured from this machine: run verify from a machine near the stack's region to leave out your own network",
      'deploy to the AWS region nearest your Social Plus region (sg: ap-southeast-1, eu: eu-central-1, us: us-east-1); see docs/runbook.md',
    ],
  };
}

function ms(value: number | null | undefined): string {
  return formatMs(value ?? undefined);
}

/** The latency line: first request, then warm percentiles, against the budget. */
export function latencyLine(l: LatencySummary): string {
  if (l.firstMs === null) return 'latency   no request was answered';
  const budget = `Social Plus's ${l.budgetMs / 1000} s timeout`;
  const first = `first ${ms(l.firstMs)} (includes a cold start${l.firstOverBudget ? `, over ${budget}` : ''})`;
  if (!l.warm) return `latency   ${first}; ${l.verdict === 'within' ? 'within' : 'OVER'} ${budget} (--count 1: no warm requests)`;
  const share = Math.round((l.warm.p99 / l.budgetMs) * 100);
  return (
    `latency   ${first}; then p50 ${ms(l.warm.p50)}, p95 ${ms(l.warm.p95)}, p99 ${ms(l.warm.p99)} over ${l.warm.count} request${l.warm.count === 1 ? '' : 's'}` +
    ` — p99 ${l.verdict === 'within' ? 'within' : 'OVER'} ${budget} (${share}% of it)`
  );
}

/** The report as the lines `verify` prints. Never contains the secret: the report does not hold it. */
export function renderReport(r: VerifyReport): string {
  const out: string[] = [];
  out.push(`verify    stack ${r.stack}${r.region ? ` (${r.region})` : ''}, source '${r.source}' → POST ${r.url}`);
  out.push(
    `run       ${r.runId}: ${r.requested} signed ${r.sample} event${r.requested === 1 ? '' : 's'} marked socialplusWebhooksVerification (handlers skip them)`,
  );
  out.push('');
  const rows = r.requests.map((q) => ({
    seq: q.seq,
    event_id: q.eventId,
    answer: truncate(q.status === null ? q.answer : `${q.status} ${q.answer}`, 48),
    latency: formatMs(q.latencyMs),
  }));
  out.push(renderTable(['seq', 'event_id', 'answer', 'latency'], rows, { rightAligned: new Set(['seq', 'latency']) }).trimEnd());
  if (r.requests.length < r.requested) out.push(`(${r.requested - r.requests.length} not sent: every one would have got the same answer)`);
  out.push('');
  out.push(latencyLine(r.latency));
  if (r.events.length > 0) {
    const stored = r.events.filter((e) => e.stored).length;
    const marked = r.events.filter((e) => (e.flags ?? []).includes('verification')).length;
    const handled = r.events.filter((e) => (e.handlers ?? []).length > 0).length;
    const archived = r.archive.checked ? `${r.events.filter((e) => e.archived).length}/${r.events.length}` : 'not checked (add --wait-archive)';
    out.push(
      `events    stored ${stored}/${r.events.length} in ${r.store.table}; flagged verification ${marked}/${stored}; ` +
        `${handled === 0 ? 'handlers: none ran (skipped by the marker)' : `handlers ran on ${handled}`}; archived ${archived}`,
    );
    out.push('');
    const eventRows = r.events.map((e) => ({
      seq: e.seq,
      event_id: e.eventId,
      stored: e.stored ? 'yes' : 'NO',
      flags: e.flags === null ? '-' : e.flags.join(',') || '(none)',
      handlers: e.handlers === null ? '-' : e.handlers.length === 0 ? 'none (skipped by marker)' : e.handlers.join(','),
      archived: e.archived === null ? '-' : e.archived ? 'yes' : 'NO',
    }));
    out.push(renderTable(['seq', 'event_id', 'stored', 'flags', 'handlers', 'archived'], eventRows, { rightAligned: new Set(['seq']) }).trimEnd());
  }
  out.push('');
  if (r.problems.length === 0) {
    out.push(`OK        every event was accepted, stored${r.archive.checked ? ', archived' : ''} and skipped by the handlers`);
  } else {
    out.push(`FAILED    ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:`);
    for (const p of r.problems) {
      out.push(`  ✗ [${p.step}] ${p.message}`);
      for (const f of p.fix) out.push(`    → ${f}`);
    }
  }
  if (r.events.length > 0) {
    out.push('');
    out.push(`These events are flagged verification: leave them out of queries with  where not contains(flags, 'verification')`);
  }
  return `${out.join('\n')}\n`;
}
