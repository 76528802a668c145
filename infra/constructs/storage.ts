/**
 * Where events live: one bucket under a customer-managed KMS key, TLS-only, never public, with lifecycle
 * tiers for events/ (Meniscus's short-term then long-term storage), short lives for receipts/ and Athena's
 * results (athena-results/), and server access logs in a second bucket.
 */
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { AWS_ENV } from '../../shared/config/env.js';
import { ALERTS_PREFIX, EVENTS_PREFIX, RECEIPTS_PREFIX } from '../../shared/domain/storage-layout.js';
import { acknowledge, acknowledgeKeyGrant, bucketObjectsFinding } from './nag.js';

/** Where the Athena workgroup writes query results (in the events bucket, with its own expiry). */
export const ATHENA_RESULTS_PREFIX = 'athena-results/';

/** S3 server access logs are an audit trail, kept for a quarter. */
export const ACCESS_LOGS_EXPIRE_DAYS = 90;

export interface StorageProps {
  readonly keyAlias: string;
  readonly eventsTransitionDays: number;
  readonly eventsTransitionStorageClass: 'STANDARD_IA' | 'INTELLIGENT_TIERING' | 'GLACIER_IR';
  readonly eventsExpireDays: number;
  readonly receiptsExpireDays: number;
  readonly athenaResultsExpireDays: number;
  /** retain keeps the bucket, its access logs and the key on `cdk destroy`. */
  readonly removalPolicy: 'retain' | 'destroy';
}

const STORAGE_CLASS = {
  STANDARD_IA: StorageClass.INFREQUENT_ACCESS,
  INTELLIGENT_TIERING: StorageClass.INTELLIGENT_TIERING,
  GLACIER_IR: StorageClass.GLACIER_INSTANT_RETRIEVAL,
} as const;

export class Storage extends Construct {
  /** Encrypts the bucket, the queues, the topic, the secrets, Athena's results and the log groups. */
  readonly key: IKey;
  readonly bucket: IBucket;
  readonly accessLogsBucket: IBucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    const destroy = props.removalPolicy === 'destroy';
    const removalPolicy = destroy ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;

    const key = new Key(this, 'Key', {
      description: 'Sluice: events bucket, queues, alert topic, secrets and Athena results',
      enableKeyRotation: true,
      alias: props.keyAlias,
      removalPolicy,
      pendingWindow: Duration.days(destroy ? 7 : 30),
    });
    // CloudWatch alarms publish to the KMS-encrypted alert topic.
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    // CloudWatch Logs encrypts every Sluice log group with this key (Lambdas, API access logs, VPC flow
    // logs), for log groups of this account and region only.
    const stack = Stack.of(this);
    key.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': stack.formatArn({
              service: 'logs',
              resource: 'log-group',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
        },
      }),
    );
    this.key = key;

    // S3 server access logs cannot be delivered to a KMS-encrypted bucket: this one uses SSE-S3.
    this.accessLogsBucket = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: false,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(ACCESS_LOGS_EXPIRE_DAYS) }],
      removalPolicy,
      autoDeleteObjects: destroy,
    });

    this.bucket = new Bucket(this, 'Events', {
      encryption: BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      // Object keys are deterministic per batch: a retried batch overwrites its own files, and versions
      // would only keep the copies the overwrite is meant to drop.
      versioned: false,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'events-bucket/',
      lifecycleRules: [
        {
          id: 'events-tiers',
          prefix: EVENTS_PREFIX,
          transitions: [{ storageClass: STORAGE_CLASS[props.eventsTransitionStorageClass], transitionAfter: Duration.days(props.eventsTransitionDays) }],
          expiration: Duration.days(props.eventsExpireDays),
        },
        { id: 'receipts-expiry', prefix: RECEIPTS_PREFIX, expiration: Duration.days(props.receiptsExpireDays) },
        { id: 'athena-results-expiry', prefix: ATHENA_RESULTS_PREFIX, expiration: Duration.days(props.athenaResultsExpireDays) },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy,
      autoDeleteObjects: destroy,
    });
  }

  /** The batch writer: puts, reads, lists and (after a failed batch) deletes Parquet files and receipts. */
  grantWriteEvents(fn: LambdaFunction): void {
    this.bucket.grantReadWrite(fn, `${EVENTS_PREFIX}*`);
    this.bucket.grantReadWrite(fn, `${RECEIPTS_PREFIX}*`);
    fn.addEnvironment(AWS_ENV.bucket, this.bucket.bucketName);
    this.acknowledgeGrants(fn, [EVENTS_PREFIX, RECEIPTS_PREFIX], ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']);
  }

  /** The compactor: lists, reads, puts and deletes Parquet files and its manifests under events/ only. */
  grantCompact(fn: LambdaFunction): void {
    this.bucket.grantReadWrite(fn, `${EVENTS_PREFIX}*`);
    fn.addEnvironment(AWS_ENV.bucket, this.bucket.bucketName);
    this.acknowledgeGrants(fn, [EVENTS_PREFIX], ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']);
  }

  /**
   * The query Lambda: Athena reads events/ and writes athena-results/ with the caller's credentials, and the
   * receipts endpoint reads receipts/.
   */
  grantQuery(fn: LambdaFunction): void {
    this.grantQueryAccess(fn);
    fn.addEnvironment(AWS_ENV.bucket, this.bucket.bucketName);
    this.acknowledgeGrants(fn, [EVENTS_PREFIX, RECEIPTS_PREFIX, ATHENA_RESULTS_PREFIX], ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*']);
  }

  /** Alert state (alerts/…): small documents written with S3 conditional writes by the alert and writer Lambdas. */
  grantAlertState(fn: LambdaFunction): void {
    this.bucket.grantRead(fn, `${ALERTS_PREFIX}*`);
    this.bucket.grantPut(fn, `${ALERTS_PREFIX}*`);
    fn.addEnvironment(AWS_ENV.bucket, this.bucket.bucketName);
    this.acknowledgeGrants(fn, [ALERTS_PREFIX], ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:Abort*']);
  }

  /** The same permissions for any principal (e.g. the alert Lambda). No deletes: results expire. */
  grantQueryAccess(grantee: IGrantable): void {
    this.bucket.grantRead(grantee, `${EVENTS_PREFIX}*`);
    this.bucket.grantRead(grantee, `${RECEIPTS_PREFIX}*`);
    this.bucket.grantRead(grantee, `${ATHENA_RESULTS_PREFIX}*`);
    this.bucket.grantPut(grantee, `${ATHENA_RESULTS_PREFIX}*`);
  }

  private acknowledgeGrants(fn: LambdaFunction, prefixes: readonly string[], actions: readonly string[]): void {
    const role = fn.role ?? fn;
    for (const prefix of prefixes) {
      acknowledge(
        role,
        bucketObjectsFinding(this.bucket, `${prefix}*`),
        `Objects under ${prefix} of the Sluice bucket only: the keys below it are per tenant, date and hour, so they are named by prefix.`,
      );
    }
    for (const action of actions) {
      acknowledge(
        role,
        `AwsSolutions-IAM5[Action::${action}]`,
        `Written by CDK's bucket grant methods, on the Sluice bucket and the prefixes above only (${action} is an action family of S3's read, write or multipart calls).`,
      );
    }
    acknowledgeKeyGrant(role, this.key, ['GenerateDataKey*', 'ReEncrypt*']);
  }
}
