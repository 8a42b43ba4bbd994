/**
 * SQL over the local archive with DuckDB: a view `archive_lines` over every gzip NDJSON object
 * under `events/dt=YYYY-MM-DD/hour=HH/`, with the columns of ARCHIVE_COLUMNS plus `dt` and `hour`;
 * and the view `events` queries read, the same columns with each event once (its first line: the
 * archive holds one line per event, but a crash of the fan-out can repeat one).
 *
 * s3rver 3 keeps object `<key>` of a bucket as the file `<dir>/<bucket>/<key>._S3rver_object`, next to
 * `._S3rver_metadata.json` and `._S3rver_object.md5` sidecars; so the archive is read from disk,
 * without s3rver running, by matching that suffix and forcing gzip (the extension hides it).
 *
 * Every session first gets Athena's (Trino's) semantics where DuckDB differs: the session time zone
 * is UTC (Athena's), so `current_date` is the UTC day like the `dt` partitions; and macros give the
 * Trino functions queries on this archive use, so SQL written for Athena (the saved queries of
 * `lib/named-queries.ts` included) runs here unchanged.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  createDuckDBValueConverter,
  DuckDBDecimalType,
  DuckDBInstance,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  DuckDBTypeId,
  JsonDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBValueConverter,
  type Json,
} from '@duckdb/node-api';
import { ARCHIVE_COLUMNS, ARCHIVE_EVENTS_PREFIX, type ArchiveColumn } from '../lambda/core/archive-layout.js';
import { SocialPlusWebhooksError, errorMessage } from '../lambda/core/errors.js';
import { LOCAL_BUCKET_NAME, localPaths, S3RVER_METADATA_SUFFIX, S3RVER_OBJECT_SUFFIX } from '../local/paths.js';

/** DuckDB types of the archive's columns: strings, except `deprecated` and `flags`. */
export const ARCHIVE_COLUMN_TYPES: Record<ArchiveColumn, string> = {
  event_id: 'VARCHAR',
  event_type: 'VARCHAR',
  event_name: 'VARCHAR',
  received_at: 'VARCHAR',
  occurred_at: 'VARCHAR',
  source: 'VARCHAR',
  actor_id: 'VARCHAR',
  target_type: 'VARCHAR',
  target_id: 'VARCHAR',
  deprecated: 'BOOLEAN',
  flags: 'VARCHAR[]',
  payload: 'VARCHAR',
};

/** Where the archive's `events/` folder is, and the object files found under it. */
export interface ArchiveLocation {
  readonly eventsDir: string;
  readonly objects: string[];
}

const PARTITION_DIRS = /^dt=\d{4}-\d{2}-\d{2}$|^hour=\d{2}$/;

/**
 * Finds the archive under a local-mode folder (`--dir`, like `dev --dir`): s3rver's copy of the
 * bucket at `<dir>/s3/<bucket>/events/`, else a plain `<dir>/events/` (e.g. from
 * `aws s3 sync s3://<bucket>/events <dir>/events`). Objects are files under `dt=…/hour=…/` named
 * `*._S3rver_object` (s3rver) or `*.gz` (plain copies).
 */
export function locateArchive(dir: string = localPaths().root): ArchiveLocation {
  const s3rverEvents = join(localPaths(dir).s3, LOCAL_BUCKET_NAME, ARCHIVE_EVENTS_PREFIX);
  const plainEvents = join(dir, ARCHIVE_EVENTS_PREFIX);
  const eventsDir = !existsSync(s3rverEvents) && existsSync(plainEvents) ? plainEvents : s3rverEvents;
  return { eventsDir, objects: existsSync(eventsDir) ? findObjects(eventsDir) : [] };
}

