/**
 * The only Stack: wires the subsystem constructs together. Environment-agnostic (no account or region, no
 * lookups), so `cdk synth` needs no credentials and no network.
 */
import { CfnOutput, RemovalPolicy, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { SluiceConfig } from './config.js';
import { loadAlertRules } from './alert-rules.js';
import { Alerts, BUNDLED_RULES } from './constructs/alerts.js';
import { Api } from './constructs/api.js';
import { Catalog } from './constructs/catalog.js';
import { Compaction } from './constructs/compaction.js';
import { Ingest } from './constructs/ingest.js';
import { LambdaDefaults } from './constructs/lambda-defaults.js';
import { Monitoring } from './constructs/monitoring.js';
import { Network } from './constructs/network.js';
import { Query } from './constructs/query.js';
import { hasRateLimits, RateLimits } from './constructs/rate-limits.js';
import { Schedules } from './constructs/schedules.js';
import { Storage } from './constructs/storage.js';

export interface SluiceStackProps extends StackProps {
  readonly config: SluiceConfig;
  /** The repository root (entries, package.json, package-lock.json). */
  readonly projectRoot: string;
}

/** A Glue database name from the stack name: lower case letters, digits and '_'. */
export function glueDatabaseName(stackName: string): string {
  return stackName.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

export class SluiceStack extends Stack {
  readonly network: Network;
  readonly storage: Storage;
  readonly catalog: Catalog;
  readonly ingest: Ingest;
  readonly query: Query;
  readonly api: Api;
  readonly alerts: Alerts;
  readonly compaction: Compaction;
  readonly monitoring: Monitoring;
  readonly lambdas: LambdaDefaults;
  readonly rateLimits: RateLimits | undefined;
  readonly schedules: Schedules;

  constructor(scope: Construct, id: string, props: SluiceStackProps) {
    super(scope, id, { description: 'Sluice: HTTPS log ingest, Parquet on S3, SQL on Athena, alerts', ...props });
    const c = props.config;
    const logRetention = c.logRetentionDays as RetentionDays;
    // Log groups go with the stack (they expire anyway); the data bucket and its key follow removalPolicy.
    const logRemovalPolicy = RemovalPolicy.DESTROY;
    Tags.of(this).add('app', 'sluice');

    this.storage = new Storage(this, 'Storage', {
      keyAlias: `alias/${c.stackName}`,
      eventsTransitionDays: c.eventsTransitionDays,
      eventsTransitionStorageClass: c.eventsTransitionStorageClass,
      eventsExpireDays: c.eventsExpireDays,
      receiptsExpireDays: c.receiptsExpireDays,
      athenaResultsExpireDays: c.athenaResultsExpireDays,
      removalPolicy: c.removalPolicy,
    });
    // First: its key also encrypts every log group (Lambdas, API access logs, flow logs).
    const key = this.storage.key;
    this.network = new Network(this, 'Network', {
      existing: c.vpcId
        ? {
            vpcId: c.vpcId,
            availabilityZones: c.availabilityZones,
            privateSubnetIds: c.privateSubnetIds,
            privateSubnetRouteTableIds: c.privateSubnetRouteTableIds,
          }
        : undefined,
      createEndpoints: c.createVpcEndpoints,
      egress: c.slackWebhookSecretName !== undefined,
      logRetention,
      logKey: key,
      logRemovalPolicy,
    });
    this.lambdas = new LambdaDefaults(this, 'LambdaDefaults', {
      projectRoot: props.projectRoot,
      vpc: this.network.vpc,
      vpcSubnets: this.network.lambdaSubnets,
      securityGroup: this.network.lambdaSecurityGroup,
      logRetention,
      logKey: key,
      logRemovalPolicy,
      logLevel: c.logLevel,
    });
    this.catalog = new Catalog(this, 'Catalog', {
      bucket: this.storage.bucket,
      key,
      databaseName: glueDatabaseName(c.stackName),
      workGroupName: c.stackName,
      scanCutoffBytes: c.athenaScanCutoffBytes,
      removalPolicy: c.removalPolicy,
    });
    const rules = loadAlertRules(props.projectRoot, c.alertsFile);
    this.ingest = new Ingest(this, 'Ingest', {
      ...(rules?.rules.some((r) => r.realtime) ? { writerCopyFiles: { [rules.path]: BUNDLED_RULES } } : {}),
      lambdas: this.lambdas,
      storage: this.storage,
      key,
      writerBatchSize: c.writerBatchSize,
      writerBatchWindowSeconds: c.writerBatchWindowSeconds,
      writerTimeoutSeconds: c.writerTimeoutSeconds,
      dlqMaxReceiveCount: c.dlqMaxReceiveCount,
      writerMaxConcurrency: c.writerMaxConcurrency,
    });
    this.query = new Query(this, 'Query', { lambdas: this.lambdas, storage: this.storage, catalog: this.catalog, key });
    this.rateLimits = hasRateLimits(c.tenantRateLimits) ? new RateLimits(this, 'RateLimits', { limits: c.tenantRateLimits }) : undefined;
    for (const fn of [this.ingest.ingestFunction, this.query.queryFunction]) this.rateLimits?.grantTake(fn);
    this.api = new Api(this, 'Api', {
      lambdas: this.lambdas,
      key,
      targets: { ingest: this.ingest.ingestFunction, query: this.query.queryFunction },
      throttleRate: c.apiThrottleRate,
      throttleBurst: c.apiThrottleBurst,
      authorizerCacheSeconds: c.authorizerCacheSeconds,
      logRetention,
      logKey: key,
      logRemovalPolicy,
    });
    this.schedules = new Schedules(this, 'Schedules');
    this.alerts = new Alerts(this, 'Alerts', {
      schedules: this.schedules,
      key,
      emails: c.alertEmails,
      slackWebhookSecretName: c.slackWebhookSecretName,
      rules,
      lambdas: this.lambdas,
      storage: this.storage,
      catalog: this.catalog,
      tokenSecret: this.query.tokenSecret,
      writerFunction: this.ingest.writerFunction,
    });
    this.compaction = new Compaction(this, 'Compaction', { lambdas: this.lambdas, storage: this.storage, schedules: this.schedules });
    this.monitoring = new Monitoring(this, 'Monitoring', {
      topic: this.alerts.topic,
      queue: this.ingest.queue,
      deadLetterQueue: this.ingest.deadLetterQueue,
      scheduleDeadLetterQueue: this.schedules.deadLetterQueue,
      functions: {
        Ingest: this.ingest.ingestFunction,
        Writer: this.ingest.writerFunction,
        Query: this.query.queryFunction,
        ...(this.alerts.alertFunction ? { Alerts: this.alerts.alertFunction } : {}),
        Authorizer: this.api.authorizerFunction,
        Compactor: this.compaction.compactorFunction,
      },
      workGroupName: this.catalog.workGroupName,
      queueAgeSeconds: c.alarmQueueAgeSeconds,
      athenaFailures: c.alarmAthenaFailures,
      notificationFailures: this.alerts.notificationFailures,
      api: { stage: this.api.stage, accessLogs: this.api.accessLogs },
      api4xxPercent: c.alarmApi4xxPercent,
      apiLatencyMs: c.alarmApiLatencyMs,
    });

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output('ApiUrl', this.api.url, 'Base URL of the Sluice API (point shippers here)');
    output('EventsBucketName', this.storage.bucket.bucketName, 'S3 bucket holding events/ (Parquet), receipts/ and athena-results/');
    output('AthenaWorkGroupName', this.catalog.workGroupName, 'Athena workgroup for Sluice queries');
    output('GlueDatabaseName', this.catalog.databaseName, `Glue database holding the ${this.catalog.tableName} table`);
    output('AlertTopicArn', this.alerts.topic.topicArn, 'SNS topic for alarms and alerts');
    output('ApiKeysSecretName', this.api.keysSecret.secretName, 'Secrets Manager secret with the hashed API keys');
    output('DeadLetterQueueUrl', this.ingest.deadLetterQueue.queueUrl, 'Messages the batch writer could not store');
    output('KmsKeyArn', key.keyArn, 'Customer-managed key encrypting the bucket, queues, topic and secrets');
    if (this.alerts.slackWebhookSecret) {
      output('SlackWebhookSecretName', this.alerts.slackWebhookSecret.secretName, 'Secrets Manager secret holding the Slack webhook URL (read at run time)');
    }
  }
}
