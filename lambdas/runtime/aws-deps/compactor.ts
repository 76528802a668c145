/**
 * The compactor Lambda's deps: SLUICE_BUCKET, SLUICE_LOG_LEVEL?; s3:ListBucket, s3:GetObject, s3:PutObject,
 * s3:DeleteObject on events/* (+ kms:Decrypt, kms:GenerateDataKey on the bucket's key).
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../../shared/adapters/aws/s3-object-store.js';
import { readAwsConfig } from '../../../shared/config/env.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { makeCompactor } from '../../../shared/services/compaction/compactor.js';
import type { CompactHandlerDeps } from '../../compactor/compact.js';
import { S3_CALLS, lambdaLogger } from './common.js';

export function compactorDeps(): CompactHandlerDeps {
  const config = readAwsConfig(['bucket', 'logLevel']);
  const logger = lambdaLogger('compactor', config.logLevel);
  const store = new S3ObjectStore({ client: new S3Client(S3_CALLS), bucket: config.bucket });
  return { compactor: makeCompactor({ store, clock: systemClock, logger }), logger };
}
