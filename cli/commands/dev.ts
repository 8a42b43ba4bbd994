import { ConfigurationError } from '../../lambda/common/env.js';
import { relative, resolve } from 'node:path';
import type { Command } from 'commander';
import { parseLogLevel } from '../../lambda/common/logger.js';
import { CaptureDirError } from '../../local/capture.js';
import { createConsoleLogger } from '../../local/console-logger.js';
import { DevSecretError } from '../../local/dev-secret.js';
import { PortUnavailableError } from '../../local/http-front-door.js';
import { DEFAULT_PORT, LOCAL_DIR_ENV, LOCAL_SECRET_ENV } from '../../local/paths.js';
import { LocalDirInUseError, startLocalPipeline, type LocalPipeline } from '../../local/pipeline.js';
import { CliError } from '../errors.js';

interface DevOptions {
  readonly port?: string;
  readonly dir?: string;
  readonly host?: string;
  readonly capture?: string;
}

/** `socialplus-webhooks dev`: local mode (docs/architecture.md §8), what `npm start` runs. */
export function registerDev(program: Command): void {
  program
    .command('dev')
    .description(
      'run the whole pipeline on this machine: HTTP receiver, queue, fan-out, DynamoDB (dynalite) and S3 archive (an S3 emulator), state kept in a folder',
    )
    .option('--port <n>', `HTTP port, 0 for any free one (env PORT, default ${DEFAULT_PORT})`)
    .option('--dir <path>', `folder for local state (env ${LOCAL_DIR_ENV}, default .local)`)
    .option('--host <address>', 'address to listen on (default 127.0.0.1: this machine only)')
    .option(
      '--capture <dir>',
      'write every webhook request (headers, exact body, answer status) to one file each in <dir>, to replay with send --replay-capture',
    )
    .addHelpText(
      'after',
      `
Routes: POST /webhook, POST /webhook/{source}, GET /healthz; the inspector at / (its link, with the token, is printed at start).
Secret: ${LOCAL_SECRET_ENV} if set, else the dev secret in <dir>/secret (generated on first run).
Logs: one line per accepted event; LOG_LEVEL=DEBUG|INFO|WARN|ERROR.
The first stdout line starting "listening on " carries the URL, for scripts.
Captures (--capture) hold personal data and the signature: <dir> is created 0700, each file is 0600.`,
    )
    .action(async (opts: DevOptions) => {
      await runDev(opts);
    });
}

