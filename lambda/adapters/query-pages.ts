import { QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandInput, type QueryCommandOutput } from '@aws-sdk/client-dynamodb';

/**
 * The pages of a DynamoDB Query, each asked for from where the last one stopped (`LastEvaluatedKey`),
 * until there are no more or the caller stops iterating. `input` is called once per page, after the
 * caller has handled the previous one, so a `Limit` can shrink by what was already read.
 */
export async function* queryPages(client: Pick<DynamoDBClient, 'send'>, input: () => QueryCommandInput): AsyncGenerator<QueryCommandOutput> {
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(new QueryCommand({ ...input(), ...(startKey ? { ExclusiveStartKey: startKey } : {}) }));
    yield page;
    startKey = page.LastEvaluatedKey;
  } while (startKey);
}
