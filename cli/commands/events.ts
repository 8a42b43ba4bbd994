/**
 * `socialplus-webhooks events`: the event store's access patterns (docs/architecture.md §5) from the command line.
 * - `--user ID`: a user's activity, newest first (GSI `byActor`);
 * - `--target TYPE:ID`: a channel's, community's, post's, message's … activity, newest first (GSI `byTarget`);
 * - `--type NAME --day YYYY-MM-DD`: all events of one type on a UTC day. No index serves this (by
 *   design: questions across many events are the archive's), so it reads the archive: DuckDB over
 *   the local archive, or Athena with `--aws`;
 * - `--id EVENT_ID`: one event: its fields, flags and handler runs (`GetItem`).
 * Each listed event carries its handlers' outcomes and attempts, read from the event item
 * (`handlerRuns`; `handlers`, the done-marks, for items written before runs were recorded) with
 * one `BatchGetItem` per 100 events, since the indexes project neither.
 * Locally the store is dynalite's folder under local mode's state: read through the running
 * local mode's admin route, else opened directly while it is stopped (`cli/state/local-store.ts`).
 * This module is the command (options, help, dispatch); the parts are under `cli/events/`: the
 * question and its SQL, the event store's reads, the local and AWS answers, and the printing.
 */
import { existsSync, statSync } from 'node:fs';
import { AthenaClient } from '@aws-sdk/client-athena';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { localPaths } from '../../local/paths.js';
import { awsClientConfig, DEFAULT_STACK_NAME, type AwsTargetOptions } from '../aws-stack.js';
import { CliError } from '../errors.js';
import { awsEvent, awsEvents, type EventsAwsOptions } from '../events/aws-events.js';
import type { EventDetail, EventRow } from '../events/event-store.js';
import { localEvent, localEvents } from '../events/local-events.js';
import { DEFAULT_LIMIT, MAX_LIMIT, parseLimit, parseQuestion, TARGET_TYPES, type QuestionOptions } from '../events/question.js';
import { printEvent, printRows } from '../events/render.js';

// The parts, for tests and other tools that import them from the command's module.
export { awsEvent, awsEvents, type EventsAwsClients } from '../events/aws-events.js';
export {
  handlerRunRows,
  queryIndex,
  readEvent,
  withHandlerRuns,
  type EventDetail,
  type EventRow,
  type HandlerRunRow,
} from '../events/event-store.js';
export { parseQuestion, TARGET_TYPES, typeOnDaySql, type EventsQuestion, type ListQuestion } from '../events/question.js';

interface EventsOptions extends AwsTargetOptions, EventsAwsOptions, QuestionOptions {
  readonly limit?: string;
  readonly json?: boolean;
  readonly dir?: string;
}

/** Registers `events`. */
export function registerEvents(program: Command): void {
  program
    .command('events')
    .description(
      "list events by user (--user), by target (--target TYPE:ID), or by type on a day (--type NAME --day YYYY-MM-DD), newest first, with their handlers' outcomes; or show one (--id); locally or with --aws",
    )
    .option('--user <id>', 'a Social Plus user id: the events they acted in (sender, author, reactor, follower …)')
    .option('--target <type:id>', `what the events were about: ${TARGET_TYPES.join('|')}, a colon, its id (e.g. channel:general)`)
    .option('--type <name>', 'an event type, routing or raw name (post.didCreate, v3.post.didCreate); with --day')
    .option('--day <YYYY-MM-DD>', 'the UTC day of arrival, with --type')
    .option('--id <eventId>', "one event (the event_id column): its fields, flags and each handler's outcome, attempts, last run and error")
    .option('--limit <n>', `most events to list (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})`)
    .option('--json', 'print exactly one JSON value on stdout: an array of events, or the event with --id')
    .option('--dir <path>', "local mode's folder (default: $SOCIALPLUS_LOCAL_DIR, else .local)")
    .option('--aws', 'the deployed stack: DynamoDB for --user, --target and --id, Athena for --type --day')
    .option('--table <name>', "with --aws: the event table, instead of the stack's output")
    .option('--stack <name>', `with --aws: the stack's name (default ${DEFAULT_STACK_NAME})`)
    .option('--region <region>', "with --aws: the stack's region (default: AWS_REGION or your profile's)")
    .option('--workgroup <name>', "with --aws --type: the Athena workgroup, instead of the stack's output")
    .option('--database <name>', "with --aws --type: the Glue database, instead of the stack's output")
    .addHelpText(
      'after',
      `
--user and --target read the event store's indexes (byActor, byTarget): newest first, kept for the
store's retention (eventRetentionDays, 90 by default). --type with --day reads the archive instead
(no index serves it): DuckDB over the local archive, or an Athena query in the stack's workgroup
(billed by data scanned: one day's partition). Each event shows its handlers: outcome (succeeded,
failed), attempts, last run, duration and, for a failure, the error; read from the store with one
BatchGetItem per 100 events. Payloads: use query, e.g.
  $ socialplus-webhooks query "select payload from events where event_id = '<id>'"

Local mode keeps the store in dynalite under <dir>/dynamodb: while dev (npm start) runs it is read
through dev's admin route (address and token in <dir>/dev.json), otherwise opened directly.

Examples:
  $ socialplus-webhooks events --user mika.tan
  $ socialplus-webhooks events --target channel:general --limit 10 --json
  $ socialplus-webhooks events --type message.didFlag --day 2025-07-02
  $ socialplus-webhooks events --id 3f2a9c0e5b7d41e8a6c2f0b9d8e7a615
  $ socialplus-webhooks events --aws --region eu-central-1 --user spam.account.42`,
    )
    .action(async (opts: EventsOptions) => {
      await runEvents(opts);
    });
}

async function runEvents(opts: EventsOptions): Promise<void> {
  const question = parseQuestion(opts);
  if (question.kind === 'id' && opts.limit !== undefined) throw new CliError('--limit is for lists; --id shows one event');
  const limit = parseLimit(opts.limit);
  let answer: EventRow[] | EventDetail;
  if (opts.aws) {
    if (opts.dir !== undefined) throw new CliError('--dir is for local mode; with --aws the stack is named by --stack');
    const config = awsClientConfig(opts);
    const clients = { dynamodb: new DynamoDBClient(config), athena: new AthenaClient(config), cloudFormation: new CloudFormationClient(config) };
    answer = question.kind === 'id' ? await awsEvent(question.eventId, clients, opts) : await awsEvents(question, limit, clients, opts);
  } else {
    const awsOnly = (['table', 'stack', 'region', 'workgroup', 'database'] as const).filter((k) => opts[k] !== undefined);
    if (awsOnly.length > 0) throw new CliError(`--${awsOnly[0]} is for --aws`);
    if (opts.dir !== undefined && !(existsSync(opts.dir) && statSync(opts.dir).isDirectory())) {
      throw new CliError(`--dir ${opts.dir} is not a folder; give local mode's folder (the one dev --dir used, .local by default)`);
    }
    const dir = opts.dir ?? localPaths().root;
    answer = question.kind === 'id' ? await localEvent(question.eventId, dir) : await localEvents(question, limit, dir);
  }
  if (Array.isArray(answer)) printRows(answer, opts.json === true);
  else printEvent(answer, opts.json === true);
}
