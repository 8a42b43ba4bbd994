import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';

/** A string attribute of a key. */
export function stringAttribute(name: string): dynamodb.Attribute {
  return { name, type: dynamodb.AttributeType.STRING };
}

/** The key and TTL attribute names of a table, as `lambda/common/table-schema.ts` defines them. */
export interface TableKeyNames {
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly ttlAttribute: string;
}

/**
 * What the stack's DynamoDB tables (the event store, docs/architecture.md §5, and the handlers'
 * state table) share: string partition and sort keys, TTL, on-demand billing and point-in-time
 * recovery. Each table adds its encryption, removal policy, stream and indexes.
 */
export function keyedTableProps(names: TableKeyNames): dynamodb.TablePropsV2 {
  return {
    partitionKey: stringAttribute(names.partitionKey),
    sortKey: stringAttribute(names.sortKey),
    billing: dynamodb.Billing.onDemand(),
    timeToLiveAttribute: names.ttlAttribute,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
  };
}
