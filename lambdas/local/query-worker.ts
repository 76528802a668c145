/**
 * The query engine's own process (local mode): DuckDB runs here, apart from the server's event loop,
 * thread pool and heap; the server talks to it through ProcessQueryEngine. Started by the server, never
 * by hand; its one argument is its options as JSON.
 */
import { DuckDbQueryEngine, type DuckDbEngineOptions } from '../../shared/adapters/local/duckdb-query-engine.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { lowerPriority, serveQueryEngine } from '../../shared/adapters/local/process-query-engine.js';

export type QueryWorkerOptions = Omit<DuckDbEngineOptions, 'store'> & { storeRoot: string; nice: number };

async function main(): Promise<void> {
  const { storeRoot, nice, ...engineOptions } = JSON.parse(process.argv[2] ?? '{}') as QueryWorkerOptions;
  await lowerPriority(nice);
  const engine = await DuckDbQueryEngine.open({ ...engineOptions, store: new FsObjectStore(storeRoot) });
  serveQueryEngine(engine, process);
}

main().catch((err: unknown) => {
  process.stderr.write(`sluice query worker: failed to start: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
