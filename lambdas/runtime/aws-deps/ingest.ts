/** The ingest Lambda's deps: POST /v1/logs and the shipper endpoints → SQS. */
import { SQSClient } from '@aws-sdk/client-sqs';
import { SqsQueue } from '../../../shared/adapters/aws/sqs-queue.js';
import { readAwsConfig } from '../../../shared/config/env.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { makeIngestService } from '../../../shared/services/ingest.js';
import type { IngestHandlerDeps } from '../../api/ingest.js';
import { QUICK_CALLS, lambdaLogger } from './common.js';
import { rateLimiter } from './rate-limits.js';

export function ingestDeps(): IngestHandlerDeps {
  const config = readAwsConfig(['queueUrl', 'maxBodyBytes', 'logLevel']);
  const queue = new SqsQueue({ client: new SQSClient(QUICK_CALLS), queueUrl: config.queueUrl });
  const logger = lambdaLogger('ingest', config.logLevel);
  return {
    ingest: makeIngestService({ queue, clock: systemClock }),
    logger,
    maxBodyBytes: config.maxBodyBytes,
    limiter: rateLimiter(logger),
  };
}
