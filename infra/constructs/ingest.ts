/**
 * The path of an event into storage: the HTTP ingest Lambda puts batches on an encrypted SQS queue (durable
 * before the 202), and the batch-writer Lambda turns them into Parquet on S3. The writer reports partial
 * batch failures, so SQS deletes a message only after its events are in S3; a message that keeps failing
 * moves to the dead-letter queue. An S3 outage fails whole invocations (the writer throws), so messages
 * come back after each visibility timeout and the poller backs off; dlqMaxReceiveCount × the visibility
 * timeout is how long an outage can last before acknowledged messages wait in the DLQ for a redrive.
 */
import { Duration } from 'aws-cdk-lib';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AWS_ENV } from '../../shared/config/env.js';
import { PARQUET_WASM, type LambdaDefaults } from './lambda-defaults.js';
import { acknowledgeKeyGrant } from './nag.js';
import type { Storage } from './storage.js';

export const INGEST_ENTRY = 'lambdas/api/ingest.handler.ts';
export const WRITER_ENTRY = 'lambdas/writer/batch-writer.handler.ts';

/** AWS's advice for SQS event sources: a visibility timeout of at least six times the function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface IngestProps {
  /** Files bundled with the writer (the alert rules file, when it has real-time rules). */
  readonly writerCopyFiles?: Readonly<Record<string, string>> | undefined;
  readonly lambdas: LambdaDefaults;
  readonly storage: Storage;
  readonly key: IKey;
  readonly writerBatchSize: number;
  readonly writerBatchWindowSeconds: number;
  readonly writerTimeoutSeconds: number;
  readonly dlqMaxReceiveCount: number;
  /** Batch-writer invocations at once (the event source's maximum concurrency). */
  readonly writerMaxConcurrency: number;
}

export class Ingest extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly ingestFunction: NodejsFunction;
  readonly writerFunction: NodejsFunction;

  constructor(scope: Construct, id: string, props: IngestProps) {
    super(scope, id);
    const encryption = { encryption: QueueEncryption.KMS, encryptionMasterKey: props.key, dataKeyReuse: Duration.hours(1), enforceSSL: true };

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', { ...encryption, retentionPeriod: Duration.days(14) });
    this.queue = new Queue(this, 'Queue', {
      ...encryption,
      retentionPeriod: Duration.days(14),
      visibilityTimeout: Duration.seconds(props.writerTimeoutSeconds * VISIBILITY_TIMEOUT_FACTOR),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.dlqMaxReceiveCount },
    });

    this.ingestFunction = props.lambdas.createFunction(this, 'IngestFunction', {
      entry: INGEST_ENTRY,
      description: 'Sluice HTTP ingest: decode, normalize, enqueue, 202',
      memorySize: 1024,
      timeout: Duration.seconds(29),
    });
    this.queue.grantSendMessages(this.ingestFunction);
    this.ingestFunction.addEnvironment(AWS_ENV.queueUrl, this.queue.queueUrl);
    acknowledgeKeyGrant(this.ingestFunction.role ?? this.ingestFunction, props.key, ['GenerateDataKey*', 'ReEncrypt*']);

    this.writerFunction = props.lambdas.createFunction(this, 'WriterFunction', {
      entry: WRITER_ENTRY,
      description: 'Sluice batch writer: queue messages to Parquet files on S3',
      memorySize: 2048,
      timeout: Duration.seconds(props.writerTimeoutSeconds),
      copiedPackages: [PARQUET_WASM],
      ...(props.writerCopyFiles ? { copyFiles: props.writerCopyFiles } : {}),
    });
    props.storage.grantWriteEvents(this.writerFunction);
    this.writerFunction.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize: props.writerBatchSize,
        maxBatchingWindow: props.writerBatchWindowSeconds > 0 ? Duration.seconds(props.writerBatchWindowSeconds) : undefined,
        reportBatchItemFailures: true,
        // A backlog scales the writer up to this many invocations, not to the account's whole concurrency.
        maxConcurrency: props.writerMaxConcurrency,
      }),
    );
  }
}
