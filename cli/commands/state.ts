/**
 * `socialplus-webhooks state`: the example handlers' state, from their table.
 * - `--user ID`: auto-moderation's flags of the user (each kept until its TTL), its ban claims and
 *   the events that caused a ban;
 * - `--day YYYY-MM-DD`: the daily counters of a UTC day (per event type, channel, community).
 * Locally through the running local mode (or dynalite opened on its folder while it is stopped,
 * `cli/state/local-store.ts`); with `--aws`, the stack's `HandlerStateTableName` output.
 */
import { existsSync, statSync } from 'node:fs';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { localPaths } from '../../local/paths.js';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { awsError } from '../aws-errors.js';
import { awsClientConfig, DEFAULT_STACK_NAME, readStackOutputs, type AwsTargetOptions } from '../aws-stack.js';
import { CliError } from '../errors.js';
import { renderTable } from '../output.js';
import { readDayCounters, readModeration, type DayCounters, type UserModeration } from '../state/handler-state.js';
import { openLocalStore } from '../state/local-store.js';
import { targetStackName } from '../stack-target.js';
import { errorMessage } from '../../lambda/core/errors.js';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** What `state` was asked. */
export type StateQuestion = { readonly kind: 'user'; readonly userId: string } | { readonly kind: 'day'; readonly day: string };

/** What `state` answers: a user's moderation records, or a day's counters. */
export type StateAnswer = ({ readonly kind: 'user' } & UserModeration) | ({ readonly kind: 'day' } & DayCounters);

interface StateOptions extends AwsTargetOptions {
  readonly user?: string;
  readonly day?: string;
  readonly json?: boolean;
  readonly dir?: string;
  readonly table?: string;
}

/** Registers `state`. */
export function registerState(program: Command): void {
  program
    .command('state')
    .description(
      "the example handlers' state: auto-moderation's flags and bans of a user (--user), the daily counters of a day (--day); locally or with --aws",
    )
    .option('--user <id>', 'a Social Plus user id: the flags auto-moderation keeps for them and their bans')
    .option('--day <YYYY-MM-DD>', 'a UTC day: the daily counters (per event type, channel and community)')
    .option('--json', 'print exactly one JSON object on stdout')
    .option('--dir <path>', "local mode's folder (default: $SOCIALPLUS_LOCAL_DIR, else .local)")
    .option('--aws', `the deployed stack's handler state table (its ${STACK_OUTPUTS.handlerStateTable} output)`)
    .option('--table <name>', "with --aws: the handler state table, instead of the stack's output")
    .option('--stack <name>', `with --aws: the stack's name (default ${DEFAULT_STACK_NAME})`)
    .option('--region <region>', "with --aws: the stack's region (default: AWS_REGION or your profile's)")
    .addHelpText(
      'after',
      `
The table exists when auto-moderation or daily counters is on (handlers in cdk.json's context;
locally HANDLERS_CONFIG overrides it). A flag is listed until its TTL removes it, whether or not it
is still inside auto-moderation's window. Reading a user is one Query, a day one Query.

Local mode keeps the table in dynalite under <dir>/dynamodb: while dev (npm start) runs it is read
through dev's admin route, otherwise opened directly.

Examples:
  $ socialplus-webhooks state --user spam.account.42
  $ socialplus-webhooks state --day 2025-07-02 --json
  $ socialplus-webhooks state --aws --region eu-central-1 --day 2025-07-02`,
    )
    .action(async (opts: StateOptions) => {
      await runState(opts);
    });
}

/** Reads the question from the options, naming what is missing or malformed. */
export function parseStateQuestion(opts: Pick<StateOptions, 'user' | 'day'>): StateQuestion {
  if (opts.user !== undefined && opts.day !== undefined) throw new CliError('give one of --user and --day (got both)');
  if (opts.user !== undefined) {
    if (opts.user.trim() === '') throw new CliError('--user is empty: give a Social Plus user id');
    return { kind: 'user', userId: opts.user };
  }
  if (opts.day === undefined)
    throw new CliError("say which state: --user ID (auto-moderation's flags and bans) or --day YYYY-MM-DD (daily counters)");
  if (!DAY.test(opts.day) || new Date(`${opts.day}T00:00:00Z`).toISOString().slice(0, 10) !== opts.day) {
    throw new CliError(`--day must be a date YYYY-MM-DD, got '${opts.day}'`);
  }
  return { kind: 'day', day: opts.day };
}

