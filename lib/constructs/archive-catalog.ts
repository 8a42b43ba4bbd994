import { Size, Stack } from 'aws-cdk-lib';
import * as athena from 'aws-cdk-lib/aws-athena';
import * as glue from 'aws-cdk-lib/aws-glue';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { ARCHIVE_COLUMNS, ARCHIVE_EVENTS_PREFIX, type ArchiveColumn } from '../../lambda/core/archive-layout.js';
import { NAMED_QUERIES, type NamedQuery } from '../named-queries.js';
import { ATHENA_RESULTS_PREFIX } from './archive.js';

/** Hive types of the archive line's columns (docs/architecture.md §6); typed so a new column cannot be forgotten here. */
export const ARCHIVE_COLUMN_TYPES: Readonly<Record<ArchiveColumn, string>> = {
  event_id: 'string',
  event_type: 'string',
  event_name: 'string',
  received_at: 'string',
  occurred_at: 'string',
  source: 'string',
  actor_id: 'string',
  target_type: 'string',
  target_id: 'string',
  deprecated: 'boolean',
  flags: 'array<string>',
  payload: 'string',
};

/** The SerDe that reads one JSON object per line. */
export const JSON_SERDE = 'org.openx.data.jsonserde.JsonSerDe';

/** The Glue table's name, which the local `query` command also uses for its view. */
export const EVENTS_TABLE_NAME = 'events';

/** Athena's current engine. */
export const ATHENA_ENGINE_VERSION = 'Athena engine version 3';

/** Props for {@link ArchiveCatalog}. */
export interface ArchiveCatalogProps {
  /** The archive bucket's name (events under `events/`, query results under `athena-results/`). */
  readonly bucketName: string;
  /** Most data one query may scan before Athena cancels it. */
  readonly scanLimit: Size;
  /**
   * First day partition projection offers (`YYYY-MM-DD`); queries without a `dt` predicate scan from here.
   * @default '2025-01-01'
   */
  readonly projectionStartDate?: string;
  /**
   * Glue database name.
   * @default the stack name, lower-cased, with `_` for other characters
   */
  readonly databaseName?: string;
  /**
   * Athena workgroup name.
   * @default the stack name
   */
  readonly workGroupName?: string;
  /**
   * The key Athena encrypts query results with (SSE-KMS); whoever runs a query needs to use it.
   * @default - SSE-S3
   */
  readonly resultsKey?: kms.IKey;
  /**
   * The saved queries.
   * @default NAMED_QUERIES
   */
  readonly namedQueries?: readonly NamedQuery[];
}

/**
 * Makes the archive queryable with Athena (docs/architecture.md §6): a Glue database and `events` table over
 * `events/` with partition projection on `dt` and `hour` (no crawler, no MSCK REPAIR), an Athena
 * workgroup (engine v3, enforced and encrypted result location, scan cutoff) and saved queries.
 */
export class ArchiveCatalog extends Construct {
  /** The Glue database name. */
  readonly databaseName: string;
  /** The Athena workgroup name. */
  readonly workGroupName: string;
  /** The Glue table. */
  readonly table: glue.CfnTable;
  /** The Athena workgroup. */
  readonly workGroup: athena.CfnWorkGroup;

  constructor(scope: Construct, id: string, props: ArchiveCatalogProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.databaseName = props.databaseName ?? stack.stackName.toLowerCase().replace(/[^a-z0-9_]/g, '_');
    this.workGroupName = props.workGroupName ?? stack.stackName;
    const start = props.projectionStartDate ?? '2025-01-01';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(start)) throw new Error(`projectionStartDate '${start}' is not a YYYY-MM-DD date`);
    const bucketName = props.bucketName;

    const database = new glue.CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: { name: this.databaseName, description: 'Social Plus webhook events archived by socialplus-webhooks' },
    });

    this.table = new glue.CfnTable(this, 'EventsTable', {
      catalogId: stack.account,
      databaseName: this.databaseName,
      tableInput: {
        name: EVENTS_TABLE_NAME,
        description: 'One row per archived webhook delivery (gzip NDJSON written by Firehose); de-duplicate by event_id',
        tableType: 'EXTERNAL_TABLE',
        parameters: {
          classification: 'json',
          compressionType: 'gzip',
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${start},NOW`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'projection.hour.type': 'integer',
          'projection.hour.range': '0,23',
          'projection.hour.digits': '2',
          'storage.location.template': `s3://${bucketName}/${ARCHIVE_EVENTS_PREFIX}dt=\${dt}/hour=\${hour}/`,
        },
        partitionKeys: [
          { name: 'dt', type: 'string', comment: 'UTC arrival day, YYYY-MM-DD' },
          { name: 'hour', type: 'string', comment: 'UTC arrival hour, 00-23' },
        ],
        storageDescriptor: {
          location: `s3://${bucketName}/${ARCHIVE_EVENTS_PREFIX}`,
          columns: ARCHIVE_COLUMNS.map((name) => ({ name, type: ARCHIVE_COLUMN_TYPES[name] })),
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          compressed: true,
          serdeInfo: { serializationLibrary: JSON_SERDE },
        },
      },
    });
    this.table.addResourceDependency(database);

    this.workGroup = new athena.CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'Queries over the socialplus-webhooks archive',
      state: 'ENABLED',
      // Lets `cdk destroy` remove the workgroup even after users ran queries in it.
      recursiveDeleteOption: true,
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: ATHENA_ENGINE_VERSION },
        bytesScannedCutoffPerQuery: props.scanLimit.toBytes(),
        resultConfiguration: {
          outputLocation: `s3://${bucketName}/${ATHENA_RESULTS_PREFIX}`,
          encryptionConfiguration: props.resultsKey
            ? { encryptionOption: 'SSE_KMS', kmsKey: props.resultsKey.keyArn }
            : { encryptionOption: 'SSE_S3' },
        },
      },
    });

    for (const query of props.namedQueries ?? NAMED_QUERIES) {
      const saved = new athena.CfnNamedQuery(this, `Query-${query.id}`, {
        name: query.name,
        description:
          query.parameters.length === 0
            ? query.description
            : `${query.description} Parameters: ${query.parameters.map((p) => `${p.name} (${p.description}, e.g. ${p.example})`).join('; ')}.`,
        database: this.databaseName,
        queryString: query.sql,
        workGroup: this.workGroup.ref,
      });
      saved.addResourceDependency(this.table);
    }
  }
}
