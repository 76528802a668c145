/** The only place local mode builds adapters; everything else receives them. */
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseApiKeys } from '../../shared/domain/api-keys.js';
import { ConsoleLogger } from '../../shared/adapters/local/console-logger.js';
import { DiskSpace } from '../../shared/adapters/local/disk-space.js';
import { DuckDbQueryEngine } from '../../shared/adapters/local/duckdb-query-engine.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { SpoolQueue } from '../../shared/adapters/local/spool-queue.js';
import { StaticKeyStore } from '../../shared/adapters/local/static-key-store.js';
import { ENV, type LocalConfig } from '../../shared/config/env.js';
import { systemClock, type Clock } from '../../shared/ports/clock.js';
import type { Logger } from '../../shared/ports/logger.js';
import { makeBatchWriter } from '../../shared/services/batch-writer.js';
import { makeIngestService } from '../../shared/services/ingest.js';
import { makeQueryService } from '../../shared/services/query.js';
import { makeReceiptService } from '../../shared/services/receipts.js';
import { makeAuthorizer } from '../api/authorizer.js';
import { makeIngestHandler } from '../api/ingest.js';
import { makeQueryHandler } from '../api/query.js';
import { makeBatchWriterHandler } from '../writer/batch-writer.js';
import { ConsoleNotifier } from '../../shared/adapters/log-notifier.js';
import { FsVersionedStore } from '../../shared/adapters/local/fs-versioned-store.js';
import { SmtpNotifier } from '../../shared/adapters/local/smtp-notifier.js';
import { SlackNotifier } from '../../shared/adapters/http/slack-notifier.js';
import type { Channel } from '../../shared/domain/alerts/rules.js';
import type { Notifier } from '../../shared/ports/notifier.js';
import { makeAlertEvaluator } from '../../shared/services/alerts.js';
import { makeRealtimeAlerts } from '../../shared/services/realtime-alerts.js';
import { makeCompactor } from '../../shared/services/compaction/compactor.js';
import { makeCompactHandler } from '../compactor/compact.js';
import { findRulesFile, loadRulesFile } from './alert-rules-file.js';

export async function localDeps(config: LocalConfig, overrides: { logger?: Logger; clock?: Clock } = {}) {
  const logger = overrides.logger ?? new ConsoleLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const dataDir = resolve(config.dataDir);
  const keyEntries = config.apiKeys ? parseApiKeys(config.apiKeys) : undefined;
  await mkdir(dataDir, { recursive: true });
  // Free space on the data directory's filesystem: ingest is refused below the reserve (see disk-space.ts).
  const disk = await DiskSpace.open({
    dir: dataDir,
    reserveBytes: config.diskReserveBytes,
    reservePercent: config.diskReservePercent,
    reserveSetting: `the smaller of ${ENV.diskReserveBytes} and ${ENV.diskReservePercent}% of the filesystem`,
    logger,
  });
  const store = new FsObjectStore(join(dataDir, 'store'), { space: disk });
  const spool = await SpoolQueue.open({ dir: join(dataDir, 'spool'), logger, space: disk });
  const engine = await DuckDbQueryEngine.open({ store });

  // Alerts: rules from the rules file; channels as configured here (sns is the console locally).
  const rulesFile = findRulesFile(config.alertsFile);
  const rules = rulesFile ? loadRulesFile(rulesFile) : [];
  const consoleNotifier = new ConsoleNotifier(logger);
  const slack = new Map(Object.entries(config.slackWebhooks).map(([name, url]) => [name, new SlackNotifier({ webhookUrl: url })]));
  const notifierFor = (c: Channel): Notifier | undefined => {
    switch (c.kind) {
      case 'console':
      case 'sns':
        return consoleNotifier;
      case 'slack':
        return slack.get(c.webhook);
      case 'email':
        return config.smtpUrl ? new SmtpNotifier(config.smtpUrl, config.smtpFrom, c.address) : undefined;
    }
  };
  const alertState = new FsVersionedStore(store);
  const realtime = makeRealtimeAlerts({ rules, state: alertState, notifierFor, clock, logger });
  const queries = makeQueryService({ engine, clock, tokenSecret: randomBytes(32), waitBudgetMs: config.queryWaitMs });

  const batchWriter = makeBatchWriter({ store, clock, logger, observers: rules.some((r) => r.realtime) ? [realtime.observe] : [] });
  const handlers = {
    authorize: makeAuthorizer({ keys: keyEntries ? new StaticKeyStore(keyEntries) : undefined, logger }),
    ingest: makeIngestHandler({ ingest: makeIngestService({ queue: spool, clock }), logger, maxBodyBytes: config.maxBodyBytes }),
    query: makeQueryHandler({
      // Query tokens only name executions this process holds in memory: a per-process secret is enough.
      queries,
      receipts: makeReceiptService({ store, clock }),
      logger,
    }),
    writer: makeBatchWriterHandler({ writer: batchWriter, logger }),
    compact: makeCompactHandler({ compactor: makeCompactor({ store, clock, logger, settleMs: config.compactSettleMs, jobLeaseMs: 0 }), logger }),
  };

  return {
    config,
    dataDir,
    logger,
    store,
    spool,
    disk,
    engine,
    handlers,
    batchWriter,
    rulesFile,
    alerts: makeAlertEvaluator({
      rules,
      queries,
      state: alertState,
      notifierFor,
      clock,
      logger,
      delayMs: config.alertsDelayMs,
      ...(config.uiUrl ? { uiUrl: config.uiUrl } : {}),
    }),
    /** Open mode: no keys configured, every request is tenant "default". */
    open: keyEntries === undefined,
    keyCount: keyEntries?.length ?? 0,
  };
}

export type LocalDeps = Awaited<ReturnType<typeof localDeps>>;
