/**
 * The batch writer Lambda's deps: SQS records → Parquet files and receipts on S3. Powertools' batch
 * processor is not used: it hands records to a callback one at a time, while the writer groups a whole
 * batch into one file per partition; makeBatchWriterHandler reports poisoned records itself.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../../shared/adapters/aws/s3-object-store.js';
import { readAwsConfig } from '../../../shared/config/env.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { makeBatchWriter } from '../../../shared/services/batch-writer.js';
import type { BatchWriterHandlerDeps } from '../../writer/batch-writer.js';
import { S3_CALLS, lambdaLogger } from './common.js';

export function batchWriterDeps(): BatchWriterHandlerDeps {
  const config = readAwsConfig(['bucket', 'logLevel']);
  const logger = lambdaLogger('writer', config.logLevel);
  const store = new S3ObjectStore({ client: new S3Client(S3_CALLS), bucket: config.bucket });
  return { writer: makeBatchWriter({ store, clock: systemClock, logger }), logger };
}
