/**
 * The AWS SDK clients the CLI's `--aws` modes call, each narrowed to `send`: a command names the
 * ones it needs (`SdkClients<'sqs' | 'cloudFormation'>`), takes them as an optional argument that
 * tests fill with stand-ins, and builds the real ones otherwise. Types only: importing this loads
 * no SDK.
 */
import type { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import type { AthenaClient } from '@aws-sdk/client-athena';
import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { STSClient } from '@aws-sdk/client-sts';
import type { WAFV2Client } from '@aws-sdk/client-wafv2';

/** The SDK's client classes, by the name commands give them. */
interface SdkClientClasses {
  apiGateway: APIGatewayClient;
  athena: AthenaClient;
  cloudFormation: CloudFormationClient;
  cloudWatch: CloudWatchClient;
  dynamodb: DynamoDBClient;
  lambda: LambdaClient;
  s3: S3Client;
  secretsManager: SecretsManagerClient;
  sns: SNSClient;
  sqs: SQSClient;
  sts: STSClient;
  wafv2: WAFV2Client;
}

/** Every client any command uses, narrowed to `send`. */
export type CliSdkClients = { readonly [K in keyof SdkClientClasses]: Pick<SdkClientClasses[K], 'send'> };

/** The clients a command uses, picked by name. */
export type SdkClients<K extends keyof CliSdkClients> = Pick<CliSdkClients, K>;
