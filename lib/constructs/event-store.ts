import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ENV } from '../../lambda/common/env.js';
import { TABLE } from '../../lambda/common/table-schema.js';
import { bindResource, type IBindableFunction } from './node-function.js';
import { keyedTableProps, stringAttribute } from './tables.js';
import { DEFAULT_EVENT_TABLE_DELETION_PROTECTION } from '../../lambda/common/defaults.js';

/**
 * What the fan-out's DynamoDB adapter calls: PutItem (conditional store, the de-duplication),
 * UpdateItem (record a handler's success), GetItem (read an event back). Nothing else, and only
 * on the table itself: the fan-out never queries the indexes.
 */
export const EVENT_STORE_WRITER_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/** The event store as the fan-out sees it: an {@link EventTable}, or an existing table ({@link EventTable.fromTableName}). */
export interface IEventTable {
  /** Grants exactly {@link EVENT_STORE_WRITER_ACTIONS} on the table (not its indexes). */
  grantWrites(grantee: iam.IGrantable): iam.Grant;
  /** Sets `ENV.TABLE_NAME` on `fn` and grants it the writes: what the fan-out needs. */
  bindWriter(fn: IBindableFunction): iam.Grant;
}

/** The grants and bindings of {@link IEventTable}, over the table the subclass holds. */
abstract class EventStoreBase extends Construct implements IEventTable {
  /** The table. */
  abstract readonly table: dynamodb.ITableV2;

  grantWrites(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({ grantee, actions: [...EVENT_STORE_WRITER_ACTIONS], resourceArns: [this.table.tableArn] });
  }

  bindWriter(fn: IBindableFunction): iam.Grant {
    return bindResource(fn, (grantee) => this.grantWrites(grantee), ENV.TABLE_NAME, this.table.tableName);
  }
}

/** Props for {@link EventTable}. */
export interface EventStoreProps {
  /**
   * What happens to the table when it leaves the stack.
   * @default RemovalPolicy.RETAIN: events outlive `cdk destroy`
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * DynamoDB deletion protection: the table cannot be deleted (by a person, or by the stack) until
   * it is turned off.
   * @default true
   */
  readonly deletionProtection?: boolean;
}

/**
 * The DynamoDB event store (docs/architecture.md §5): PK/SK strings, the sparse `byActor` and `byTarget` indexes
 * with small projections, TTL on `expiresAt`, point-in-time recovery, a NEW_IMAGE stream for users
 * who extend, on-demand billing, encrypted with the AWS managed key, retained.
 *
 * `TableV2` (AWS::DynamoDB::GlobalTable) rather than `Table`: it is the construct AWS recommends for
 * new tables, and a replica in another region can be added later without replacing the table.
 */
export class EventTable extends EventStoreBase {
  /** An existing event store table, for functions built outside this stack (the cold-start benchmark). */
  static fromTableName(scope: Construct, id: string, tableName: string): IEventTable {
    return new (class extends EventStoreBase {
      readonly table = dynamodb.TableV2.fromTableName(this, 'Table', tableName);
    })(scope, id);
  }

  /** The table; for tests and escape hatches. */
  readonly table: dynamodb.TableV2;

  /** The table's name. */
  get tableName(): string {
    return this.table.tableName;
  }

  constructor(scope: Construct, id: string, props: EventStoreProps = {}) {
    super(scope, id);
    const index = (spec: { indexName: string; partitionKey: string; sortKey: string }): dynamodb.GlobalSecondaryIndexPropsV2 => ({
      indexName: spec.indexName,
      partitionKey: stringAttribute(spec.partitionKey),
      sortKey: stringAttribute(spec.sortKey),
      projectionType: dynamodb.ProjectionType.INCLUDE,
      nonKeyAttributes: [...TABLE.projectedAttributes],
    });
    this.table = new dynamodb.TableV2(this, 'Table', {
      ...keyedTableProps(TABLE),
      dynamoStream: dynamodb.StreamViewType.NEW_IMAGE,
      encryption: dynamodb.TableEncryptionV2.awsManagedKey(),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      deletionProtection: props.deletionProtection ?? DEFAULT_EVENT_TABLE_DELETION_PROTECTION,
      globalSecondaryIndexes: [index(TABLE.byActor), index(TABLE.byTarget)],
    });
  }
}
