/**
 * Where notifications go: a KMS-encrypted SNS topic (the alarms and the alert rules publish to it) with an
 * email subscription per configured address, and a reference to the Secrets Manager secret holding the
 * Slack webhook URLs as JSON {"<name>": "https://hooks.slack.com/…"} (never in the template or an
 * environment variable).
 *
 * With a rules file (alerts.yaml at the repository root, or -c alertsFile=…), validated at synth: the alert
 * Lambda, run every minute by EventBridge, with the file bundled beside it; and, when the file has real-time
 * rules, the writer Lambda gets the file too, with the channels' permissions.
 */
import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Duration } from 'aws-cdk-lib';
import { Schedule } from 'aws-cdk-lib/aws-events';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { AWS_ENV } from '../../shared/config/env.js';
import { CHANNEL_NOT_CONFIGURED, NOTIFICATION_FAILED } from '../../shared/domain/alerts/notification.js';
import type { AlertRule } from '../../shared/domain/alerts/rules.js';
import type { Catalog } from './catalog.js';
import type { LambdaDefaults } from './lambda-defaults.js';
import type { Schedules } from './schedules.js';
import type { Storage } from './storage.js';

/** The alert Lambda's entry, relative to the repository root. */
export const ALERT_ENTRY = 'lambdas/alerts/evaluate.handler.ts';

export interface AlertsProps {
  readonly key: IKey;
  readonly emails: readonly string[];
  readonly slackWebhookSecretName?: string | undefined;
  /** The rules, when a rules file exists (absolute path and its validated rules). */
  readonly rules?: { readonly path: string; readonly rules: readonly AlertRule[] } | undefined;
  readonly lambdas?: LambdaDefaults;
  readonly storage?: Storage;
  readonly catalog?: Catalog;
  readonly tokenSecret?: ISecret;
  readonly writerFunction?: LambdaFunction;
  readonly schedules?: Schedules;
}

/** The name of the rules file inside a bundle (SLUICE_ALERTS_FILE's default). */
export const BUNDLED_RULES = 'alerts.yaml';

/** The custom metric counting failed and dropped alert notifications (from the notifying Lambdas' log lines). */
export const NOTIFICATION_FAILURES_METRIC = { namespace: 'Sluice', metricName: 'AlertNotificationFailures' } as const;

/** The log lines (Powertools JSON, `message` key) of a notification that failed or had no channel. */
export const NOTIFICATION_FAILURE_PATTERN = FilterPattern.any(
  FilterPattern.stringValue('$.message', '=', NOTIFICATION_FAILED),
  FilterPattern.stringValue('$.message', '=', CHANNEL_NOT_CONFIGURED),
);

export class Alerts extends Construct {
  readonly topic: Topic;
  /** The alert evaluator, when there are scheduled rules. */
  readonly alertFunction: LambdaFunction | undefined;
  /** The Slack webhook secret (by name), for the alert Lambda to read at run time. */
  readonly slackWebhookSecret: ISecret | undefined;
  /**
   * Failed or dropped notifications of every Lambda that notifies (a broken channel fails only its own
   * notifications and is logged, never the run or ingestion): Monitoring alarms on it. Undefined without rules.
   */
  readonly notificationFailures: Metric | undefined;

  constructor(scope: Construct, id: string, props: AlertsProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Topic', {
      displayName: 'Sluice alerts',
      masterKey: props.key,
      enforceSSL: true,
    });
    // The topic policy CDK writes (for enforceSSL) replaces SNS's default one: say explicitly that this
    // account's CloudWatch alarms may publish.
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    for (const email of props.emails) this.topic.addSubscription(new EmailSubscription(email));

    this.slackWebhookSecret = props.slackWebhookSecretName ? Secret.fromSecretNameV2(this, 'SlackWebhook', props.slackWebhookSecretName) : undefined;

    const rules = props.rules;
    this.alertFunction = undefined;
    this.notificationFailures = undefined;
    if (!rules || !props.lambdas || !props.storage || !props.catalog || !props.tokenSecret) return;
    this.notificationFailures = new Metric({ ...NOTIFICATION_FAILURES_METRIC, statistic: 'Sum', period: Duration.minutes(5) });
    const channels = (fn: LambdaFunction, id: string) => {
      new MetricFilter(this, `${id}NotificationFailures`, {
        logGroup: fn.logGroup,
        filterPattern: NOTIFICATION_FAILURE_PATTERN,
        metricNamespace: NOTIFICATION_FAILURES_METRIC.namespace,
        metricName: NOTIFICATION_FAILURES_METRIC.metricName,
        metricValue: '1',
      });
      this.topic.grantPublish(fn);
      fn.addEnvironment(AWS_ENV.topicArn, this.topic.topicArn);
      if (this.slackWebhookSecret) {
        this.slackWebhookSecret.grantRead(fn);
        fn.addEnvironment(AWS_ENV.slackSecretArn, this.slackWebhookSecret.secretArn);
      }
      props.storage!.grantAlertState(fn);
    };
    const copyFiles = { [rules.path]: BUNDLED_RULES };

    if (rules.rules.some((r) => !r.realtime)) {
      const fn = props.lambdas.createFunction(this, 'AlertFunction', {
        entry: ALERT_ENTRY,
        description: 'Sluice alert rules: evaluated every minute',
        memorySize: 512,
        timeout: Duration.minutes(5),
        copyFiles,
      });
      channels(fn, 'AlertFunction');
      props.storage.grantQuery(fn);
      props.catalog.grantQuery(fn);
      props.tokenSecret.grantRead(fn);
      fn.addEnvironment(AWS_ENV.tokenSecretArn, props.tokenSecret.secretArn);
      // A failed evaluation is retried once (state is compare-and-swap, so a retry beside the next run
      // neither double-fires nor skips a window); one that still fails goes to the dead-letter queue.
      props.schedules?.run(this, 'EveryMinute', fn, {
        description: 'Sluice: evaluate the alert rules that are due',
        schedule: Schedule.rate(Duration.minutes(1)),
        retryAttempts: 1,
        maxEventAge: Duration.minutes(5),
      });
      this.alertFunction = fn;
    }
    if (rules.rules.some((r) => r.realtime) && props.writerFunction) {
      // The writer checks real-time rules on every stored batch: the stack bundled the file with it
      // (writerRulesFile); here it gets the channels.
      channels(props.writerFunction, 'Writer');
    }
  }
}
