/** The compactor in the stack: an hourly Lambda with parquet-wasm, allowed to read, put and delete under events/ only. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { synthSluice } from '../helpers/infra.js';

describe('compaction', () => {
  const { template, stack } = synthSluice({ nag: true });
  const resolve = (v: unknown) => JSON.stringify(stack.resolve(v));

  const compactor = () => {
    const fns = template.findResources('AWS::Lambda::Function', { Properties: { Description: Match.stringLikeRegexp('^Sluice compactor') } });
    expect(Object.keys(fns)).toHaveLength(1);
    const [id, res] = Object.entries(fns)[0]!;
    return {
      id,
      props: (res as { Properties: { Environment: { Variables: Record<string, unknown> }; MemorySize: number; Timeout: number; Role: unknown } }).Properties,
    };
  };

  it('runs the compactor every hour, with only the bucket setting', () => {
    const { id, props } = compactor();
    expect(Object.keys(props.Environment.Variables).sort()).toEqual(['SLUICE_BUCKET', 'SLUICE_LOG_LEVEL']);
    expect(props.Timeout).toBe(900);
    expect(props.MemorySize).toBeGreaterThanOrEqual(2048);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [id, 'Arn'] } })],
    });
  });

  it('retries a failed run twice within the hour and sends what still fails to the schedules dead-letter queue, which alarms (issue 13)', () => {
    const { id } = compactor();
    const dlq = Object.keys(template.findResources('AWS::SQS::Queue')).find((k) => k.startsWith('SchedulesDeadLetterQueue'))!;
    expect(dlq).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: id },
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 3600,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlq, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [id, 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
        }),
      ],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
      Threshold: 0,
      AlarmActions: [Match.anyValue()],
    });
    // EventBridge may send to it.
    expect(resolve(template.findResources('AWS::SQS::QueuePolicy'))).toContain('events.amazonaws.com');
  });

  it('lets it list, read, put and delete objects under events/ and nothing else in the bucket', () => {
    const { props } = compactor();
    const roleId = (props.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy'))
      .map((p) => (p as { Properties: { Roles: unknown[]; PolicyDocument: { Statement: { Action: string | string[]; Resource: unknown }[] } } }).Properties)
      .filter((p) => resolve(p.Roles).includes(roleId));
    expect(policies).toHaveLength(1);
    const statements = policies[0]!.PolicyDocument.Statement;
    const s3 = statements.filter((s) => [s.Action].flat().some((a) => a.startsWith('s3:')));
    const actions = new Set(s3.flatMap((s) => [s.Action].flat()));
    for (const a of ['s3:GetObject*', 's3:List*', 's3:PutObject', 's3:DeleteObject*']) expect(actions).toContain(a);
    const resources = resolve(s3.map((s) => s.Resource));
    expect(resources).toContain('/events/*');
    expect(resources).not.toMatch(/\/(receipts|alerts|athena-results)\//);
  });
});
