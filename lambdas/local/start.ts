/** Starts local mode in this process: the API server, the writer loop, and their shared adapters. */
import type { AddressInfo } from 'node:net';
import { ConfigError, ENV, type LocalConfig } from '../../shared/config/env.js';
import { DEFAULT_TENANT } from '../../shared/domain/tenant.js';
import { systemClock, type Clock } from '../../shared/ports/clock.js';
import type { Logger } from '../../shared/ports/logger.js';
import { makeIngestService } from '../../shared/services/ingest.js';
import { localDeps, type LocalDeps } from '../runtime/local-deps.js';
import { makeHealth } from './health.js';
import { createLocalServer } from './server.js';
import { startSyslogListener, type SyslogListener } from './syslog-listener.js';
import { startWriterLoop } from './writer-loop.js';

/**
 * The syslog listener, when SLUICE_SYSLOG_PORT is set. Syslog carries no key, so its messages belong to
 * tenant "default" in open mode, and to SLUICE_SYSLOG_TENANT when keys are configured (without it,
 * syslog stays off rather than guess a tenant).
 */
async function startSyslog(config: LocalConfig, deps: LocalDeps, clock: Clock): Promise<SyslogListener | undefined> {
  if (config.syslogPort === undefined) return undefined;
  const { logger } = deps;
  const tenant = deps.open ? DEFAULT_TENANT : config.syslogTenant;
  if (!tenant) {
    logger.warn(`syslog is off: API keys are configured and syslog messages carry none; set ${ENV.syslogTenant} to the tenant they belong to`);
    return undefined;
  }
  if (deps.open && config.syslogTenant && config.syslogTenant !== DEFAULT_TENANT) {
    logger.warn(`${ENV.syslogTenant} applies only when keys are configured; in open mode syslog goes to tenant "${DEFAULT_TENANT}"`);
  }
  const listener = await startSyslogListener({
    host: config.host,
    port: config.syslogPort,
    tenant,
    ingest: makeIngestService({ queue: deps.spool, clock }),
    logger,
  });
  logger.info('syslog listening', { host: config.host, tcpPort: listener.tcpPort, udpPort: listener.udpPort, tenant });
  return listener;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startLocal(
  config: LocalConfig,
  overrides: { logger?: Logger; clock?: Clock; /** tests drive alerts.tick() themselves */ manualAlerts?: boolean } = {},
) {
  if (!config.apiKeys && !isLoopback(config.host)) {
    // Open mode serves anyone who can reach the port as tenant "default": only on this machine.
    throw new ConfigError(
      `${ENV.host}=${config.host} is not a loopback address, and no keys are configured: set ${ENV.apiKeys}=key:tenant:scopes before listening beyond this machine`,
    );
  }
  const deps = await localDeps(config, overrides);
  const { spool, logger } = deps;
  const writer = startWriterLoop({
    spool,
    handler: deps.handlers.writer,
    logger,
    flushMs: config.flushMs,
    batchBytes: config.batchBytes,
    // Parquet is far smaller than the spool's JSON: a batch no larger than the free space fits.
    batchLimit: () => Math.max(64 * 1024, deps.disk.status().freeBytes),
    onDeadLetter: (entries) => deps.batchWriter.markFailed(entries.map((e) => ({ body: e.record.body, reason: e.reason }))),
  });
  // Space came back (or the disk takes writes again): the writer tries now instead of sleeping out its
  // backoff, so freed space goes to turning the spool into Parquet rather than to new spool data.
  deps.disk.onImproved(() => writer.retryNow());
  // The scheduler: EventBridge calls the alert handler every minute in AWS; here a timer does.
  let alertTick: Promise<unknown> = Promise.resolve();
  const alertTimer =
    deps.alerts.rules.some((r) => !r.realtime) && !overrides.manualAlerts
      ? setInterval(() => {
          alertTick = alertTick.then(() => deps.alerts.tick()).catch((err: unknown) => logger.error('alert tick failed', { error: String(err) }));
        }, config.alertsTickMs)
      : undefined;
  // The compactor: EventBridge runs it every hour in AWS; here a timer does (SLUICE_COMPACT_EVERY_MS, 0: off).
  let compaction: Promise<unknown> = Promise.resolve();
  const compactTimer =
    config.compactEveryMs > 0
      ? setInterval(() => {
          // Not while the data directory refuses writes (read-only): every job would fail; the next tick tries.
          compaction = compaction
            .then(async () => {
              if (deps.disk.status().writable) await deps.handlers.compact();
              else logger.warn('compaction skipped: the data directory cannot be written');
            })
            .catch((err: unknown) => logger.error('compaction failed', { error: String(err) }));
        }, config.compactEveryMs)
      : undefined;
  compactTimer?.unref();
  if (deps.rulesFile) logger.info(`alert rules: ${deps.alerts.rules.length} from ${deps.rulesFile}`);
  const server = createLocalServer({
    authorize: deps.handlers.authorize,
    handlers: { ingest: deps.handlers.ingest, query: deps.handlers.query },
    requireCredential: !deps.open,
    maxBodyBytes: config.maxBodyBytes,
    maxConcurrentIngest: config.maxConcurrentIngest,
    logger,
    health: makeHealth({ spool, disk: deps.disk, writer }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closed: Promise<void> | undefined;
  let syslog: SyslogListener | undefined;

  const stack = {
    url: `http://${host}:${port}`,
    deps,
    writer,
    /** The syslog listener's ports, when it runs (with SLUICE_SYSLOG_PORT=0 they differ). */
    get syslog(): { tcpPort: number; udpPort: number } | undefined {
      return syslog && { tcpPort: syslog.tcpPort, udpPort: syslog.udpPort };
    },
    /** Stops accepting requests, writes everything pending, and releases the data directory. */
    close(): Promise<void> {
      closed ??= (async () => {
        if (alertTimer) clearInterval(alertTimer);
        await alertTick;
        if (compactTimer) clearInterval(compactTimer);
        await compaction;
        await syslog?.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await writer.drain().catch((err: unknown) => logger.error('pending events stay in the spool for the next start', { error: (err as Error).message }));
        await writer.stop();
        await spool.close();
        deps.disk.close();
        await deps.engine.close();
      })();
      return closed;
    },
  };
  try {
    syslog = await startSyslog(config, deps, overrides.clock ?? systemClock);
  } catch (err) {
    await stack.close();
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE' || (err as NodeJS.ErrnoException).code === 'EACCES') {
      // Said as a configuration problem, so the message names the syslog variable rather than PORT.
      throw new ConfigError(`${ENV.syslogPort}=${config.syslogPort} cannot be used (${(err as Error).message}); choose another port`);
    }
    throw err;
  }
  return stack;
}

export type LocalStack = Awaited<ReturnType<typeof startLocal>>;
