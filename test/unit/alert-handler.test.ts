import { describe, expect, it } from 'vitest';
import { AllRulesFailedError, makeAlertHandler } from '../../lambdas/alerts/evaluate.js';
import type { AlertEvaluator } from '../../shared/services/alerts.js';
import { MemoryLogger } from '../helpers/logger.js';

const evaluator = (report: Awaited<ReturnType<AlertEvaluator['tick']>>) => ({ tick: async () => report }) as unknown as AlertEvaluator;

describe('alert handler', () => {
  it('reports each failing rule and succeeds while any rule ran', async () => {
    const logger = new MemoryLogger();
    const out = await makeAlertHandler({
      alerts: evaluator([
        { rule: 'a', tenant: 't', ok: false, error: 'boom' },
        { rule: 'b', tenant: 't', ok: true, notifications: 2 },
      ]),
      logger,
    })();
    expect(out).toMatchObject({ rules: 2, failed: 1 });
    expect(logger.entries.find((e) => e.level === 'error')?.fields).toMatchObject({ rule: 'a', error: 'boom' });
    expect(logger.entries.find((e) => e.message === 'alert tick')?.fields).toMatchObject({ notifications: 2 });
  });

  it('fails the run when every rule failed', async () => {
    await expect(
      makeAlertHandler({ alerts: evaluator([{ rule: 'a', tenant: 't', ok: false, error: 'engine down' }]), logger: new MemoryLogger() })(),
    ).rejects.toBeInstanceOf(AllRulesFailedError);
  });
});
