/** `npm start`: local mode in one process. */
import { ConfigError, ENV, readLocalConfig } from '../../shared/config/env.js';
import { startLocal } from './start.js';

async function main(): Promise<void> {
  const config = readLocalConfig();
  const stack = await startLocal(config);
  const { url, deps } = stack;
  const auth = deps.open ? '' : " -H 'Authorization: Bearer <key>'";
  const lines = [
    '',
    `Sluice (local mode) is listening on ${url}`,
    `  data:  ${deps.dataDir}`,
    deps.open
      ? `  keys:  none configured, so requests without a key are accepted as tenant "default".\n         Set ${ENV.apiKeys}=key:tenant:ingest+query+admin,... to require keys.`
      : `  keys:  ${deps.keyCount} configured; every request needs Authorization: Bearer <key>`,
    '',
    'Send a log line, then query it (it is stored within a couple of seconds):',
    `  curl -sS ${url}/v1/logs${auth} -H 'content-type: application/json' -d '{"level":"info","service":"demo","msg":"hello from curl"}'`,
    `  curl -sS ${url}/v1/query${auth} -H 'content-type: application/json' -d '{"query":"fields @timestamp, level, service, @message | limit 10"}'`,
    `  npx sluice query 'stats count(*) by level' --since 15m`,
    '',
  ];
  process.stdout.write(lines.join('\n') + '\n');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    deps.logger.info(`${signal}: writing pending events and stopping`);
    stack.close().then(
      () => process.exit(0),
      (err: unknown) => {
        deps.logger.error('shutdown failed', { error: String(err) });
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`sluice: ${err.message}\n`);
  } else if ((err as NodeJS.ErrnoException)?.code === 'EADDRINUSE') {
    process.stderr.write(`sluice: the port is in use; set ${ENV.port} to another port (${(err as Error).message})\n`);
  } else {
    process.stderr.write(`sluice: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  }
  process.exit(1);
});
