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
import { ENV, environmentWith, type LocalConfig } from '../../shared/config/env.js';
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
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ProcessQueryEngine } from '../../shared/adapters/local/process-query-engine.js';
import { QueryAdmission } from '../../shared/services/query-admission.js';
import type { QueryEngine } from '../../shared/ports/query-engine.js';

const MiB = 1024 * 1024;

/** Queries running at once, per tenant and in all, and the wait queue in front (SLUICE_QUERY_*). */
function admissionFor(config: LocalConfig): QueryAdmission {
  return new QueryAdmission({
    global: config.queryConcurrency,
    perTenant: Math.min(config.queryTenantConcurrency, config.queryConcurrency),
    queuePerTenant: config.queryQueue,
    queueTotal: config.queryQueue * 4,
    maxWaitMs: config.queryQueueWaitMs,
  });
}

/**
 * The DuckDB engine, in its own process (default) or in this one. Each running query may be in a different
 * tenant's DuckDB instance, so an instance's memory_limit is a share of the engine's bound per query slot;
 * the rest of the bound is headroom for what DuckDB allocates outside its buffers.
 */
async function queryEngineFor(config: LocalConfig, dataDir: string, store: FsObjectStore, logger: Logger): Promise<QueryEngine & { close(): Promise<void> }> {
  const options = {
    timeoutMs: config.queryTimeoutMs,
    memoryLimit: `${Math.max(64, Math.floor((config.queryMemoryMb * 0.75) / config.queryConcurrency))}MB`,
    tempDir: join(dataDir, 'query-tmp'),
    maxTempSize: `${config.queryTempMb}MB`,
    resultsDir: join(dataDir, 'query-results'),
    maxResultBytes: config.queryResultMb * MiB,
    maxPageBytes: config.queryPageMb * MiB,
    resultTtlMs: config.queryResultTtlMs,
    tenantResultBytes: config.queryTenantResultsMb * MiB,
  };
  if (config.queryEngine === 'inline') return DuckDbQueryEngine.open({ store, ...options });
  return new ProcessQueryEngine({
    entry: fileURLToPath(new URL('../local/query-worker.ts', import.meta.url)),
    execArgv: ['--import', pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href],
    // A running DuckDB statement holds a libuv thread: one per query slot, and four for the worker's own file I/O.
    env: environmentWith({ UV_THREADPOOL_SIZE: String(config.queryConcurrency + 4) }),
    workerOptions: { ...options, storeRoot: store.root, nice: 10 },
    timeoutMs: config.queryTimeoutMs,
    maxRssBytes: config.queryMemoryMb * MiB,
    resultTtlMs: config.queryResultTtlMs,
    onExit: ({ code, signal, reason }) => {
      if (reason)
        logger.warn(
          `query engine stopped (${reason === 'memory' ? `over its memory bound of ${config.queryMemoryMb} MiB` : 'a query outlived its time limit'}); its running queries failed`,
        );
      else if (code !== 0) logger.warn('query engine exited; its running queries failed', { code, signal });
    },
  });
}

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
  const engine = await queryEngineFor(config, dataDir, store, logger);

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
  const queries = makeQueryService({ engine, clock, tokenSecret: randomBytes(32), waitBudgetMs: config.queryWaitMs, admission: admissionFor(config) });

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