/** Answers the question from the table `tableName`. */
export async function readState(client: DynamoDBClient, tableName: string, question: StateQuestion): Promise<StateAnswer> {
  return question.kind === 'user'
    ? { kind: 'user', ...(await readModeration(client, tableName, question.userId)) }
    : { kind: 'day', ...(await readDayCounters(client, tableName, question.day)) };
}

/** Why there is no handler state table, and what turns it on. */
const NO_TABLE =
  'auto-moderation and daily counters keep their state there, and neither has been on: enable one in the handlers configuration (cdk.json\'s context key "handlers", or HANDLERS_CONFIG)';

async function runState(opts: StateOptions): Promise<void> {
  const question = parseStateQuestion(opts);
  let answer: StateAnswer;
  if (opts.aws) {
    if (opts.dir !== undefined) throw new CliError('--dir is for local mode; with --aws the stack is named by --stack');
    answer = await awsState(
      question,
      { dynamodb: new DynamoDBClient(awsClientConfig(opts)), cloudFormation: new CloudFormationClient(awsClientConfig(opts)) },
      opts,
    );
  } else {
    const awsOnly = (['table', 'stack', 'region'] as const).filter((k) => opts[k] !== undefined);
    if (awsOnly.length > 0) throw new CliError(`--${awsOnly[0]} is for --aws`);
    if (opts.dir !== undefined && !(existsSync(opts.dir) && statSync(opts.dir).isDirectory())) {
      throw new CliError(`--dir ${opts.dir} is not a folder; give local mode's folder (the one dev --dir used, .local by default)`);
    }
    answer = await localState(question, opts.dir ?? localPaths().root);
  }
  printState(answer, opts.json === true);
}

/** Reads the state through local mode in `dir`. */
export async function localState(question: StateQuestion, dir: string): Promise<StateAnswer> {
  const store = await openLocalStore(dir);
  try {
    return await readState(store.dynamodb, store.tables.handlerState, question);
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException')
      throw new CliError(`local mode has no handler state table (${store.tables.handlerState}): ${NO_TABLE}, then restart npm start`);
    if (err instanceof CliError) throw err;
    throw new CliError(
      `cannot read local mode's handler state (${store.via === 'dev' ? 'through the running dev' : `in ${localPaths(dir).dynamodb}`}): ${errorMessage(err)}`,
    );
  } finally {
    await store.close();
  }
}

/** The AWS clients `state --aws` uses. */
export interface StateAwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly cloudFormation: Pick<CloudFormationClient, 'send'>;
}

/** Reads the state from the deployed stack's table (`--table`, else its output). */
export async function awsState(
  question: StateQuestion,
  clients: StateAwsClients,
  opts: Pick<StateOptions, 'table' | 'stack'> = {},
): Promise<StateAnswer> {
  let table = opts.table;
  if (table === undefined) {
    const stack = targetStackName(opts.stack);
    const outputs = await readStackOutputs(clients.cloudFormation, stack, { instead: '--table' });
    table = outputs[STACK_OUTPUTS.handlerStateTable];
    if (!table)
      throw new CliError(
        `stack '${stack}' has no output ${STACK_OUTPUTS.handlerStateTable}, so it has no handler state table: ${NO_TABLE}, and deploy (or pass --table)`,
      );
  }
  try {
    return await readState(clients.dynamodb, table, question);
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException')
      throw new CliError(`table ${table} does not exist in this account and region: check --table, or --region`);
    throw awsError(err, `read the handler state table ${table}`);
  }
}

function printState(answer: StateAnswer, json: boolean): void {
  const { kind: _kind, ...body } = answer;
  if (json) {
    process.stdout.write(`${JSON.stringify(body)}\n`);
    return;
  }
  if (answer.kind === 'day') {
    const rows = Object.entries(answer.counters).map(([counter, n]) => ({ counter, n }));
    process.stdout.write(`daily counters of ${answer.day} (UTC)\n${renderTable(['counter', 'n'], rows, { rightAligned: new Set(['n']) })}`);
    return;
  }
  process.stdout.write(renderModeration(answer));
}

/** A user's moderation records as text: a table of flags, then one of bans. */
function renderModeration(m: UserModeration): string {
  const section = (title: string, rows: ReadonlyArray<object>, none: string) => {
    if (rows.length === 0) return `${title}: ${none}\n`;
    const records = rows as ReadonlyArray<Record<string, unknown>>;
    return `${title}:\n${renderTable(Object.keys(records[0] ?? {}), records, { maxCellWidth: 80 })}`;
  };
  return `auto-moderation state of user ${m.userId}\n\n${section('flags', m.flags, 'none kept')}\n${section('bans', m.bans, 'none')}\n${section('bans caused (kept for good)', m.banEvents, 'none')}`;
}
