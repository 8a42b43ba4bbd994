import { Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { ENV } from '../../lambda/common/env.js';
import { INBOX_LARGE_PREFIX, INBOX_SPILL_PREFIX } from '../../lambda/core/archive-layout.js';
import { SUPPRESSION_LIST_KEY } from '../../lambda/core/privacy/suppression.js';
import { bindResource, defaultPolicyOf, type IBindableFunction } from './node-function.js';

/** The archive bucket's inbox (docs/architecture.md §6): claim checks under `inbox/large/`, spills under `inbox/spill/`. */
export const INBOX_PREFIX = 'inbox/';

const objects = (bucket: s3.IBucket, prefix: string): string => bucket.arnForObjects(`${prefix}*`);

/**
 * The archive bucket's inbox and who may do what in it: the receiver writes claim checks and spills
 * (`bindWriter`), the fan-out reads them, copies large payloads in and deletes processed spills
 * (`bindProcessor`). Each binding sets `ENV.ARCHIVE_BUCKET_NAME` with the narrowest grant and
 * acknowledges the prefix wildcards that grant needs. {@link EventArchive} holds the inbox of its
 * bucket; {@link Inbox.fromBucketName} wraps an existing bucket.
 */
export class Inbox {
  /** The inbox of an existing bucket, for functions built outside this stack (the cold-start benchmark). */
  static fromBucketName(scope: Construct, id: string, bucketName: string): Inbox {
    return new Inbox(s3.Bucket.fromBucketName(scope, id, bucketName));
  }

  constructor(private readonly bucket: s3.IBucket) {}

  /**
   * What the receiver's blob store calls on its two rare paths: `PutObject` of a claim-checked body
   * under `inbox/large/` and of a spilled one under `inbox/spill/`, and nothing else (no read, no
   * delete, no tagging or ACLs).
   */
  grantWrites(grantee: iam.IGrantable): iam.Grant[] {
    const grants = [
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:PutObject'],
        resourceArns: [objects(this.bucket, INBOX_LARGE_PREFIX), objects(this.bucket, INBOX_SPILL_PREFIX)],
      }),
    ];
    // SSE-S3 today (no key); with a KMS key, a put needs a data key.
    if (this.bucket.encryptionKey) grants.push(this.bucket.encryptionKey.grant(grantee, 'kms:GenerateDataKey'));
    return grants;
  }

  /**
   * What the fan-out's blob store calls: `GetObject` of claim checks and spills, `PutObject` under
   * `inbox/large/` (a payload too large for an archive record or a table item is copied there),
   * `DeleteObject` of a spill once processed, and `ListBucket` limited to `inbox/` keys. Without
   * `ListBucket`, S3 answers a missing key with 403 instead of `NoSuchKey`, and a repeated
   * notification of a spill already processed and deleted would be retried into the DLQ.
   */
  grantProcessing(grantee: iam.IGrantable): iam.Grant[] {
    const large = objects(this.bucket, INBOX_LARGE_PREFIX);
    const spill = objects(this.bucket, INBOX_SPILL_PREFIX);
    const grants = [
      iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [large, spill] }),
      iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [large] }),
      iam.Grant.addToPrincipal({ grantee, actions: ['s3:DeleteObject'], resourceArns: [spill] }),
      // Limited to inbox/ keys. AWS documents only "s3:ListBucket on the bucket" for the 404; a
      // prefix-scoped grant was observed to give it for keys under the prefix (kopia/kopia#3072). If a
      // deployment ever logs AccessDenied for a missing inbox key, drop the condition.
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:ListBucket'],
        resourceArns: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [`${INBOX_PREFIX}*`] } },
      }),
    ];
    if (this.bucket.encryptionKey) grants.push(this.bucket.encryptionKey.grant(grantee, 'kms:Decrypt', 'kms:GenerateDataKey'));
    return grants;
  }

  /**
   * What the fan-out's suppression list reader calls (docs/privacy.md, `erase --also-future`):
   * `GetObject` of `erasures/suppressed.json` and `ListBucket` with exactly that key as prefix (it
   * lists the key to tell a missing list, an empty one, from a refused read). Nothing else under
   * `erasures/`: receipts and progress stay out of its reach.
   */
  grantSuppressionListRead(grantee: iam.IGrantable): iam.Grant[] {
    const grants = [
      iam.Grant.addToPrincipal({ grantee, actions: ['s3:GetObject'], resourceArns: [this.bucket.arnForObjects(SUPPRESSION_LIST_KEY)] }),
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['s3:ListBucket'],
        resourceArns: [this.bucket.bucketArn],
        conditions: { StringEquals: { 's3:prefix': SUPPRESSION_LIST_KEY } },
      }),
    ];
    if (this.bucket.encryptionKey) grants.push(this.bucket.encryptionKey.grant(grantee, 'kms:Decrypt'));
    return grants;
  }

  /** Sets `ENV.ARCHIVE_BUCKET_NAME` on the receiver and grants it {@link grantWrites}. */
  bindWriter(fn: IBindableFunction): iam.Grant[] {
    return this.bind(fn, (grantee) => this.grantWrites(grantee), {
      [INBOX_LARGE_PREFIX]:
        'The receiver puts a body too large for a queue message under inbox/large/<date>/<event id>, a key it makes per event at run time; ' +
        'PutObject only, under this prefix only.',
      [INBOX_SPILL_PREFIX]:
        'The receiver puts an event the queue could not take in time under inbox/spill/<date>/<event id>, a key it makes per event at run time; ' +
        'PutObject only, under this prefix only.',
    });
  }

  /**
   * Sets `ENV.ARCHIVE_BUCKET_NAME` on the fan-out and grants it {@link grantProcessing} and
   * {@link grantSuppressionListRead}: the fan-out reads the suppression list from the same bucket.
   */
  bindProcessor(fn: IBindableFunction): iam.Grant[] {
    return this.bind(fn, (grantee) => [...this.grantProcessing(grantee), ...this.grantSuppressionListRead(grantee)], {
      [INBOX_LARGE_PREFIX]:
        'The fan-out reads claim-checked bodies, and writes payloads too large for an archive record or a table item, under inbox/large/ ' +
        'at keys named per event at run time; GetObject and PutObject, under this prefix only.',
      [INBOX_SPILL_PREFIX]:
        'The fan-out reads each spilled event S3 notifies it of, then deletes it, at keys the receiver named per event at run time; ' +
        'GetObject and DeleteObject, under this prefix only.',
    });
  }

  /** What both bindings share: the grants with the variable, and the prefix wildcards they need acknowledged with `reasons`. */
  private bind(fn: IBindableFunction, grant: (grantee: iam.IGrantable) => iam.Grant[], reasons: Readonly<Record<string, string>>): iam.Grant[] {
    const grants = bindResource(fn, grant, ENV.ARCHIVE_BUCKET_NAME, this.bucket.bucketName);
    acknowledgeInboxWildcards(defaultPolicyOf(fn), this.bucket, reasons);
    return grants;
  }
}

