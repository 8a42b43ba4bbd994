/**
 * Creates a DynamoDB table unless it exists, and waits until it is ACTIVE: for local mode and tests
 * (on AWS the stack creates the tables). Safe to call from two processes at once.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { hasErrorName } from '../core/errors.js';

/**
 * The key schema of a table keyed by a string partition key and a string sort key, the shape of
 * both tables in `lambda/common/table-schema.ts`: the attributes' definitions and the key itself.
 */
export function stringKeySchema(keys: {
  readonly partitionKey: string;
  readonly sortKey: string;
}): Pick<CreateTableCommandInput, 'AttributeDefinitions' | 'KeySchema'> {
  return {
    AttributeDefinitions: [keys.partitionKey, keys.sortKey].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: keys.partitionKey, KeyType: 'HASH' },
      { AttributeName: keys.sortKey, KeyType: 'RANGE' },
    ],
  };
}

export async function createTableIfMissing(client: DynamoDBClient, input: CreateTableCommandInput & { readonly TableName: string }): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: input.TableName }));
    return;
  } catch (err) {
    if (!hasErrorName(err, 'ResourceNotFoundException')) throw err;
  }
  try {
    await client.send(new CreateTableCommand(input));
  } catch (err) {
    // Created by someone else since the describe.
    if (!hasErrorName(err, 'ResourceInUseException')) throw err;
  }
  // dynalite reports CREATING for a moment even with createTableMs 0: wait for ACTIVE.
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { TableName: input.TableName });
}
