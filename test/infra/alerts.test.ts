/** The alerts part of the stack with a rules file: the alert Lambda on a schedule, the writer's real-time channels. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CHANNEL_NOT_CONFIGURED, NOTIFICATION_FAILED } from '../../shared/domain/alerts/notification.js';
import { synthSluice } from '../helpers/infra.js';

describe('alerts with a rules file', () => {
  const { template, stack } = synthSluice({ context: { alertsFile: 'test/fixtures/alerts/rules.yaml', slackWebhookSecretName: 'sluice/slack' }, nag: true });
  const resolve = (v: unknown) => stack.resolve(v);

  it('runs the alert Lambda every minute with the channels, query and state settings', () => {
    const fn = template.findResources('AWS::Lambda::Function', { Properties: { Description: 'Sluice alert rules: evaluated every minute' } });
    const [id, res] = Object.entries(fn)[0]!;
    expect(Object.keys(fn)).toHaveLength(1);
    const env = (res as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;
    expect(Object.keys(env).sort()).toEqual(
      [
        'SLUICE_ATHENA_WORKGROUP',
        'SLUICE_BUCKET',
        'SLUICE_GLUE_DATABASE',
        'SLUICE_GLUE_TABLE',
        'SLUICE_LOG_LEVEL',
        'SLUICE_SLACK_SECRET_ARN',
        'SLUICE_TOKEN_SECRET_ARN',
        'SLUICE_TOPIC_ARN',
      ].sort(),
    );
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] }, RetryPolicy: { MaximumRetryAttempts: 1, MaximumEventAgeInSeconds: 300 } })],
    });
    // A failed evaluation is retried once, then goes to the schedules dead-letter queue.
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 1,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.stringLikeRegexp('^SchedulesDeadLetterQueue'), 'Arn'] } } },
    });
  });

  it('lets the alert Lambda and the writer publish to the topic and keep state under alerts/', () => {
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).map((p) => JSON.stringify(resolve((p as { Properties: unknown }).Properties)));
    const publishing = policies.filter((p) => p.includes('sns:Publish'));
    expect(publishing.length).toBeGreaterThanOrEqual(2);
    expect(policies.filter((p) => p.includes('/alerts/*')).length).toBeGreaterThanOrEqual(2);
    const writer = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('batch writer') } });
    const writerEnv = (Object.values(writer)[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } }).Properties.Environment.Variables;
    expect(writerEnv).toHaveProperty('SLUICE_TOPIC_ARN');
    expect(writerEnv).toHaveProperty('SLUICE_SLACK_SECRET_ARN');
  });

  it('counts failed and dropped notifications from the writer and the alert Lambda, and alarms on them (issue 13: a broken channel is noticed)', () => {
    const logGroupOf = (description: RegExp) => {
      const [fn] = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp(description.source) } }));
      return resolve((fn as { Properties: { LoggingConfig: { LogGroup: unknown } } }).Properties.LoggingConfig.LogGroup);
    };
    const filters = Object.values(template.findResources('AWS::Logs::MetricFilter'))
      .map((f) => (f as { Properties: Record<string, any> }).Properties)
      .filter((f) => f.MetricTransformations[0].MetricName === 'AlertNotificationFailures');
    expect(filters.map((f) => f.LogGroupName).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))).toEqual(
      [logGroupOf(/batch writer/), logGroupOf(/alert rules/)].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))),
    );
    for (const f of filters) {
      expect(f.FilterPattern).toBe(`{ ($.message = "${NOTIFICATION_FAILED}") || ($.message = "${CHANNEL_NOT_CONFIGURED}") }`);
      expect(f.MetricTransformations).toEqual([{ MetricNamespace: 'Sluice', MetricName: 'AlertNotificationFailures', MetricValue: '1' }]);
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'Sluice',
      MetricName: 'AlertNotificationFailures',
      Statistic: 'Sum',
      Threshold: 0,
      ComparisonOperator: 'GreaterThanThreshold',
      AlarmActions: [Match.anyValue()],
    });
  });

  it('fails synth on an invalid rules file, naming the rule and the field', () => {
    expect(() => synthSluice({ context: { alertsFile: 'test/fixtures/alerts/invalid.yaml' } })).toThrow(
      /rule "bad": schedule: use rate\(N minutes\|hours\|days\)/,
    );
  });

  it('has no alert Lambda when there is no rules file', () => {
    const { template: plain } = synthSluice({ context: { alertsFile: 'test/fixtures/alerts/none.yaml' } });
    // (The compactor's hourly rule is always there.)
    expect(plain.findResources('AWS::Events::Rule', { Properties: { ScheduleExpression: 'rate(1 minute)' } })).toEqual({});
    expect(plain.findResources('AWS::Lambda::Function', { Properties: { Description: 'Sluice alert rules: evaluated every minute' } })).toEqual({});
  });
});
