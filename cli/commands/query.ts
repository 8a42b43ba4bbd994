import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { ARCHIVE_COLUMNS } from '../../lambda/core/archive-layout.js';
import { localPaths } from '../../local/paths.js';
import { ARCHIVE_COLUMN_TYPES, locateArchive, QueryError, runArchiveQuery } from '../archive-query.js';
import { CliError } from '../errors.js';
import { renderTable } from '../output.js';

interface QueryOptions {
  readonly json?: boolean;
  readonly dir?: string;
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/;

/** Registers `query`: SQL with DuckDB over the local archive through a view `events`. */
export function registerQuery(program: Command): void {
  program
    .command('query')
    .description('Run SQL with DuckDB over the local archive through the view `events` (one row per archived event).')
    .argument('<sql>', 'the SQL to run; quote it')
    .option('--json', 'print exactly one JSON array of row objects on stdout')
    .option('--dir <path>', 'local mode\'s folder (default: $SOCIALPLUS_LOCAL_DIR, else .local)')
    .addHelpText('after', queryHelp)
    .action(async (sql: string, opts: QueryOptions) => {
      await runQuery(sql, opts);
    });
}

function queryHelp(): string {
  const columns = [...ARCHIVE_COLUMNS.map((c) => `  ${c.padEnd(12)} ${ARCHIVE_COLUMN_TYPES[c]}`),
    `  ${'dt'.padEnd(12)} VARCHAR   arrival day, 'YYYY-MM-DD' (UTC), from the object's dt= folder`,
    `  ${'hour'.padEnd(12)} VARCHAR   arrival hour, 'HH' (UTC), from the object's hour= folder`];
  return `
The view \`events\` reads every gzip NDJSON object of the archive (events/dt=…/hour=…/, as the
local delivery stream writes it through s3rver) straight from disk. Its columns:
${columns.join('\n')}
received_at and occurred_at are ISO-8601 strings (cast with ::TIMESTAMPTZ); payload is the raw body.
The archive is at-least-once: count distinct event_id when an exact count matters.
Lines still buffered by local mode's delivery stream (a few seconds) are not in the archive yet.

Examples:
  $ socialplus-webhooks query "select event_type, count(distinct event_id) as n from events group by 1 order by n desc"
  $ socialplus-webhooks query "select dt, hour, event_id, actor_id from events where dt = '2025-07-02' order by received_at desc limit 5" --json
`;
}

async function runQuery(sql: string, opts: QueryOptions): Promise<void> {
  if (sql.trim() === '') throw new CliError('the SQL is empty; e.g. query "select count(*) from events"');
  if (opts.dir !== undefined && !(existsSync(opts.dir) && statSync(opts.dir).isDirectory())) {
    throw new CliError(`--dir ${opts.dir} is not a folder; give local mode's folder (the one dev --dir used, .local by default)`);
  }
  const archive = locateArchive(opts.dir ?? localPaths().root);
  if (archive.objects.length === 0) {
    process.stderr.write(`note: no archive objects under ${archive.eventsDir} yet; the events view is empty\n`);
  }
  let result;
  try {
    result = await runArchiveQuery(sql, archive.objects);
  } catch (err) {
    if (err instanceof QueryError) throw new CliError(`query failed: ${err.message}`);
    throw err;
  }
  if (opts.json) {
    process.stdout.write(`${JSON.stringify(result.rows)}\n`);
    return;
  }
  const rightAligned = new Set(result.columns.filter((_, i) => NUMERIC_TYPE.test(result.columnTypes[i] ?? '')));
  process.stdout.write(renderTable(result.columns, result.rows, { rightAligned }));
}
