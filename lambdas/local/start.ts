/** Starts local mode in this process: the API server, the writer loop, and their shared adapters. */
import type { AddressInfo } from 'node:net';
import type { LocalConfig } from '../../shared/config/env.js';
import type { Clock } from '../../shared/ports/clock.js';
import type { Logger } from '../../shared/ports/logger.js';
import { localDeps } from '../runtime/local-deps.js';
import { createLocalServer } from './server.js';
import { startWriterLoop } from './writer-loop.js';

export async function startLocal(config: LocalConfig, overrides: { logger?: Logger; clock?: Clock } = {}) {
  const deps = await localDeps(config, overrides);
  const { spool, logger } = deps;
  const writer = startWriterLoop({
    spool,
    handler: deps.handlers.writer,
    logger,
    flushMs: config.flushMs,
    batchBytes: config.batchBytes,
  });
  const server = createLocalServer({
    authorize: deps.handlers.authorize,
    handlers: { ingest: deps.handlers.ingest, query: deps.handlers.query },
    requireCredential: !deps.open,
    maxBodyBytes: config.maxBodyBytes,
    logger,
    health: () => ({ pendingBytes: spool.pendingBytes }),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closed: Promise<void> | undefined;

  return {
    url: `http://${host}:${port}`,
    deps,
    writer,
    /** Stops accepting requests, writes everything pending, and releases the data directory. */
    close(): Promise<void> {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        await writer.drain().catch((err: unknown) => logger.error('pending events stay in the spool for the next start', { error: (err as Error).message }));
        await writer.stop();
        await spool.close();
        await deps.engine.close();
      })();
      return closed;
    },
  };
}

export type LocalStack = Awaited<ReturnType<typeof startLocal>>;
