/**
 * `socialplus-webhooks send`: signs a sample event (any catalog name, a shipped sample, or a file
 * of your own) the way Social Plus does and posts it to the receiver, once or `--count` times; or
 * posts a request captured by `dev --capture` again. The parts: `cli/send/` (where to post and the
 * secret, what is printed, `--list`), `cli/send-runner.ts` (the posting), `cli/fixtures.ts` and
 * `cli/sample-edit.ts` (the samples and their edits), `cli/replay-capture.ts` (captures).
 */
import { basename } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { SIGNATURE_FORMS, type SignatureForm } from '../../lambda/core/signature.js';
import { DEFAULT_PORT } from '../../local/paths.js';
import { CliError } from '../errors.js';
import { editPayload, resolvePayload, sendableNames } from '../fixtures.js';
import { formatMs, truncate } from '../output.js';
import { planReplay, postReplay, readCaptureFile } from '../replay-capture.js';
import { parseAssignment, type Assignment } from '../sample-edit.js';
import { sendEvents } from '../send-runner.js';
import { printList } from '../send/list.js';
import { describePayload, failureMessage, hint, printSingle, printSummary } from '../send/report.js';
import { resolveSecret, targetUrl } from '../send/target.js';
import { errorMessage } from '../../lambda/core/errors.js';

export { resolveSecret, targetUrl, type ResolvedSecret } from '../send/target.js';

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
  readonly list?: boolean;
  readonly seed?: number;
  readonly set?: Assignment[];
  readonly user?: string;
  readonly channel?: string;
  readonly raw?: boolean;
  readonly print?: boolean;
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
    .description('Sign a sample of any catalog event (or your own JSON file) the way Social Plus does and POST it to the receiver.')
    .argument(
      '[event|file.json]',
      "any event name of the catalog (e.g. message.didCreate, post.didApprove; send --list shows them), a shipped sample's file name, or a path to a JSON file (not with --replay-capture); with --list, a filter",
    )
    .option('--list', 'list every event name send knows, by family: shipped sample or generated, deprecated; [event] filters (e.g. send --list post)')
    .option(
      '--set <path=value>',
      "set a field before signing (repeatable): a dot/bracket path and a JSON value or plain text, e.g. --set 'data.messages[0].flagCount=9'",
      collectAssignment,
    )
    .option(
      '--user <id>',
      "make <id> the event's user (actor: sender, author, reactor, follower, banner; the user of user.* events) everywhere the payload names them",
    )
    .option(
      '--channel <id>',
      "make <id> the event's chat channel everywhere the payload names it (channel.*, message.*, moderation.*, push notifications)",
    )
    .option('--seed <n>', 'generate the sample from seed n, even where one is shipped (default: the shipped sample, else seed 1)', seedOption)
    .option('--print', 'print the body that would be sent (after the edits) on stdout and send nothing')
    .option('--raw', 'send a file of your own byte for byte even when it is not JSON (the receiver archives it flagged invalid-json)')
    .option('--url <url>', `receiver URL (default: http://localhost:$PORT/webhook, PORT defaulting to ${DEFAULT_PORT})`)
    .option('--secret <secret>', 'signing secret (default: $SOCIALPLUS_WEBHOOK_SECRET, else the dev secret local mode wrote to .local/secret)')
    .option('--source <name>', "webhook source: posts to <url>/<name>, signed with that source's secret")
    .option('--count <n>', 'send N distinct events (copies 2..N have their timestamp moved by 1..N-1 ms)', integerOption('--count', MAX_COUNT), 1)
    .option('--concurrency <n>', 'requests in flight at once with --count', integerOption('--concurrency', MAX_CONCURRENCY), DEFAULT_CONCURRENCY)
    .option('--legacy', 'sign into x-eko-signature only, like the legacy duplicate deliveries (acknowledged and dropped)')
    .option(
      '--signature-form <form>',
      `sign in another form the receiver knows: ${SIGNATURE_FORMS.join(', ')} (default base64; the json-* forms are refused unless signatureForms accepts them)`,
      signatureFormOption,
    )
    .option('--json', 'print a machine-readable summary on stdout')
    .option(
      '--replay-capture <file>',
      "post a request captured by dev --capture again, byte for byte (headers and body), to --url or local mode, at the captured path's source",
    )
    .option('--resign', "with --replay-capture: sign the (redacted) body again with the secret, in the captured signature's encoding (hex or base64)")
    .addHelpText('after', sendHelp)
    .action(async (arg: string | undefined, opts: SendOptions) => {
      await runSend(arg, opts);
    });
}

