import { GetAccountCommand, UpdateAccountCommand, type APIGatewayClient } from '@aws-sdk/client-api-gateway';

/** The account's API Gateway settings in one region: only its CloudWatch Logs role. */
export class ApiGatewayAccountSettings {
  constructor(private readonly client: Pick<APIGatewayClient, 'send'>) {}

  /** The account's `cloudwatchRoleArn`, or undefined when none is set. */
  async cloudWatchRoleArn(): Promise<string | undefined> {
    const account = await this.client.send(new GetAccountCommand({}));
    return account.cloudwatchRoleArn || undefined;
  }

  /** Sets the account's CloudWatch Logs role (needs `apigateway:PATCH` on `/account` and `iam:PassRole` on the role). */
  async setCloudWatchRoleArn(roleArn: string): Promise<void> {
    await this.client.send(new UpdateAccountCommand({ patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: roleArn }] }));
  }
}
