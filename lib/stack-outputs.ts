/**
 * The stack's output keys: one list, read by the stack that writes them (`webhooks-stack.ts`) and
 * by every CLI command that reads them (`status`, `events`, `replay`, `redrive`, `doctor`,
 * `verify`). Plain constants, so the CLI imports them without the CDK.
 */
export const STACK_OUTPUTS = {
  eventTable: 'EventTableName',
  archiveBucket: 'ArchiveBucketName',
  queueName: 'EventQueueName',
  queueUrl: 'EventQueueUrl',
  queueArn: 'EventQueueArn',
  deadLetterQueueName: 'DeadLetterQueueName',
  deadLetterQueueUrl: 'DeadLetterQueueUrl',
  deadLetterQueueArn: 'DeadLetterQueueArn',
  deliveryStream: 'DeliveryStreamName',
  glueDatabase: 'GlueDatabaseName',
  athenaWorkGroup: 'AthenaWorkGroupName',
  alarmTopicArn: 'AlarmTopicArn',
  dashboardName: 'DashboardName',
  dashboardUrl: 'DashboardUrl',
  receiverLogGroup: 'ReceiverLogGroupName',
  fanoutLogGroup: 'FanoutLogGroupName',
  webAclName: 'WebAclName',
  webAclArn: 'WebAclArn',
  apiStageArn: 'ApiStageArn',
  receiverFunction: 'ReceiverFunctionName',
  fanoutFunction: 'FanoutFunctionName',
  operatorRoleArn: 'OperatorRoleArn',
  apiAccessLogGroup: 'ApiAccessLogGroupName',
  handlerStateTable: 'HandlerStateTableName',
  eventBusName: 'EventBusName',
  eventBusArn: 'EventBusArn',
  socialPlusApiSecretArn: 'SocialPlusApiSecretArn',
} as const;

export type StackOutputName = (typeof STACK_OUTPUTS)[keyof typeof STACK_OUTPUTS];

/** Per-source outputs: the webhook URL and the secret's ARN, named after the source (`sourceIdPart`). */
export const SOURCE_OUTPUT_PREFIXES = { webhookUrl: 'WebhookUrl', secretArn: 'SecretArn' } as const;
