/** The API Lambdas' per-tenant rate limiter (ingest.ts, query.ts), apart from common.ts so other Lambdas do not bundle it. */
import { DynamoDbRateLimiter, signedDynamoDbCall } from '../../../shared/adapters/aws/dynamodb-rate-limiter.js';
import { readAwsConfig } from '../../../shared/config/env.js';
import { systemClock } from '../../../shared/ports/clock.js';
import type { Logger } from '../../../shared/ports/logger.js';
import type { RateLimiter } from '../../../shared/ports/rate-limiter.js';
/**
 * Per-tenant request rate limits for the API Lambdas (ingest, query): enforced in the Lambda, not the
 * authorizer (API Gateway reuses an authorizer's answer for authorizerCacheSeconds without calling it),
 * with the state in DynamoDB so the limit holds across every concurrent instance. Undefined without limits.
 * Reads SLUICE_RATE_LIMIT_TABLE_ARN?, SLUICE_RATE_LIMITS?; calls dynamodb:UpdateItem on that table.
 */
export function rateLimiter(logger: Logger): RateLimiter | undefined {
  const config = readAwsConfig(['rateLimitTableArn', 'rateLimits']);
  if (!config.rateLimitTableArn || !config.rateLimits) return undefined;
  const region = config.rateLimitTableArn.split(':')[3]!;
  return new DynamoDbRateLimiter({
    call: signedDynamoDbCall({ region }),
    table: config.rateLimitTableArn,
    limits: config.rateLimits,
    clock: systemClock,
    logger,
  });
}
