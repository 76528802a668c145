/**
 * Alarms that tell on-call something is wrong, published (alarm and recovery) to the alert topic: messages
 * in the dead-letter queue, a queue falling behind, Lambda errors and throttles, and failing Athena queries.
 */
import { Duration } from 'aws-cdk-lib';
import type { IHttpStage } from 'aws-cdk-lib/aws-apigatewayv2';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { FilterPattern, MetricFilter, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface MonitoringProps {
  readonly topic: ITopic;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  /** Scheduled runs (compactor, alerts) that failed after their retries. */
  readonly scheduleDeadLetterQueue?: IQueue | undefined;
  /** By name, e.g. { Ingest: fn, Writer: fn } → IngestErrors, IngestThrottles, … */
  readonly functions: Record<string, IFunction>;
  readonly workGroupName: string;
  readonly queueAgeSeconds: number;
  readonly athenaFailures: number;
  /** The API's stage (its 4xx, 5xx and latency metrics) and its JSON access logs (authorizer errors). */
  readonly api?: { readonly stage: IHttpStage; readonly accessLogs: ILogGroup } | undefined;
  /** Alarm when more than this percent of the API's requests in 15 minutes are 4xx (with at least 20 requests). */
  readonly api4xxPercent?: number;
  /** Alarm when the API's p99 latency is above this for 15 minutes. */
  readonly apiLatencyMs?: number;
  /** Failed or dropped alert notifications (Alerts.notificationFailures), when there are rules. */
  readonly notificationFailures?: IMetric | undefined;
}

/**
 * Athena publishes per-query metrics for a workgroup with publishCloudWatchMetricsEnabled; every query that
 * ends adds one sample to TotalExecutionTime under its QueryState, so SampleCount with QueryState=FAILED
 * counts failed queries.
 */
export function athenaFailedQueries(workGroupName: string): Metric {
  return new Metric({
    namespace: 'AWS/Athena',
    metricName: 'TotalExecutionTime',
    dimensionsMap: { WorkGroup: workGroupName, QueryState: 'FAILED', QueryType: 'DML' },
    statistic: 'SampleCount',
    period: Duration.minutes(15),
  });
}

/** The custom metric counting API requests whose authorizer failed (from the access logs). */
export const AUTHORIZER_ERRORS_METRIC = { namespace: 'Sluice', metricName: 'ApiAuthorizerErrors' } as const;

/** API requests fewer than this in 15 minutes never raise the 4xx alarm (a handful of typos is not an incident). */
export const API_4XX_MIN_REQUESTS = 20;

export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const action = new SnsAction(props.topic);
    const alarm = (name: string, metric: IMetric, threshold: number, description: string, evaluationPeriods = 1) => {
      const a = new Alarm(this, name, {
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      this.alarms.push(a);
      return a;
    };

    alarm(
      'DeadLetterQueueDepth',
      props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      0,
      'Queue messages the batch writer could not store after every retry are in the dead-letter queue: their events are not in S3. Inspect them, fix the cause, then redrive.',
    );
    if (props.scheduleDeadLetterQueue) {
      alarm(
        'ScheduleDeadLetterQueueDepth',
        props.scheduleDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
        0,
        "A scheduled run (the hourly compactor or the alert evaluation) failed after its retries: the message in the schedules dead-letter queue holds the event and, for a failed run, Lambda's error. Compaction catches up on its next run; look at the function's log.",
      );
    }
    alarm(
      'QueueAge',
      props.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
      props.queueAgeSeconds,
      `The oldest message waiting for the batch writer is older than ${props.queueAgeSeconds} s: events are acknowledged but not yet queryable.`,
      2,
    );
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(`${name}Errors`, fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }), 0, `The ${name} Lambda failed invocations.`);
      alarm(
        `${name}Throttles`,
        fn.metricThrottles({ period: Duration.minutes(5), statistic: 'Sum' }),
        0,
        `The ${name} Lambda was throttled (account or reserved concurrency).`,
      );
    }
    if (props.notificationFailures) {
      alarm(
        'AlertNotificationFailures',
        props.notificationFailures,
        0,
        "An alert notification failed or had no channel (a missing, denied or malformed Slack secret, an SNS refusal, a channel not configured): the failing channel is in the notifying Lambda's log line. Ingestion and the other channels are not affected.",
      );
    }
    if (props.api) {
      const { stage, accessLogs } = props.api;
      const fifteen = Duration.minutes(15);
      alarm(
        'Api5xx',
        stage.metricServerError({ period: Duration.minutes(5), statistic: 'Sum' }),
        0,
        'The API answered 5xx: a Lambda failed or timed out, SQS or Secrets Manager was unavailable (503), or the authorizer failed. The access logs say which route and why.',
      );
      const pct = props.api4xxPercent ?? 25;
      alarm(
        'Api4xxRate',
        new MathExpression({
          expression: `IF(requests >= ${API_4XX_MIN_REQUESTS}, 100 * errors / requests, 0)`,
          usingMetrics: {
            errors: stage.metricClientError({ period: fifteen, statistic: 'Sum' }),
            requests: stage.metricCount({ period: fifteen, statistic: 'Sum' }),
          },
          period: fifteen,
          label: 'API 4xx %',
        }),
        pct,
        `More than ${pct}% of the API's requests in 15 minutes were refused with 4xx (a shipper with a revoked key, a tenant over its rate limit, malformed payloads): the access logs name the tenant, route and status.`,
      );
      const latency = props.apiLatencyMs ?? 10_000;
      alarm(
        'ApiLatency',
        stage.metricLatency({ period: Duration.minutes(5), statistic: 'p99' }),
        latency,
        `The API's p99 latency has been above ${latency} ms for 15 minutes (ingest waits for SQS; queries wait up to SLUICE_QUERY_WAIT_MS for Athena).`,
        3,
      );
      // API Gateway publishes no authorizer metric for HTTP APIs: count the access-log lines that carry one.
      new MetricFilter(this, 'AuthorizerErrorsFilter', {
        logGroup: accessLogs,
        filterPattern: FilterPattern.all(
          FilterPattern.exists('$.authorizerError'),
          FilterPattern.stringValue('$.authorizerError', '!=', '-'),
          FilterPattern.stringValue('$.authorizerError', '!=', ''),
        ),
        metricNamespace: AUTHORIZER_ERRORS_METRIC.namespace,
        metricName: AUTHORIZER_ERRORS_METRIC.metricName,
        metricValue: '1',
      });
      alarm(
        'ApiAuthorizerErrors',
        new Metric({ ...AUTHORIZER_ERRORS_METRIC, statistic: 'Sum', period: Duration.minutes(5) }),
        0,
        "The API key authorizer failed (an error or timeout, not a refused key): requests were answered 500 without reaching Sluice. Look at the authorizer Lambda's log (the keys secret, Secrets Manager reachability).",
      );
    }
    alarm(
      'AthenaFailedQueries',
      athenaFailedQueries(props.workGroupName),
      props.athenaFailures,
      `More than ${props.athenaFailures} Athena queries failed in 15 minutes in workgroup ${props.workGroupName} (syntax errors in user SQL count too; look for a pattern).`,
    );
  }
}
