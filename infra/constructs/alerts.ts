/**
 * Where notifications go: a KMS-encrypted SNS topic (the alarms below and, with issue 6, the alert rules
 * publish to it) with an email subscription per configured address, and a reference to the Secrets Manager
 * secret holding the Slack webhook URL (the URL itself is never in the template or an environment variable).
 * The alert Lambda and its EventBridge schedule arrive with issue 6.
 */
import { Stack } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface AlertsProps {
  readonly key: IKey;
  readonly emails: readonly string[];
  readonly slackWebhookSecretName?: string | undefined;
}

export class Alerts extends Construct {
  readonly topic: Topic;
  /** The Slack webhook secret (by name), for the alert Lambda to read at run time. */
  readonly slackWebhookSecret: ISecret | undefined;

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
  }
}
