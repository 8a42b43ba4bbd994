import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { SOURCE_NAME } from '../../lambda/core/receive.js';
import { parseSecretValue } from '../../lambda/core/secret-value.js';
import { DEFAULT_PORT, localPaths } from '../../local/paths.js';
import { CliError } from '../errors.js';
import { resolvePayload, SAMPLES_DIR, listSamples } from '../fixtures.js';
import { formatMs, truncate } from '../output.js';
import { planReplay, postReplay, readCaptureFile } from '../replay-capture.js';
import { sendEvents, type SendResult, type SendSummary } from '../send-runner.js';
import { SIGNATURE_FORMS, type SignatureForm } from '../../lambda/core/signature.js';

/** Requests in flight at once with `--count`, unless `--concurrency` says otherwise. */
export const DEFAULT_CONCURRENCY = 8;
// Every result is kept for the summary; beyond this a load-testing tool is the better choice.
const MAX_COUNT = 100_000;
const MAX_CONCURRENCY = 256;

interface SendOptions {
  readonly url?: string;
  readonly secret?: string;
  readonly source?: string;
  readonly count: number;
  readonly concurrency: number;
  readonly legacy?: boolean;
  readonly signatureForm?: SignatureForm;
  readonly json?: boolean;
  readonly replayCapture?: string;
  readonly resign?: boolean;
}

/** Where the signing secret came from, named in messages so a 401 is easy to explain. */
interface ResolvedSecret {
  readonly value: string;
  readonly origin: string;
}

