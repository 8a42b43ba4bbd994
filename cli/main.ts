import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerCost } from './commands/cost.js';
import { registerDev } from './commands/dev.js';
import { registerDoctor } from './commands/doctor.js';
import { registerErase } from './commands/erase.js';
import { registerEvents } from './commands/events.js';
import { registerQuery } from './commands/query.js';
import { registerRedrive } from './commands/redrive.js';
import { registerReplay } from './commands/replay.js';
import { registerSend } from './commands/send.js';
import { registerState } from './commands/state.js';
import { registerStatus } from './commands/status.js';
import { registerVerify } from './commands/verify.js';
import { CliError } from './errors.js';

/** Builds the `socialplus-webhooks` program; each command lives in its own module. */
export function buildProgram(): Command {
  const program = new Command('socialplus-webhooks')
    .description('Receive Social Plus webhook events: run the pipeline locally, send signed samples, query the archive.')
    .version(packageVersion(), '-V, --version', 'print the version of socialplus-webhooks')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerDev(program);
  registerSend(program);
  registerQuery(program);
  registerEvents(program);
  registerState(program);
  registerStatus(program);
  registerRedrive(program);
  registerReplay(program);
  registerDoctor(program);
  registerCost(program);
  registerErase(program);
  registerVerify(program);
  return program;
}

/** The version in the project's package.json (the CLI runs from the repository, through tsx). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** Runs the CLI; returns the process exit code. Errors name the problem, without a stack trace. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof CliError) {
      process.stderr.write(`socialplus-webhooks: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`socialplus-webhooks: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}
