/**
 * Sends N signed copies of one payload with bounded concurrency and sums up what came back.
 * Knows nothing of the command line: `cli/commands/send.ts` turns options into a call and prints.
 */
import { performance } from 'node:perf_hooks';
import { eventIdOf } from '../lambda/core/event-id.js';
import { LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER } from '../lambda/core/signature.js';
import { varyBody } from './fixtures.js';
import { percentile, roundMs } from './output.js';
import { postSigned, type PostOutcome } from './sign-and-post.js';
import type { SignatureForm } from '../lambda/core/signature.js';

export interface SendPlan {
  readonly url: string;
  readonly secret: string;
  /** The exact bytes of copy 1; later copies come from {@link varyBody}. */
  readonly body: Buffer;
  readonly count: number;
  readonly concurrency: number;
  readonly legacy: boolean;
  /** The signature form to sign in. @default 'base64' */
  readonly form?: SignatureForm;
  readonly timeoutMs?: number;
  /** Called after each request completes, with how many have. */
  readonly onProgress?: (done: number, total: number) => void;
}

/** One request's result. */
export interface SendResult {
  readonly copy: number;
  readonly eventId: string;
  readonly outcome: PostOutcome;
}

/** What `send --json` prints. */
export interface SendSummary {
  readonly url: string;
  readonly header: string;
  readonly count: number;
  /** Requests answered 2xx. */
  readonly ok: number;
  /** Requests answered otherwise or not answered. */
  readonly failed: number;
  /** HTTP status → number of answers. */
  readonly byStatus: Record<string, number>;
  /** Network error code (ECONNREFUSED, TIMEOUT, …) → number of requests. */
  readonly errors: Record<string, number>;
  readonly latencyMs: { readonly p50: number | null; readonly p99: number | null; readonly max: number | null };
  readonly elapsedMs: number;
  /** Event ids in copy order: the receiver derives the same ids from the bodies. */
  readonly eventIds: string[];
  /** The first answer (status and body) of each status and error code, for diagnosis. */
  readonly firstAnswers: Record<string, string>;
}

/** Sends `plan.count` copies; copy 1 is the body byte for byte. Never throws for HTTP or network failures. */
export async function sendEvents(plan: SendPlan): Promise<{ summary: SendSummary; results: SendResult[] }> {
  const results: SendResult[] = new Array<SendResult>(plan.count);
  let next = 1;
  let done = 0;
  const started = performance.now();
  const worker = async (): Promise<void> => {
    while (next <= plan.count) {
      const copy = next++;
      const body = varyBody(plan.body, copy);
      const outcome = await postSigned({
        url: plan.url,
        body,
        secret: plan.secret,
        legacy: plan.legacy,
        ...(plan.form ? { form: plan.form } : {}),
        timeoutMs: plan.timeoutMs,
      });
      results[copy - 1] = { copy, eventId: eventIdOf(body), outcome };
      plan.onProgress?.(++done, plan.count);
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.concurrency, plan.count) }, worker));
  return { summary: summarise(plan, results, performance.now() - started), results };
}

function summarise(plan: SendPlan, results: readonly SendResult[], elapsedMs: number): SendSummary {
  const byStatus: Record<string, number> = {};
  const errors: Record<string, number> = {};
  const firstAnswers: Record<string, string> = {};
  let ok = 0;
  for (const { outcome } of results) {
    if (outcome.kind === 'response') {
      const key = String(outcome.status);
      byStatus[key] = (byStatus[key] ?? 0) + 1;
      firstAnswers[key] ??= outcome.body;
      if (outcome.status >= 200 && outcome.status < 300) ok++;
    } else {
      errors[outcome.error] = (errors[outcome.error] ?? 0) + 1;
      firstAnswers[outcome.error] ??= outcome.message;
    }
  }
  // Latency of answered requests only: a refused connection says nothing about the receiver.
  const latencies = results.flatMap((r) => (r.outcome.kind === 'response' ? [r.outcome.latencyMs] : [])).sort((a, b) => a - b);
  return {
    url: plan.url,
    header: plan.legacy ? LEGACY_SIGNATURE_HEADER : SIGNATURE_HEADER,
    count: plan.count,
    ok,
    failed: results.length - ok,
    byStatus,
    errors,
    latencyMs: { p50: roundMs(percentile(latencies, 50)), p99: roundMs(percentile(latencies, 99)), max: roundMs(latencies.at(-1)) },
    elapsedMs: Math.round(elapsedMs),
    eventIds: results.map((r) => r.eventId),
    firstAnswers,
  };
}
