import type { ScheduledEvent } from 'aws-lambda';
import type { Logger } from '../../shared/ports/logger.js';
import type { Compactor } from '../../shared/services/compactor.js';

export interface CompactHandlerDeps {
  compactor: Compactor;
  logger: Logger;
}

export class AllPartitionsFailedError extends Error {
  override name = 'AllPartitionsFailedError';
}

/**
 * EventBridge (every hour) or local mode's timer → one compaction run over every closed hour. A failed
 * partition is logged and left for the next run (whatever it left behind is finished then); the run fails,
 * and shows in the error metric, only when every partition it tried failed.
 */
export function makeCompactHandler({ compactor, logger }: CompactHandlerDeps) {
  return async (_event?: ScheduledEvent) => {
    const result = await compactor.run();
    logger.info('compaction run', { ...result });
    if (result.failed > 0 && result.partitions === 0) {
      throw new AllPartitionsFailedError(`compaction failed for all ${result.failed} partitions it tried; see the log for each`);
    }
    return result;
  };
}