async function runDev(opts: DevOptions): Promise<void> {
  const port = parsePort(opts.port !== undefined ? '--port' : 'PORT', opts.port ?? process.env.PORT);
  const dir = opts.dir ?? process.env[LOCAL_DIR_ENV];
  if (dir !== undefined && dir.trim() === '') throw new CliError(`${opts.dir !== undefined ? '--dir' : LOCAL_DIR_ENV} is empty: give a folder path`);
  if (opts.capture !== undefined && opts.capture.trim() === '') throw new CliError('--capture is empty: give a folder path');
  const logger = createConsoleLogger({ level: parseLogLevel(process.env.LOG_LEVEL) });
  const started = Date.now();

  let pipeline: LocalPipeline;
  try {
    pipeline = await startLocalPipeline({
      port,
      ...(dir !== undefined ? { dir } : {}),
      ...(opts.host ? { host: opts.host } : {}),
      ...(opts.capture !== undefined ? { captureDir: opts.capture } : {}),
      logger,
    });
  } catch (err) {
    if (
      err instanceof PortUnavailableError ||
      err instanceof LocalDirInUseError ||
      err instanceof DevSecretError ||
      err instanceof RangeError ||
      err instanceof ConfigurationError ||
      err instanceof CaptureDirError
    ) {
      throw new CliError(err.message);
    }
    throw err;
  }

  const out = (line = '') => process.stdout.write(`${line}\n`);
  out(`socialplus-webhooks dev: local pipeline ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  out(`listening on ${pipeline.url}`);
  for (const line of banner(pipeline, opts.capture !== undefined ? resolve(opts.capture) : undefined)) out(line);

  let stopping = false;
  const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
    const onSignal = (sig: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`socialplus-webhooks dev: ${sig} again, exiting now (unfinished work stays journaled in ${pipeline.paths.root})\n`);
        process.exit(130);
      }
      stopping = true;
      resolveSignal(sig);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  process.stderr.write(`socialplus-webhooks dev: ${signal}: finishing work in flight and writing the archive buffer (press Ctrl+C again to force)\n`);
  await pipeline.close();
  out('stopped');
  // Everything is closed; should a stray handle keep the event loop alive, do not hang.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
}

function parsePort(name: string, value: string | undefined): number {
  if (value === undefined || value.trim() === '') return DEFAULT_PORT;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n > 65535)
    throw new CliError(`${name} must be a port number from 0 to 65535 (0 = any free port), got '${value}'`);
  return n;
}

/** What to print once ready: routes, state, the secret's origin, capture, and commands to try. */
function banner(p: LocalPipeline, captureDir?: string): string[] {
  const defaultRoot = resolve('.local');
  const atDefaultDir = p.paths.root === defaultRoot;
  const shown = relative(process.cwd(), p.paths.root) || '.';
  const envPrefix = atDefaultDir ? '' : `${LOCAL_DIR_ENV}=${shellQuote(p.paths.root)} `;
  const urlFlag = p.port === DEFAULT_PORT ? '' : ` --url ${p.url}/webhook`;
  const secretLine = (() => {
    switch (p.secret.origin) {
      case 'generated':
        return `secret    generated a dev secret into ${relative(process.cwd(), p.secret.file ?? '') || p.secret.file} (mode 0600): ${p.secret.value}`;
      case 'file':
        return `secret    the dev secret in ${relative(process.cwd(), p.secret.file ?? '') || p.secret.file}`;
      case 'env':
        return `secret    from ${LOCAL_SECRET_ENV}`;
      default:
        return 'secret    given by the caller';
    }
  })();
  const others = p.sources.filter((s) => s !== 'default');
  return [
    `  POST ${p.url}/webhook           (source "default")`,
    `  POST ${p.url}/webhook/{source}  (${others.length > 0 ? `sources: ${others.join(', ')}` : 'only "default" is configured locally'})`,
    `  GET  ${p.url}/healthz`,
    `inspector ${p.inspectorUrl}`,
    `          watch events arrive, open one, replay it, redrive the DLQ (this machine only; the link carries the admin token)`,
    secretLine,
    `state     ${shown}/ (queue journal, archive buffer, dev secret)`,
    `config    handlers ${{ HANDLERS_CONFIG: 'from HANDLERS_CONFIG (it overrides cdk.json)', 'cdk.json': `from ${shownPath(p.handlersConfig.file ?? 'cdk.json')} (context key "handlers", as cdk deploy reads it; HANDLERS_CONFIG overrides)`, none: 'none: every example handler off (set "handlers" in cdk.json\'s context, or HANDLERS_CONFIG)', caller: 'given by the caller' }[p.handlersConfig.from]}`,
    ...(captureDir !== undefined
      ? [`capture   ON: every webhook request to ${shownPath(captureDir)}/, one file each (mode 0600: personal data and signatures)`]
      : []),
    ...handlerLines(p.handlers),
    `fan-out   ${p.fanout.mode === 'process' ? 'in its own process, at a lower CPU priority; started again if it dies' : 'in this process'}`,
    `dynamodb  ${p.endpoints.dynamodb} (dynalite in its own process, table ${p.tableName})`,
    `s3        ${p.endpoints.s3} (S3 emulator in its own process, bucket ${p.bucket})`,
    `          both answer only requests signed with the credentials in ${shownPath(p.paths.emulatorCredentialsFile)}, from no web page`,
    'try, in another terminal:',
    `  ${envPrefix}npx socialplus-webhooks send message.didCreate${urlFlag}`,
    `  ${envPrefix}npx socialplus-webhooks query "select event_type, count(*) as n from events group by 1"`,
    ...(captureDir !== undefined ? [`  npx socialplus-webhooks send --replay-capture ${shellQuote(shownPath(captureDir))}/<file>${urlFlag}`] : []),
    'Ctrl+C stops (work in flight finishes, the archive buffer is written); a second Ctrl+C exits at once.',
  ];
}

/**
 * The fan-out's handlers, one line each in dispatch order: its name and the event patterns it takes
 * (the registered ones of `lambda/fanout/handlers/index.ts`, then the example handlers switched on).
 */
export function handlerLines(handlers: readonly { readonly name: string; readonly events: readonly string[] }[]): string[] {
  if (handlers.length === 0) return ['handlers  none (register yours in lambda/fanout/handlers/index.ts)'];
  const width = Math.max(...handlers.map((h) => h.name.length));
  return handlers.map((h, i) => `${i === 0 ? 'handlers' : ''.padEnd(8)}  ${h.name.padEnd(width)}  ${h.events.join(', ')}`);
}

/** A folder as the user would type it here: relative below the current folder, else absolute. */
function shownPath(dir: string): string {
  const rel = relative(process.cwd(), dir);
  return rel === '' ? '.' : rel.startsWith('..') ? dir : rel;
}

function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
