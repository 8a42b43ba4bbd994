import { CfnMapping, CfnResource, Duration, RemovalPolicy, Stack, type Size, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct, type IConstruct } from 'constructs';
import { ENV } from '../../lambda/common/env.js';
import {
  ARCHIVE_ERRORS_PREFIX,
  ARCHIVE_EVENTS_PREFIX,
  FIREHOSE_ERRORS_PREFIX,
  FIREHOSE_EVENTS_PREFIX,
  INBOX_LARGE_PREFIX,
  INBOX_SPILL_PREFIX,
} from '../../lambda/core/archive-layout.js';
import { Inbox } from './inbox.js';
import { stackLogGroup } from './log-group.js';
import { bindResource, type IBindableFunction } from './node-function.js';

/** The prefixes that hold an event's own objects, which `retention` expires. */
const EVENT_PREFIXES = [ARCHIVE_EVENTS_PREFIX, ARCHIVE_ERRORS_PREFIX, INBOX_LARGE_PREFIX] as const;

/** Where the Athena workgroup writes query results, inside the archive bucket. */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

/** Props for {@link EventArchive}. */
export interface EventArchiveProps {
  /** Age at which archive objects move to S3 Standard-IA (at least 30 days, an S3 rule). */
  readonly transitionAfter: Duration;
  /** Firehose buffering interval (0 to 900 seconds). */
  readonly bufferInterval: Duration;
  /** Firehose buffering size (1 to 128 MiB). */
  readonly bufferSize: Size;
  /** Retention of the delivery stream's error log group. */
  readonly logRetention: logs.RetentionDays;
  /**
   * The key encrypting the archive's log groups.
   * @default - CloudWatch Logs' own encryption
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * How long an overwritten or deleted object version is kept.
   * @default Duration.days(30)
   */
  readonly noncurrentVersionExpiration?: Duration;
  /**
   * How long Athena query results are kept under `athena-results/`.
   * @default Duration.days(30)
   */
  readonly queryResultsExpiration?: Duration;
  /**
   * How long S3 server access logs are kept.
   * @default Duration.days(365)
   */
  readonly accessLogsExpiration?: Duration;
  /**
   * Age at which an object still under `inbox/spill/` expires. The fan-out deletes each spill once
   * it has processed it, so this only removes leftovers; set it beyond the time the event's
   * notification can still be in the queue or its dead-letter queue, or an unprocessed event goes.
   * @default Duration.days(28): the queues' 14-day retention plus 14 days to notice and redrive
   */
  readonly spillExpiration?: Duration;
  /**
   * Age at which an event's objects expire: archive lines (`events/`), Firehose's error output
   * (`errors/`) and copies of large bodies (`inbox/large/`); their noncurrent versions then go after
   * `noncurrentVersionExpiration`. Erasure receipts and Athena results have rules of their own.
   * @default - kept for good
   */
  readonly retention?: Duration;
}

/**
 * The archive's delivery stream as the fan-out sees it: an {@link EventArchive}, or an existing
 * stream ({@link EventArchive.streamFromName}).
 */
export interface IArchiveStream {
  /** Lets `grantee` put records (one and in batches) on the delivery stream. */
  grantPutRecords(grantee: iam.IGrantable): iam.Grant;
  /** Sets `ENV.DELIVERY_STREAM_NAME` on `fn` and grants it the puts: what the fan-out needs to archive. */
  bindRecordWriter(fn: IBindableFunction): iam.Grant;
}