function findObjects(eventsDir: string): string[] {
  const found: string[] = [];
  // Only `dt=…/hour=…/` partitions: hive partitioning needs the same keys on every path.
  for (const dt of readdirSync(eventsDir)) {
    const dtDir = join(eventsDir, dt);
    if (!dt.startsWith('dt=') || !PARTITION_DIRS.test(dt) || !statSync(dtDir).isDirectory()) continue;
    for (const hour of readdirSync(dtDir)) {
      const hourDir = join(dtDir, hour);
      if (!hour.startsWith('hour=') || !PARTITION_DIRS.test(hour) || !statSync(hourDir).isDirectory()) continue;
      walk(hourDir, found);
    }
  }
  return found.sort();
}

function walk(dir: string, into: string[]): void {
  const entries = readdirSync(dir, { withFileTypes: true });
  const names = new Set(entries.map((e) => e.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path, into);
    else if (!entry.isFile()) continue;
    else if (entry.name.endsWith(S3RVER_OBJECT_SUFFIX)) {
      // s3rver writes the content straight into place and the metadata sidecar last: an object
      // without its sidecar is still being written, and reading it would fail on a torn gzip.
      const base = entry.name.slice(0, -S3RVER_OBJECT_SUFFIX.length);
      if (names.has(`${base}${S3RVER_METADATA_SUFFIX}`)) into.push(path);
    } else if (entry.name.endsWith('.gz')) into.push(path);
  }
}

function sqlString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The view of every archive line, and the view `events` of each event once. */
export const ARCHIVE_LINES_VIEW = 'archive_lines';

/**
 * The statements defining the views over `objects`: `archive_lines`, every line as archived (an
 * empty, typed view when there are none), and `events`, each event once: its first line (by
 * receive time, then partition), as the saved query `DeduplicatedRange` picks it.
 */
export function archiveViewsSql(objects: readonly string[]): string[] {
  const columns = ARCHIVE_COLUMNS.map((c) => `${c}: ${sqlString(ARCHIVE_COLUMN_TYPES[c])}`).join(', ');
  const all = [...ARCHIVE_COLUMNS, 'dt', 'hour'].join(', ');
  let lines: string;
  if (objects.length === 0) {
    // read_json fails on an empty file list; a typed empty view keeps `count(*)` answering 0.
    const nulls = ARCHIVE_COLUMNS.map((c) => `CAST(NULL AS ${ARCHIVE_COLUMN_TYPES[c]}) AS ${c}`);
    lines = `CREATE OR REPLACE VIEW ${ARCHIVE_LINES_VIEW} AS SELECT ${nulls.join(', ')}, CAST(NULL AS VARCHAR) AS dt, CAST(NULL AS VARCHAR) AS hour WHERE false`;
  } else {
    // The file list is explicit rather than a glob: no glob escaping of the folder's name, and the
    // s3rver sidecar files can never match.
    const files = `[${objects.map(sqlString).join(', ')}]`;
    lines =
      `CREATE OR REPLACE VIEW ${ARCHIVE_LINES_VIEW} AS SELECT ${all} FROM read_json(${files}, ` +
      `format = 'newline_delimited', compression = 'gzip', columns = {${columns}}, ` +
      `hive_partitioning = true, hive_types = {'dt': 'VARCHAR', 'hour': 'VARCHAR'})`;
  }
  const events =
    `CREATE OR REPLACE VIEW events AS SELECT ${all} FROM (` +
    `SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY received_at, dt, hour) AS line_of_event FROM ${ARCHIVE_LINES_VIEW}` +
    ') WHERE line_of_event = 1';
  return [lines, events];
}

/** One Trino function given to DuckDB as a macro (DuckDB's own function of that name, if any, is kept as an overload). */
export interface TrinoMacro {
  /** The Trino call it stands for, as documented for Athena engine v3. */
  readonly trino: string;
  /** The macro's definition (the part after `CREATE TEMP MACRO`). */
  readonly definition: string;
  /** Where the result differs from Athena's, if anywhere. */
  readonly note?: string;
}

