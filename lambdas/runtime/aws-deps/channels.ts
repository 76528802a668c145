/**
 * Alert channels and rules for the Lambdas that notify (the alert evaluator, and the writer when real-time
 * rules exist), kept apart from alerts.ts so the writer does not bundle Athena.
 */
import { existsSync } from 'node:fs';
import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SNSClient } from '@aws-sdk/client-sns';
import * as z from 'zod';
import { readSecretText } from '../../../shared/adapters/aws/secrets.js';
import { SnsNotifier } from '../../../shared/adapters/aws/sns-notifier.js';
import { SlackNotifier } from '../../../shared/adapters/http/slack-notifier.js';
import { ConsoleNotifier } from '../../../shared/adapters/log-notifier.js';
import { AWS_ENV, ConfigError } from '../../../shared/config/env.js';
import type { AlertRule, Channel } from '../../../shared/domain/alerts/rules.js';
import type { Logger } from '../../../shared/ports/logger.js';
import type { Notifier } from '../../../shared/ports/notifier.js';
import { findRulesFile, loadRulesFile } from '../alert-rules-file.js';
import { QUICK_CALLS } from './common.js';

const slackSecret = z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), z.string().url());

/** The channels of this deployment: SNS for sns and email, Slack from the secret, console to the log. */
export async function awsNotifiers(
  config: { topicArn: string; slackSecretArn?: string | undefined },
  logger: Logger,
): Promise<(c: Channel) => Notifier | undefined> {
  const sns = new SnsNotifier({ client: new SNSClient(QUICK_CALLS), topicArn: config.topicArn });
  const consoleNotifier = new ConsoleNotifier(logger);
  let slack = new Map<string, SlackNotifier>();
  if (config.slackSecretArn) {
    const secrets = new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(QUICK_CALLS) });
    const parsed = slackSecret.safeParse(JSON.parse(await readSecretText(secrets, config.slackSecretArn, 300)));
    if (!parsed.success) throw new ConfigError(`the secret named by ${AWS_ENV.slackSecretArn} must be JSON {"<webhook name>": "https://hooks.slack.com/…"}`);
    slack = new Map(Object.entries(parsed.data).map(([name, url]) => [name, new SlackNotifier({ webhookUrl: url })]));
  }
  return (c) => {
    switch (c.kind) {
      case 'sns':
      case 'email':
        return sns;
      case 'slack':
        return slack.get(c.webhook);
      case 'console':
        return consoleNotifier;
    }
  };
}

/** The rules file the stack bundled with this function (none bundled: no rules). */
export function bundledRules(file: string): AlertRule[] {
  const path = findRulesFile(file);
  return path && existsSync(path) ? loadRulesFile(path) : [];
}