/** The archive's metrics the alarms and the dashboard use (Firehose's delivery to S3). */
export interface IArchiveMetrics {
  /** Age of the oldest record not yet delivered to S3, in seconds. */
  metricDataFreshness(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Share of successful S3 deliveries (1 = all). */
  metricDeliverySuccess(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Records put on the delivery stream. */
  metricIncomingRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
  /** Records delivered to S3. */
  metricDeliveredRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric;
}

/** What the event queue offers the archive: a notification destination for the spills. */
export interface ISpillNotificationTarget {
  asBucketNotificationDestination(): s3.IBucketNotificationDestination;
}

/** The grants and bindings of {@link IArchiveStream}, over the delivery stream the subclass holds. */
abstract class ArchiveStreamBase extends Construct implements IArchiveStream {
  /** Direct-put delivery stream writing archive lines to the bucket. */
  abstract readonly deliveryStream: firehose.IDeliveryStream;

  grantPutRecords(grantee: iam.IGrantable): iam.Grant {
    return this.deliveryStream.grantPutRecords(grantee);
  }

  bindRecordWriter(fn: IBindableFunction): iam.Grant {
    return bindResource(fn, (grantee) => this.grantPutRecords(grantee), ENV.DELIVERY_STREAM_NAME, this.deliveryStream.deliveryStreamName);
  }
}

/**
 * The construct id CDK gives its stack-wide handler of `Custom::S3BucketNotifications` (an
 * implementation detail of aws-cdk-lib, looked up by prefix so a changed suffix still matches).
 */
const NOTIFICATIONS_HANDLER_ID_PREFIX = 'BucketNotificationsHandler';

/**
 * The S3 archive (docs/architecture.md §6) and the Firehose delivery stream that fills it: gzip NDJSON under
 * `events/dt=YYYY-MM-DD/hour=HH/` from Firehose's UTC arrival time, failed deliveries under `errors/`,
 * and the inbox: claim-checked bodies under `inbox/large/` (kept with the archive) and spilled events
 * under `inbox/spill/` (announced to the event queue by {@link EventArchive.notifySpills}, deleted by
 * the fan-out, leftovers expired after `spillExpiration`).
 * The bucket blocks public access, takes TLS only, is encrypted (SSE-S3), versioned, moves objects to
 * Standard-IA after `transitionAfter`, logs access to a separate bucket, and both are retained.
 */
export class EventArchive extends ArchiveStreamBase implements IArchiveMetrics {
  /** An existing delivery stream, for functions built outside this stack (the cold-start benchmark). */
  static streamFromName(scope: Construct, id: string, deliveryStreamName: string): IArchiveStream {
    return new (class extends ArchiveStreamBase {
      readonly deliveryStream = firehose.DeliveryStream.fromDeliveryStreamName(this, 'DeliveryStream', deliveryStreamName);
    })(scope, id);
  }

  /** The archive bucket (events, errors, claim checks, spills, Athena results); for tests and escape hatches. */
  readonly bucket: s3.Bucket;
  /** The bucket's inbox: what the receiver and the fan-out bind to. */
  readonly inbox: Inbox;
  /** The bucket receiving the archive bucket's S3 server access logs. */
  readonly accessLogsBucket: s3.Bucket;
  /** Direct-put delivery stream writing archive lines to the bucket. */
  readonly deliveryStream: firehose.DeliveryStream;
  /** Firehose's delivery error log group. */
  readonly deliveryLogGroup: logs.LogGroup;
  /** The role Firehose assumes to write to the bucket and its log group. */
  readonly deliveryRole: iam.Role;
  /**
   * The role of CDK's deploy-time handler that sets the bucket's event notifications: it may only
   * put the notification configuration of this bucket and write to its own log group.
   */
  readonly notificationsRole: iam.Role;
  /** The notification handler's log group, with the stack's retention. */
  readonly notificationsLogGroup: logs.LogGroup;

  /**
   * Lets no one but `writers` put objects under `inbox/spill/`: an explicit deny, which no identity
   * policy in the account can override. The fan-out turns every spill into an event without a
   * signature check (the receiver checked it before spilling), so a spill written by anyone else
   * would be an unsigned event.
   */
  restrictSpillWriters(writers: readonly iam.IRole[]): void {
    this.bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheReceiverSpills',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: [this.bucket.arnForObjects(`${INBOX_SPILL_PREFIX}*`)],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': writers.map((r) => r.roleArn) } },
      }),
    );
  }

  constructor(scope: Construct, id: string, props: EventArchiveProps) {
    super(scope, id);
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // S3 server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      // Versioned, so a log object cannot be overwritten unnoticed; S3 never overwrites its own log
      // objects, so only deletions (the expiry below) leave noncurrent versions, removed a day later.
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: props.accessLogsExpiration ?? Duration.days(365),
          noncurrentVersionExpiration: Duration.days(1),
          expiredObjectDeleteMarker: false,
        },
      ],
    });

    // CDK's notification handler adds the AWS managed AWSLambdaBasicExecutionRole (logs on every
    // group) to whatever role it is given; handed an immutable view, it can add nothing, and the
    // role gets exactly what the handler does below.
    this.notificationsRole = new iam.Role(this, 'NotificationsRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: "CloudFormation custom resource that sets the socialplus-webhooks archive bucket's event notifications",
    });
    this.notificationsLogGroup = stackLogGroup(this, 'NotificationsLogs', { retention: props.logRetention, encryptionKey: props.logEncryptionKey });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      notificationsHandlerRole: this.notificationsRole.withoutPolicyUpdates(),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'archive-bucket/',
      lifecycleRules: [
        {
          id: 'archive-to-infrequent-access',
          transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: props.transitionAfter }],
          noncurrentVersionExpiration: props.noncurrentVersionExpiration ?? Duration.days(30),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
          expiredObjectDeleteMarker: true,
        },
        { id: 'expire-athena-results', prefix: ATHENA_RESULTS_PREFIX, expiration: props.queryResultsExpiration ?? Duration.days(30) },
        // Versioning keeps an expired spill as a noncurrent version for noncurrentVersionExpiration
        // more, so even a leftover nobody redrove in time can still be restored for a while.
        { id: 'expire-leftover-spills', prefix: INBOX_SPILL_PREFIX, expiration: props.spillExpiration ?? Duration.days(28) },
        // inbox/large/ ages with the archive: archive lines and table items point at those bodies for
        // as long as the archive is kept, so only `retention` expires them, with the lines.
        ...(props.retention === undefined
          ? []
          : EVENT_PREFIXES.map((prefix) => ({ id: `expire-${prefix.slice(0, -1).replace('/', '-')}`, prefix, expiration: props.retention }))),
      ],
    });
    this.inbox = new Inbox(this.bucket);
    this.notificationsRole.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['s3:PutBucketNotification'], resources: [this.bucket.bucketArn] }),
    );
    this.notificationsLogGroup.grantWrite(this.notificationsRole);

    this.deliveryLogGroup = stackLogGroup(this, 'DeliveryLogs', { retention: props.logRetention, encryptionKey: props.logEncryptionKey });
    // The L2 destination grants read/write/delete on the whole bucket; Firehose needs far less. Its
    // role gets exactly the S3 destination permissions AWS documents, on the two prefixes it writes,
    // and the L2 is handed a view of the role that ignores the broader grants.
    this.deliveryRole = new iam.Role(this, 'DeliveryRole', {
      assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com'),
      description: 'Firehose writing socialplus-webhooks archive objects',
    });
    const deliveryPolicy = new iam.Policy(this, 'DeliveryPolicy', {
      roles: [this.deliveryRole],
      statements: [
        new iam.PolicyStatement({
          actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
          resources: [this.bucket.bucketArn],
        }),
        new iam.PolicyStatement({
          actions: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
          resources: [this.bucket.arnForObjects(`${ARCHIVE_EVENTS_PREFIX}*`), this.bucket.arnForObjects(`${ARCHIVE_ERRORS_PREFIX}*`)],
        }),
        new iam.PolicyStatement({ actions: ['logs:PutLogEvents'], resources: [this.deliveryLogGroup.logGroupArn] }),
      ],
    });
    for (const prefix of [ARCHIVE_EVENTS_PREFIX, ARCHIVE_ERRORS_PREFIX]) {
      Validations.of(deliveryPolicy.node.defaultChild as iam.CfnPolicy).acknowledge({
        id: `AwsSolutions-IAM5[Resource::<${Stack.of(this).getLogicalId(this.bucket.node.defaultChild as s3.CfnBucket)}.Arn>/${prefix}*]`,
        reason: `Firehose names its objects at delivery time (date path and random suffix), so it may write any key under ${prefix} of the archive bucket, and only there.`,
      });
    }
    this.deliveryStream = new firehose.DeliveryStream(this, 'DeliveryStream', {
      encryption: firehose.StreamEncryption.awsOwnedKey(),
      destination: new firehose.S3Bucket(this.bucket, {
        role: this.deliveryRole.withoutPolicyUpdates(),
        dataOutputPrefix: FIREHOSE_EVENTS_PREFIX,
        errorOutputPrefix: FIREHOSE_ERRORS_PREFIX,
        compression: firehose.Compression.GZIP,
        bufferingInterval: props.bufferInterval,
        bufferingSize: props.bufferSize,
        loggingConfig: new firehose.EnableLogging(this.deliveryLogGroup),
      }),
    });
    // CloudFormation must not create the stream before its role may write.
    this.deliveryStream.node.addDependency(deliveryPolicy);
    // The L2 prepares a region → Firehose CIDR mapping for security groups of VPC destinations
    // (Redshift, OpenSearch). An S3 destination never uses it, and left in, an environment-agnostic
    // template carries an unreferenced mapping (cfn-lint W7001).
    const stack = Stack.of(this);
    for (const child of stack.node.children) {
      if (child instanceof CfnMapping && /aws-kinesisfirehose\.CidrBlocks$/.test(child.node.id)) stack.node.tryRemoveChild(child.node.id);
    }
  }

  /** The archive bucket's name. */
  get bucketName(): string {
    return this.bucket.bucketName;
  }

  /** The delivery stream's name. */
  get deliveryStreamName(): string {
    return this.deliveryStream.deliveryStreamName;
  }

  metricDataFreshness(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryStream.metric('DeliveryToS3.DataFreshness', props);
  }

  metricDeliverySuccess(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryStream.metric('DeliveryToS3.Success', props);
  }

  metricIncomingRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryStream.metricIncomingRecords(props);
  }

  metricDeliveredRecords(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.deliveryStream.metric('DeliveryToS3.Records', props);
  }

  /**
   * Has S3 notify `queue` of every object created under `inbox/spill/` (docs/architecture.md §2: spilled events
   * reach the fan-out with no manual step). The queue's policy lets only this bucket, in this
   * account, send to it. Call once.
   */
  notifySpills(queue: ISpillNotificationTarget): void {
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, queue.asBucketNotificationDestination(), { prefix: INBOX_SPILL_PREFIX });
    const handler = this.notificationsHandler();
    // The handler writes to a log group with a retention instead of one Lambda would create without.
    handler.addPropertyOverride('LoggingConfig', { LogGroup: this.notificationsLogGroup.logGroupName });
    // The immutable role view carries no dependency: without this the handler could run before its role may act.
    handler.addResourceDependency(this.notificationsRole.node.findChild('DefaultPolicy').node.defaultChild as iam.CfnPolicy);
    // cdk-nag's Lambda rules do not look at this function (CDK declares it as a plain CfnResource, not a
    // CfnFunction), so there is nothing to acknowledge; its role is ours and passes the IAM rules as it is.
  }

  /** CDK's notification handler function, which exists once a notification was added. */
  private notificationsHandler(): CfnResource {
    const stack = Stack.of(this);
    const singleton: IConstruct | undefined = stack.node.children.find((c) => c.node.id.startsWith(NOTIFICATIONS_HANDLER_ID_PREFIX));
    const resource = singleton?.node.tryFindChild('Resource');
    if (!(resource instanceof CfnResource) || resource.cfnResourceType !== 'AWS::Lambda::Function') {
      throw new Error(
        `aws-cdk-lib no longer creates its bucket notification handler as ${NOTIFICATIONS_HANDLER_ID_PREFIX}…/Resource (AWS::Lambda::Function) ` +
          'at the stack root; update EventArchive.notifySpills to find it.',
      );
    }
    return resource;
  }
}
