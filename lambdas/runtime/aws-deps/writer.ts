/**
 * The batch writer Lambda's deps: SQS records → Parquet files and receipts on S3. Powertools' batch
 * processor is not used: it hands records to a callback one at a time, while the writer groups a whole
 * batch into one file per partition; makeBatchWriterHandler reports poisoned records itself.
 *
 * Real-time alert rules (in the rules file bundled with the function) are checked on each stored batch;
 * only then does the writer also need SLUICE_TOPIC_ARN (and SLUICE_SLACK_SECRET_ARN for Slack channels).
 * Building the channels makes no AWS call (channels.ts): a broken channel fails its notifications, never
 * this function's cold start, so it cannot stop ingestion.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../../shared/adapters/aws/s3-object-store.js';
import { S3VersionedStore } from '../../../shared/adapters/aws/s3-versioned-store.js';
import { readAwsConfig } from '../../../shared/config/env.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { makeBatchWriter, type StoredEventsObserver } from '../../../shared/services/batch-writer.js';
import { makeRealtimeAlerts } from '../../../shared/services/realtime-alerts.js';
import type { BatchWriterHandlerDeps } from '../../writer/batch-writer.js';
import { awsNotifiers, bundledRules } from './channels.js';
import { S3_CALLS, lambdaLogger } from './common.js';

export function batchWriterDeps(): BatchWriterHandlerDeps {
  const config = readAwsConfig(['bucket', 'logLevel', 'alertsFile']);
  const logger = lambdaLogger('writer', config.logLevel);
  const client = new S3Client(S3_CALLS);
  const store = new S3ObjectStore({ client, bucket: config.bucket });
  const rules = bundledRules(config.alertsFile).filter((r) => r.realtime);
  const observers: StoredEventsObserver[] = [];
  if (rules.length > 0) {
    const channels = readAwsConfig(['topicArn', 'slackSecretArn']);
    const realtime = makeRealtimeAlerts({
      rules,
      state: new S3VersionedStore({ client, bucket: config.bucket }),
      notifierFor: awsNotifiers(channels, logger),
      clock: systemClock,
      logger,
    });
    observers.push(realtime.observe);
  }
  return { writer: makeBatchWriter({ store, clock: systemClock, logger, observers }), logger };
}
