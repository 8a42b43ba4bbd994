/**
 * One Athena query as the CLI's `--aws` tools run it (`events --type`, `erase`): started in the
 * stack's workgroup with quoted-literal parameters, waited for with a growing pause, and read back
 * page by page. Every failure names the call and its IAM action.
 */
import { GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import { awsError } from './aws-errors.js';
import { CliError } from './errors.js';

export interface AthenaQuery {
  readonly athena: Pick<AthenaClient, 'send'>;
  readonly workGroup: string;
  readonly database: string;
  readonly sql: string;
  /** Execution parameters, already quoted literals ({@link sqlLiteral}). */
  readonly params: readonly string[];
  /** Waits between status checks (a fake one in tests). */
  readonly sleep: (ms: number) => Promise<void>;
  /** How long the query may run before the tool gives up waiting. */
  readonly timeoutMs: number;
  /** The longest pause between two status checks (they start at 250 ms and double). */
  readonly maxPauseMs: number;
}

/** A string as an Athena execution parameter: a quoted SQL literal. */
export const sqlLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

async function call<T>(action: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    throw awsError(err, action);
  }
}

/** Runs the query and returns its rows, the column names first, each value a string or null. */
export async function runAthenaQuery(q: AthenaQuery): Promise<Array<Array<string | null>>> {
  const { athena } = q;
  const id = (
    await call(`start an Athena query in workgroup ${q.workGroup} (athena:StartQueryExecution)`, () =>
      athena.send(
        new StartQueryExecutionCommand({
          QueryString: q.sql,
          WorkGroup: q.workGroup,
          QueryExecutionContext: { Database: q.database },
          ExecutionParameters: [...q.params],
        }),
      ),
    )
  ).QueryExecutionId;
  if (!id) throw new CliError('Athena started no query (no QueryExecutionId)');
  let waited = 0;
  for (let pause = 250; ; pause = Math.min(pause * 2, q.maxPauseMs)) {
    const status = (
      await call(`follow Athena query ${id} (athena:GetQueryExecution)`, () => athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id })))
    ).QueryExecution?.Status;
    const state = status?.State;
    if (state === 'SUCCEEDED') break;
    if (state === 'FAILED' || state === 'CANCELLED')
      throw new CliError(`Athena query ${id} ${state.toLowerCase()}: ${status?.StateChangeReason ?? 'no reason given'}`);
    if (waited >= q.timeoutMs)
      throw new CliError(`Athena query ${id} still ${state ?? 'pending'} after ${Math.round(waited / 1000)} s; see it in the Athena console`);
    await q.sleep(pause);
    waited += pause;
  }
  const rows: Array<Array<string | null>> = [];
  let token: string | undefined;
  do {
    const page = await call(`read the results of Athena query ${id} (athena:GetQueryResults)`, () =>
      athena.send(new GetQueryResultsCommand({ QueryExecutionId: id, ...(token ? { NextToken: token } : {}) })),
    );
    for (const r of page.ResultSet?.Rows ?? []) rows.push((r.Data ?? []).map((d) => d.VarCharValue ?? null));
    token = page.NextToken;
  } while (token);
  return rows;
}
