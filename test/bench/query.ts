/**
 * Local query benchmark (reports, never fails on time).
 *
 *   npm run bench:query [-- --events 1000000 --runs 5]
 *
 * Writes N events spread over one day (4 Parquet files per hour, as the batch writer would before
 * compaction) and measures, with the local DuckDB engine: `stats count(*) by service, bin(5m)` over the
 * day, and the share of files and bytes read by a one-hour query.
 */
import { parseArgs } from 'node:util';
import { DuckDbQueryEngine } from '../../shared/adapters/local/duckdb-query-engine.js';
import { FsObjectStore } from '../../shared/adapters/local/fs-object-store.js';
import { encodeParquet } from '../../shared/domain/parquet.js';
import { partitionOf, partitionPrefix } from '../../shared/domain/partitioning.js';
import type { LogEvent } from '../../shared/domain/schema.js';
import { makeQueryService } from '../../shared/services/query.js';
import { tempDir } from '../helpers/tmp.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, runs: { type: 'string', default: '5' } } });
const N = Number(values.events);
const RUNS = Number(values.runs);
const DAY = Date.UTC(2024, 4, 1);
const FILES_PER_HOUR = 4;
const SERVICES = ['checkout', 'payments', 'search', 'auth', 'inventory', 'email', 'gateway'];
const LEVELS = ['info', 'info', 'info', 'info', 'warn', 'error', 'debug'] as const;

async function main(): Promise<void> {
  const { dir, cleanup } = await tempDir('sluice-bench-query-');
  const store = new FsObjectStore(dir);
  const perFile = Math.ceil(N / (24 * FILES_PER_HOUR));
  let written = 0;
  const t0 = performance.now();
  for (let h = 0; h < 24; h++) {
    for (let f = 0; f < FILES_PER_HOUR; f++) {
      const events: LogEvent[] = [];
      for (let k = 0; k < perFile && written < N; k++, written++) {
        const ts = (DAY + h * 3600_000 + Math.floor(((f * perFile + k) / (perFile * FILES_PER_HOUR)) * 3600_000)) * 1000;
        const level = LEVELS[written % LEVELS.length]!;
        events.push({
          ts,
          ingested_at: ts,
          level,
          severity: 9,
          service: SERVICES[written % SERVICES.length]!,
          host: `ip-10-0-${written % 8}`,
          source: null,
          message: `request ${written} ${level === 'error' ? 'failed' : 'done'}`,
          attributes: { duration_ms: String(written % 997), 'http.status': level === 'error' ? '500' : '200' },
          tags: [],
          trace_id: null,
          span_id: null,
          format: 'json',
          event_id: `e${written}`,
          ts_inferred: false,
        });
      }
      if (events.length === 0) continue;
      await store.put(`${partitionPrefix(partitionOf('bench', events[0]!.ts))}f${f}.parquet`, encodeParquet(events));
    }
  }
  const files = await store.list('events/');
  const totalBytes = files.reduce((n, o) => n + o.size, 0);
  console.log(`\nwrote ${written} events in ${files.length} files (${(totalBytes / 1e6).toFixed(1)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const engine = await DuckDbQueryEngine.open({ store });
  const service = makeQueryService({ engine, clock: { now: () => DAY + 86_400_000 }, tokenSecret: Buffer.alloc(32), waitBudgetMs: 120_000 });
  const time = async (query: string, start: number, end: number) => {
    const ms: number[] = [];
    let last;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      last = await service.run({ tenant: 'bench', query, start, end, limit: 10_000 });
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    return { p50: ms[Math.floor(ms.length / 2)]!, min: ms[0]!, answer: last! };
  };

  const day = await time('stats count(*) as n by service, bin(5m)', DAY, DAY + 86_400_000);
  const hour = await time('filter level = "error" | stats count(*) as errors by service', DAY + 12 * 3600_000, DAY + 13 * 3600_000);
  const hourStats = hour.answer.status === 'complete' ? hour.answer.stats : undefined;
  console.log(`stats count(*) by service, bin(5m) over the day: p50 ${day.p50.toFixed(0)} ms (min ${day.min.toFixed(0)} ms), ${day.answer.status === 'complete' ? day.answer.stats.rows : '?'} rows`);
  console.log(`one-hour query: p50 ${hour.p50.toFixed(0)} ms; read ${hourStats?.filesScanned}/${files.length} files (${((100 * (hourStats?.filesScanned ?? 0)) / files.length).toFixed(1)}%), ${((100 * (hourStats?.bytesScanned ?? 0)) / totalBytes).toFixed(1)}% of the bytes\n`);
  await engine.close();
  await cleanup();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
