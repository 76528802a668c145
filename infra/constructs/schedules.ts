/**
 * Runs the scheduled Lambdas (compactor, alert evaluator) from EventBridge with retries and a failure
 * destination: EventBridge retries a delivery it could not make, Lambda retries a run that failed, and
 * what still fails lands in one dead-letter queue (the scheduled event, with Lambda's error for a failed
 * run), which Monitoring alarms on. Before this a failed run was dropped silently.
 */
import { Duration } from 'aws-cdk-lib';
import { Rule, type Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction as LambdaFunctionTarget } from 'aws-cdk-lib/aws-events-targets';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from './nag.js';

export interface ScheduledRun {
  readonly schedule: Schedule;
  readonly description: string;
  /** Retries of a failed run (Lambda's asynchronous retries, 0-2) and of a failed delivery (EventBridge's). */
  readonly retryAttempts: number;
  /** How long a run may wait for its retries before it goes to the dead-letter queue. */
  readonly maxEventAge: Duration;
}

export class Schedules extends Construct {
  /** Scheduled runs that failed after their retries. */
  readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      // The scheduled event and Lambda's error message: no log data. SQS-managed encryption, because
      // EventBridge cannot send to a queue under a customer key without a key policy for it.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue (the failure destination of the scheduled compactor and alert Lambdas and of their EventBridge targets); nothing consumes it automatically, so it needs no dead-letter queue of its own.',
    );
  }

  /** Runs `fn` on the schedule with retries, sending what still fails to the dead-letter queue. */
  run(scope: Construct, id: string, fn: LambdaFunction, run: ScheduledRun): Rule {
    fn.configureAsyncInvoke({ retryAttempts: run.retryAttempts, maxEventAge: run.maxEventAge, onFailure: new SqsDestination(this.deadLetterQueue) });
    return new Rule(scope, id, {
      description: run.description,
      schedule: run.schedule,
      targets: [new LambdaFunctionTarget(fn, { retryAttempts: run.retryAttempts, maxEventAge: run.maxEventAge, deadLetterQueue: this.deadLetterQueue })],
    });
  }
}
