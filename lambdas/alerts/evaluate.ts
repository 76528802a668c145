import type { ScheduledEvent } from 'aws-lambda';
import type { Logger } from '../../shared/ports/logger.js';
import type { AlertEvaluator } from '../../shared/services/alerts.js';

export interface AlertHandlerDeps {
  alerts: AlertEvaluator;
  logger: Logger;
}

export class AllRulesFailedError extends Error {
  override name = 'AllRulesFailedError';
}

/**
 * EventBridge (every minute) → one evaluation tick. Each rule's failure is reported; the run fails (and
 * shows in the Lambda's error metric and alarm) only when every rule failed, which points at the engine or
 * the configuration rather than one rule.
 */
export function makeAlertHandler({ alerts, logger }: AlertHandlerDeps) {
  return async (_event?: ScheduledEvent) => {
    const report = await alerts.tick();
    const failed = report.filter((r) => !r.ok);
    for (const r of failed) logger.error('alert rule failed', { rule: r.rule, tenant: r.tenant, error: r.error });
    logger.info('alert tick', { rules: report.length, failed: failed.length, notifications: report.reduce((n, r) => n + (r.notifications ?? 0), 0) });
    if (report.length > 0 && failed.length === report.length) {
      throw new AllRulesFailedError(`all ${report.length} alert rules failed; first: ${failed[0]!.error}`);
    }
    return { rules: report.length, failed: failed.length, report };
  };
}
