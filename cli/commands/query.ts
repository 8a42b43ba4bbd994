import { existsSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { ARCHIVE_COLUMNS } from '../../lambda/core/archive-layout.js';
import { localPaths } from '../../local/paths.js';
import { NAMED_QUERIES, type NamedQuery } from '../../lib/named-queries.js';
import { ARCHIVE_COLUMN_TYPES, locateArchive, QueryError, runArchiveQuery, TRINO_MACROS } from '../archive-query.js';
import { CliError } from '../errors.js';
import { renderTable } from '../output.js';

interface QueryOptions {
  readonly json?: boolean;
  readonly dir?: string;
  /** `--named` alone lists the saved queries; `--named <id>` runs one. */
  readonly named?: string | true;
  readonly param?: readonly string[];
}

const NUMERIC_TYPE = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|DECIMAL)/;

/** Registers `query`: SQL with DuckDB over the local archive through a view `events`. */
export function registerQuery(program: Command): void {
  program
    .command('query')
    .description(
      'Run SQL with DuckDB over the local archive through the view `events` (one row per archived event), or one of the saved Athena queries (--named).',
    )
    .argument('[sql]', 'the SQL to run; quote it')
    .option('--json', 'print exactly one JSON array of row objects on stdout')
    .option('--dir <path>', "local mode's folder (default: $SOCIALPLUS_LOCAL_DIR, else .local)")
    .option('--named [id]', 'run the saved Athena query <id> unchanged; alone, list the saved queries')
    .option('--param <name=value>', "a value for a --named query's ? placeholder (repeat for each)", (v: string, all: string[] = []) => [...all, v])
    .addHelpText('after', queryHelp)
    .action(async (sql: string | undefined, opts: QueryOptions) => {
      if (opts.named !== undefined) {
        if (sql !== undefined) throw new CliError('give either SQL or --named <id>, not both');
        if (opts.named === true) {
          listNamedQueries(opts);
          return;
        }
        const q = namedQuery(opts.named);
        await runQuery(q.sql, opts, bindParameters(q, opts.param ?? []));
        return;
      }
      if (opts.param !== undefined) throw new CliError('--param is only for --named queries (plain SQL has no placeholders to bind)');
      if (sql === undefined)
        throw new CliError('give the SQL to run (e.g. query "select count(*) from events"), or --named to list the saved queries');
      await runQuery(sql, opts);
    });
}

function queryHelp(): string {
  const columns = [
    ...ARCHIVE_COLUMNS.map((c) => `  ${c.padEnd(12)} ${ARCHIVE_COLUMN_TYPES[c]}`),
    `  ${'dt'.padEnd(12)} VARCHAR   arrival day, 'YYYY-MM-DD' (UTC), from the object's dt= folder`,
    `  ${'hour'.padEnd(12)} VARCHAR   arrival hour, 'HH' (UTC), from the object's hour= folder`,
  ];
  return `
The view \`events\` reads every gzip NDJSON object of the archive (events/dt=…/hour=…/, as the
local delivery stream writes it through s3rver) straight from disk, one row per event; the view
\`archive_lines\` has every line (a crash can repeat one). Their columns:
${columns.join('\n')}
received_at and occurred_at are ISO-8601 strings (cast with ::TIMESTAMPTZ); payload is the raw body.
The archive holds each event once (a crash may repeat a line), and \`events\` de-duplicates, so
count(*) over it counts events.
Lines still buffered by local mode's delivery stream (a few seconds) are not in the archive yet.

Athena's SQL runs unchanged: the session is in UTC (current_date is the UTC day, like dt) and
these Trino functions are provided: ${TRINO_MACROS.map((m) => m.trino.replace(/\(.*$/, '')).join(', ')}.
Saved queries (the Athena workgroup's, from lib/named-queries.ts): ${NAMED_QUERIES.map((q) => q.id).join(', ')};
list them with --named, run one with --named <id> [--param name=value ...].

Examples:
  $ socialplus-webhooks query "select event_type, count(distinct event_id) as n from events group by 1 order by n desc"
  $ socialplus-webhooks query "select dt, hour, event_id, actor_id from events where dt = '2025-07-02' order by received_at desc limit 5" --json
  $ socialplus-webhooks query --named UserActivity --param actor_id=mika.tan
`;
}

function namedQuery(id: string): NamedQuery {
  const q = NAMED_QUERIES.find((n) => n.id === id || n.id.toLowerCase() === id.toLowerCase());
  if (!q) throw new CliError(`no saved query '${id}'; the saved queries are: ${NAMED_QUERIES.map((n) => n.id).join(', ')}`);
  return q;
}

/**
 * The values of a saved query's `?` placeholders, in order, from `name=value` pairs. A value quoted
 * as Athena's console wants it (`'2025-06-01'`) is taken without its quotes.
 */
export function bindParameters(q: NamedQuery, pairs: readonly string[]): string[] {
  const given = new Map<string, string>();
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new CliError(`--param must be name=value, got '${pair}'`);
    const name = pair.slice(0, eq);
    if (!q.parameters.some((p) => p.name === name)) {
      throw new CliError(
        q.parameters.length === 0
          ? `saved query ${q.id} takes no parameters, got --param ${pair}`
          : `saved query ${q.id} has no parameter '${name}'; its parameters: ${q.parameters.map((p) => p.name).join(', ')}`,
      );
    }
    const raw = pair.slice(eq + 1);
    given.set(name, /^'.*'$/s.test(raw) ? raw.slice(1, -1).replace(/''/g, "'") : raw);
  }
  const missing = q.parameters.filter((p) => !given.has(p.name));
  if (missing.length > 0) {
    throw new CliError(`saved query ${q.id} needs ${missing.map((p) => `--param ${p.name}=… (${p.description}, e.g. ${p.example})`).join(' and ')}`);
  }
  return q.parameters.map((p) => given.get(p.name) as string);
}

function listNamedQueries(opts: QueryOptions): void {
  if (opts.json) {
    process.stdout.write(
      `${JSON.stringify(NAMED_QUERIES.map(({ id, name, description, parameters, sql }) => ({ id, name, description, parameters, sql })))}\n`,
    );
    return;
  }
  const lines = NAMED_QUERIES.map((q) => {
    const params = q.parameters.map((p) => ` --param ${p.name}=${p.example.replace(/^'|'$/g, '')}`).join('');
    return `${q.id}\n  ${q.name}: ${q.description}\n  $ socialplus-webhooks query --named ${q.id}${params}`;
  });
  process.stdout.write(`${lines.join('\n\n')}\n`);
}

async function runQuery(sql: string, opts: QueryOptions, params: readonly string[] = []): Promise<void> {
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
    result = await runArchiveQuery(sql, archive.objects, params);
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
