/** The query Lambda's deps: POST /v1/query, GET /v1/query/{token}, GET /v1/receipts/{id}. */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AthenaQueryEngine } from '../../../shared/adapters/aws/athena-query-engine.js';
import { S3ObjectStore } from '../../../shared/adapters/aws/s3-object-store.js';
import { readSecretText } from '../../../shared/adapters/aws/secrets.js';
import { AWS_ENV, ConfigError, readAwsConfig } from '../../../shared/config/env.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { makeQueryService } from '../../../shared/services/query.js';
import { makeReceiptService } from '../../../shared/services/receipts.js';
import type { QueryHandlerDeps } from '../../api/query.js';
import { QUICK_CALLS, S3_CALLS, lambdaLogger } from './common.js';
import { rateLimiter } from './rate-limits.js';

const MIN_TOKEN_SECRET_CHARS = 32;

export async function queryDeps(): Promise<QueryHandlerDeps> {
  const config = readAwsConfig(['workgroup', 'database', 'table', 'bucket', 'tokenSecretArn', 'queryWaitMs', 'logLevel']);
  const logger = lambdaLogger('query', config.logLevel);
  // The adapter retries throttling itself (with jitter, then 503): SDK retries on top would multiply them.
  const athena = new AthenaClient({ ...QUICK_CALLS, maxAttempts: 1 });
  const engine = new AthenaQueryEngine({ client: athena, workgroup: config.workgroup, database: config.database, table: config.table });
  const store = new S3ObjectStore({ client: new S3Client(S3_CALLS), bucket: config.bucket });
  const secrets = new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(QUICK_CALLS) });
  // Read once per cold start, so every instance signs and checks tokens with the same secret.
  const tokenSecret = await readSecretText(secrets, config.tokenSecretArn, 0);
  if (tokenSecret.length < MIN_TOKEN_SECRET_CHARS) {
    throw new ConfigError(`the secret named by ${AWS_ENV.tokenSecretArn} must hold at least ${MIN_TOKEN_SECRET_CHARS} random characters`);
  }
  return {
    queries: makeQueryService({ engine, clock: systemClock, tokenSecret: Buffer.from(tokenSecret, 'utf8'), waitBudgetMs: config.queryWaitMs }),
    receipts: makeReceiptService({ store, clock: systemClock }),
    logger,
    limiter: rateLimiter(logger),
  };
}
