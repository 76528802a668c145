/**
 * Per-tenant request rate limits: a DynamoDB table holding each tenant's GCRA state (one small item per
 * tenant, removed by TTL when idle), written with one conditional UpdateItem per API request by the
 * ingest and query Lambdas (shared/adapters/aws/dynamodb-rate-limiter.ts). HTTP APIs have no usage plans
 * and API Gateway caches authorizer answers, so the limit is enforced in the Lambdas, against a store
 * every instance shares.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { AWS_ENV } from '../../shared/config/env.js';
import type { RateLimits as Limits } from '../../shared/domain/rate-limits.js';
import { acknowledge } from './nag.js';

export interface RateLimitsProps {
  readonly limits: Limits;
}

export class RateLimits extends Construct {
  readonly table: TableV2;

  constructor(
    scope: Construct,
    id: string,
    private readonly props: RateLimitsProps,
  ) {
    super(scope, id);
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: 'tenant', type: AttributeType.STRING },
      billing: Billing.onDemand(),
      timeToLiveAttribute: 'expires',
      // Tenant ids and timestamps, nothing from a request: the AWS-owned key is enough, and saves a KMS call per write.
      encryption: TableEncryptionV2.dynamoOwnedKey(),
      // State that rebuilds itself within one burst: nothing to keep on `cdk destroy`.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.table,
      'AwsSolutions-DDB3',
      'Rate-limit state only (each tenant’s next allowed request time, removed by TTL after an hour idle): losing it lets each tenant one burst through, so point-in-time recovery would restore nothing worth its cost.',
    );
  }

  /** Lets an API Lambda take requests from the tenants' allowances, and tells it the table and the limits. */
  grantTake(fn: LambdaFunction): void {
    this.table.grant(fn, 'dynamodb:UpdateItem');
    fn.addEnvironment(AWS_ENV.rateLimitTableArn, this.table.tableArn);
    fn.addEnvironment(AWS_ENV.rateLimits, JSON.stringify(this.props.limits));
  }
}

/** Whether a configuration limits anyone (else no table is made). */
export function hasRateLimits(limits: Limits): boolean {
  return limits.default !== undefined || Object.keys(limits.tenants).length > 0;
}
