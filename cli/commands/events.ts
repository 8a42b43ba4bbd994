/**
 * `socialplus-webhooks events`: the event store's access patterns (DESIGN §5) from the command line.
 * - `--user ID`: a user's activity, newest first (GSI `byActor`);
 * - `--target TYPE:ID`: a channel's, community's, post's, message's … activity, newest first (GSI `byTarget`);
 * - `--type NAME --day YYYY-MM-DD`: all events of one type on a UTC day. No index serves this (by
 *   design: questions across many events are the archive's), so it reads the archive: DuckDB over
 *   the local archive, or Athena with `--aws`.
 * Locally the store is dynalite's folder under local mode's state: read through the running `dev`'s
 * endpoint when `dev.json` gives one, else opened directly while `dev` is stopped.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { normaliseEventType } from '../../lambda/core/envelope.js';
import { TABLE, actorKey, targetKey } from '../../lambda/common/table-schema.js';
import { localDynamoDbClient, startDynalite } from '../../local/emulators.js';
import { LOCAL_TABLE_NAME, localPaths } from '../../local/paths.js';
import { locateArchive, QueryError, runArchiveQuery } from '../archive-query.js';
import { DEFAULT_STACK_NAME } from '../aws-status.js';
import { CliError } from '../errors.js';
import { targetStackName } from '../stack-target.js';
import { renderTable } from '../output.js';

/** Target types the fan-out records (`lambda/core/entities.ts`). */
export const TARGET_TYPES = ['message', 'channel', 'post', 'comment', 'community', 'user', 'stream', 'poll', 'file', 'tag'] as const;

/** Stack outputs `events --aws` reads (`lib/webhooks-stack.ts`). */
export const EVENTS_OUTPUTS = { table: 'EventTableName', workGroup: 'AthenaWorkGroupName', database: 'GlueDatabaseName' } as const;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;

/** One event as the command prints it. */
export interface EventRow {
  readonly received_at: string;
  readonly event_type: string;
  readonly event_id: string;
  readonly actor_id: string | null;
  readonly target_type: string | null;
  readonly target_id: string | null;
  readonly source: string | null;
}

/** The question asked. */
export type EventsQuestion =
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'target'; readonly targetType: string; readonly targetId: string }
  | { readonly kind: 'type'; readonly eventType: string; readonly day: string };

interface EventsOptions {
  readonly user?: string;
  readonly target?: string;
  readonly type?: string;
  readonly day?: string;
  readonly limit?: string;
  readonly json?: boolean;
  readonly dir?: string;
  readonly aws?: boolean;
  readonly table?: string;
  readonly stack?: string;
  readonly region?: string;
  readonly workgroup?: string;
  readonly database?: string;
}

/** Registers `events`. */
export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('list events by user (--user), by target (--target TYPE:ID), or by type on a day (--type NAME --day YYYY-MM-DD), newest first; locally or with --aws')
    .option('--user <id>', 'a Social Plus user id: the events they acted in (sender, author, reactor, follower …)')
    .option('--target <type:id>', `what the events were about: ${TARGET_TYPES.join('|')}, a colon, its id (e.g. channel:general)`)
    .option('--type <name>', 'an event type, routing or raw name (post.didCreate, v3.post.didCreate); with --day')
    .option('--day <YYYY-MM-DD>', 'the UTC day of arrival, with --type')
    .option('--limit <n>', `most events to list (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})`)
    .option('--json', 'print exactly one JSON array of events on stdout')
    .option('--dir <path>', 'local mode\'s folder (default: $SOCIALPLUS_LOCAL_DIR, else .local)')
    .option('--aws', 'the deployed stack: DynamoDB for --user and --target, Athena for --type --day')
    .option('--table <name>', 'with --aws: the event table, instead of the stack\'s output')
    .option('--stack <name>', `with --aws: the stack's name (default ${DEFAULT_STACK_NAME})`)
    .option('--region <region>', 'with --aws: the stack\'s region (default: AWS_REGION or your profile\'s)')
    .option('--workgroup <name>', 'with --aws --type: the Athena workgroup, instead of the stack\'s output')
    .option('--database <name>', 'with --aws --type: the Glue database, instead of the stack\'s output')
    .addHelpText('after', `
--user and --target read the event store's indexes (byActor, byTarget): newest first, kept for the
store's retention (eventRetentionDays, 90 by default). --type with --day reads the archive instead
(no index serves it): DuckDB over the local archive, or an Athena query in the stack's workgroup
(billed by data scanned: one day's partition). Payloads: use query, e.g.
  $ socialplus-webhooks query "select payload from events where event_id = '<id>'"

Local mode keeps the store in dynalite under <dir>/dynamodb: while dev runs it is read through
dev's endpoint, otherwise opened directly.

Examples:
  $ socialplus-webhooks events --user mika.tan
  $ socialplus-webhooks events --target channel:general --limit 10 --json
  $ socialplus-webhooks events --type message.didFlag --day 2025-07-02
  $ socialplus-webhooks events --aws --region eu-central-1 --user spam.account.42`)
    .action(async (opts: EventsOptions) => {
      await runEvents(opts);
    });
}