/**
 * An S3 notification destination for a queue that, unlike `s3n.SqsDestination`, lets S3 only send
 * (the one action S3 needs) and only for this bucket in this account (`aws:SourceArn` and
 * `aws:SourceAccount`, so no other bucket or account can make S3 write to the queue).
 */
export class ScopedQueueDestination implements s3.IBucketNotificationDestination {
  constructor(private readonly queue: sqs.IQueue) {}

  bind(scope: Construct, bucket: s3.IBucketRef): s3.BucketNotificationDestinationConfig {
    if (this.queue.encryptionMasterKey) {
      throw new Error(
        'The event queue uses a customer-managed KMS key, whose key policy must let s3.amazonaws.com use it before S3 can notify the queue; ' +
          'keep the queue on SQS-managed encryption (SSE-SQS), which S3 notifications work with as they are.',
      );
    }
    this.queue.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowArchiveBucketNotifications',
        principals: [new iam.ServicePrincipal('s3.amazonaws.com')],
        actions: ['sqs:SendMessage'],
        resources: [this.queue.queueArn],
        conditions: {
          ArnLike: { 'aws:SourceArn': bucket.bucketRef.bucketArn },
          StringEquals: { 'aws:SourceAccount': Stack.of(scope).account },
        },
      }),
    );
    // The dependency on the queue includes its policy: S3 checks it may send when the notification is configured.
    return { arn: this.queue.queueArn, type: s3.BucketNotificationDestinationType.QUEUE, dependencies: [this.queue] };
  }
}

/**
 * Acknowledges, on a grantee's policy, the cdk-nag finding each inbox prefix wildcard raises: the
 * functions name inbox objects at run time (date and event id), so a prefix is the narrowest grant.
 * Only for a bucket defined in the same stack, whose finding names its logical id.
 */
export function acknowledgeInboxWildcards(policy: iam.CfnPolicy, bucket: s3.IBucket, reasons: Readonly<Record<string, string>>): void {
  const cfnBucket = bucket.node.defaultChild;
  if (!(cfnBucket instanceof s3.CfnBucket)) return;
  const bucketId = Stack.of(cfnBucket).getLogicalId(cfnBucket);
  Validations.of(policy).acknowledge(
    ...Object.entries(reasons).map(([prefix, reason]) => ({ id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${prefix}*]`, reason })),
  );
}
