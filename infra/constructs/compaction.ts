/**
 * The compactor: a Lambda run every hour by EventBridge that merges the small Parquet files of each closed
 * hour into large ones (shared/services/compaction/). It reads, puts and deletes under events/ only.
 */
import { Duration } from 'aws-cdk-lib';
import { Schedule } from 'aws-cdk-lib/aws-events';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { PARQUET_WASM, type LambdaDefaults } from './lambda-defaults.js';
import type { Schedules } from './schedules.js';
import type { Storage } from './storage.js';

/** The compactor Lambda's entry, relative to the repository root. */
export const COMPACTOR_ENTRY = 'lambdas/compactor/compact.handler.ts';

export interface CompactionProps {
  readonly lambdas: LambdaDefaults;
  readonly storage: Storage;
  readonly schedules: Schedules;
}

export class Compaction extends Construct {
  readonly compactorFunction: NodejsFunction;

  constructor(scope: Construct, id: string, props: CompactionProps) {
    super(scope, id);
    this.compactorFunction = props.lambdas.createFunction(this, 'CompactorFunction', {
      entry: COMPACTOR_ENTRY,
      description: 'Sluice compactor: merges the small Parquet files of closed hours, every hour',
      // Held in memory while a partition is merged: one output (up to 256 MB of Parquet), input bytes
      // cached between slices (up to 512 MB), one slice of 200,000 events, 8 bytes per event of ts values.
      memorySize: 4096,
      timeout: Duration.minutes(15),
      copiedPackages: [PARQUET_WASM],
    });
    props.storage.grantCompact(this.compactorFunction);
    // A failed run is retried (twice, within the hour: the job protocol makes a rerun safe); one that
    // still fails goes to the schedules' dead-letter queue and raises an alarm.
    props.schedules.run(this, 'EveryHour', this.compactorFunction, {
      description: 'Sluice: compact the closed hours',
      schedule: Schedule.rate(Duration.hours(1)),
      retryAttempts: 2,
      maxEventAge: Duration.hours(1),
    });
  }
}