function integerOption(name: string, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1 || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from 1 to ${max}, got '${raw}'.`);
    }
    return n;
  };
}

/** Registers `send`: signs sample events like Social Plus does and posts them to a receiver. */
export function registerSend(program: Command): void {
  program
    .command('send')
    .description('Sign a sample event (or your own JSON file) the way Social Plus does and POST it to the receiver.')
    .argument('[eventType|file.json]', 'a sample name from fixtures/samples (e.g. message.didCreate, post.didCreate) or a path to a JSON file (not with --replay-capture)')
    .option('--url <url>', `receiver URL (default: http://localhost:$PORT/webhook, PORT defaulting to ${DEFAULT_PORT})`)
    .option('--secret <secret>', 'signing secret (default: $SOCIALPLUS_WEBHOOK_SECRET, else the dev secret local mode wrote to .local/secret)')
    .option('--source <name>', 'webhook source: posts to <url>/<name>, signed with that source\'s secret')
    .option('--count <n>', 'send N distinct events (copies 2..N have their timestamp moved by 1..N-1 ms)', integerOption('--count', MAX_COUNT), 1)
    .option('--concurrency <n>', 'requests in flight at once with --count', integerOption('--concurrency', MAX_CONCURRENCY), DEFAULT_CONCURRENCY)
    .option('--legacy', 'sign into x-eko-signature only, like the legacy duplicate deliveries (acknowledged and dropped)')
    .option('--signature-form <form>', `sign in another form the receiver knows: ${SIGNATURE_FORMS.join(', ')} (default base64; the json-* forms are refused unless signatureForms accepts them)`, signatureFormOption)
    .option('--json', 'print a machine-readable summary on stdout')
    .option('--replay-capture <file>', 'post a request captured by dev --capture again, byte for byte (headers and body), to --url or local mode, at the captured path\'s source')
    .option('--resign', 'with --replay-capture: sign the (redacted) body again with the secret, in the captured signature\'s encoding (hex or base64)')
    .addHelpText('after', sendHelp)
    .action(async (arg: string | undefined, opts: SendOptions) => {
      await runSend(arg, opts);
    });
}

function sendHelp(): string {
  let samples: string;
  try {
    samples = listSamples().join(', ');
  } catch {
    samples = `(none found in ${SAMPLES_DIR})`;
  }
  return `
Samples: ${samples}

The signature is base64 HMAC-SHA256 of the exact bytes sent. Copy 1 of --count is the sample byte for
byte; each later copy moves the primary entity's timestamp (the archive's occurred_at: sentTime, else
updatedAt/createdAt) by 1 ms more, so every copy is a distinct event with its own event id.
Prefer SOCIALPLUS_WEBHOOK_SECRET over --secret for real secrets: command lines are visible to other users.
Exit code 1 when any request is refused or answered with a non-2xx status.

Examples:
  $ socialplus-webhooks send message.didCreate
  $ socialplus-webhooks send post.didCreate --count 500 --concurrency 16
  $ socialplus-webhooks send ./my-event.json --url https://abc123.execute-api.us-east-1.amazonaws.com/prod/webhook --secret "$SECRET"
  $ socialplus-webhooks send --replay-capture captures/2025-06-01T12-34-56.789Z-0123abcd….json
  $ socialplus-webhooks send --replay-capture test/fixtures/captures/flagged.json --resign --secret test-secret

--replay-capture sends the captured header lines (less host, content-length and other hop-by-hop ones)
and body: "bodyText" when the capture has it (a hand edit wins over "bodyBase64"), else "bodyBase64".
`;
}

/** The receiver URL: `--url` or local mode's, plus `/<source>` when a source is named. */
export function targetUrl(opts: { url?: string; source?: string }, env: NodeJS.ProcessEnv = process.env): string {
  let base: string;
  if (opts.url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch {
      throw new CliError(`--url is not a valid URL: '${opts.url}' (expected e.g. https://abc123.execute-api.us-east-1.amazonaws.com/prod/webhook)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new CliError(`--url must be http:// or https://, got '${opts.url}'`);
    }
    base = opts.url;
  } else {
    const rawPort = env.PORT?.trim() || String(DEFAULT_PORT);
    const port = Number(rawPort);
    if (!/^\d+$/.test(rawPort) || port < 1 || port > 65535) throw new CliError(`PORT must be a port number from 1 to 65535, got '${env.PORT}'`);
    base = `http://localhost:${port}/webhook`;
  }
  if (opts.source === undefined) return base;
  if (!SOURCE_NAME.test(opts.source)) {
    throw new CliError(`--source '${opts.source}' is not a valid source name: use lowercase letters, digits and '-', starting with a letter or digit (at most 64)`);
  }
  const u = new URL(base);
  u.pathname = `${u.pathname.replace(/\/+$/, '')}/${opts.source}`;
  return u.toString();
}

/** `--secret`, else `SOCIALPLUS_WEBHOOK_SECRET`, else local mode's generated dev secret. */
export function resolveSecret(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): ResolvedSecret {
  if (flag !== undefined) {
    if (flag.trim() === '') throw new CliError('--secret is empty');
    return { value: flag, origin: '--secret' };
  }
  const fromEnv = env.SOCIALPLUS_WEBHOOK_SECRET;
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { value: fromEnv, origin: 'SOCIALPLUS_WEBHOOK_SECRET' };
  const file = localPaths().secretFile;
  if (existsSync(file)) {
    try {
      const [current] = parseSecretValue('local', readFileSync(file, 'utf8'));
      if (current !== undefined) return { value: current, origin: file };
    } catch (err) {
      throw new CliError(`cannot use the dev secret in ${file}: ${(err as Error).message}`);
    }
  }
  throw new CliError(
    `no webhook secret: pass --secret, set SOCIALPLUS_WEBHOOK_SECRET, or start local mode with npm start (it writes a dev secret to ${file})`,
  );
}

async function runSend(arg: string | undefined, opts: SendOptions): Promise<void> {
  if (opts.replayCapture !== undefined) return runReplayCapture(opts.replayCapture, arg, opts);
  if (opts.resign) throw new CliError('--resign re-signs a replayed capture: use it with --replay-capture <file>');
  if (arg === undefined) throw new CliError('nothing to send: give a sample name (e.g. message.didCreate) or a JSON file, or --replay-capture <file>');
  const url = targetUrl(opts);
  const payload = resolvePayload(arg);
  const secret = resolveSecret(opts.secret);
  for (const w of payload.warnings) process.stderr.write(`warning: ${w}\n`);

  const showProgress = opts.count > 1 && process.stderr.isTTY === true;
  let lastDraw = 0;
  const { summary, results } = await sendEvents({
    url,
    secret: secret.value,
    body: payload.body,
    count: opts.count,
    concurrency: opts.concurrency,
    legacy: opts.legacy === true,
    ...(opts.signatureForm ? { form: opts.signatureForm } : {}),
    onProgress: showProgress
      ? (done, total) => {
          const now = Date.now();
          if (done === total || now - lastDraw >= 100) {
            lastDraw = now;
            process.stderr.write(`\rsending ${payload.label}: ${done}/${total}`);
            if (done === total) process.stderr.write('\n');
          }
        }
      : undefined,
  });

  if (opts.json) {
    process.stdout.write(`${JSON.stringify({ sample: payload.label, ...summary })}\n`);
  } else if (opts.count === 1 && results[0]) {
    printSingle(payload.label, payload.body.length, summary, results[0]);
  } else {
    printSummary(payload.label, summary);
  }
  const failure = failureMessage(summary, secret);
  if (failure) throw new CliError(failure);
}

/** `send --replay-capture <file> [--url] [--resign]`: posts a captured request again (`cli/replay-capture.ts`). */
async function runReplayCapture(file: string, arg: string | undefined, opts: SendOptions): Promise<void> {
  if (arg !== undefined) throw new CliError(`give either '${arg}' to sign or --replay-capture <file>, not both`);
  if (opts.source !== undefined) throw new CliError('--source does not apply to --replay-capture: the captured path names the source');
  if (opts.count !== 1 || opts.legacy || opts.signatureForm) {
    throw new CliError('--count, --legacy and --signature-form do not apply to --replay-capture: it sends the captured request once, as captured');
  }
  const baseUrl = targetUrl(opts.url !== undefined ? { url: opts.url } : {});
  const capture = await readCaptureFile(file);
  const secret = opts.resign ? resolveSecret(opts.secret) : undefined;
  if (!opts.resign && opts.secret !== undefined) process.stderr.write('warning: --secret is used only with --resign; the captured signature is sent as it is\n');
  const plan = planReplay(capture, { baseUrl, ...(secret ? { resignWith: secret.value } : {}) });
  if (plan.edited) {
    process.stderr.write('note: the capture\'s bodyText differs from its bodyBase64: sending bodyText (the edited body); bodyBase64 still holds the captured bytes, delete it before sharing the capture\n');
    if (!secret) process.stderr.write('warning: the captured signature was made over the captured bytes, not the edited body: add --resign\n');
  }

  const outcome = await postReplay(plan);
  const signature = secret
    ? `re-signed ${plan.resigned.map((r) => `${r.header} (${r.encoding})`).join(', ')} with the secret from ${secret.origin}`
    : 'signature as captured';
  if (opts.json) {
    process.stdout.write(`${JSON.stringify({
      capture: file,
      url: plan.url,
      bytes: plan.body.length,
      eventId: plan.eventId,
      bodyFrom: plan.bodyFrom,
      edited: plan.edited,
      resigned: plan.resigned,
      capturedStatus: plan.capturedStatus,
      ...(outcome.kind === 'response' ? { status: outcome.status, answer: outcome.body } : { error: outcome.error, message: outcome.message }),
      latencyMs: Math.round(outcome.latencyMs * 10) / 10,
    })}\n`);
  } else {
    process.stdout.write(`POST ${plan.url}  capture ${basename(file)}  ${plan.body.length} bytes (${plan.bodyFrom})  ${signature}  event ${plan.eventId}\n`);
    if (outcome.kind === 'response') process.stdout.write(`${outcome.status} ${truncate(outcome.body, 2000)}  (${formatMs(outcome.latencyMs)}; captured answer ${plan.capturedStatus})\n`);
    else process.stdout.write(`no answer: ${outcome.error} ${outcome.message}\n`);
  }

  if (outcome.kind === 'error') {
    if (outcome.error === 'ECONNREFUSED') throw new CliError(`cannot connect to ${plan.url}: connection refused; is local mode running? start it with npm start (or check --url)`);
    throw new CliError(`cannot reach ${plan.url}: ${outcome.error} ${outcome.message}`);
  }
  if (outcome.status >= 200 && outcome.status < 300) return;
  const body = truncate(outcome.body, 200);
  const why = outcome.status === 401 && body.includes('invalid signature') && !secret
    ? ': the captured signature does not verify with the receiver\'s secret (another secret, or an edited body); replay with --resign to sign with --secret, SOCIALPLUS_WEBHOOK_SECRET or the dev secret'
    : secret ? hint(String(outcome.status), body, secret) : '';
  throw new CliError(`the receiver answered ${outcome.status} ${body}${why}`);
}

function printSingle(label: string, bytes: number, summary: SendSummary, result: SendResult): void {
  const out = process.stdout;
  out.write(`POST ${summary.url}  ${label}  ${bytes} bytes  ${summary.header}  event ${result.eventId}\n`);
  const o = result.outcome;
  if (o.kind === 'response') out.write(`${o.status} ${truncate(o.body, 2000)}  (${formatMs(o.latencyMs)})\n`);
  else out.write(`no answer: ${o.error} ${o.message}\n`);
}

function printSummary(label: string, s: SendSummary): void {
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
function failureMessage(s: SendSummary, secret: ResolvedSecret): string | undefined {
  if (s.failed === 0) return undefined;
  const of = s.count === 1 ? '' : ` (${s.failed} of ${s.count} requests failed)`;
  if (s.errors.ECONNREFUSED) {
    return `cannot connect to ${s.url}: connection refused; is local mode running? start it with npm start (or check --url)${of}`;
  }
  const [code] = Object.keys(s.errors);
  if (code !== undefined) return `cannot reach ${s.url}: ${code} ${s.firstAnswers[code] ?? ''}${of}`;
  const status = Object.keys(s.byStatus).find((k) => !k.startsWith('2')) ?? '';
  const body = truncate(s.firstAnswers[status] ?? '', 200);
  return `the receiver answered ${status} ${body}${hint(status, body, secret)}${of}`;
}

function hint(status: string, body: string, secret: ResolvedSecret): string {
  if (status === '401' && body.includes('invalid signature')) {
    return `: the secret (from ${secret.origin}) is not the receiver's; pass the right one with --secret or SOCIALPLUS_WEBHOOK_SECRET`;
  }
  if (status === '403') return ': forbidden; on AWS the firewall admits only Social Plus\'s addresses, add yours to the allowedCidrs context';
  if (status === '404') return ': check --url and --source (the source must be one the receiver knows)';
  if (status === '503' && body.includes('secret not configured')) return ': put the Social Plus secret key into the source\'s secret';
  return '';
}

/** Parses `--signature-form`, naming the forms there are. */
function signatureFormOption(raw: string): SignatureForm {
  if (!(SIGNATURE_FORMS as readonly string[]).includes(raw)) throw new InvalidArgumentError(`'${raw}' is not a signature form: use one of ${SIGNATURE_FORMS.join(', ')}.`);
  return raw as SignatureForm;
}