/** Trino's `date_format` specifiers → DuckDB's `strftime` ones, applied in this order (each later step sees the earlier output). */
const DATE_FORMAT_STEPS: ReadonlyArray<readonly [string, string]> = [
  ['%M', '%B'], // month name (before %i becomes %M)
  ['%W', '%A'], // weekday name
  ['%i', '%M'], // minutes
  ['%T', '%H:%M:%S'],
  ['%r', '%I:%M:%S %p'],
  ['%s', '%S'],
  ['%c', '%-m'],
  ['%e', '%-d'],
  ['%k', '%-H'],
  ['%l', '%-I'],
  ['%h', '%I'],
  ['%v', '%V'],
];

const trinoFormat = (fmt: string) => DATE_FORMAT_STEPS.reduce((acc, [from, to]) => `replace(${acc}, '${from}', '${to}')`, fmt);

/**
 * The Trino functions provided to local queries. Athena's functions DuckDB already has with the
 * same meaning (`date_diff`, `date_trunc`, `strpos`, `split_part`, `json_extract`, `regexp_replace`,
 * `lower`, `count(DISTINCT …)`, `row_number()`, …) need nothing. Not provided: `date_parse`
 * (DuckDB's `strptime` takes only a constant format, so a macro cannot translate Trino's).
 */
export const TRINO_MACROS: readonly TrinoMacro[] = [
  {
    trino: 'date_add(unit, value, timestamp)',
    // The two-argument form keeps DuckDB's own date_add(date, interval).
    definition: "date_add(a, b) AS a + b, (unit, value, ts) AS ts + CAST(CAST(value AS VARCHAR) || ' ' || unit AS INTERVAL)",
    note: 'a DATE argument gives a TIMESTAMP (Athena keeps a DATE)',
  },
  {
    trino: 'date_format(timestamp, format)',
    definition: `date_format(ts, fmt) AS strftime(ts, ${trinoFormat('fmt')})`,
    note: 'MySQL-style specifiers are translated; %u, %U, %V, %X, %x are not',
  },
  { trino: 'from_iso8601_timestamp(string)', definition: 'from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)' },
  { trino: 'from_iso8601_date(string)', definition: 'from_iso8601_date(s) AS CAST(s AS DATE)' },
  {
    trino: 'to_iso8601(timestamp)',
    definition: "to_iso8601(ts) AS strftime(CAST(ts AS TIMESTAMPTZ), '%Y-%m-%dT%H:%M:%S.%gZ')",
    note: 'always UTC with a Z and milliseconds',
  },
  { trino: 'from_unixtime(seconds)', definition: 'from_unixtime(n) AS to_timestamp(n)' },
  { trino: 'to_unixtime(timestamp)', definition: 'to_unixtime(ts) AS epoch(ts)' },
  { trino: 'day_of_week(date)', definition: 'day_of_week(d) AS isodow(d)' },
  {
    trino: 'json_extract_scalar(json, path)',
    // Trino gives NULL when the path leads to an object or an array; DuckDB would give its JSON text.
    definition:
      "json_extract_scalar(j, p) AS CASE WHEN json_type(json_extract(j, p)) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END",
  },
  { trino: 'json_parse(string)', definition: 'json_parse(s) AS json(s)' },
  { trino: 'json_format(json)', definition: 'json_format(j) AS CAST(j AS VARCHAR)' },
  { trino: 'regexp_like(string, pattern)', definition: 'regexp_like(s, p) AS regexp_matches(s, p)' },
  { trino: 'approx_distinct(x)', definition: 'approx_distinct(x) AS count(DISTINCT x)', note: 'exact here; Athena estimates' },
];

/** The statements that give a DuckDB session Athena's semantics: UTC, then the {@link TRINO_MACROS}. */
export function trinoCompatibilitySql(): string[] {
  return ["SET TimeZone = 'UTC'", ...TRINO_MACROS.map((m) => `CREATE OR REPLACE TEMP MACRO ${m.definition}`)];
}

/** A result ready to print: column names and types, and rows as JSON-safe objects. */
export interface QueryResult {
  readonly columns: string[];
  readonly columnTypes: string[];
  readonly rows: Array<Record<string, Json>>;
}