/** Reads the question from the options, naming what is missing or malformed. */
export function parseQuestion(opts: Pick<EventsOptions, 'user' | 'target' | 'type' | 'day'>): EventsQuestion {
  const given = [opts.user !== undefined ? '--user' : '', opts.target !== undefined ? '--target' : '', opts.type !== undefined || opts.day !== undefined ? '--type/--day' : ''].filter(Boolean);
  if (given.length === 0) throw new CliError('say which events: --user ID, --target TYPE:ID, or --type NAME --day YYYY-MM-DD');
  if (given.length > 1) throw new CliError(`give one of --user, --target, --type with --day (got ${given.join(' and ')})`);
  if (opts.user !== undefined) {
    if (opts.user.trim() === '') throw new CliError('--user is empty: give a Social Plus user id');
    return { kind: 'user', userId: opts.user };
  }
  if (opts.target !== undefined) {
    const colon = opts.target.indexOf(':');
    const targetType = colon < 0 ? '' : opts.target.slice(0, colon);
    const targetId = colon < 0 ? '' : opts.target.slice(colon + 1);
    if (colon < 0 || targetId === '') throw new CliError(`--target must be TYPE:ID (e.g. channel:general), got '${opts.target}'`);
    if (!(TARGET_TYPES as readonly string[]).includes(targetType)) {
      throw new CliError(`--target type '${targetType}' is not one of ${TARGET_TYPES.join(', ')}`);
    }
    return { kind: 'target', targetType, targetId };
  }
  if (opts.type === undefined || opts.type.trim() === '') throw new CliError('--day needs --type NAME (an event type, e.g. message.didFlag)');
  if (opts.day === undefined) throw new CliError('--type needs --day YYYY-MM-DD (the UTC day): no index lists a type across all days, the archive is read one day at a time');
  if (!DAY.test(opts.day) || Number.isNaN(Date.parse(`${opts.day}T00:00:00Z`)) || new Date(`${opts.day}T00:00:00Z`).toISOString().slice(0, 10) !== opts.day) {
    throw new CliError(`--day must be a date YYYY-MM-DD, got '${opts.day}'`);
  }
  return { kind: 'type', eventType: normaliseEventType(opts.type.trim()), day: opts.day };
}

function parseLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_LIMIT;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || n < 1 || n > MAX_LIMIT) throw new CliError(`--limit must be a whole number from 1 to ${MAX_LIMIT}, got '${raw}'`);
  return n;
}

async function runEvents(opts: EventsOptions): Promise<void> {
  const question = parseQuestion(opts);
  const limit = parseLimit(opts.limit);
  let rows: EventRow[];
  if (opts.aws) {
    if (opts.dir !== undefined) throw new CliError('--dir is for local mode; with --aws the stack is named by --stack');
    const config = { ...(opts.region ? { region: opts.region } : {}) };
    rows = await awsEvents(question, limit, {
      dynamodb: new DynamoDBClient(config),
      athena: new AthenaClient(config),
      cloudFormation: new CloudFormationClient(config),
    }, opts);
  } else {
    const awsOnly = (['table', 'stack', 'region', 'workgroup', 'database'] as const).filter((k) => opts[k] !== undefined);
    if (awsOnly.length > 0) throw new CliError(`--${awsOnly[0]} is for --aws`);
    if (opts.dir !== undefined && !(existsSync(opts.dir) && statSync(opts.dir).isDirectory())) {
      throw new CliError(`--dir ${opts.dir} is not a folder; give local mode's folder (the one dev --dir used, .local by default)`);
    }
    rows = await localEvents(question, limit, opts.dir ?? localPaths().root);
  }
  printRows(rows, opts.json === true);
}

