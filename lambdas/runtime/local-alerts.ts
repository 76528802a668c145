/**
 * The alert evaluator over local mode's data directory, without the server's spool (safe while a server
 * runs): the same rules, query engine and state store, and channels that only record what would be sent.
 * For `sluice alerts test|list` (cli/sluice.ts, which loads this lazily: DuckDB only when asked).
 */
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { ConsoleLogger } from '../../shared/adapters/local/console-logger.js';
import { DuckDbQueryEngine } from '../../shared/adapters/local/duckdb-query-engine.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { FsVersionedStore } from '../../shared/adapters/local/fs-versioned-store.js';
import { ENV, type LocalConfig } from '../../shared/config/env.js';
import { makeAlertEvaluator } from '../../shared/services/alerts.js';
import { makeQueryService } from '../../shared/services/query.js';
import { findRulesFile, loadRulesFile } from './alert-rules-file.js';

export async function localAlerts(config: LocalConfig) {
  const file = findRulesFile(config.alertsFile);
  if (!file) throw new Error(`no alert rules file: set ${ENV.alertsFile} or create alerts.yaml here`);
  const store = new FsObjectStore(join(resolve(config.dataDir), 'store'));
  const engine = await DuckDbQueryEngine.open({ store });
  const clock = { now: () => Date.now() };
  const evaluator = makeAlertEvaluator({
    rules: loadRulesFile(file),
    queries: makeQueryService({ engine, clock, tokenSecret: randomBytes(32), waitBudgetMs: 60_000 }),
    state: new FsVersionedStore(store),
    notifierFor: () => undefined,
    clock,
    logger: new ConsoleLogger('warn'),
    delayMs: config.alertsDelayMs,
    ...(config.uiUrl ? { uiUrl: config.uiUrl } : {}),
  });
  return { evaluator, file, close: () => engine.close() };
}
