/**
 * `events --aws`: the deployed stack's event table (DynamoDB) for `--user`, `--target` and `--id`,
 * and an Athena query in the stack's workgroup for `--type --day`. Names come from the stack's
 * outputs unless given (`--table`, `--workgroup`, `--database`).
 */
import type { AthenaClient } from '@aws-sdk/client-athena';
import { STACK_OUTPUTS } from '../../lib/stack-outputs.js';
import { runAthenaQuery, sqlLiteral } from '../athena-query.js';
import { awsError } from '../aws-errors.js';
import { lazyStackOutputs } from '../aws-stack.js';
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

async function athenaEvents(
  athena: Pick<AthenaClient, 'send'>,
  where: { workGroup: string; database: string },
  question: Extract<EventsQuestion, { kind: 'type' }>,
  limit: number,
  poll: AthenaPolling,
): Promise<ListedEvent[]> {
  const [header, ...rows] = await runAthenaQuery({
    athena,
    ...where,
    sql: typeOnDaySql(limit),
    params: typeOnDayParams(question).map(sqlLiteral),
    sleep: poll.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))),
    timeoutMs: poll.timeoutMs ?? 5 * 60_000,
    maxPauseMs: 2000,
  });
  const names = (header ?? []).map((v) => v ?? '');
  return rows.map((values) => {
    const o = Object.fromEntries(names.map((h, i) => [h, values[i] ?? null])) as Record<string, string | null>;
    return {
      received_at: o.received_at ?? '',
      event_type: o.event_type ?? '',
      event_id: o.event_id ?? '',
      actor_id: o.actor_id ?? null,
      target_type: o.target_type ?? null,
      target_id: o.target_id ?? null,
      source: o.source ?? null,
    };
  });
}
