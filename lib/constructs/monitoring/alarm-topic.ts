import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { denyGrantsButForAwsResources } from '../kms-policy.js';

/** Props for {@link createAlarmTopic}. */
export interface AlarmTopicProps {
  /** What every alarm's name starts with (`<stack>-`): only alarms named so may use the topic and its key. */
  readonly alarmNamePrefix: string;
  /**
   * An address to subscribe to the topic (AWS sends it a confirmation link first).
   * @default - no subscription
   */
  readonly alarmEmail?: string;
}

/** The alarm topic and the key encrypting it. */
export interface AlarmTopic {
  readonly topic: sns.Topic;
  readonly topicKey: kms.Key;
}

/**
 * The topic every alarm publishes to, created in `scope` (ids `AlarmTopicKey`, `AlarmTopic`): TLS
 * only, encrypted with a customer-managed key (CloudWatch cannot use the AWS-managed SNS key), and
 * the key policy and the topic policy admit CloudWatch only for this stack's alarms; with an
 * e-mail subscription when `alarmEmail` is given.
 */
export function createAlarmTopic(scope: Construct, props: AlarmTopicProps): AlarmTopic {
  const stack = Stack.of(scope);
  const topicKey = new kms.Key(scope, 'AlarmTopicKey', {
    description: `Encrypts the alarm notifications of ${stack.stackName} (socialplus-webhooks)`,
    enableKeyRotation: true,
    // The key protects notifications in transit only; nothing stored outlives the topic.
    removalPolicy: RemovalPolicy.DESTROY,
    pendingWindow: Duration.days(7),
  });
  // CloudWatch publishes with its service principal; only this stack's alarms may use the key
  // and the topic (the source conditions stop any other account's or stack's alarms).
  const fromOurAlarms = {
    StringEquals: { 'aws:SourceAccount': stack.account },
    ArnLike: {
      'aws:SourceArn': stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: `${props.alarmNamePrefix}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      }),
    },
  };
  const cloudwatchPrincipal = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
  topicKey.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowThisStacksAlarmsToEncrypt',
      principals: [cloudwatchPrincipal],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: fromOurAlarms,
    }),
  );
  denyGrantsButForAwsResources(topicKey);
  const topic = new sns.Topic(scope, 'AlarmTopic', {
    displayName: 'socialplus-webhooks alarms',
    masterKey: topicKey,
    enforceSSL: true,
  });
  topic.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'AllowThisStacksAlarmsToPublish',
      principals: [cloudwatchPrincipal],
      actions: ['sns:Publish'],
      resources: [topic.topicArn],
      conditions: fromOurAlarms,
    }),
  );
  if (props.alarmEmail !== undefined) {
    const subscription = topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
    Validations.of(subscription.node.defaultChild as sns.CfnSubscription).acknowledge({
      id: 'Serverless-SNSRedrivePolicy',
      reason:
        'An e-mail notification that cannot be delivered would sit unread in a dead-letter queue nobody watches; the alarm itself keeps ' +
        "its state and history in CloudWatch (and on the dashboard's alarm widget), which is the durable record.",
    });
  }
  return { topic, topicKey };
}
