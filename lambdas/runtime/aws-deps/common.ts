/**
 * The Lambdas' composition root, one module per role (ingest.ts, writer.ts, query.ts, authorizer.ts) so
 * each Lambda bundles and loads only its own adapters: one module for all four made every bundle carry
 * and evaluate the Athena SQL grammar and Arrow (ingest: 1.96 MB and ~240 ms to load, against 0.86 MB
 * and ~65 ms alone). This file holds what they share. Each role's function runs once per cold start; a
 * missing or invalid environment variable fails there with its name (readAwsConfig).
 *
 * What each role reads, and the AWS actions its adapters call (for the stack's grants):
 * - ingest:      SLUICE_QUEUE_URL, SLUICE_MAX_BODY_BYTES?, SLUICE_LOG_LEVEL?, SLUICE_RATE_LIMIT_TABLE_ARN?, SLUICE_RATE_LIMITS?
 *                sqs:SendMessage on the queue (+ kms:GenerateDataKey, kms:Decrypt on the queue's key);
 *                dynamodb:UpdateItem on the rate-limit table (query too)
 * - writer:      SLUICE_BUCKET, SLUICE_LOG_LEVEL?
 *                s3:PutObject, s3:GetObject, s3:DeleteObject, s3:ListBucket (+ kms:GenerateDataKey, kms:Decrypt on the bucket's key)
 * - query:       SLUICE_ATHENA_WORKGROUP, SLUICE_GLUE_DATABASE, SLUICE_GLUE_TABLE, SLUICE_BUCKET (receipts),
 *                SLUICE_TOKEN_SECRET_ARN, SLUICE_QUERY_WAIT_MS?, SLUICE_LOG_LEVEL?
 *                athena:StartQueryExecution, GetQueryExecution, GetQueryResults, StopQueryExecution on the workgroup;
 *                glue:GetDatabase, GetTable (Athena reads the table as the caller); s3:GetObject, s3:ListBucket on the
 *                events and receipts; s3 read/write on the results location; secretsmanager:GetSecretValue on the
 *                token secret; kms:Decrypt / GenerateDataKey on the keys involved
 * - authorizer:  SLUICE_KEYS_SECRET_ARN, SLUICE_LOG_LEVEL?
 *                secretsmanager:GetSecretValue on the keys secret (+ kms:Decrypt if it has its own key)
 * (? = has a default.)
 */
import { PowertoolsLogger, type LogLevelName } from '../../../shared/adapters/aws/powertools-logger.js';
import type { Logger } from '../../../shared/ports/logger.js';

/**
 * Timeouts for calls answered in milliseconds (SQS, Secrets Manager, Athena's control plane): a hung
 * connection fails fast and is retried instead of using up the function's timeout.
 */
export const QUICK_CALLS = { requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true } };
/** S3 puts of large Parquet files may take long in total; only a connection idle this long is given up. */
export const S3_CALLS = { requestHandler: { connectionTimeout: 3_000, socketTimeout: 30_000 } };

/** A Powertools logger named for the role (the `service` key of every line). */
export function lambdaLogger(role: string, level: LogLevelName): Logger {
  return new PowertoolsLogger({ serviceName: `sluice-${role}`, level });
}
