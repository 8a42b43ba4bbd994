/**
 * `events --aws`: the deployed stack's event table (DynamoDB) for `--user`, `--target` and `--id`,
 * and an Athena query in the stack's workgroup for `--type --day`. Names come from the stack's
 * outputs unless given (`--table`, `--workgroup`, `--database`).
 */
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { awsError } from '../aws-errors.js';
import { lazyStackOutputs } from '../aws-stack.js';
import { CliError } from '../errors.js';
import type { SdkClients } from '../sdk-clients.js';
import { targetStackName } from '../stack-target.js';
import { notStored, queryIndex, readEvent, withHandlerRuns, type EventDetail, type EventRow, type ListedEvent } from './event-store.js';
import { typeOnDayParams, typeOnDaySql, type EventsQuestion, type ListQuestion } from './question.js';

/** The AWS clients `events --aws` uses (fakes in tests). */
export type EventsAwsClients = SdkClients<'dynamodb' | 'athena' | 'cloudFormation'>;

/** The names given instead of the stack's outputs, and the stack (`--stack`). */
export interface EventsAwsOptions {
  readonly table?: string;
  readonly stack?: string;
  readonly workgroup?: string;
  readonly database?: string;
}

/** How the Athena query is waited for (a fake sleep in tests). */
export interface AthenaPolling {
  readonly sleep?: (ms: number) => Promise<void>;
  readonly timeoutMs?: number;
}

const stackOutputs = (clients: Pick<EventsAwsClients, 'cloudFormation'>, opts: EventsAwsOptions, instead: string) =>
  lazyStackOutputs(clients.cloudFormation, targetStackName(opts.stack), { instead });

/** Answers a listing question on the deployed stack. */
export async function awsEvents(
  question: ListQuestion,
  limit: number,
  clients: EventsAwsClients,
  opts: EventsAwsOptions = {},
  poll: AthenaPolling = {},
): Promise<EventRow[]> {
  if (question.kind !== 'type') {
    const table = opts.table ?? (await stackOutputs(clients, opts, '--table')(STACK_OUTPUTS.eventTable, '--table'));
    try {
      return await queryIndex(clients.dynamodb, table, question, limit);
    } catch (err) {
      throw awsError(err, `query the event table ${table} (dynamodb:Query)`);
    }
  }
  const output = stackOutputs(clients, opts, '--workgroup, --database and --table');
  const workGroup = opts.workgroup ?? (await output(STACK_OUTPUTS.athenaWorkGroup, '--workgroup'));
  const database = opts.database ?? (await output(STACK_OUTPUTS.glueDatabase, '--database'));
  const rows = await athenaEvents(clients.athena, { workGroup, database }, question, limit, poll);
  if (rows.length === 0) return [];
  const table = opts.table ?? (await output(STACK_OUTPUTS.eventTable, '--table'));
  try {
    return await withHandlerRuns(clients.dynamodb, table, rows);
  } catch (err) {
    throw awsError(err, `read the handler runs from the event table ${table} (dynamodb:BatchGetItem)`);
  }
}

/** One event from the deployed stack's table (`--id`). */
export async function awsEvent(
  eventId: string,
  clients: Pick<EventsAwsClients, 'dynamodb' | 'cloudFormation'>,
  opts: Pick<EventsAwsOptions, 'table' | 'stack'> = {},
): Promise<EventDetail> {
  const table = opts.table ?? (await stackOutputs(clients, opts, '--table')(STACK_OUTPUTS.eventTable, '--table'));
  let found: EventDetail | undefined;
  try {
    found = await readEvent(clients.dynamodb, table, eventId);
  } catch (err) {
    throw awsError(err, `read event ${eventId} from the event table ${table} (dynamodb:GetItem)`);
  }
  if (!found) throw notStored(eventId, `table ${table}`);
  return found;
}

/** A string as an Athena execution parameter: a quoted SQL literal. */
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function athenaEvents(
  athena: Pick<AthenaClient, 'send'>,
  where: { workGroup: string; database: string },
  question: Extract<EventsQuestion, { kind: 'type' }>,
  limit: number,
  poll: AthenaPolling,
): Promise<ListedEvent[]> {
  const sleep = poll.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const call = async <T>(action: string, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (err) {
      throw awsError(err, action);
    }
  };
  const id = (
    await call(`start an Athena query in workgroup ${where.workGroup} (athena:StartQueryExecution)`, () =>
      athena.send(
        new StartQueryExecutionCommand({
          QueryString: typeOnDaySql(limit),
          WorkGroup: where.workGroup,
          QueryExecutionContext: { Database: where.database },
          ExecutionParameters: typeOnDayParams(question).map(literal),
        }),
      ),
    )
  ).QueryExecutionId;
  if (!id) throw new CliError('Athena started no query (no QueryExecutionId)');
  const deadline = Date.now() + (poll.timeoutMs ?? 5 * 60_000);
  for (let wait = 250; ; wait = Math.min(wait * 2, 2000)) {
    const status = (
      await call(`follow Athena query ${id} (athena:GetQueryExecution)`, () => athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })))
    ).QueryExecution?.Status;
    const state = status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED')
      throw new CliError(`Athena query ${id} ${state.toLowerCase()}: ${status?.StateChangeReason ?? 'no reason given'}`);
    if (Date.now() > deadline)
      throw new CliError(
        `Athena query ${id} still ${state ?? 'pending'} after ${Math.round((poll.timeoutMs ?? 300_000) / 1000)} s; see it in the Athena console`,
      );
    await sleep(wait);
  }
  const rows: ListedEvent[] = [];
  let token: string | undefined;
  let header: string[] | undefined;
  do {
    const page = await call(`read the results of Athena query ${id} (athena:GetQueryResults)`, () =>
      athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, ...(token ? { NextToken: token } : {}) })),
    );
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
