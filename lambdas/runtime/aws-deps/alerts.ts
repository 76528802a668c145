/**
 * The alert Lambda's deps (EventBridge every minute): rules from the file bundled with the function,
 * queries through Athena, state on S3 with conditional writes, and the channels: `sns` and `email:` go to
 * the stack's SNS topic (email subscribers get readable text), `slack:<name>` to the webhook URL kept in
 * Secrets Manager, `console` to the function's log.
 *
 * Reads: SLUICE_ATHENA_WORKGROUP, SLUICE_GLUE_DATABASE, SLUICE_GLUE_TABLE, SLUICE_BUCKET (state),
 * SLUICE_TOKEN_SECRET_ARN, SLUICE_TOPIC_ARN, SLUICE_ALERTS_FILE?, SLUICE_ALERTS_DELAY_MS?,
 * SLUICE_SLACK_SECRET_ARN?, SLUICE_UI_URL?, SLUICE_LOG_LEVEL?
 * Calls: the query role's Athena/Glue/S3 actions; s3:GetObject, s3:PutObject on alerts/state/*;
 * sns:Publish on the topic; secretsmanager:GetSecretValue on the token and Slack secrets.
 */
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { AthenaClient } from '@aws-sdk/client-athena';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AthenaQueryEngine } from '../../../shared/adapters/aws/athena-query-engine.js';
import { S3VersionedStore } from '../../../shared/adapters/aws/s3-versioned-store.js';
import { readSecretText } from '../../../shared/adapters/aws/secrets.js';
import { readAwsConfig } from '../../../shared/config/env.js';
import { systemClock } from '../../../shared/ports/clock.js';
import { makeAlertEvaluator } from '../../../shared/services/alerts.js';
import { makeQueryService } from '../../../shared/services/query.js';
import type { AlertHandlerDeps } from '../../alerts/evaluate.js';
import { awsNotifiers, bundledRules } from './channels.js';
import { QUICK_CALLS, S3_CALLS, lambdaLogger } from './common.js';

export async function alertDeps(): Promise<AlertHandlerDeps> {
  const config = readAwsConfig([
    'workgroup',
    'database',
    'table',
    'bucket',
    'tokenSecretArn',
    'topicArn',
    'alertsFile',
    'alertsDelayMs',
    'slackSecretArn',
    'uiUrl',
    'logLevel',
  ]);
  const logger = lambdaLogger('alerts', config.logLevel);
  const rules = bundledRules(config.alertsFile);
  const engine = new AthenaQueryEngine({
    client: new AthenaClient({ ...QUICK_CALLS, maxAttempts: 1 }),
    workgroup: config.workgroup,
    database: config.database,
    table: config.table,
  });
  const secrets = new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(QUICK_CALLS) });
  const tokenSecret = await readSecretText(secrets, config.tokenSecretArn, 0);
  // Alert queries may take a while on Athena: wait inside the evaluator rather than in the query service.
  const queries = makeQueryService({ engine, clock: systemClock, tokenSecret: Buffer.from(tokenSecret, 'utf8'), waitBudgetMs: 20_000 });
  return {
    alerts: makeAlertEvaluator({
      rules,
      queries,
      state: new S3VersionedStore({ client: new S3Client(S3_CALLS), bucket: config.bucket }),
      notifierFor: awsNotifiers(config, logger),
      clock: systemClock,
      logger,
      delayMs: config.alertsDelayMs,
      ...(config.uiUrl ? { uiUrl: config.uiUrl } : {}),
    }),
    logger,
  };
}
