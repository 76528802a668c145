import type { Context, ScheduledEvent } from 'aws-lambda';
import type { Logger } from '../../shared/ports/logger.js';
import type { Compactor } from '../../shared/services/compaction/compactor.js';

export interface CompactHandlerDeps {
  compactor: Compactor;
  logger: Logger;
}

/** Time a job may take at most (maxJobBytes at the measured merge rate), kept free at the end of a run. */
export const JOB_TIME_RESERVE_MS = 10 * 60_000;

export class AllPartitionsFailedError extends Error {
  override name = 'AllPartitionsFailedError';
}

/**
 * EventBridge (every hour) or local mode's timer → one compaction run over every closed hour. A failed
 * partition is logged and left for the next run (whatever it left behind is finished then); the run fails,
 * and shows in the error metric, only when every partition it tried failed.
 */
export function makeCompactHandler({ compactor, logger }: CompactHandlerDeps) {
  return async (_event?: ScheduledEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
    // No job starts in the last 10 minutes of the Lambda's time (a job merges at most ~9 minutes' worth):
    // what is left waits for the next run instead of being cut off and redone.
    const deadline = context ? Date.now() + context.getRemainingTimeInMillis() - JOB_TIME_RESERVE_MS : undefined;
    const result = await compactor.run(deadline === undefined ? {} : { deadline });
    logger.info('compaction run', { ...result });
    if (result.failed > 0 && result.partitions === 0) {
      throw new AllPartitionsFailedError(`compaction failed for all ${result.failed} partitions it tried; see the log for each`);
    }
    return result;
  };
}