function sendHelp(): string {
  let count: string;
  try {
    const names = sendableNames();
    count = `${names.length} event names (${names.filter((n) => n.shipped !== undefined).length} with a sample in fixtures/samples, the others generated)`;
  } catch {
    count = 'every event name of the catalog';
  }
  return `
send knows ${count}: send --list shows them.
A name works as Social Plus sends it (v3.post.didApprove) or as the fan-out routes it
(post.didApprove); a misspelt one gets a "did you mean". A generated sample has the family's entities
with ids that agree (author in users[], message path naming its channel); the same name and --seed
give the same bytes, hence the same event id (stored once: vary it with --count, --seed or --set).

Edits, applied in this order before signing (a shipped sample is then re-serialised):
  --user ID      replaces the event's user (the id events --user finds it by) in every field and path
  --channel ID   replaces the event's chat channel likewise
  --set PATH=V   sets one field; PATH is keys joined by '.', list items as [0], odd keys as ["a.b"];
                 every step but the last must exist; V is JSON when it parses (9, true, null,
                 {"a":1}, "9" for the string 9), else plain text. A value of the wrong type for the
                 catalog is sent with a warning (the fan-out leaves it out before handlers see it).
A file that is not JSON is refused unless --raw (which takes no edits).

The signature is base64 HMAC-SHA256 of the exact bytes sent. Copy 1 of --count is the sample byte for
byte; each later copy moves the primary entity's timestamp (the archive's occurred_at: sentTime, else
updatedAt/createdAt) by 1 ms more, so every copy is a distinct event with its own event id.
Prefer SOCIALPLUS_WEBHOOK_SECRET over --secret for real secrets: command lines are visible to other users.
Exit code 1 when any request is refused or answered with a non-2xx status.

Examples:
  $ socialplus-webhooks send message.didCreate
  $ socialplus-webhooks send --list community
  $ socialplus-webhooks send v3.post.didApprove --user nok.s
  $ socialplus-webhooks send message.didFlag --user spam.account.9 --channel general --set 'data.messages[0].flagCount=5'
  $ socialplus-webhooks send follow.didAcceptRequest --seed 7
  $ socialplus-webhooks send post.didCreate --count 500 --concurrency 16
  $ socialplus-webhooks send ./my-event.json --url https://abc123.execute-api.us-east-1.amazonaws.com/prod/webhook --secret "$SECRET"
  $ socialplus-webhooks send ./truncated-body.txt --raw
  $ socialplus-webhooks send --replay-capture captures/2025-06-01T12-34-56.789Z-0123abcd….json
  $ socialplus-webhooks send --replay-capture test/fixtures/captures/flagged.json --resign --secret test-secret

--replay-capture sends the captured header lines (less host, content-length and other hop-by-hop ones)
and body: "bodyText" when the capture has it (a hand edit wins over "bodyBase64"), else "bodyBase64".
`;
}

