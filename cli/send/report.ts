/** What `send` prints about what it sent, and the one line that says why a request failed. */
import type { SignatureForm } from '../../lambda/core/signature.js';
import type { ResolvedPayload } from '../fixtures.js';
import { formatMs, truncate } from '../output.js';
import type { SendResult, SendSummary } from '../send-runner.js';
import type { ResolvedSecret } from './target.js';

/** The label with where the body came from: `v3.post.didApprove (generated, seed 1, edited)`. */
export function describePayload(payload: ResolvedPayload, edited: boolean): string {
  const notes = [...(payload.origin === 'generated' ? [`generated, seed ${payload.seed ?? ''}`] : []), ...(edited ? ['edited'] : [])];
  return notes.length > 0 ? `${payload.label} (${notes.join(', ')})` : payload.label;
}

/** One request's line and its answer. */
export function printSingle(label: string, bytes: number, summary: SendSummary, result: SendResult): void {
  const out = process.stdout;
  out.write(`POST ${summary.url}  ${label}  ${bytes} bytes  ${summary.header}  event ${result.eventId}\n`);
  const o = result.outcome;
  if (o.kind === 'response') out.write(`${o.status} ${truncate(o.body, 2000)}  (${formatMs(o.latencyMs)})\n`);
  else out.write(`no answer: ${o.error} ${o.message}\n`);
}

/** The counts, failures and latency of a `--count` run. */
export function printSummary(label: string, s: SendSummary): void {
  const lines = [
    `sent ${s.count} × ${label} to ${s.url} (${s.header}) in ${(s.elapsedMs / 1000).toFixed(2)} s`,
    `  2xx:      ${s.ok}`,
    `  non-2xx:  ${s.failed}`,
  ];
  for (const [status, n] of Object.entries(s.byStatus)) {
    if (!status.startsWith('2')) lines.push(`    ${status} × ${n}  ${truncate(s.firstAnswers[status] ?? '', 200)}`);
  }
  for (const [code, n] of Object.entries(s.errors)) lines.push(`    ${code} × ${n}  ${truncate(s.firstAnswers[code] ?? '', 200)}`);
  lines.push(`  latency:  p50 ${formatMs(s.latencyMs.p50 ?? undefined)}, p99 ${formatMs(s.latencyMs.p99 ?? undefined)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** One line that names what went wrong and what to do, or undefined when every request got a 2xx. */
export function failureMessage(s: SendSummary, secret: ResolvedSecret, form?: SignatureForm): string | undefined {
  if (s.failed === 0) return undefined;
  const of = s.count === 1 ? '' : ` (${s.failed} of ${s.count} requests failed)`;
  if (s.errors.ECONNREFUSED) {
    return `cannot connect to ${s.url}: connection refused; is local mode running? start it with npm start (or check --url)${of}`;
  }
  const [code] = Object.keys(s.errors);
  if (code !== undefined) return `cannot reach ${s.url}: ${code} ${s.firstAnswers[code] ?? ''}${of}`;
  const status = Object.keys(s.byStatus).find((k) => !k.startsWith('2')) ?? '';
  const body = truncate(s.firstAnswers[status] ?? '', 200);
  return `the receiver answered ${status} ${body}${hint(status, body, secret, form)}${of}`;
}

/** What a refusal most likely means, as a `: …` suffix; empty when there is nothing to add. */
export function hint(status: string, body: string, secret: ResolvedSecret, form?: SignatureForm): string {
  if (status === '401' && body.includes('invalid signature') && form?.startsWith('json-')) {
    return `: the receiver does not accept the ${form} form unless its signatureForms lists it (README, "Signature forms"); its log names the form that matched`;
  }
  if (status === '401' && body.includes('invalid signature')) {
    return `: the secret (from ${secret.origin}) is not the receiver's; pass the right one with --secret or SOCIALPLUS_WEBHOOK_SECRET`;
  }
  if (status === '403') return ": forbidden; on AWS the firewall admits only Social Plus's addresses, add yours to the allowedCidrs context";
  if (status === '404') return ': check --url and --source (the source must be one the receiver knows)';
  if (status === '503' && body.includes('secret not configured')) return ": put the Social Plus secret key into the source's secret";
  return '';
}
