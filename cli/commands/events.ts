/**
 * `socialplus-webhooks events`: the event store's access patterns (DESIGN §5) from the command line.
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
 */
import { existsSync, statSync } from 'node:fs';
import {
  AthenaClient,
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { BatchGetItemCommand, DynamoDBClient, GetItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Command } from 'commander';
import { handlerRunsOf } from '../../lambda/adapters/dynamodb-store.js';
import { normaliseEventType } from '../../lambda/core/envelope.js';
import { isEventId } from '../../lambda/core/event-id.js';
import { TABLE, actorKey, eventKey, targetKey } from '../../lambda/common/table-schema.js';
import { localPaths } from '../../local/paths.js';
import { locateArchive, QueryError, runArchiveQuery } from '../archive-query.js';
import type { AwsTargetOptions } from '../aws-stack.js';
import { DEFAULT_STACK_NAME } from '../aws-status.js';
import { CliError } from '../errors.js';
import { openLocalStore, type LocalStore } from '../state/local-store.js';
import { targetStackName } from '../stack-target.js';
import { renderTable } from '../output.js';

/** Target types the fan-out records (`lambda/core/entities.ts`). */
export const TARGET_TYPES = ['message', 'channel', 'post', 'comment', 'community', 'user', 'stream', 'poll', 'file', 'tag'] as const;

/** Stack outputs `events --aws` reads (`lib/webhooks-stack.ts`). */
export const EVENTS_OUTPUTS = { table: 'EventTableName', workGroup: 'AthenaWorkGroupName', database: 'GlueDatabaseName' } as const;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 1000;
/** Keys per `BatchGetItem`: DynamoDB's limit. */
const BATCH_GET_KEYS = 100;

/**
 * One handler's last run for an event. `attempts`, `last_at` and `duration_ms` are null for an
 * event stored before runs were recorded, whose item says only that the handler succeeded.
 */
export interface HandlerRunRow {
  readonly handler: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly attempts: number | null;
  readonly last_at: string | null;
  readonly duration_ms: number | null;
  /** The error's message, when the last run failed. */
  readonly error: string | null;
}

/** One event as the command prints it. */
export interface EventRow {
  readonly received_at: string;
  readonly event_type: string;
  readonly event_id: string;
  readonly actor_id: string | null;
  readonly target_type: string | null;
  readonly target_id: string | null;
  readonly source: string | null;
  /** Its handlers' runs, by handler name; null when the store no longer (or never) had the event. */
  readonly handlers: readonly HandlerRunRow[] | null;
}

/** One event in full, as `--id` prints it. */
export interface EventDetail extends EventRow {
  readonly handlers: readonly HandlerRunRow[];
  /** Social Plus's name as sent (`v3.message.didCreate`); null when the payload had none. */
  readonly event_name: string | null;
  readonly occurred_at: string | null;
  readonly deprecated: boolean;
  readonly flags: readonly string[];
  /** The gzipped payload's size in the item; null when the payload is kept in S3 (`payload_ref`). */
  readonly payload_gzip_bytes: number | null;
  readonly payload_ref: string | null;
  /** When DynamoDB's TTL may remove the item (ISO-8601 UTC). */
  readonly expires_at: string | null;
}

/** The question asked. */
export type EventsQuestion =
  | { readonly kind: 'user'; readonly userId: string }
  | { readonly kind: 'target'; readonly targetType: string; readonly targetId: string }
  | { readonly kind: 'type'; readonly eventType: string; readonly day: string }
  | { readonly kind: 'id'; readonly eventId: string };

/** The questions that list events. */
export type ListQuestion = Exclude<EventsQuestion, { kind: 'id' }>;

interface EventsOptions extends AwsTargetOptions {
  readonly user?: string;
  readonly target?: string;
  readonly type?: string;
  readonly day?: string;
  readonly id?: string;
  readonly limit?: string;
  readonly json?: boolean;
  readonly dir?: string;
  readonly table?: string;
  readonly workgroup?: string;
  readonly database?: string;
}

/** Registers `events`. */
export function registerEvents(program: Command): void {
  program
    .command('events')
    .description('list events by user (--user), by target (--target TYPE:ID), or by type on a day (--type NAME --day YYYY-MM-DD), newest first, with their handlers\' outcomes; or show one (--id); locally or with --aws')
    .option('--user <id>', 'a Social Plus user id: the events they acted in (sender, author, reactor, follower …)')
    .option('--target <type:id>', `what the events were about: ${TARGET_TYPES.join('|')}, a colon, its id (e.g. channel:general)`)
    .option('--type <name>', 'an event type, routing or raw name (post.didCreate, v3.post.didCreate); with --day')
    .option('--day <YYYY-MM-DD>', 'the UTC day of arrival, with --type')
    .option('--id <eventId>', 'one event (the event_id column): its fields, flags and each handler\'s outcome, attempts, last run and error')
    .option('--limit <n>', `most events to list (default ${DEFAULT_LIMIT}, at most ${MAX_LIMIT})`)
    .option('--json', 'print exactly one JSON value on stdout: an array of events, or the event with --id')
    .option('--dir <path>', 'local mode\'s folder (default: $SOCIALPLUS_LOCAL_DIR, else .local)')
    .option('--aws', 'the deployed stack: DynamoDB for --user, --target and --id, Athena for --type --day')
    .option('--table <name>', 'with --aws: the event table, instead of the stack\'s output')
    .option('--stack <name>', `with --aws: the stack's name (default ${DEFAULT_STACK_NAME})`)
    .option('--region <region>', 'with --aws: the stack\'s region (default: AWS_REGION or your profile\'s)')
    .option('--workgroup <name>', 'with --aws --type: the Athena workgroup, instead of the stack\'s output')
    .option('--database <name>', 'with --aws --type: the Glue database, instead of the stack\'s output')
    .addHelpText('after', `
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
  $ socialplus-webhooks events --aws --region eu-central-1 --user spam.account.42`)
    .action(async (opts: EventsOptions) => {
      await runEvents(opts);
    });
}

/** Reads the question from the options, naming what is missing or malformed. */
export function parseQuestion(opts: Pick<EventsOptions, 'user' | 'target' | 'type' | 'day' | 'id'>): EventsQuestion {
  const given = [
    opts.user !== undefined ? '--user' : '',
    opts.target !== undefined ? '--target' : '',
    opts.type !== undefined || opts.day !== undefined ? '--type/--day' : '',
    opts.id !== undefined ? '--id' : '',
  ].filter(Boolean);
  if (given.length === 0) throw new CliError('say which events: --user ID, --target TYPE:ID, --type NAME --day YYYY-MM-DD, or --id EVENT_ID');
  if (given.length > 1) throw new CliError(`give one of --user, --target, --type with --day, --id (got ${given.join(' and ')})`);
  if (opts.id !== undefined) {
    if (!isEventId(opts.id.trim())) throw new CliError(`--id must be an event id, 32 hexadecimal characters (the event_id column of events and query, and of the logs), got '${opts.id}'`);
    return { kind: 'id', eventId: opts.id.trim() };
  }
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
  if (question.kind === 'id' && opts.limit !== undefined) throw new CliError('--limit is for lists; --id shows one event');
  const limit = parseLimit(opts.limit);
  let answer: EventRow[] | EventDetail;
  if (opts.aws) {
    if (opts.dir !== undefined) throw new CliError('--dir is for local mode; with --aws the stack is named by --stack');
    const config = { ...(opts.region ? { region: opts.region } : {}) };
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

/** A handler's run in a table cell: `name outcome`, with the attempts when more than one. */
const runSummary = (h: HandlerRunRow) => `${h.handler} ${h.outcome}${h.attempts !== null && h.attempts > 1 ? ` ×${h.attempts}` : ''}`;

function printRows(rows: readonly EventRow[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(rows)}\n`);
    return;
  }
  const columns = ['received_at', 'event_type', 'event_id', 'actor_id', 'target', 'source', 'handlers'];
  const table = rows.map((r) => ({
    received_at: r.received_at,
    event_type: r.event_type,
    event_id: r.event_id,
    actor_id: r.actor_id,
    target: r.target_type && r.target_id ? `${r.target_type}:${r.target_id}` : null,
    source: r.source,
    handlers: r.handlers === null ? null : r.handlers.map(runSummary).join(', '),
  }));
  process.stdout.write(renderTable(columns, table, { maxCellWidth: 80 }));
}

function printEvent(e: EventDetail, json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(e)}\n`);
    return;
  }
  const fields: Array<[string, unknown]> = [
    ['event_id', e.event_id],
    ['event_type', e.event_type],
    ['event_name', e.event_name],
    ['received_at', e.received_at],
    ['occurred_at', e.occurred_at],
    ['source', e.source],
    ['actor_id', e.actor_id],
    ['target', e.target_type && e.target_id ? `${e.target_type}:${e.target_id}` : null],
    ['deprecated', e.deprecated],
    ['flags', e.flags.length > 0 ? e.flags.join(', ') : 'none'],
    ['payload', e.payload_ref !== null ? `in S3: ${e.payload_ref}` : `in the item, ${e.payload_gzip_bytes ?? 0} bytes gzipped`],
    ['expires_at', e.expires_at],
  ];
  const width = Math.max(...fields.map(([k]) => k.length));
  const lines = fields.map(([k, v]) => `${k.padEnd(width)}  ${v === null ? '-' : String(v)}`);
  process.stdout.write(`${lines.join('\n')}\n\n`);
  if (e.handlers.length === 0) {
    process.stdout.write('handlers: none has run for it (none subscribes to its type, or it is still queued)\n');
    return;
  }
  // An item written before runs were recorded knows only that a handler succeeded: '-' for the rest.
  const rows = e.handlers.map((h) => ({ ...h, attempts: h.attempts ?? '-', last_at: h.last_at ?? '-', duration_ms: h.duration_ms ?? '-', error: h.error ?? '' }));
  process.stdout.write(`handlers:\n${renderTable(['handler', 'outcome', 'attempts', 'last_at', 'duration_ms', 'error'], rows, { maxCellWidth: 120, rightAligned: new Set(['attempts', 'duration_ms']) })}`);
}

// ---- the event store (DynamoDB) ----

/** Queries the `byActor` or `byTarget` index, newest first, up to `limit` items, then reads their handlers' runs. */
export async function queryIndex(client: Pick<DynamoDBClient, 'send'>, tableName: string, question: Extract<EventsQuestion, { kind: 'user' | 'target' }>, limit: number): Promise<EventRow[]> {
  const index = question.kind === 'user' ? TABLE.byActor : TABLE.byTarget;
  const key = question.kind === 'user' ? actorKey(question.userId) : targetKey(question.targetType, question.targetId);
  const rows: Array<Omit<EventRow, 'handlers'>> = [];
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
  return withHandlerRuns(client, tableName, rows);
}

function rowOf(item: Record<string, AttributeValue>): Omit<EventRow, 'handlers'> {
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

/**
 * The handler runs an event item records, by handler name: `handlerRuns`, and for a handler only
 * marked done in `handlers` (an item written before runs were recorded) a success of unknown attempts.
 */
export function handlerRunRows(item: Record<string, AttributeValue>): HandlerRunRow[] {
  const runs = handlerRunsOf(item);
  const rows: HandlerRunRow[] = Object.entries(runs).map(([handler, r]) => ({
    handler, outcome: r.outcome, attempts: r.attempts, last_at: r.lastAt, duration_ms: r.durationMs, error: r.error ?? null,
  }));
  for (const [handler, done] of Object.entries(item.handlers?.M ?? {})) {
    if (done.BOOL === true && runs[handler] === undefined) rows.push({ handler, outcome: 'succeeded', attempts: null, last_at: null, duration_ms: null, error: null });
  }
  return rows.sort((a, b) => a.handler.localeCompare(b.handler));
}

/** The rows with their handlers' runs from the event items, one `BatchGetItem` per 100 events. */
export async function withHandlerRuns(client: Pick<DynamoDBClient, 'send'>, tableName: string, rows: ReadonlyArray<Omit<EventRow, 'handlers'>>): Promise<EventRow[]> {
  const runs = new Map<string, HandlerRunRow[]>();
  const ids = [...new Set(rows.map((r) => r.event_id).filter((id) => id !== ''))];
  for (let i = 0; i < ids.length; i += BATCH_GET_KEYS) {
    let keys: Array<Record<string, AttributeValue>> = ids.slice(i, i + BATCH_GET_KEYS).map(keyOf);
    for (let round = 0; keys.length > 0; round++) {
      if (round === 6) throw new CliError(`DynamoDB left ${keys.length} event items of ${tableName} unread after ${round} tries (throttled?): run the command again`);
      // Unprocessed keys: DynamoDB asks for a backoff before they are asked again.
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      const out = await client.send(new BatchGetItemCommand({
        RequestItems: {
          [tableName]: { Keys: keys, ProjectionExpression: '#pk, #done, #runs', ExpressionAttributeNames: { '#pk': TABLE.partitionKey, '#done': 'handlers', '#runs': 'handlerRuns' } },
        },
      }));
      for (const item of out.Responses?.[tableName] ?? []) runs.set((item[TABLE.partitionKey]?.S ?? '').replace(/^EVENT#/, ''), handlerRunRows(item));
      keys = out.UnprocessedKeys?.[tableName]?.Keys ?? [];
    }
  }
  return rows.map((r) => ({ ...r, handlers: runs.get(r.event_id) ?? null }));
}

function keyOf(eventId: string): Record<string, AttributeValue> {
  const k = eventKey(eventId);
  return { [TABLE.partitionKey]: { S: k.PK }, [TABLE.sortKey]: { S: k.SK } };
}

/** One event item in full, or undefined when the store does not hold it. */
export async function readEvent(client: Pick<DynamoDBClient, 'send'>, tableName: string, eventId: string): Promise<EventDetail | undefined> {
  const item = (await client.send(new GetItemCommand({ TableName: tableName, Key: keyOf(eventId), ConsistentRead: true }))).Item;
  if (!item) return undefined;
  const s = (k: string) => item[k]?.S ?? null;
  const expires = Number(item[TABLE.ttlAttribute]?.N ?? NaN);
  return {
    ...rowOf(item),
    event_name: s('eventName'),
    occurred_at: s('occurredAt'),
    deprecated: item.deprecated?.BOOL === true,
    flags: [...(item.flags?.SS ?? [])].sort(),
    payload_gzip_bytes: item.payload?.B ? item.payload.B.length : null,
    payload_ref: s('payloadRef'),
    expires_at: Number.isFinite(expires) ? new Date(expires * 1000).toISOString() : null,
    handlers: handlerRunRows(item),
  };
}

/** What to say when the store does not hold an event. */
function notStored(eventId: string, where: string): CliError {
  return new CliError(`no event ${eventId} in ${where}: check the id, or it is older than the store keeps it (eventRetentionDays) and only the archive has it: socialplus-webhooks query "select * from events where event_id = '${eventId}'"`);
}

// ---- local mode ----

/** Runs `fn` on local mode's tables; a missing table reads as empty (`onMissingTable`). */
async function withLocalStore<T>(dir: string, fn: (store: LocalStore) => Promise<T>, onMissingTable: () => T): Promise<T> {
  const store = await openLocalStore(dir);
  try {
    return await fn(store);
  } catch (err) {
    if ((err as Error).name === 'ResourceNotFoundException') return onMissingTable();
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot read local mode's event store (${store.via === 'dev' ? 'through the running dev' : `in ${localPaths(dir).dynamodb}`}): ${(err as Error).message}`);
  } finally {
    await store.close();
  }
}

async function localEvents(question: ListQuestion, limit: number, dir: string): Promise<EventRow[]> {
  if (question.kind !== 'type') return withLocalStore(dir, (store) => queryIndex(store.dynamodb, store.tables.events, question, limit), () => []);
  const rows = await archiveEvents(question, limit, dir);
  if (rows.length === 0) return [];
  try {
    return await withLocalStore(dir, (store) => withHandlerRuns(store.dynamodb, store.tables.events, rows), () => rows.map((r) => ({ ...r, handlers: null })));
  } catch (err) {
    // The archive answered; without the store the events are listed without their handlers.
    if (!(err instanceof CliError)) throw err;
    process.stderr.write(`note: handler runs not shown: ${err.message}\n`);
    return rows.map((r) => ({ ...r, handlers: null }));
  }
}

async function localEvent(eventId: string, dir: string): Promise<EventDetail> {
  const found = await withLocalStore(dir, (store) => readEvent(store.dynamodb, store.tables.events, eventId), () => undefined);
  if (!found) throw notStored(eventId, `local mode's store (${localPaths(dir).root})`);
  return found;
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

async function archiveEvents(question: Extract<EventsQuestion, { kind: 'type' }>, limit: number, dir: string): Promise<Array<Omit<EventRow, 'handlers'>>> {
  const archive = locateArchive(dir);
  if (archive.objects.length === 0) process.stderr.write(`note: no archive objects under ${archive.eventsDir} yet\n`);
  try {
    const result = await runArchiveQuery(typeOnDaySql(limit), archive.objects, [question.day, question.eventType, question.eventType]);
    return result.rows as unknown as Array<Omit<EventRow, 'handlers'>>;
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

/** A reader of the stack's outputs, asking CloudFormation once. */
function stackOutput(cloudFormation: Pick<CloudFormationClient, 'send'>, stackOption: string | undefined): (key: string, flag: string) => Promise<string> {
  const stack = targetStackName(stackOption);
  let outputs: Record<string, string> | undefined;
  return async (key, flag) => {
    outputs ??= await stackOutputs(cloudFormation, stack);
    const value = outputs[key];
    if (value === undefined) throw new CliError(`stack '${stack}' has no output ${key}: is it a socialplus-webhooks stack? Otherwise pass ${flag}`);
    return value;
  };
}

/** Answers a listing question on the deployed stack. */
export async function awsEvents(
  question: ListQuestion,
  limit: number,
  clients: EventsAwsClients,
  opts: Pick<EventsOptions, 'table' | 'stack' | 'workgroup' | 'database'> = {},
  poll: { readonly sleep?: (ms: number) => Promise<void>; readonly timeoutMs?: number } = {},
): Promise<EventRow[]> {
  const output = stackOutput(clients.cloudFormation, opts.stack);
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
  const rows = await athenaEvents(clients.athena, { workGroup, database }, question, limit, poll);
  if (rows.length === 0) return [];
  const table = opts.table ?? (await output(EVENTS_OUTPUTS.table, '--table'));
  try {
    return await withHandlerRuns(clients.dynamodb, table, rows);
  } catch (err) {
    throw awsError(`DynamoDB BatchGetItem on table ${table}`, err);
  }
}

/** One event from the deployed stack's table (`--id`). */
export async function awsEvent(eventId: string, clients: Pick<EventsAwsClients, 'dynamodb' | 'cloudFormation'>, opts: Pick<EventsOptions, 'table' | 'stack'> = {}): Promise<EventDetail> {
  const table = opts.table ?? (await stackOutput(clients.cloudFormation, opts.stack)(EVENTS_OUTPUTS.table, '--table'));
  let found: EventDetail | undefined;
  try {
    found = await readEvent(clients.dynamodb, table, eventId);
  } catch (err) {
    throw awsError(`DynamoDB GetItem on table ${table}`, err);
  }
  if (!found) throw notStored(eventId, `table ${table}`);
  return found;
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
): Promise<Array<Omit<EventRow, 'handlers'>>> {
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
  const rows: Array<Omit<EventRow, 'handlers'>> = [];
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