/** The DuckDB error text, for `CliError`s. */
export class QueryError extends SocialPlusWebhooksError {
  constructor(message: string) {
    super(message);
    this.name = 'QueryError';
  }
}

/**
 * Opens an in-memory DuckDB with Athena's semantics (UTC, the Trino macros), defines `events` and
 * `archive_lines` over `objects`, runs `sql` with `params` bound to its `?` placeholders in order,
 * and converts its rows.
 */
export async function runArchiveQuery(sql: string, objects: readonly string[], params: readonly string[] = []): Promise<QueryResult> {
  const instance = await DuckDBInstance.create(':memory:');
  let connection: DuckDBConnection | undefined;
  try {
    connection = await instance.connect();
    for (const statement of trinoCompatibilitySql()) await connection.run(statement);
    try {
      for (const statement of archiveViewsSql(objects)) await connection.run(statement);
    } catch (err) {
      throw new QueryError(`cannot read the archive: ${errorMessage(err)}`);
    }
    let reader;
    try {
      reader = params.length > 0 ? await connection.runAndReadAll(sql, [...params]) : await connection.runAndReadAll(sql);
    } catch (err) {
      throw new QueryError(errorMessage(err));
    }
    return {
      columns: reader.columnNames(),
      columnTypes: reader.columnTypes().map((t) => t.toString()),
      rows: reader.convertRowObjects(jsonSafeConverter) as Array<Record<string, Json>>,
    };
  } finally {
    connection?.closeSync();
    instance.closeSync();
  }
}

const json = JsonDuckDBValueConverter;

/** BIGINT and wider as numbers when exact, else strings (JSON has no 64-bit integers). */
const wideInteger: DuckDBValueConverter<Json> = (value) => {
  const text = String(value);
  const n = Number(text);
  return Number.isSafeInteger(n) && String(n) === text ? n : text;
};

/** Timestamps as ISO-8601 strings (UTC, millisecond precision); infinities as DuckDB prints them. */
const timestamp: DuckDBValueConverter<Json> = (value) => {
  let millis: bigint | undefined;
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) millis = value.isFinite ? value.micros / 1000n : undefined;
  else if (value instanceof DuckDBTimestampMillisecondsValue) millis = value.isFinite ? value.millis : undefined;
  else if (value instanceof DuckDBTimestampSecondsValue) millis = value.isFinite ? value.seconds * 1000n : undefined;
  else if (value instanceof DuckDBTimestampNanosecondsValue) millis = value.isFinite ? value.nanos / 1_000_000n : undefined;
  // Beyond ±275,000 years a JS Date is invalid; DuckDB's own text is the honest answer there.
  const date = millis === undefined ? undefined : new Date(Number(millis));
  return date !== undefined && Number.isFinite(date.getTime()) ? date.toISOString() : String(value);
};

/** Decimals of up to 15 digits are exact as doubles, so numbers; wider ones keep their exact text. */
const decimal: DuckDBValueConverter<Json> = (value, type) => {
  const text = String(value);
  return type instanceof DuckDBDecimalType && type.width <= 15 ? Number(text) : text;
};

const byTypeId = (id: DuckDBTypeId): DuckDBValueConverter<Json> | undefined => {
  switch (id) {
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.BIGNUM:
      return wideInteger;
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return timestamp;
    case DuckDBTypeId.DECIMAL:
      return decimal;
    default:
      return (value, type, converter) => json(value, type, converter);
  }
};

/** DuckDB's JSON converter, with the number and timestamp rules above. */
export const jsonSafeConverter: DuckDBValueConverter<Json> = createDuckDBValueConverter(
  Object.fromEntries(
    Object.values(DuckDBTypeId)
      .filter((v): v is DuckDBTypeId => typeof v === 'number')
      .map((id) => [id, byTypeId(id)]),
  ) as Record<DuckDBTypeId, DuckDBValueConverter<Json> | undefined>,
);