function printRows(rows: readonly EventRow[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  const columns = ['received_at', 'event_type', 'event_id', 'actor_id', 'target', 'source'];
  const table = rows.map((r) => ({
    received_at: r.received_at,
    event_type: r.event_type,
    event_id: r.event_id,
    actor_id: r.actor_id,
    target: r.target_type && r.target_id ? `${r.target_type}:${r.target_id}` : null,
    source: r.source,
  }));
  process.stdout.write(renderTable(columns, table));
}

// ---- the event store (DynamoDB) ----

/** Queries the `byActor` or `byTarget` index, newest first, up to `limit` items. */
export async function queryIndex(client: Pick<DynamoDBClient, 'send'>, tableName: string, question: Exclude<EventsQuestion, { kind: 'type' }>, limit: number): Promise<EventRow[]> {
  const index = question.kind === 'user' ? TABLE.byActor : TABLE.byTarget;
  const key = question.kind === 'user' ? actorKey(question.userId) : targetKey(question.targetType, question.targetId);
  const rows: EventRow[] = [];
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const out = await client.send(new QueryCommand({
      TableName: tableName,
      IndexName: index.indexName,
      KeyConditionExpression: '#pk = :pk',
      ExpressionAttributeNames: { '#pk': index.partitionKey },
      ExpressionAttributeValues: { ':pk': { S: key } },
      ScanIndexForward: false,
      Limit: limit - rows.length,
      ...(startKey ? { ExclusiveStartKey: startKey } : {}),
    }));
    for (const item of out.Items ?? []) rows.push(rowOf(item));
    startKey = out.LastEvaluatedKey;
  } while (startKey && rows.length < limit);
  return rows;
}