async function runSend(arg: string | undefined, opts: SendOptions): Promise<void> {
  if (opts.list) return printList(arg, opts.json === true);
  if (opts.replayCapture !== undefined) return runReplayCapture(opts.replayCapture, arg, opts);
  if (opts.resign) throw new CliError('--resign re-signs a replayed capture: use it with --replay-capture <file>');
  if (arg === undefined)
    throw new CliError(
      'nothing to send: give a sample name (any event name, e.g. message.didCreate; send --list shows them all) or a JSON file, or --replay-capture <file>',
    );
  const set = opts.set ?? [];
  const edits = { ...(opts.user !== undefined ? { user: opts.user } : {}), ...(opts.channel !== undefined ? { channel: opts.channel } : {}), set };
  if (opts.raw && (opts.user !== undefined || opts.channel !== undefined || set.length > 0 || opts.seed !== undefined)) {
    throw new CliError('--raw sends your file byte for byte: it takes no --set, --user, --channel or --seed');
  }
  const url = opts.print ? '' : targetUrl(opts);
  const resolved = resolvePayload(arg, { ...(opts.seed !== undefined ? { seed: opts.seed } : {}), raw: opts.raw === true });
  if (opts.raw && resolved.origin !== 'file')
    throw new CliError(`--raw applies to a file of your own; '${arg}' is an event name, always sent as JSON`);
  const payload = await editPayload(resolved, edits);
  if (opts.print) {
    for (const w of payload.warnings) process.stderr.write(`warning: ${w}\n`);
    process.stdout.write(payload.body);
    return;
  }
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

  const edited = payload !== resolved;
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({ sample: payload.label, origin: payload.origin, ...(payload.seed !== undefined ? { seed: payload.seed } : {}), edited, ...summary })}\n`,
    );
  } else if (opts.count === 1 && results[0]) {
    printSingle(describePayload(payload, edited), payload.body.length, summary, results[0]);
  } else {
    printSummary(describePayload(payload, edited), summary);
  }
  const failure = failureMessage(summary, secret, opts.signatureForm);
  if (failure) throw new CliError(failure);
}

/** `send --replay-capture <file> [--url] [--resign]`: posts a captured request again (`cli/replay-capture.ts`). */
async function runReplayCapture(file: string, arg: string | undefined, opts: SendOptions): Promise<void> {
  if (arg !== undefined) throw new CliError(`give either '${arg}' to sign or --replay-capture <file>, not both`);
  if (opts.source !== undefined) throw new CliError('--source does not apply to --replay-capture: the captured path names the source');
  if (
    opts.count !== 1 ||
    opts.legacy ||
    opts.signatureForm ||
    opts.seed !== undefined ||
    opts.raw ||
    opts.user !== undefined ||
    opts.channel !== undefined ||
    opts.set !== undefined ||
    opts.print
  ) {
    throw new CliError(
      '--count, --legacy, --signature-form, --seed, --raw, --set, --user, --channel and --print do not apply to --replay-capture: it sends the captured request once, as captured',
    );
  }
  const baseUrl = targetUrl(opts.url !== undefined ? { url: opts.url } : {});
  const capture = await readCaptureFile(file);
  const secret = opts.resign ? resolveSecret(opts.secret) : undefined;
  if (!opts.resign && opts.secret !== undefined)
    process.stderr.write('warning: --secret is used only with --resign; the captured signature is sent as it is\n');
  const plan = planReplay(capture, { baseUrl, ...(secret ? { resignWith: secret.value } : {}) });
  if (plan.edited) {
    process.stderr.write(
      "note: the capture's bodyText differs from its bodyBase64: sending bodyText (the edited body); bodyBase64 still holds the captured bytes, delete it before sharing the capture\n",
    );
    if (!secret) process.stderr.write('warning: the captured signature was made over the captured bytes, not the edited body: add --resign\n');
  }

  const outcome = await postReplay(plan);
  const signature = secret
    ? `re-signed ${plan.resigned.map((r) => `${r.header} (${r.encoding})`).join(', ')} with the secret from ${secret.origin}`
    : 'signature as captured';
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify({
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
      })}\n`,
    );
  } else {
    process.stdout.write(
      `POST ${plan.url}  capture ${basename(file)}  ${plan.body.length} bytes (${plan.bodyFrom})  ${signature}  event ${plan.eventId}\n`,
    );
    if (outcome.kind === 'response')
      process.stdout.write(
        `${outcome.status} ${truncate(outcome.body, 2000)}  (${formatMs(outcome.latencyMs)}; captured answer ${plan.capturedStatus})\n`,
      );
    else process.stdout.write(`no answer: ${outcome.error} ${outcome.message}\n`);
  }

  if (outcome.kind === 'error') {
    if (outcome.error === 'ECONNREFUSED')
      throw new CliError(`cannot connect to ${plan.url}: connection refused; is local mode running? start it with npm start (or check --url)`);
    throw new CliError(`cannot reach ${plan.url}: ${outcome.error} ${outcome.message}`);
  }
  if (outcome.status >= 200 && outcome.status < 300) return;
  const body = truncate(outcome.body, 200);
  const why =
    outcome.status === 401 && body.includes('invalid signature') && !secret
      ? ": the captured signature does not verify with the receiver's secret (another secret, or an edited body); replay with --resign to sign with --secret, SOCIALPLUS_WEBHOOK_SECRET or the dev secret"
      : secret
        ? hint(String(outcome.status), body, secret)
        : '';
  throw new CliError(`the receiver answered ${outcome.status} ${body}${why}`);
}

/** Collects repeated `--set`, parsing each as it comes so a bad path fails before anything is sent. */
function collectAssignment(raw: string, previous: Assignment[] | undefined): Assignment[] {
  try {
    return [...(previous ?? []), parseAssignment(raw)];
  } catch (err) {
    throw new InvalidArgumentError(errorMessage(err));
  }
}

/** Parses `--seed`: a whole number from 0 to 2^32 - 1. */
function seedOption(raw: string): number {
  const n = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n > 0xffff_ffff)
    throw new InvalidArgumentError(`--seed must be a whole number from 0 to ${0xffff_ffff}, got '${raw}'.`);
  return n;
}

/** Parses `--signature-form`, naming the forms there are. */
function signatureFormOption(raw: string): SignatureForm {
  if (!(SIGNATURE_FORMS as readonly string[]).includes(raw))
    throw new InvalidArgumentError(`'${raw}' is not a signature form: use one of ${SIGNATURE_FORMS.join(', ')}.`);
  return raw as SignatureForm;
}
