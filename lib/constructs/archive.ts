import { CfnMapping, Duration, RemovalPolicy, Stack, type Size, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARCHIVE_ERRORS_PREFIX, ARCHIVE_EVENTS_PREFIX, FIREHOSE_ERRORS_PREFIX, FIREHOSE_EVENTS_PREFIX } from '../../lambda/core/archive-layout.js';

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
}

/**
 * The S3 archive (DESIGN §6) and the Firehose delivery stream that fills it: gzip NDJSON under
 * `events/dt=YYYY-MM-DD/hour=HH/` from Firehose's UTC arrival time, failed deliveries under `errors/`.
 * The bucket blocks public access, takes TLS only, is encrypted (SSE-S3), versioned, moves objects to
 * Standard-IA after `transitionAfter`, logs access to a separate bucket, and both are retained.
 */
export class EventArchive extends Construct {
  /** The archive bucket (events, errors, claim checks, spills, Athena results). */
  readonly bucket: s3.Bucket;
  /** The bucket receiving the archive bucket's S3 server access logs. */
  readonly accessLogsBucket: s3.Bucket;
  /** Direct-put delivery stream writing archive lines to the bucket. */
  readonly deliveryStream: firehose.DeliveryStream;
  /** Firehose's delivery error log group. */
  readonly deliveryLogGroup: logs.LogGroup;
  /** The role Firehose assumes to write to the bucket and its log group. */
  readonly deliveryRole: iam.Role;

  constructor(scope: Construct, id: string, props: EventArchiveProps) {
    super(scope, id);
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      // S3 server access logging delivers only to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: props.accessLogsExpiration ?? Duration.days(365) }],
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
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
      ],
    });

    this.deliveryLogGroup = new logs.LogGroup(this, 'DeliveryLogs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
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
}
