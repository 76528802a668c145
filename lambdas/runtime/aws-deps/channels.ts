/**
 * Alert channels and rules for the Lambdas that notify (the alert evaluator, and the writer when real-time
 * rules exist), kept apart from alerts.ts so the writer does not bundle Athena.
 *
 * The Slack webhooks secret is read when a Slack notification is sent, never at cold start: a missing,
 * denied or malformed secret then fails only Slack's notifications (logged as NOTIFICATION_FAILED, which
 * the stack turns into a metric and an alarm), and never the writer's start, so ingestion goes on.
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
import { AWS_ENV } from '../../../shared/config/env.js';
import type { AlertRule, Channel } from '../../../shared/domain/alerts/rules.js';
import { SluiceError } from '../../../shared/domain/errors.js';
import type { Logger } from '../../../shared/ports/logger.js';
import type { Notification, Notifier } from '../../../shared/ports/notifier.js';
import { findRulesFile, loadRulesFile } from '../alert-rules-file.js';
import { QUICK_CALLS } from './common.js';

const slackSecret = z.record(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/), z.string().url());

/** Seconds a successfully read Slack secret is reused before it is read again (a changed webhook takes effect within this). */
export const SLACK_SECRET_MAX_AGE_SECONDS = 300;

/**
 * The webhooks in the Slack secret, read on first use and kept for SLACK_SECRET_MAX_AGE_SECONDS after a
 * successful read. Nothing unusable is kept: a read that failed, or a value that is not the expected JSON,
 * is read again by the next notification, so a fixed secret works without a restart. Errors never repeat
 * the secret's content.
 */
export function slackWebhooks(provider: SecretsProvider, secretId: string): () => Promise<ReadonlyMap<string, SlackNotifier>> {
  let parsed: { raw: string; webhooks: ReadonlyMap<string, SlackNotifier> } | undefined;
  let lastWasBad = false;
  return async () => {
    // The provider caches every value it read, a malformed one too: skip its cache after a bad value.
    const raw = await readSecretText(provider, secretId, SLACK_SECRET_MAX_AGE_SECONDS, { forceFetch: lastWasBad });
    if (parsed?.raw === raw) return parsed.webhooks;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const result = slackSecret.safeParse(json);
    lastWasBad = !result.success;
    if (!result.success) {
      throw new SluiceError(`the Slack secret named by ${AWS_ENV.slackSecretArn} must be JSON {"<webhook name>": "https://hooks.slack.com/…"}`);
    }
    parsed = { raw, webhooks: new Map(Object.entries(result.data).map(([name, url]) => [name, new SlackNotifier({ webhookUrl: url })])) };
    return parsed.webhooks;
  };
}

/** `slack:<name>`: looks the webhook up in the secret when it sends (SecretSlack + name → SlackNotifier). */
class SecretSlackNotifier implements Notifier {
  constructor(
    private readonly webhooks: () => Promise<ReadonlyMap<string, SlackNotifier>>,
    private readonly name: string,
  ) {}

  async notify(n: Notification): Promise<void> {
    const slack = (await this.webhooks()).get(this.name);
    if (!slack) throw new SluiceError(`the Slack secret named by ${AWS_ENV.slackSecretArn} has no webhook named ${this.name}`);
    await slack.notify(n);
  }
}

/**
 * The channels of this deployment: SNS for sns and email, Slack through the secret (read when a
 * notification is sent), console to the log. Makes no AWS call: building it cannot fail a cold start.
 */
export function awsNotifiers(config: { topicArn: string; slackSecretArn?: string | undefined }, logger: Logger): (c: Channel) => Notifier | undefined {
  const sns = new SnsNotifier({ client: new SNSClient(QUICK_CALLS), topicArn: config.topicArn });
  const consoleNotifier = new ConsoleNotifier(logger);
  const webhooks = config.slackSecretArn
    ? slackWebhooks(new SecretsProvider({ awsSdkV3Client: new SecretsManagerClient(QUICK_CALLS) }), config.slackSecretArn)
    : undefined;
  const slack = new Map<string, Notifier>();
  return (c) => {
    switch (c.kind) {
      case 'sns':
      case 'email':
        return sns;
      case 'slack': {
        if (!webhooks) return undefined;
        let n = slack.get(c.webhook);
        if (!n) slack.set(c.webhook, (n = new SecretSlackNotifier(webhooks, c.webhook)));
        return n;
      }
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