function rowOf(item: Record<string, AttributeValue>): EventRow {
  const s = (k: string) => item[k]?.S ?? null;
  return {
    received_at: s('receivedAt') ?? '',
    event_type: s('eventType') ?? '',
    event_id: (s(TABLE.partitionKey) ?? '').replace(/^EVENT#/, ''),
    actor_id: s('actorId'),
    target_type: s('targetType'),
    target_id: s('targetId'),
    source: s('source'),
  };
}

// ---- local mode ----

async function localEvents(question: EventsQuestion, limit: number, dir: string): Promise<EventRow[]> {
  if (question.kind === 'type') return archiveEvents(question, limit, dir);
  const paths = localPaths(dir);
  const endpoint = runningDevDynamoDb(paths.devInfoFile);
  if (endpoint !== undefined) {
    const client = localDynamoDbClient(endpoint);
    try {
      return await queryIndex(client, LOCAL_TABLE_NAME, question, limit);
    } catch (err) {
      throw new CliError(`cannot read the event store through the running dev (${endpoint}): ${(err as Error).message}`);
    } finally {
      client.destroy();
    }
  }
  const pid = livePid(paths.pidFile);
  if (pid !== undefined) {
    throw new CliError(`local mode is running (process ${pid}) and holds the event store in ${paths.dynamodb}, and its dev.json gives no DynamoDB endpoint to read it through: stop dev and run events again (or use query, which reads the archive)`);
  }
  if (!existsSync(paths.dynamodb)) {
    throw new CliError(`no local event store in ${paths.dynamodb}: run socialplus-webhooks dev (and send some events) first, or give --dir`);
  }
  // dev is stopped: open its folder ourselves, claiming it so dev cannot start on it meanwhile.
  const { claimLocalDir } = await import('../../local/pipeline.js');
  let release: () => Promise<void>;
  try {
    release = await claimLocalDir(paths.root);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  try {
    const dynalite = await startDynalite({ dir: paths.dynamodb });
    const client = localDynamoDbClient(dynalite.endpoint);
    try {
      return await queryIndex(client, LOCAL_TABLE_NAME, question, limit);
    } catch (err) {
      if ((err as Error).name === 'ResourceNotFoundException') return [];
      throw err;
    } finally {
      client.destroy();
      await dynalite.close();
    }
  } finally {
    await release();
  }
}

/** The DynamoDB endpoint the running `dev` publishes in `dev.json`, if it runs and publishes one. */
function runningDevDynamoDb(devInfoFile: string): string | undefined {
  let info: { pid?: unknown; dynamodb?: unknown; endpoints?: { dynamodb?: unknown } };
  try {
    info = JSON.parse(readFileSync(devInfoFile, 'utf8')) as typeof info;
  } catch {
    return undefined;
  }
  const endpoint = typeof info.dynamodb === 'string' ? info.dynamodb : typeof info.endpoints?.dynamodb === 'string' ? info.endpoints.dynamodb : undefined;
  return typeof info.pid === 'number' && isAlive(info.pid) ? endpoint : undefined;
}

function livePid(pidFile: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return undefined;
  }
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : undefined;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The SQL for `--type --day`, the same for DuckDB and Athena: each event once (its first copy),
 * newest first. Three `?`: the day, then the name twice (routing or raw). The limit is a validated
 * whole number written into the text: neither engine binds `LIMIT ?` reliably.
 */
export function typeOnDaySql(limit: number): string {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive whole number, got ${limit}`);
  return [
    'SELECT min(received_at) AS received_at, event_type, event_id, actor_id, target_type, target_id, source',
    'FROM events',
    'WHERE dt = ? AND (event_type = ? OR event_name = ?)',
    'GROUP BY event_id, event_type, actor_id, target_type, target_id, source',
    'ORDER BY received_at DESC, event_id',
    `LIMIT ${limit}`,
  ].join('\n');
}

async function archiveEvents(question: Extract<EventsQuestion, { kind: 'type' }>, limit: number, dir: string): Promise<EventRow[]> {
  const archive = locateArchive(dir);
  if (archive.objects.length === 0) process.stderr.write(`note: no archive objects under ${archive.eventsDir} yet\n`);
  try {
    const result = await runArchiveQuery(typeOnDaySql(limit), archive.objects, [question.day, question.eventType, question.eventType]);
    return result.rows as unknown as EventRow[];
  } catch (err) {
    if (err instanceof QueryError) throw new CliError(`reading the archive failed: ${err.message}`);
    throw err;
  }
}

// ---- AWS ----

/** The AWS clients `events --aws` uses (fakes in tests). */
export interface EventsAwsClients {
  readonly dynamodb: Pick<DynamoDBClient, 'send'>;
  readonly athena: Pick<AthenaClient, 'send'>;
  readonly cloudFormation: Pick<CloudFormationClient, 'send'>;
}

/** Answers the question on the deployed stack. */
export async function awsEvents(
  question: EventsQuestion,
  limit: number,
  clients: EventsAwsClients,
  opts: Pick<EventsOptions, 'table' | 'stack' | 'workgroup' | 'database'> = {},
  poll: { readonly sleep?: (ms: number) => Promise<void>; readonly timeoutMs?: number } = {},
): Promise<EventRow[]> {
  const stack = targetStackName(opts.stack);
  let outputs: Record<string, string> | undefined;
  const output = async (key: string, flag: string): Promise<string> => {
    outputs ??= await stackOutputs(clients.cloudFormation, stack);
    const value = outputs[key];
    if (value === undefined) throw new CliError(`stack '${stack}' has no output ${key}: is it a socialplus-webhooks stack? Otherwise pass ${flag}`);
    return value;
  };
  if (question.kind !== 'type') {
    const table = opts.table ?? (await output(EVENTS_OUTPUTS.table, '--table'));
    try {
      return await queryIndex(clients.dynamodb, table, question, limit);
    } catch (err) {
      throw awsError(`DynamoDB Query on table ${table}`, err);
    }
  }
  const workGroup = opts.workgroup ?? (await output(EVENTS_OUTPUTS.workGroup, '--workgroup'));
  const database = opts.database ?? (await output(EVENTS_OUTPUTS.database, '--database'));
  return athenaEvents(clients.athena, { workGroup, database }, question, limit, poll);
}

async function stackOutputs(cfn: Pick<CloudFormationClient, 'send'>, stack: string): Promise<Record<string, string>> {
  let res;
  try {
    res = await cfn.send(new DescribeStacksCommand({ StackName: stack }));
  } catch (err) {
    const e = err as Error;
    if (e.name === 'ValidationError' && /does not exist/i.test(e.message)) {
      throw new CliError(`stack '${stack}' not found in this account and region: deploy it, or pass --stack <name> and --region (or --table)`);
    }
    throw awsError('CloudFormation DescribeStacks', err);
  }
  const outputs: Record<string, string> = {};
  for (const o of res.Stacks?.[0]?.Outputs ?? []) if (o.OutputKey && o.OutputValue) outputs[o.OutputKey] = o.OutputValue;
  return outputs;
}

function awsError(what: string, err: unknown): CliError {
  const e = err as Error;
  if (e instanceof CliError) return e;
  if (e.name === 'CredentialsProviderError' || /credential/i.test(e.message)) {
    return new CliError(`${what}: no AWS credentials (${e.message}); sign in (aws sso login, AWS_PROFILE) or run without --aws for local mode`);
  }
  return new CliError(`${what} failed: ${e.name}: ${e.message}`);
}

/** A string as an Athena execution parameter: a quoted SQL literal. */
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function athenaEvents(
  athena: Pick<AthenaClient, 'send'>,
  where: { workGroup: string; database: string },
  question: Extract<EventsQuestion, { kind: 'type' }>,
  limit: number,
  poll: { readonly sleep?: (ms: number) => Promise<void>; readonly timeoutMs?: number },
): Promise<EventRow[]> {
  const sleep = poll.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let id: string | undefined;
  try {
    id = (await athena.send(new StartQueryExecutionCommand({
      QueryString: typeOnDaySql(limit),
      WorkGroup: where.workGroup,
      QueryExecutionContext: { Database: where.database },
      ExecutionParameters: [literal(question.day), literal(question.eventType), literal(question.eventType)],
    }))).QueryExecutionId;
  } catch (err) {
    throw awsError(`Athena StartQueryExecution in workgroup ${where.workGroup}`, err);
  }
  if (!id) throw new CliError('Athena started no query (no QueryExecutionId)');
  const deadline = Date.now() + (poll.timeoutMs ?? 5 * 60_000);
  for (let wait = 250; ; wait = Math.min(wait * 2, 2000)) {
    const status = (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution?.Status;
    const state = status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED') throw new CliError(`Athena query ${id} ${state.toLowerCase()}: ${status?.StateChangeReason ?? 'no reason given'}`);
    if (Date.now() > deadline) throw new CliError(`Athena query ${id} still ${state ?? 'pending'} after ${Math.round((poll.timeoutMs ?? 300_000) / 1000)} s; see it in the Athena console`);
    await sleep(wait);
  }
  const rows: EventRow[] = [];
  let token: string | undefined;
  let header: string[] | undefined;
  do {
    const page = await athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, ...(token ? { NextToken: token } : {}) }));
    for (const r of page.ResultSet?.Rows ?? []) {
      const values = (r.Data ?? []).map((d) => d.VarCharValue ?? null);
      if (header === undefined) {
        header = values.map((v) => v ?? '');
        continue;
      }
      const o = Object.fromEntries(header.map((h, i) => [h, values[i] ?? null])) as Record<string, string | null>;
      rows.push({
        received_at: o.received_at ?? '',
        event_type: o.event_type ?? '',
        event_id: o.event_id ?? '',
        actor_id: o.actor_id ?? null,
        target_type: o.target_type ?? null,
        target_id: o.target_id ?? null,
        source: o.source ?? null,
      });
    }
    token = page.NextToken;
  } while (token);
  return rows;
}
